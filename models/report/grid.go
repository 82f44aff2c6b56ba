package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// GridRow is one labelled row of a Grid; a nil image leaves its cell blank.
type GridRow struct {
	Label  string
	Images [][]float32 // each Rows×Cols pixels, drawn with 0 black and 1 white, clamped
}

// Grid is a table of small grey-scale images with a title, column headers and row labels.
type Grid struct {
	Title   string
	Columns []string // a header above each column; may be shorter than the rows
	Rows    []GridRow
	// ImageRows, ImageCols are each image's size in pixels; Scale enlarges every pixel to a
	// Scale×Scale block (0 means 2).
	ImageRows, ImageCols, Scale int
}

// Layout constants in output pixels.
const (
	gap        = 4  // between cells
	lineHeight = 16 // one line of the 7×13 font, with spacing
	charWidth  = 7
	margin     = 8
)

// Render draws the grid.
func (g Grid) Render() (*image.Gray, error) {
	if g.ImageRows <= 0 || g.ImageCols <= 0 {
		return nil, fmt.Errorf("report: grid images of %d×%d pixels", g.ImageRows, g.ImageCols)
	}
	scale := g.Scale
	if scale == 0 {
		scale = 2
	}
	// Measure and draw the labels as they will be spelt.
	g.Title = ascii(g.Title)
	columns := make([]string, len(g.Columns))
	for i, c := range g.Columns {
		columns[i] = ascii(c)
	}
	g.Columns = columns
	rows := make([]GridRow, len(g.Rows))
	for i, r := range g.Rows {
		rows[i] = GridRow{Label: ascii(r.Label), Images: r.Images}
	}
	g.Rows = rows
	ncols := len(g.Columns)
	labelWidth := 0
	for _, r := range g.Rows {
		ncols = max(ncols, len(r.Images))
		labelWidth = max(labelWidth, len(r.Label)*charWidth)
	}
	if labelWidth > 0 {
		labelWidth += gap * 2
	}
	cellW, cellH := g.ImageCols*scale, g.ImageRows*scale
	colW := cellW
	for _, c := range g.Columns {
		colW = max(colW, len(c)*charWidth)
	}
	top := margin
	if g.Title != "" {
		top += lineHeight
	}
	if len(g.Columns) > 0 {
		top += lineHeight
	}
	width := max(margin*2+labelWidth+ncols*(colW+gap), margin*2+len(g.Title)*charWidth)
	height := top + len(g.Rows)*(cellH+gap) + margin
	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	text := func(s string, x, baseline int) {
		d := font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, baseline)}
		d.DrawString(s)
	}
	y := margin
	if g.Title != "" {
		text(g.Title, margin, y+12)
		y += lineHeight
	}
	left := margin + labelWidth
	for c, label := range g.Columns {
		x := left + c*(colW+gap) + (colW-len(label)*charWidth)/2
		text(label, x, y+12)
	}
	for r, row := range g.Rows {
		y0 := top + r*(cellH+gap)
		text(row.Label, margin, y0+cellH/2+5)
		for c, pixels := range row.Images {
			if pixels == nil {
				continue
			}
			if len(pixels) != g.ImageRows*g.ImageCols {
				return nil, fmt.Errorf("report: row %q, column %d: %d pixels, want %d", row.Label, c, len(pixels), g.ImageRows*g.ImageCols)
			}
			x0 := left + c*(colW+gap) + (colW-cellW)/2
			for py := range g.ImageRows {
				for px := range g.ImageCols {
					v := min(max(pixels[py*g.ImageCols+px], 0), 1)
					shade := color.Gray{Y: uint8(v*255 + 0.5)}
					for dy := range scale {
						for dx := range scale {
							img.SetGray(x0+px*scale+dx, y0+py*scale+dy, shade)
						}
					}
				}
			}
		}
	}
	return img, nil
}

// EncodePNG writes img to w as PNG.
func EncodePNG(w io.Writer, img image.Image) error {
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("report: encode PNG: %w", err)
	}
	return nil
}

// WritePNG encodes img as PNG into path, atomically.
func WritePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return renameio.WriteFile(path, buf.Bytes(), 0o644)
}

// ascii spells the few non-ASCII symbols aelab's labels use in ASCII: the 7×13 font has
// no glyphs for them.
func ascii(s string) string {
	return strings.NewReplacer("→", "->", "−", "-", "·", "*", "σ", "sigma", "ν", "nu", "η", "eta", "‖", "|", "²", "^2", "₁", "1", "₂", "2").Replace(s)
}

// Split cuts row-major pixels into images of d pixels each, sharing memory.
func Split(pixels []float32, d int) [][]float32 {
	out := make([][]float32, 0, len(pixels)/d)
	for i := 0; i+d <= len(pixels); i += d {
		out = append(out, pixels[i:i+d])
	}
	return out
}

// ClassColumns labels a grid's columns with the digits' classes.
func ClassColumns(labels []uint8) []string {
	columns := make([]string, len(labels))
	for i, l := range labels {
		columns[i] = strconv.Itoa(int(l))
	}
	return columns
}
