package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestClassifierGradients checks the cross-entropy's gradients against central differences
// and its value against a direct computation.
func TestClassifierGradients(t *testing.T) {
	const d, h, c, batch = 5, 4, 3, 4
	rng := rand.New(rand.NewPCG(5, 6))
	layers := []*Dense{NewDense("encoder.0", d, h, Sigmoid, rng), NewDense("classifier", h, c, Linear, rng)}
	prog, err := NewClassifierTrainingProgram(layers, batch, false)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Tape{}.Compile(prog, Adam{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	x := randomBatch(rng, batch*d)
	y := make([]float32, batch*c)
	for i := range batch {
		y[i*c+i%c] = 1
	}
	loss := func() float64 {
		if err := ex.Run(x, y); err != nil {
			t.Fatal(err)
		}
		return float64(ex.Output(0)[0])
	}
	// The loss by hand.
	var want float64
	for i := range batch {
		hid := make([]float64, h)
		for j := range h {
			s := float64(layers[0].B.Data[j])
			for k := range d {
				s += float64(x[i*d+k]) * float64(layers[0].W.Data[k*h+j])
			}
			hid[j] = 1 / (1 + math.Exp(-s))
		}
		z := make([]float64, c)
		var norm float64
		for j := range c {
			z[j] = float64(layers[1].B.Data[j])
			for k := range h {
				z[j] += hid[k] * float64(layers[1].W.Data[k*c+j])
			}
			norm += math.Exp(z[j])
		}
		want -= z[i%c] - math.Log(norm)
	}
	want /= batch
	if got := loss(); math.Abs(got-want) > 1e-5 {
		t.Fatalf("cross-entropy %.7f, by hand %.7f", got, want)
	}
	checkParamGradients(t, prog, ex, loss, x, y)
}
