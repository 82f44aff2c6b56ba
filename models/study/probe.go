package study

import (
	"context"
	"fmt"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

// The linear probe's fixed recipe: a softmax classifier on the frozen top code of the
// training images, trained by Adam (lr 0.001) with batch 128 for 10 epochs from seed 1, and
// scored on the test images.
const (
	probeEpochs = 10
	probeBatch  = 128
	probeLR     = 0.001
	probeSeed   = 1
)

// Probe returns the test accuracy of a linear softmax classifier trained on the codes that
// encoder gives for the training images, by the fixed recipe above.
func Probe(ctx context.Context, backend graph.Backend, encoder []*graph.Dense, trainSet, test *datasets.Images) (float64, error) {
	if trainSet.Labels == nil || test.Labels == nil {
		return 0, fmt.Errorf("models: the data set has no labels to probe with")
	}
	codes, err := models.Encode(ctx, backend, encoder, trainSet)
	if err != nil {
		return 0, err
	}
	testCodes, err := models.Encode(ctx, backend, encoder, test)
	if err != nil {
		return 0, err
	}
	head := graph.NewDense("probe", codes.Dim(), datasets.NumClasses, graph.Linear, models.InitRand(probeSeed))
	layers := []*graph.Dense{head}
	cfg := train.Config{Epochs: probeEpochs, Batch: probeBatch, Adam: graph.Adam{LR: probeLR}, Seed: probeSeed}
	if _, err := train.Classifier(ctx, backend, layers, train.Run{Train: codes, Config: cfg}); err != nil {
		return 0, fmt.Errorf("models: probe: %w", err)
	}
	_, acc, err := Accuracy(ctx, backend, layers, testCodes)
	return acc, err
}

// Accuracy returns the cross-entropy and accuracy of a classifier stack on labelled images.
func Accuracy(ctx context.Context, backend graph.Backend, classifier []*graph.Dense, images *datasets.Images) (loss, accuracy float64, err error) {
	fwd, err := models.NewForward(backend, classifier)
	if err != nil {
		return 0, 0, err
	}
	defer fwd.Close()
	return fwd.Classify(ctx, images)
}
