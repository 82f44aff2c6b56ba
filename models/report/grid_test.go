package report

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// checkGolden compares img with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, img image.Image) {
	t.Helper()
	path := filepath.Join("testdata", name)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./models/report -update to create it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("%s: size %v, golden %v", name, img.Bounds(), want.Bounds())
	}
	diff, first := 0, image.Point{-1, -1}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := img.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				if diff == 0 {
					first = image.Point{x, y}
				}
				diff++
			}
		}
	}
	if diff > 0 {
		t.Errorf("%s: %d pixels differ from the golden image, the first at %v (rerun with -update if the change is intended)", name, diff, first)
	}
}

func TestGridGolden(t *testing.T) {
	ramp := make([]float32, 16)
	for i := range ramp {
		ramp[i] = float32(i) / 15
	}
	outOfRange := []float32{-1, 2, 0.5, 0.5, -1, 2, 0.5, 0.5, -1, 2, 0.5, 0.5, -1, 2, 0.5, 0.5}
	g := Grid{
		Title:     "grid",
		Columns:   []string{"a", "b"},
		Rows:      []GridRow{{Label: "ramp", Images: [][]float32{ramp, nil}}, {Label: "clamp", Images: [][]float32{outOfRange, ramp}}},
		ImageRows: 4, ImageCols: 4, Scale: 3,
	}
	img, err := g.Render()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "grid.png", img)
}

func TestGridRejectsWrongSizes(t *testing.T) {
	g := Grid{Rows: []GridRow{{Label: "x", Images: [][]float32{make([]float32, 5)}}}, ImageRows: 2, ImageCols: 2}
	if _, err := g.Render(); err == nil {
		t.Error("an image of 5 pixels in a 2×2 grid was accepted")
	}
}
