package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// NewClassifierTrainingProgram builds the program that trains layers as a classifier: the
// last layer's outputs are the logits of C classes, and the loss is the mean over the batch
// of the cross-entropy −Σ_c y_c log softmax(z)_c.
// Inputs: the batch (B×D) and its one-hot labels (B×C). Outputs: the loss.
func NewClassifierTrainingProgram(layers []*Dense, batch int) (*Program, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("graph: batch size %d must be positive", batch)
	}
	if err := CheckStack(layers); err != nil {
		return nil, err
	}
	if head := layers[len(layers)-1]; head.Act != Linear {
		return nil, fmt.Errorf("graph: a classifier's last layer gives logits and must be linear, not %s", head.Act)
	}
	b, done := newBuilder()
	defer done()
	x := b.input("x", batch, layers[0].In())
	onehot := b.input("labels", batch, layers[len(layers)-1].Out())
	h := x
	for _, l := range layers {
		_, out, err := b.dense(h, l)
		if err != nil {
			return nil, err
		}
		h = out
	}
	var e expr
	loss := e.HadamardDiv(e.Sum(e.HadamardProd(onehot, e.LogSoftMax(h, 1))), scalar(-float32(batch)))
	if err := e.Err(); err != nil {
		return nil, fmt.Errorf("graph: cross-entropy: %w", err)
	}
	return b.program(batch, []*G.Node{x, onehot}, []*G.Node{loss}, loss)
}
