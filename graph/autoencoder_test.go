package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tinyAutoencoder returns a D→H→D autoencoder with the given activations.
func tinyAutoencoder(rng *rand.Rand, d, h int, hidden, out Activation) Autoencoder {
	return Autoencoder{
		Encoder: []*Dense{NewDense("encoder.0", d, h, hidden, rng)},
		Decoder: []*Dense{NewDense("decoder.0", h, d, out, rng)},
	}
}

func randomBatch(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// TestGradientsMatchFiniteDifferences checks gorgonia's symbolic gradients of every
// objective against central differences of the loss.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	const d, h, batch = 6, 4, 3
	cases := []struct {
		hidden, out Activation
		obj         Cost
	}{
		{ReLU, Sigmoid, Cost{Loss: MSE}},
		{Sigmoid, Sigmoid, Cost{Loss: BCE}},
		{Tanh, Linear, Cost{Loss: MSE}},
		{Sigmoid, Sigmoid, Cost{Loss: MSE, Contractive: 0.3}},
		{Tanh, Sigmoid, Cost{Loss: MSE, Contractive: 0.3}},
		{ReLU, Sigmoid, Cost{Loss: MSE, Contractive: 0.3}},
		{Linear, Sigmoid, Cost{Loss: BCE, Contractive: 0.3}},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s-%s-%s-cae%g", tc.hidden, tc.out, tc.obj.Loss, tc.obj.Contractive)
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			ae := tinyAutoencoder(rng, d, h, tc.hidden, tc.out)
			// Biases away from zero keep ReLU units off their kink.
			for _, l := range append(ae.Encoder, ae.Decoder...) {
				for i := range l.B.Data {
					l.B.Data[i] = 0.1 + 0.05*float32(i)
				}
			}
			prog, err := NewTrainingProgram(ae, tc.obj, batch)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := Tape{}.Compile(prog, Adam{})
			if err != nil {
				t.Fatal(err)
			}
			defer ex.Close()
			noisy, clean := randomBatch(rng, batch*d), randomBatch(rng, batch*d)
			loss := func() float64 {
				if err := ex.Run(noisy, clean); err != nil {
					t.Fatal(err)
				}
				return float64(ex.Output(0)[0])
			}
			checkParamGradients(t, prog, ex, loss, noisy, clean)
		})
	}
}

// centralDifferences returns ∂f/∂v_i for every value of v, by central differences of
// step 1e-3; v is perturbed in place and put back.
func centralDifferences(v []float32, f func() float64) []float64 {
	const step = 1e-3
	out := make([]float64, len(v))
	for i := range v {
		orig := v[i]
		v[i] = orig + step
		up := f()
		v[i] = orig - step
		down := f()
		v[i] = orig
		out[i] = (up - down) / (2 * step)
	}
	return out
}

// checkParamGradients compares the gradients a Step computes with central differences of
// loss (a Run of the same inputs) with respect to every parameter.
func checkParamGradients(t *testing.T, prog *Program, ex Executor, loss func() float64, inputs ...[]float32) {
	t.Helper()
	numeric := make([][]float64, len(prog.Params))
	for i, p := range prog.Params {
		numeric[i] = centralDifferences(p.Data, loss)
	}
	if _, err := ex.Step(inputs...); err != nil {
		t.Fatal(err)
	}
	for i, p := range prog.Params {
		got := ex.Gradient(i)
		for j, want := range numeric[i] {
			if diff := math.Abs(float64(got[j]) - want); diff > 1e-4+2e-2*math.Abs(want) {
				t.Errorf("∂loss/∂%s[%d] = %.6g, finite differences %.6g", p.Name, j, got[j], want)
			}
		}
	}
}

// TestTrainingLowersLoss checks that Adam steps on a fixed batch reduce the loss.
func TestTrainingLowersLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ae := tinyAutoencoder(rng, 16, 8, ReLU, Sigmoid)
	prog, err := NewTrainingProgram(ae, Cost{}, 8)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Tape{}.Compile(prog, Adam{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	x := randomBatch(rng, 8*16)
	first, err := ex.Step(x, x)
	if err != nil {
		t.Fatal(err)
	}
	var last float32
	for range 300 {
		if last, err = ex.Step(x, x); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first/3) {
		t.Errorf("loss went from %g to %g after 300 steps; want it below a third", first, last)
	}
}

// TestEnergyGradientMatchesFiniteDifferences checks ∂‖r(x) − x‖²/∂x, the walk's gradient,
// against central differences of the energy.
func TestEnergyGradientMatchesFiniteDifferences(t *testing.T) {
	for _, acts := range [][2]Activation{{ReLU, Sigmoid}, {Sigmoid, Sigmoid}, {Tanh, Linear}} {
		t.Run(string(acts[0])+"-"+string(acts[1]), func(t *testing.T) {
			const d, h, batch = 7, 4, 2
			rng := rand.New(rand.NewPCG(8, 9))
			ae := tinyAutoencoder(rng, d, h, acts[0], acts[1])
			for i := range ae.Encoder[0].B.Data {
				ae.Encoder[0].B.Data[i] = 0.3
			}
			prog, err := NewEnergyProgram(ae, batch)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := Tape{}.Compile(prog, Adam{})
			if err != nil {
				t.Fatal(err)
			}
			defer ex.Close()
			x := randomBatch(rng, batch*d)
			energy := func() float64 {
				if err := ex.Run(x); err != nil {
					t.Fatal(err)
				}
				var e float64
				for i, r := range ex.Output(0) {
					diff := float64(r - x[i])
					e += diff * diff
				}
				return e
			}
			energy()
			grad := append([]float32(nil), ex.Output(1)...)
			for i, want := range centralDifferences(x, energy) {
				if diff := math.Abs(float64(grad[i]) - want); diff > 1e-3+2e-2*math.Abs(want) {
					t.Errorf("∂E/∂x[%d] = %.6g, finite differences %.6g", i, grad[i], want)
				}
			}
		})
	}
}
