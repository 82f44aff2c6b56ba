package train

import (
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
)

// TestWalkback checks the walks that make walkback's inputs: about half the images walk at
// least one round (odds ½ a round), each walked image is a corrupted reconstruction, not
// the batch's first corruption, and the same step walks the same way twice.
func TestWalkback(t *testing.T) {
	trainSet, _ := modeltest.SmallMNIST(t, 200, 10)
	ae := modeltest.NewModel(t, models.DAE, []int{784, 16}, 2)
	noise := datasets.Noise{Kind: datasets.Gaussian, Level: 0.4}
	const batch, d = 200, 784
	w, err := newWalkback(graph.Tape{}, ae.Graph(), batch, 3, noise, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first := make([]float32, batch*d)
	noise.ApplyImagesAt(first, trainSet.Pixels[:batch*d], d, 5, 7)
	walked := func() []float32 {
		x := slices.Clone(first)
		if err := w.walk(x, 7); err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b := walked(), walked()
	if !slices.Equal(a, b) {
		t.Fatal("the same step walked two ways")
	}
	moved := 0
	for k := range batch {
		if !slices.Equal(a[k*d:(k+1)*d], first[k*d:(k+1)*d]) {
			moved++
		}
	}
	if share := float64(moved) / batch; share < 0.36 || share > 0.64 { // ½ ± 4 standard deviations
		t.Errorf("%.2f of the images walked, want about half", share)
	}
	if _, err := newWalkback(graph.Tape{}, ae.Graph(), batch, 3, datasets.Noise{}, 5); err == nil {
		t.Error("walkback without a corruption accepted")
	}
}
