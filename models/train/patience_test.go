package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// Patience stops at the right epoch of a scripted validation curve, and keeping the best
// epoch ends with exactly that epoch's weights.
func TestPatienceAndKeepBest(t *testing.T) {
	curve := []float64{0.50, 0.40, 0.45, 0.46, 0.30, 0.29, 0.31} // the validation loss after each epoch
	for _, tc := range []struct {
		name      string
		cfg       Config
		stopAfter int // epochs trained
		kept      int // the epoch whose weights remain
	}{
		{"patience 2", Config{Patience: 2}, 4, 2},
		{"patience 3", Config{Patience: 3}, 7, 6},
		{"patience 2, keep last", Config{Patience: 2, Keep: KeepLast}, 4, 4},
		{"no patience, keep best", Config{Keep: KeepBest}, 7, 6},
		{"no patience", Config{}, 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			ae := graph.Autoencoder{
				Encoder: []*graph.Dense{graph.NewDense("encoder.0", 6, 3, graph.Sigmoid, rng)},
				Decoder: []*graph.Dense{graph.NewDense("decoder.0", 3, 6, graph.Sigmoid, rng)},
			}
			prog, err := graph.NewTrainingProgram(ae, graph.Cost{}, 4)
			if err != nil {
				t.Fatal(err)
			}
			images := &datasets.Images{Rows: 1, Cols: 6, Pixels: make([]float32, 40*6)}
			for i := range images.Pixels {
				images.Pixels[i] = rng.Float32()
			}
			x := make([]float32, 4*6)
			epoch := 0
			var weights [][][]float32 // after each epoch
			cfg := tc.cfg
			cfg.Epochs, cfg.Batch, cfg.Seed = len(curve), 4, 1
			hooks := Hooks{EpochEnd: func(st models.EpochStats) error {
				var w [][]float32
				for _, p := range prog.Params {
					w = append(w, slices.Clone(p.Data))
				}
				weights = append(weights, w)
				return nil
			}}
			history, err := fit(context.Background(), graph.Tape{}, prog, images, cfg, hooks, Run{}, fitter{
				fill: func(b *datasets.Batcher, step int, _ uint32) ([][]float32, error) {
					b.Gather(step, x, nil)
					return [][]float32{x, x}, nil
				},
				validate: func(context.Context) (float64, float64, error) {
					epoch++
					return curve[epoch-1], 0, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(history) != tc.stopAfter {
				t.Fatalf("trained %d epochs, want %d", len(history), tc.stopAfter)
			}
			if got := KeptEpoch(cfg, history); got != tc.kept {
				t.Errorf("KeptEpoch %d, want %d", got, tc.kept)
			}
			for i, p := range prog.Params {
				if !slices.Equal(p.Data, weights[tc.kept-1][i]) {
					t.Errorf("%s: not epoch %d's weights", p.Name, tc.kept)
				}
			}
		})
	}
}

// A patience needs validation images to watch.
func TestPatienceNeedsValidation(t *testing.T) {
	layers := []*graph.Dense{graph.NewDense("classifier", 4, 10, graph.Linear, rand.New(rand.NewPCG(1, 1)))}
	images := &datasets.Images{Rows: 1, Cols: 4, Pixels: make([]float32, 20*4), Labels: make([]uint8, 20)}
	_, err := Classifier(context.Background(), graph.Tape{}, layers, Run{Train: images, Config: Config{Epochs: 2, Batch: 5, Patience: 1}})
	if err == nil {
		t.Error("a patience without validation images was accepted")
	}
}

// A model trained with a patience that runs out is on disk with its best epoch's weights,
// and its record says how training ended.
func TestEarlyStoppedModelOnDisk(t *testing.T) {
	set := smallSet(t)
	path := t.TempDir() + "/m.safetensors"
	// A learning rate this large makes the validation loss rise again after a while.
	cfg := Config{Epochs: 12, Batch: 20, Seed: 1, Adam: graph.Adam{LR: 0.05}, Patience: 2}
	m, err := NewModel(context.Background(), graph.Tape{}, models.Spec{Kind: models.AE, Layers: []int{16}}, Job{Set: set, Config: cfg, Path: path})
	if err != nil {
		t.Fatal(err)
	}
	rec := m.Record
	if !rec.Training.StoppedEarly {
		t.Skipf("the validation loss kept falling for 12 epochs: %v", rec.History)
	}
	kept := KeptEpoch(cfg, rec.History)
	if rec.Training.KeptEpoch != kept || kept == len(rec.History) {
		t.Fatalf("kept epoch %d recorded, %d of %d computed", rec.Training.KeptEpoch, kept, len(rec.History))
	}
	disk, err := models.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := models.NewForward(graph.Tape{}, disk.AE.Graph().Layers())
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Close()
	loss, err := fwd.Loss(context.Background(), set.Validation, graph.MSE)
	if err != nil {
		t.Fatal(err)
	}
	if want := rec.History[kept-1].ValLoss; math.Abs(loss-want) > 1e-9 {
		t.Errorf("the checkpoint's validation loss %g is not the kept epoch's %g", loss, want)
	}
	if !disk.Record.Training.StoppedEarly || disk.Record.Training.KeptEpoch != kept {
		t.Errorf("the record on disk: %+v", disk.Record.Training)
	}
}

// A run that keeps its best epoch cannot go on exactly (that epoch's weights are not kept),
// and says so instead of going on from the wrong ones.
func TestContinueRefusesKeepBest(t *testing.T) {
	set := smallSet(t)
	path := t.TempDir() + "/m.safetensors"
	cfg := Config{Epochs: 2, Batch: 50, Seed: 1, Keep: KeepBest}
	m, err := NewModel(context.Background(), graph.Tape{}, models.Spec{Kind: models.AE, Layers: []int{16}}, Job{Set: set, Config: cfg, Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := Continue(context.Background(), graph.Tape{}, m, Job{Set: set, Path: path, Config: Config{Epochs: 4}}); err == nil {
		t.Error("a keep-best run went on")
	}
}
