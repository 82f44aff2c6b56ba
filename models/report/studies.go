package report

import (
	"fmt"
	"strconv"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models/study"
)

// InterpolationGrid lays out paths: one row per pair and model (and, before them, the
// pair's pixel blends when the paths have them), the columns from a = 0 to a = 1 with the
// two originals at the ends.
func InterpolationGrid(title string, paths []study.Path, alphas []float64, test *datasets.Images) Grid {
	columns := []string{"x2"}
	for _, a := range alphas {
		columns = append(columns, strconv.FormatFloat(a, 'g', 3, 64))
	}
	columns = append(columns, "x1")
	g := Grid{Title: title, Columns: columns, ImageRows: test.Rows, ImageCols: test.Cols}
	row := func(label string, x1, x2 []float32, images [][]float32) GridRow {
		r := GridRow{Label: label, Images: [][]float32{x2}}
		r.Images = append(r.Images, images...)
		r.Images = append(r.Images, x1)
		return r
	}
	shownPixels := map[[2]int]bool{}
	for _, p := range paths {
		x1, x2 := test.Image(p.Index1), test.Image(p.Index2)
		pair := fmt.Sprintf("%d→%d", p.Class2, p.Class1)
		if p.Class1 < 0 { // no labels: name the test images
			pair = fmt.Sprintf("#%d→#%d", p.Index2, p.Index1)
		}
		if p.Pixel != nil && !shownPixels[[2]int{p.Index1, p.Index2}] {
			g.Rows = append(g.Rows, row("pixels "+pair, x1, x2, p.Pixel))
			shownPixels[[2]int{p.Index1, p.Index2}] = true
		}
		g.Rows = append(g.Rows, row(p.Model+" "+pair, x1, x2, p.Decoded))
	}
	return g
}

// ReconstructionGrid lays out digits and how each model reconstructs them, a column per
// digit: the clean digits and a row per model's reconstruction of them, or, with fromNoisy,
// the noisy digits and a row per model's reconstruction of those.
func ReconstructionGrid(title string, d study.Digits, recons []study.Reconstruction, fromNoisy bool) Grid {
	picked, dim := d.Clean, d.Clean.Dim()
	g := Grid{Title: title, Columns: ClassColumns(picked.Labels), ImageRows: picked.Rows, ImageCols: picked.Cols}
	input, label := picked, "original"
	if fromNoisy {
		input, label = d.Noisy, "noisy input"
	}
	g.Rows = append(g.Rows, GridRow{Label: label, Images: Split(input.Pixels, dim)})
	for _, r := range recons {
		images := r.FromClean
		if fromNoisy {
			images = r.FromNoisy
		}
		g.Rows = append(g.Rows, GridRow{Label: r.Name, Images: Split(images, dim)})
	}
	return g
}

// walkRows is how many chains a walk's picture shows.
const walkRows = 16

// WalkGrid lays out a walk: one row per chain (the first 16), a column per snapshot.
// SamplesGrid lays out the first n of images, perRow to a row, without labels.
func SamplesGrid(title string, images [][]float32, n, perRow, rows, cols int) Grid {
	g := Grid{Title: title, ImageRows: rows, ImageCols: cols}
	images = images[:min(n, len(images))]
	for lo := 0; lo < len(images); lo += perRow {
		g.Rows = append(g.Rows, GridRow{Images: images[lo:min(lo+perRow, len(images))]})
	}
	return g
}

func WalkGrid(title string, snaps []study.Snapshot, rows, cols int) Grid {
	g := Grid{Title: title, ImageRows: rows, ImageCols: cols}
	for _, s := range snaps {
		g.Columns = append(g.Columns, "step "+strconv.Itoa(s.Step))
	}
	if len(snaps) == 0 {
		return g
	}
	for c := range min(walkRows, len(snaps[0].Images)) {
		r := GridRow{Label: "chain " + strconv.Itoa(c+1)}
		for _, s := range snaps {
			r.Images = append(r.Images, s.Images[c])
		}
		g.Rows = append(g.Rows, r)
	}
	return g
}
