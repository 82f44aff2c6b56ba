package models

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

func TestLevelActivations(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want []graph.Activation // the decoder's, top-down
	}{
		{Spec{Kind: AE, Layers: []int{784, 512, 128}}, []graph.Activation{graph.ReLU, graph.Sigmoid}},
		{Spec{Kind: AE, Layers: []int{784, 1000, 500, 250, 30}, Activation: graph.Sigmoid, Code: graph.Linear},
			[]graph.Activation{graph.Sigmoid, graph.Sigmoid, graph.Sigmoid, graph.Sigmoid}},
		{Spec{Kind: AE, Layers: []int{784, 64, 32, 16}, Activation: graph.Tanh, Code: graph.Linear, Output: graph.Linear},
			[]graph.Activation{graph.Tanh, graph.Tanh, graph.Linear}},
	} {
		ae, err := New(tc.spec, InitRand(1))
		if err != nil {
			t.Fatal(err)
		}
		var got []graph.Activation
		for _, l := range ae.Decoder {
			got = append(got, l.Act)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: decoder activations %v, want %v", ae.Spec, got, tc.want)
		}
		if top := ae.Encoder[len(ae.Encoder)-1].Act; top != ae.Spec.Code {
			t.Errorf("%s: top code activation %s, want %s", ae.Spec, top, ae.Spec.Code)
		}
	}
}

// TestStackEqualsLevelsInSequence checks that the pretrained stack reconstructs exactly as
// its level autoencoders run one after the other: encode up, decode down.
func TestStackEqualsLevelsInSequence(t *testing.T) {
	trainSet, val := smallMNIST(t, 1000, 200)
	ae := newModel(t, DAE, []int{784, 48, 24, 12}, 2)
	levels, err := Pretrain(context.Background(), graph.CPU{}, ae, trainSet, val, TrainConfig{Epochs: 2, Batch: 25, Seed: 2}, PretrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) != 3 {
		t.Fatalf("%d level records, want 3", len(levels))
	}
	for _, l := range levels {
		if len(l.History) != 2 || !(l.History[1].ValLoss < l.History[0].ValLoss) {
			t.Errorf("level %d: history %+v, want two epochs with a falling validation loss", l.Level, l.History)
		}
	}
	if levels[0].Noise != "gaussian:0.4" || levels[1].Noise != "gaussian:0.2" {
		t.Errorf("level noises %s, %s; want gaussian:0.4 on the images and gaussian:0.2 on the codes", levels[0].Noise, levels[1].Noise)
	}

	ctx, cpu := context.Background(), graph.CPU{}
	stacked, err := Reconstruct(ctx, cpu, ae.Graph(), val)
	if err != nil {
		t.Fatal(err)
	}
	h := val
	for l := 1; l <= 3; l++ { // up, each level's encoder alone
		if h, err = Encode(ctx, cpu, ae.Level(l).Encoder, h); err != nil {
			t.Fatal(err)
		}
	}
	for l := 3; l >= 1; l-- { // down, each level's decoder alone
		if h, err = Encode(ctx, cpu, ae.Level(l).Decoder, h); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range stacked {
		if math.Abs(float64(v-h.Pixels[i])) > 1e-6 {
			t.Fatalf("pixel %d: stack %g, levels in sequence %g", i, v, h.Pixels[i])
		}
	}
}

func TestFinetuneClassifierAndProbe(t *testing.T) {
	trainSet, val := smallMNIST(t, 5000, 500)
	ctx, cpu := context.Background(), graph.CPU{}
	ae := newModel(t, AE, []int{784, 64, 32}, 3)
	if _, err := Pretrain(ctx, cpu, ae, trainSet, val, TrainConfig{Epochs: 2, Batch: 25}, PretrainHooks{}); err != nil {
		t.Fatal(err)
	}
	probe, err := Probe(ctx, cpu, ae.Encoder, trainSet, val)
	if err != nil {
		t.Fatal(err)
	}
	if probe < 0.6 {
		t.Errorf("probe accuracy %.3f on the pretrained code; a linear classifier of MNIST codes does far better than chance", probe)
	}
	ae.Head = ae.NewHead(NewRand(3, 0))
	hist, err := TrainClassifier(ctx, cpu, ae.Classifier(), datasets.Noise{}, trainSet, val, TrainConfig{Epochs: 3, Batch: 25}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if acc := hist[len(hist)-1].ValAccuracy; acc < 0.85 {
		t.Errorf("validation accuracy %.3f after supervised fine-tuning", acc)
	}

	path := filepath.Join(t.TempDir(), "c.safetensors")
	rec := Record{Training: TrainingSettings{Procedure: "pretrain"}, Levels: []LevelRecord{{Level: 1}}, Finetune: &FinetuneRecord{Objective: ObjectiveClassify}}
	if err := Save(path, &Model{AE: ae, Record: rec}); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
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

func TestTrainClassifierNeedsLabels(t *testing.T) {
	trainSet, _ := smallMNIST(t, 100, 10)
	unlabelled := &datasets.Images{Rows: trainSet.Rows, Cols: trainSet.Cols, Pixels: trainSet.Pixels}
	ae := newModel(t, AE, []int{784, 8}, 1)
	ae.Head = ae.NewHead(NewRand(1, 0))
	_, err := TrainClassifier(context.Background(), graph.CPU{}, ae.Classifier(), datasets.Noise{}, unlabelled, nil, TrainConfig{Epochs: 1, Batch: 10}, Hooks{})
	if err == nil {
		t.Error("classifier training on unlabelled images succeeded")
	}
}
