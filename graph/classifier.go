package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// NewClassifierTrainingProgram builds the program that trains layers as a classifier: the
// last layer's outputs are the logits of C classes, and the loss is the mean over the batch
// of the cross-entropy −Σ_c y_c log softmax(z)_c.
// Inputs: the batch (B×D) and its one-hot labels (B×C); with dropout, then one mask per
// hidden layer (B×its width), multiplied into that layer's output. The caller draws the
// masks (0 for a dropped unit, 1/(1−p) for a kept one), so that every executor applies the
// same ones and evaluation, which runs the layers without this program, drops nothing.
// Outputs: the loss.
func NewClassifierTrainingProgram(layers []*Dense, batch int, dropout bool) (*Program, error) {
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
	inputs := []*G.Node{x, onehot}
	h := x
	for i, l := range layers {
		_, out, err := b.dense(h, l)
		if err != nil {
			return nil, err
		}
		h = out
		if dropout && i+1 < len(layers) {
			mask := b.input(fmt.Sprintf("dropout.%d", i), batch, l.Out())
			inputs = append(inputs, mask)
			var e expr
			if h = e.HadamardProd(h, mask); e.Err() != nil {
				return nil, fmt.Errorf("graph: dropout of layer %s: %w", l.W.Name, e.Err())
			}
		}
	}
	var e expr
	loss := e.HadamardDiv(e.Sum(e.HadamardProd(onehot, e.LogSoftMax(h, 1))), scalar(-float32(batch)))
	if err := e.Err(); err != nil {
		return nil, fmt.Errorf("graph: cross-entropy: %w", err)
	}
	return b.program(batch, inputs, []*G.Node{loss}, loss)
}
