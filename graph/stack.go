package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// CheckStack reports whether layers chain: each takes as many inputs as the one before gives.
func CheckStack(layers []*Dense) error {
	if len(layers) == 0 {
		return fmt.Errorf("graph: a stack needs at least one layer")
	}
	for i := 1; i < len(layers); i++ {
		if layers[i].In() != layers[i-1].Out() {
			return fmt.Errorf("graph: layer %s takes %d inputs but layer %s gives %d",
				layers[i].W.Name, layers[i].In(), layers[i-1].W.Name, layers[i-1].Out())
		}
	}
	return nil
}

// StackParams returns the parameters of layers, in order.
func StackParams(layers []*Dense) []*Param {
	var ps []*Param
	for _, l := range layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// NewStackProgram builds the program that runs a batch through layers.
// Inputs: the batch (B×In of the first layer). Outputs: every layer's output (B×Out_i), in
// order; for an autoencoder's Layers(), the codes come first and the reconstruction last.
func NewStackProgram(layers []*Dense, batch int) (*Program, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("graph: batch size %d must be positive", batch)
	}
	if err := CheckStack(layers); err != nil {
		return nil, err
	}
	b, done := newBuilder()
	defer done()
	x := b.input("x", batch, layers[0].In())
	outputs := make([]*G.Node, 0, len(layers))
	h := x
	for _, l := range layers {
		_, out, err := b.dense(h, l)
		if err != nil {
			return nil, err
		}
		outputs = append(outputs, out)
		h = out
	}
	return b.program(batch, []*G.Node{x}, outputs, nil)
}
