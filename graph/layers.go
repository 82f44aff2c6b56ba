package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Activation names an elementwise nonlinearity.
type Activation string

// The activations aelab knows.
const (
	ReLU    Activation = "relu"
	Sigmoid Activation = "sigmoid"
	Tanh    Activation = "tanh"
	Linear  Activation = "linear"
)

// ParseActivation checks that s names a known activation.
func ParseActivation(s string) (Activation, error) {
	switch a := Activation(strings.ToLower(strings.TrimSpace(s))); a {
	case ReLU, Sigmoid, Tanh, Linear:
		return a, nil
	}
	return "", fmt.Errorf("graph: unknown activation %q (want relu, sigmoid, tanh or linear)", s)
}

// Param is a trainable tensor. Its values live in Data, in host memory; executors read them
// when they compile a program and write them back on SyncParams.
type Param struct {
	Name  string
	Shape []int     // weights: In×Out; biases: Out
	Data  []float32 // row-major, len = product of Shape
}

// NewParam returns a zero-filled parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Param{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Dense is a fully connected layer: y = act(x·W + b).
type Dense struct {
	W   *Param // In×Out
	B   *Param // Out
	Act Activation
}

// NewDense returns a layer with Glorot-uniform weights (drawn from rng) and zero biases.
// Its parameters are named name+".weight" and name+".bias".
func NewDense(name string, in, out int, act Activation, rng *rand.Rand) *Dense {
	d := &Dense{W: NewParam(name+".weight", in, out), B: NewParam(name+".bias", out), Act: act}
	limit := math.Sqrt(6 / float64(in+out))
	for i := range d.W.Data {
		d.W.Data[i] = float32((2*rng.Float64() - 1) * limit)
	}
	return d
}

// In returns the layer's input size.
func (d *Dense) In() int { return d.W.Shape[0] }

// Out returns the layer's output size.
func (d *Dense) Out() int { return d.W.Shape[1] }

// Params returns the layer's parameters, weight first.
func (d *Dense) Params() []*Param { return []*Param{d.W, d.B} }

// Clone returns a deep copy of the layer under the same parameter names.
func (d *Dense) Clone() *Dense {
	cp := func(p *Param) *Param {
		return &Param{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.Data...)}
	}
	return &Dense{W: cp(d.W), B: cp(d.B), Act: d.Act}
}
