package study

import (
	"context"
	"math"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
	"github.com/aelab/aelab/models/train"
)

// A smooth blob is as near to some training digit as real digits are, and a classifier of
// ten digits is sure it is a "0"; a classifier that also learnt made-up non-digits is not
// fooled, and the blob is no plausible digit, while real test digits are.
func TestPlausibleIsNotFooledByBlobs(t *testing.T) {
	trainSet, test := modeltest.SmallMNIST(t, 5000, 500)
	ctx, cpu := context.Background(), graph.Tape{}
	ref := NewReference(cpu.MatMul(), trainSet, test)
	d := test.Dim()
	blob := make([]float32, d) // a bright disc in the middle: where a failed walk ends
	for i := range blob {
		r, c := float64(i/28)-13.5, float64(i%28)-13.5
		blob[i] = float32(math.Exp(-(r*r + c*c) / 30))
	}
	if dist := NearestDistances(cpu.MatMul(), blob, trainSet)[0]; dist > ref.NearDistance {
		t.Logf("the blob is %.2f from the training images, beyond the near distance %.2f", dist, ref.NearDistance)
	}

	noise, _ := datasets.ParseNoise(classifierNoise)
	judge := models.NewClassifier([]int{d, 64, datasets.NumClasses + 1}, 1)
	run := train.Run{Train: withNotDigits(trainSet, models.NewRand(1, models.StreamNotDigits)), Noise: noise,
		Config: train.Config{Epochs: 10, Batch: 50, Adam: graph.Adam{LR: 0.002}, Seed: 1}}
	if _, err := train.Classifier(ctx, cpu, judge.Layers, run); err != nil {
		t.Fatal(err)
	}
	snaps := []Snapshot{{Images: [][]float32{blob}, Energy: []float64{0}}}
	for i := range 200 {
		snaps[0].Images = append(snaps[0].Images, test.Image(i))
		snaps[0].Energy = append(snaps[0].Energy, 0)
	}
	points, err := MeasureWalk(ctx, cpu, judge, ref, snaps)
	if err != nil {
		t.Fatal(err)
	}
	if b := points[0]; *b.Plausible() {
		t.Errorf("the blob is a plausible digit: class %d, p %.3f, %.2f from the training images", *b.Class, *b.Confidence, b.NearestDistance)
	}
	plausible, near, nad, sure := 0, 0, 0, 0
	for _, p := range points[1:] {
		if *p.Plausible() {
			plausible++
		}
		if p.Near {
			near++
		}
		if *p.Class == models.NotADigit {
			nad++
		}
		if *p.Confidence >= 0.9 {
			sure++
		}
	}
	t.Logf("of 200 test digits: %d near, %d not a digit, %d with p ≥ 0.9", near, nad, sure)
	if plausible < 120 { // this test's small classifier is less sure than the real one
		t.Errorf("%d of 200 test digits are plausible, want most", plausible)
	}
	if p := (WalkPoint{Near: true}); p.Plausible() != nil {
		t.Error("a point nothing judged has a plausibility")
	}
}
