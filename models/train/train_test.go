package train

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
)

func trainAE(t *testing.T, ae *models.Autoencoder, trainSet, val *datasets.Images, cfg Config, hooks Hooks) ([]models.EpochStats, error) {
	t.Helper()
	return Autoencoder(context.Background(), graph.Tape{}, ae.Graph(), ae.Spec.Cost(), Run{Train: trainSet, Val: val, Noise: ae.Spec.Noise, Config: cfg, Hooks: hooks})
}

func TestTrainingLowersLoss(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 2000, 500)
	for _, kind := range []models.Kind{models.AE, models.DAE, models.CAE} {
		t.Run(string(kind), func(t *testing.T) {
			ae := modeltest.NewModel(t, kind, []int{784, 32}, 1)
			hist, err := trainAE(t, ae, trainSet, val, Config{Epochs: 3, Batch: 20, Seed: 1, Adam: graph.Adam{LR: 0.003}}, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			if first, last := hist[0].ValLoss, hist[2].ValLoss; !(last < 0.8*first) {
				t.Errorf("validation loss went from %.5f to %.5f over 3 epochs", first, last)
			}
		})
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 600, 100)
	weights := func() [][]float32 {
		ae := modeltest.NewModel(t, models.DAE, []int{784, 16}, 5)
		if _, err := trainAE(t, ae, trainSet, val, Config{Epochs: 2, Batch: 20, Seed: 5}, Hooks{}); err != nil {
			t.Fatal(err)
		}
		return snapshot(ae.Params())
	}
	a, b := weights(), weights()
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("parameter %d differs between two runs with the same seed", i)
		}
	}
}

func TestDivergenceStopsAndRestores(t *testing.T) {
	small, val := modeltest.SmallMNIST(t, 400, 100)
	trainSet := &datasets.Images{Rows: small.Rows, Cols: small.Cols, Pixels: slices.Clone(small.Pixels)}
	ae := modeltest.NewModel(t, models.AE, []int{784, 16}, 1)
	var atEpochEnd [][]float32
	hooks := Hooks{EpochEnd: func(models.EpochStats) error {
		atEpochEnd = snapshot(ae.Params())
		trainSet.Pixels[123] = float32(math.Inf(1)) // the next epoch's loss becomes NaN
		return nil
	}}
	hist, err := trainAE(t, ae, trainSet, val, Config{Epochs: 3, Batch: 20}, hooks)
	if !errors.Is(err, models.ErrDiverged) {
		t.Fatalf("error %v, want models.ErrDiverged", err)
	}
	if len(hist) != 1 {
		t.Fatalf("%d epochs completed, want 1", len(hist))
	}
	for i, p := range ae.Params() {
		if !slices.Equal(p.Data, atEpochEnd[i]) {
			t.Fatal("the parameters were not put back to the last good epoch")
		}
	}
	for _, p := range ae.Params() {
		for _, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("a non-finite weight was left in the model")
			}
		}
	}
}

func TestInterruptionKeepsLastEpoch(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 400, 100)
	ae := modeltest.NewModel(t, models.AE, []int{784, 16}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var saved [][]float32
	hooks := Hooks{
		EpochEnd: func(models.EpochStats) error { saved = snapshot(ae.Params()); return nil },
		Step: func(step int, _ float64) {
			if saved != nil && step == 5 {
				cancel() // in the second epoch
			}
		},
	}
	hist, err := Autoencoder(ctx, graph.Tape{}, ae.Graph(), ae.Spec.Cost(), Run{Train: trainSet, Val: val, Noise: ae.Spec.Noise, Config: Config{Epochs: 3, Batch: 20}, Hooks: hooks})
	if !errors.Is(err, models.ErrInterrupted) {
		t.Fatalf("error %v, want models.ErrInterrupted", err)
	}
	if len(hist) != 1 {
		t.Fatalf("%d epochs in the history, want 1", len(hist))
	}
	for i, p := range ae.Params() {
		if !slices.Equal(p.Data, saved[i]) {
			t.Fatal("the parameters are not those of the last completed epoch")
		}
	}
}

// hostBatches hides its executors' device-data path, so training builds batches on the host.
type hostBatches struct{ graph.Backend }

func (h hostBatches) Compile(p *graph.Program, opt graph.Adam) (graph.Executor, error) {
	ex, err := h.Backend.Compile(p, opt)
	if err != nil {
		return nil, err
	}
	return struct{ graph.Executor }{ex}, nil
}

// TestDeviceBatchesMatchHostBatches trains through the device-data path (batches gathered
// and corrupted by the backend, losses kept there) and through batches built on the host:
// the noise is counter-based, so both must give the same weights and losses exactly, with
// no noise, a fixed level or a range of levels.
func TestDeviceBatchesMatchHostBatches(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 600, 100)
	weights := func(backend graph.Backend, noise string) ([][]float32, []models.EpochStats) {
		ae := modeltest.NewModel(t, models.AE, []int{784, 16}, 3)
		n, err := datasets.ParseNoise(noise)
		if err != nil {
			t.Fatal(err)
		}
		hist, err := Autoencoder(context.Background(), backend, ae.Graph(), ae.Spec.Cost(),
			Run{Train: trainSet, Val: val, Noise: n, Config: Config{Epochs: 2, Batch: 20, Seed: 3}})
		if err != nil {
			t.Fatal(err)
		}
		return snapshot(ae.Params()), hist
	}
	for _, noise := range []string{"none", "gaussian:0.4", "gaussian:0.1..1", "mask:0..0.5"} {
		t.Run(noise, func(t *testing.T) {
			host, hostHist := weights(hostBatches{plan.New(plan.NewCPU())}, noise)
			device, deviceHist := weights(plan.New(plan.NewCPU()), noise)
			for i := range host {
				if !slices.Equal(host[i], device[i]) {
					t.Fatalf("parameter %d differs between host and device batches", i)
				}
			}
			for e := range hostHist {
				if hostHist[e].TrainLoss != deviceHist[e].TrainLoss || hostHist[e].ValLoss != deviceHist[e].ValLoss {
					t.Errorf("epoch %d: losses %+v on the host, %+v from device batches", e+1, hostHist[e], deviceHist[e])
				}
			}
			if !(deviceHist[1].ValLoss < deviceHist[0].ValLoss) {
				t.Errorf("no learning: %+v", deviceHist)
			}
		})
	}
}

func TestNextChunk(t *testing.T) {
	cases := []struct {
		name  string
		chunk int
		took  time.Duration
		want  int
	}{
		{"queued at once: doubles", 1, time.Microsecond, 2},
		{"queued at once: stops at the cap", maxChunk, time.Microsecond, maxChunk},
		{"ran as queued, slowly: halves", 64, 3 * queueTime, 32},
		{"one slow step stays one", 1, time.Second, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextChunk(tc.chunk, tc.took); got != tc.want {
				t.Errorf("nextChunk(%d, %v) = %d, want %d", tc.chunk, tc.took, got, tc.want)
			}
		})
	}
}
