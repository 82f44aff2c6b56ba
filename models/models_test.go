package models

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
)

// mnistOnce loads MNIST once for the package's tests.
var mnistOnce = sync.OnceValues(func() (*datasets.Set, error) { return datasets.Load(datasets.Options{}) })

// smallMNIST returns the first nTrain training and nVal validation images.
func smallMNIST(t *testing.T, nTrain, nVal int) (train, val *datasets.Images) {
	t.Helper()
	set, err := mnistOnce()
	if err != nil {
		t.Fatal(err)
	}
	return set.Train.Slice(0, nTrain), set.Validation.Slice(0, nVal)
}

func newModel(t *testing.T, kind Kind, layers []int, seed uint64) *Autoencoder {
	t.Helper()
	ae, err := New(Spec{Kind: kind, Layers: layers}, InitRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return ae
}

func train(t *testing.T, ae *Autoencoder, trainSet, val *datasets.Images, cfg TrainConfig, hooks Hooks) ([]EpochStats, error) {
	t.Helper()
	return Train(context.Background(), graph.CPU{}, ae.Graph(), ae.Spec.Objective(), ae.Spec.Noise, trainSet, val, cfg, hooks)
}

func TestTrainingLowersLoss(t *testing.T) {
	trainSet, val := smallMNIST(t, 2000, 500)
	for _, kind := range []Kind{AE, DAE, CAE} {
		t.Run(string(kind), func(t *testing.T) {
			ae := newModel(t, kind, []int{784, 32}, 1)
			hist, err := train(t, ae, trainSet, val, TrainConfig{Epochs: 3, Batch: 20, Seed: 1, Adam: graph.Adam{LR: 0.003}}, Hooks{})
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
	trainSet, val := smallMNIST(t, 600, 100)
	weights := func() [][]float32 {
		ae := newModel(t, DAE, []int{784, 16}, 5)
		if _, err := train(t, ae, trainSet, val, TrainConfig{Epochs: 2, Batch: 20, Seed: 5}, Hooks{}); err != nil {
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
	small, val := smallMNIST(t, 400, 100)
	trainSet := &datasets.Images{Rows: small.Rows, Cols: small.Cols, Pixels: slices.Clone(small.Pixels)}
	ae := newModel(t, AE, []int{784, 16}, 1)
	var atEpochEnd [][]float32
	hooks := Hooks{EpochEnd: func(EpochStats) error {
		atEpochEnd = snapshot(ae.Params())
		trainSet.Pixels[123] = float32(math.Inf(1)) // the next epoch's loss becomes NaN
		return nil
	}}
	hist, err := train(t, ae, trainSet, val, TrainConfig{Epochs: 3, Batch: 20}, hooks)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("error %v, want ErrDiverged", err)
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
	trainSet, val := smallMNIST(t, 400, 100)
	ae := newModel(t, AE, []int{784, 16}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var saved [][]float32
	hooks := Hooks{
		EpochEnd: func(EpochStats) error { saved = snapshot(ae.Params()); return nil },
		Step: func(step int, _ float64) {
			if saved != nil && step == 5 {
				cancel() // in the second epoch
			}
		},
	}
	hist, err := Train(ctx, graph.CPU{}, ae.Graph(), ae.Spec.Objective(), ae.Spec.Noise, trainSet, val, TrainConfig{Epochs: 3, Batch: 20}, hooks)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
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

func TestCheckpointRoundTrip(t *testing.T) {
	trainSet, val := smallMNIST(t, 300, 100)
	for _, layers := range [][]int{{784, 24}, {784, 40, 12}} {
		ae := newModel(t, CAE, layers, 3)
		hist, err := train(t, ae, trainSet, val, TrainConfig{Epochs: 1, Batch: 30}, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		rec := Record{Training: TrainingSettings{Procedure: "train", Epochs: 1, Batch: 30}, History: hist}
		if err := Save(path, &Model{AE: ae, Record: rec}); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.AE.Spec.String() != ae.Spec.String() || got.AE.Spec.Lambda != ae.Spec.Lambda || got.Record.History[0] != hist[0] {
			t.Errorf("record changed: %+v", got.Record)
		}
		for i, p := range got.AE.Params() {
			if !slices.Equal(p.Data, ae.Params()[i].Data) || p.Name != ae.Params()[i].Name {
				t.Fatalf("parameter %s changed in the round trip", p.Name)
			}
		}
		want, err := Reconstruct(context.Background(), graph.CPU{}, ae.Graph(), val)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Reconstruct(context.Background(), graph.CPU{}, got.AE.Graph(), val)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(want, again) {
			t.Error("the loaded model reconstructs differently")
		}
	}
}

// TestCheckpointLayout checks the PyTorch names and the Out×In weight layout.
func TestCheckpointLayout(t *testing.T) {
	ae := newModel(t, AE, []int{6, 4, 3}, 1)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, &Model{AE: ae}); err != nil {
		t.Fatal(err)
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := string(buf[8 : 8+binary.LittleEndian.Uint64(buf)])
	for _, want := range []string{
		`"encoder.0.weight":{"dtype":"F32","shape":[4,6]`, `"encoder.2.weight":{"dtype":"F32","shape":[3,4]`,
		`"decoder.0.weight":{"dtype":"F32","shape":[4,3]`, `"decoder.2.weight":{"dtype":"F32","shape":[6,4]`,
		`"decoder.2.bias":{"dtype":"F32","shape":[6]`,
	} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %s:\n%s", want, header)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	ae := newModel(t, AE, []int{8, 3}, 1)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := Save(good, &Model{AE: ae}); err != nil {
		t.Fatal(err)
	}
	valid, _ := os.ReadFile(good)
	badVersion := bytes.Replace(valid, []byte(`"format_version":"1"`), []byte(`"format_version":"9"`), 1)
	wrongShape := bytes.Replace(valid, []byte(`\"layers\":[8,3]`), []byte(`\"layers\":[8,2]`), 1)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short for a safetensors header"},
		{"text", []byte("this is not a checkpoint at all\n"), "cut short or not a safetensors file"},
		{"cut short", valid[:len(valid)-10], "not a valid safetensors file"},
		{"header cut", valid[:40], "cut short or not a safetensors file"},
		{"other version", badVersion, `format version "9"`},
		{"wrong shape", wrongShape, "needs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			os.WriteFile(path, tc.data, 0o644)
			_, err := Load(path)
			var ce *CheckpointError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want a *CheckpointError naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	ae, err := New(Spec{Kind: AE, Layers: []int{5, 2}}, InitRand(1))
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "seed.safetensors")
	if err := Save(path, &Model{AE: ae}); err != nil {
		f.Fatal(err)
	}
	valid, _ := os.ReadFile(path)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("not a checkpoint"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode("fuzz", data)
		if err == nil && m.AE.Spec.Validate() != nil {
			t.Fatal("decoded a model with an invalid spec")
		}
	})
}

// TestJacobianMatchesFiniteDifferences checks ‖J‖²_F of one- and two-layer encoders
// against a Jacobian measured by perturbing the input.
func TestJacobianMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		layers []int
		act    graph.Activation
	}{
		{[]int{7, 5}, graph.Sigmoid}, {[]int{7, 5}, graph.ReLU}, {[]int{7, 5}, graph.Tanh},
		{[]int{7, 6, 4}, graph.Sigmoid}, {[]int{7, 6, 4}, graph.ReLU}, {[]int{7, 6, 5, 3}, graph.Tanh},
	} {
		t.Run(Spec{Layers: tc.layers}.String()+"-"+string(tc.act), func(t *testing.T) {
			ae, err := New(Spec{Kind: AE, Layers: tc.layers, Activation: tc.act}, InitRand(2))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ae.Encoder {
				for i := range l.B.Data {
					l.B.Data[i] = 0.2
				}
			}
			d, k := tc.layers[0], len(tc.layers)-1
			rng := rand.New(rand.NewPCG(9, 9))
			x := make([]float32, d)
			for i := range x {
				x[i] = rng.Float32()
			}
			encode := func(x []float32) ([][]float32, []float32) {
				fwd, err := newForward(graph.CPU{}, ae.Encoder)
				if err != nil {
					t.Fatal(err)
				}
				defer fwd.Close()
				var codes [][]float32
				err = fwd.run(context.Background(), &datasets.Images{Rows: 1, Cols: d, Pixels: x}, datasets.Noise{}, nil, func(o outputs) error {
					for _, c := range o.layers {
						codes = append(codes, slices.Clone(c))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return codes, codes[k-1]
			}
			codes, _ := encode(x)
			got := newJacobian(ae.Encoder).fro2(codes, 0)
			const h = 1e-3
			var want float64
			for i := range d {
				up, down := slices.Clone(x), slices.Clone(x)
				up[i] += h
				down[i] -= h
				_, hu := encode(up)
				_, hd := encode(down)
				for j := range hu {
					g := float64(hu[j]-hd[j]) / (2 * h)
					want += g * g
				}
			}
			if math.Abs(got-want) > 1e-2*want+1e-4 {
				t.Errorf("‖J‖²_F = %.6g, finite differences %.6g", got, want)
			}
		})
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
// or without noise.
func TestDeviceBatchesMatchHostBatches(t *testing.T) {
	trainSet, val := smallMNIST(t, 600, 100)
	weights := func(backend graph.Backend, kind Kind) ([][]float32, []EpochStats) {
		ae := newModel(t, kind, []int{784, 16}, 3)
		hist, err := Train(context.Background(), backend, ae.Graph(), ae.Spec.Objective(), ae.Spec.Noise, trainSet, val,
			TrainConfig{Epochs: 2, Batch: 20, Seed: 3}, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		return snapshot(ae.Params()), hist
	}
	for _, kind := range []Kind{AE, DAE} {
		t.Run(string(kind), func(t *testing.T) {
			host, hostHist := weights(hostBatches{plan.New(plan.NewCPU())}, kind)
			device, deviceHist := weights(plan.New(plan.NewCPU()), kind)
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
