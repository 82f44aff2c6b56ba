package report

import (
	"fmt"
	"image/color"
	"strconv"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Filters are the first-layer weights of one model: W is In×Out, row-major, In an image's
// pixels; unit o's filter is column o.
type Filters struct {
	Name    string
	W       []float32
	In, Out int
}

// FiltersGrid lays out the first n units' filters of each model as images, a row per model,
// each filter scaled from its own lowest weight (black) to its highest (white): the
// classic picture of what an autoencoder's hidden units respond to.
func FiltersGrid(title string, models []Filters, n, rows, cols int) Grid {
	g := Grid{Title: title, ImageRows: rows, ImageCols: cols}
	for u := range n {
		g.Columns = append(g.Columns, "unit "+strconv.Itoa(u+1))
	}
	for _, m := range models {
		r := GridRow{Label: m.Name}
		for u := range min(n, m.Out) {
			f := make([]float32, m.In)
			lo, hi := float32(0), float32(0)
			for i := range f {
				f[i] = m.W[i*m.Out+u]
				if i == 0 || f[i] < lo {
					lo = f[i]
				}
				if i == 0 || f[i] > hi {
					hi = f[i]
				}
			}
			for i := range f {
				if hi > lo {
					f[i] = (f[i] - lo) / (hi - lo)
				}
			}
			r.Images = append(r.Images, f)
		}
		g.Rows = append(g.Rows, r)
	}
	return g
}

// Codes are one model's codes of test images (N×H, row-major) and the images' classes
// (nil for unlabelled data).
type Codes struct {
	Name   string
	Values []float32
	H      int
	Labels []uint8
}

// CodeMaps draws each model's codes projected on their first two principal components,
// coloured by digit, one panel per model in cols columns and a legend panel, and returns the
// PNG.
func CodeMaps(models []Codes, cols int) ([]byte, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("report: no codes to map")
	}
	tiles := len(models) + 1 // the legend's
	cols = max(1, min(cols, tiles))
	rows := (tiles + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, m := range models {
		xy, explained, err := principalPlane(m.Values, m.H)
		if err != nil {
			return nil, fmt.Errorf("report: codes of %s: %w", m.Name, err)
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s (%.0f%% of the variance)", m.Name, 100*explained)
		p.X.Label.Text, p.Y.Label.Text = "PC 1", "PC 2"
		byClass := map[int]plotter.XYs{}
		for k, pt := range xy {
			class := -1
			if m.Labels != nil {
				class = int(m.Labels[k])
			}
			byClass[class] = append(byClass[class], pt)
		}
		for class := -1; class < 10; class++ {
			pts := byClass[class]
			if len(pts) == 0 {
				continue
			}
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(1.2), Color: digitColour(class)}
			p.Add(s)
		}
		grid[i/cols][i%cols] = p
	}
	legend := plot.New()
	legend.HideAxes()
	legend.Title.Text = "digit"
	legend.Legend.Top = true
	legend.Legend.Left = true
	for class := range 10 {
		s, err := plotter.NewScatter(plotter.XYs{{}})
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3), Color: digitColour(class)}
		legend.Legend.Add(strconv.Itoa(class), s)
	}
	grid[len(models)/cols][len(models)%cols] = legend
	return render(grid, vg.Length(cols)*8*vg.Centimeter, vg.Length(rows)*7*vg.Centimeter)
}

// digitColour gives each digit a distinguishable colour, grey for no label.
func digitColour(class int) color.Color {
	colors := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
		{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255}}
	if class < 0 || class >= len(colors) {
		return color.Gray{Y: 90}
	}
	return colors[class]
}

// principalPlane projects the rows of values (N×h) on their first two principal components
// (gonum's stat.PC) and returns the points and the share of the variance they hold.
func principalPlane(values []float32, h int) (plotter.XYs, float64, error) {
	n := len(values) / h
	if n < 3 || h < 2 {
		return nil, 0, fmt.Errorf("%d codes of %d values are too few to map", n, h)
	}
	x := mat.NewDense(n, h, nil)
	for i := range n {
		for j := range h {
			x.Set(i, j, float64(values[i*h+j]))
		}
	}
	var pc stat.PC
	if !pc.PrincipalComponents(x, nil) {
		return nil, 0, fmt.Errorf("the principal components did not converge")
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	vars := pc.VarsTo(nil)
	var total float64
	for _, v := range vars {
		total += v
	}
	means := make([]float64, h)
	for j := range h {
		means[j] = stat.Mean(mat.Col(nil, j, x), nil)
	}
	pts := make(plotter.XYs, n)
	for i := range n {
		for j := range h {
			c := x.At(i, j) - means[j]
			pts[i].X += c * vecs.At(j, 0)
			pts[i].Y += c * vecs.At(j, 1)
		}
	}
	return pts, (vars[0] + vars[1]) / total, nil
}
