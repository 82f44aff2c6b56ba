package train

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
)

// TestDropoutMasks checks the masks' statistics: each unit dropped with probability p, the
// others scaled by 1/(1−p); the same step draws the same masks, the next step others.
func TestDropoutMasks(t *testing.T) {
	ae := modeltest.NewModel(t, models.AE, []int{784, 500, 300}, 1)
	stack := append(ae.Encoder, graph.NewDense("head", 300, 10, graph.Linear, models.InitRand(1)))
	for _, p := range []float64{0.2, 0.5} {
		m := newDropout(stack, Config{Batch: 64, Dropout: p, Seed: 3})
		masks := m.draw(7)
		if len(masks) != 2 || len(masks[0]) != 64*500 || len(masks[1]) != 64*300 {
			t.Fatalf("p %g: masks of %d layers, want 2 of 64×500 and 64×300", p, len(masks))
		}
		first := make([][]float32, len(masks))
		keep := float32(1 / (1 - p))
		for l, mask := range masks {
			first[l] = slices.Clone(mask)
			dropped := 0
			for _, v := range mask {
				switch v {
				case 0:
					dropped++
				case keep:
				default:
					t.Fatalf("p %g: mask value %g, want 0 or %g", p, v, keep)
				}
			}
			share, sd := float64(dropped)/float64(len(mask)), math.Sqrt(p*(1-p)/float64(len(mask)))
			if math.Abs(share-p) > 4*sd {
				t.Errorf("p %g, layer %d: %.4f of the units dropped", p, l, share)
			}
		}
		again := m.draw(7)
		for l := range again {
			if !slices.Equal(again[l], first[l]) {
				t.Errorf("p %g, layer %d: step 7 drew other masks the second time", p, l)
			}
		}
		next := m.draw(8)
		differ := 0
		for i := range next[0] {
			if next[0][i] != first[0][i] {
				differ++
			}
		}
		// Independent masks differ where exactly one of the two drops: 2p(1−p) of the units.
		if want, got := 2*p*(1-p), float64(differ)/float64(len(next[0])); math.Abs(got-want) > 0.02 {
			t.Errorf("p %g: steps 7 and 8 differ in %.3f of the units, want about %.3f", p, got, want)
		}
	}
	if m := newDropout(stack, Config{Batch: 64}); m.draw(1) != nil {
		t.Error("no dropout drew masks")
	}
}

// TestDropoutOnlyInTraining trains a classifier with and without dropout: the masks change
// the training, and the validation figures are those of the plain forward pass (no masks) on
// the trained weights.
func TestDropoutOnlyInTraining(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 400, 100)
	run := func(p float64) ([]*graph.Dense, []models.EpochStats) {
		ae := modeltest.NewModel(t, models.AE, []int{784, 32}, 1)
		layers := append(ae.Encoder, graph.NewDense("head", 32, 10, graph.Linear, models.InitRand(2)))
		hist, err := Classifier(context.Background(), graph.Tape{}, layers, Run{Train: trainSet, Val: val,
			Config: Config{Epochs: 1, Batch: 20, Seed: 1, Dropout: p}})
		if err != nil {
			t.Fatal(err)
		}
		return layers, hist
	}
	plain, _ := run(0)
	dropped, hist := run(0.5)
	if slices.Equal(plain[0].W.Data, dropped[0].W.Data) {
		t.Error("dropout did not change the training")
	}
	fwd, err := models.NewForward(graph.Tape{}, dropped)
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Close()
	loss, acc, err := fwd.Classify(context.Background(), val)
	if err != nil {
		t.Fatal(err)
	}
	if loss != hist[0].ValLoss || acc != hist[0].ValAccuracy {
		t.Errorf("validation %g, %g during training; the plain forward pass gives %g, %g", hist[0].ValLoss, hist[0].ValAccuracy, loss, acc)
	}
}
