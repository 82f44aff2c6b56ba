package study

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
	"github.com/aelab/aelab/models/train"
)

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
		t.Run(models.Spec{Layers: tc.layers}.String()+"-"+string(tc.act), func(t *testing.T) {
			ae, err := models.New(models.Spec{Kind: models.AE, Layers: tc.layers, Activation: tc.act}, models.InitRand(2))
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
				fwd, err := models.NewForward(graph.Tape{}, ae.Encoder)
				if err != nil {
					t.Fatal(err)
				}
				defer fwd.Close()
				var codes [][]float32
				err = fwd.Run(context.Background(), &datasets.Images{Rows: 1, Cols: d, Pixels: x}, datasets.Noise{}, nil, func(o models.Outputs) error {
					for _, c := range o.Layers {
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
			got := newJacobian(graph.Tape{}.MatMul(), ae.Encoder).fro2(codes, 0)
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

func TestFinetuneClassifierAndProbe(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 5000, 500)
	ctx, cpu := context.Background(), graph.Tape{}
	ae := modeltest.NewModel(t, models.AE, []int{784, 64, 32}, 3)
	if _, err := train.Pretrain(ctx, cpu, ae, trainSet, val, train.Config{Epochs: 2, Batch: 25}, train.PretrainHooks{}); err != nil {
		t.Fatal(err)
	}
	probe, err := Probe(ctx, cpu, ae.Encoder, trainSet, val)
	if err != nil {
		t.Fatal(err)
	}
	if probe < 0.6 {
		t.Errorf("probe accuracy %.3f on the pretrained code; a linear classifier of MNIST codes does far better than chance", probe)
	}
	ae.Head = ae.NewHead(models.NewRand(3, 0))
	hist, err := train.Classifier(ctx, cpu, ae.Classifier(), train.Run{Train: trainSet, Val: val, Config: train.Config{Epochs: 3, Batch: 25}})
	if err != nil {
		t.Fatal(err)
	}
	if acc := hist[len(hist)-1].ValAccuracy; acc < 0.85 {
		t.Errorf("validation accuracy %.3f after supervised fine-tuning", acc)
	}

	path := filepath.Join(t.TempDir(), "c.safetensors")
	rec := models.Record{Training: models.TrainingSettings{Procedure: "pretrain"}, Levels: []models.LevelRecord{{Level: 1}}, Finetune: &models.FinetuneRecord{Objective: models.ObjectiveClassify}}
	if err := models.Save(path, &models.Model{AE: ae, Record: rec}); err != nil {
		t.Fatal(err)
	}
	loaded, err := models.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.AE.Head == nil || !slices.Equal(loaded.AE.Head.W.Data, ae.Head.W.Data) || loaded.Record.Procedure() != "pretrain+classify" {
		t.Fatal("the classifier head or the record did not survive the round trip")
	}
	_, a1, err := Accuracy(ctx, cpu, ae.Classifier(), val)
	if err != nil {
		t.Fatal(err)
	}
	_, a2, err := Accuracy(ctx, cpu, loaded.AE.Classifier(), val)
	if err != nil || a1 != a2 {
		t.Errorf("accuracy %g before saving, %g after (%v)", a1, a2, err)
	}
}

// The probe has one recipe wherever a model is evaluated: it learns from the codes of the
// whole training split, whatever limit the set was loaded with.
func TestProbeRecipeIgnoresTrainLimit(t *testing.T) {
	ae := modeltest.NewModel(t, models.AE, []int{784, 8}, 1)
	var acc []float64
	for _, limit := range []int{0, 600} {
		set, err := datasets.Load(datasets.Options{TrainLimit: limit})
		if err != nil {
			t.Skip(err)
		}
		set.Test = set.Test.Slice(0, 500)
		m, err := Evaluate(context.Background(), graph.Tape{}, ae, set, EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.ProbeAccuracy == nil || m.ProbeImages != set.FullTrain().Len() {
			t.Fatalf("limit %d: the probe learnt from %d images, want the whole split of %d", limit, m.ProbeImages, set.FullTrain().Len())
		}
		acc = append(acc, *m.ProbeAccuracy)
	}
	if acc[0] != acc[1] {
		t.Errorf("probe accuracy %g without a limit, %g with one", acc[0], acc[1])
	}
}
