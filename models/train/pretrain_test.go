package train

import (
	"context"
	"math"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
)

// TestStackEqualsLevelsInSequence checks that the pretrained stack reconstructs exactly as
// its level autoencoders run one after the other: encode up, decode down.
func TestStackEqualsLevelsInSequence(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 1000, 200)
	ae := modeltest.NewModel(t, models.DAE, []int{784, 48, 24, 12}, 2)
	levels, err := Pretrain(context.Background(), graph.Tape{}, ae, trainSet, val, Config{Epochs: 2, Batch: 25, Seed: 2}, PretrainHooks{})
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

	ctx, cpu := context.Background(), graph.Tape{}
	stacked, err := models.Reconstruct(ctx, cpu, ae.Graph(), val)
	if err != nil {
		t.Fatal(err)
	}
	h := val
	for l := 1; l <= 3; l++ { // up, each level's encoder alone
		if h, err = models.Encode(ctx, cpu, ae.Level(l).Encoder, h); err != nil {
			t.Fatal(err)
		}
	}
	for l := 3; l >= 1; l-- { // down, each level's decoder alone
		if h, err = models.Encode(ctx, cpu, ae.Level(l).Decoder, h); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range stacked {
		if math.Abs(float64(v-h.Pixels[i])) > 1e-6 {
			t.Fatalf("pixel %d: stack %g, levels in sequence %g", i, v, h.Pixels[i])
		}
	}
}

func TestTrainClassifierNeedsLabels(t *testing.T) {
	trainSet, _ := modeltest.SmallMNIST(t, 100, 10)
	unlabelled := &datasets.Images{Rows: trainSet.Rows, Cols: trainSet.Cols, Pixels: trainSet.Pixels}
	ae := modeltest.NewModel(t, models.AE, []int{784, 8}, 1)
	ae.Head = ae.NewHead(models.NewRand(1, 0))
	_, err := Classifier(context.Background(), graph.Tape{}, ae.Classifier(), Run{Train: unlabelled, Config: Config{Epochs: 1, Batch: 10}})
	if err == nil {
		t.Error("classifier training on unlabelled images succeeded")
	}
}
