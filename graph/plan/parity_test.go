package plan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aelab/aelab/graph"
)

// graphCase builds one of the programs aelab trains or runs, from fresh parameters drawn
// from seed, and the inputs of its runs.
type graphCase struct {
	name  string
	build func(rng *rand.Rand) (*graph.Program, error)
	feed  func(rng *rand.Rand, p *graph.Program) [][]float32
}

func stack(rng *rand.Rand, sizes []int, hidden, last graph.Activation, prefix string) []*graph.Dense {
	var ls []*graph.Dense
	for i := 0; i+1 < len(sizes); i++ {
		act := hidden
		if i+2 == len(sizes) {
			act = last
		}
		ls = append(ls, graph.NewDense(fmt.Sprintf("%s.%d", prefix, 2*i), sizes[i], sizes[i+1], act, rng))
	}
	return ls
}

func autoencoder(rng *rand.Rand, sizes []int, hidden, code, out graph.Activation) graph.Autoencoder {
	enc := stack(rng, sizes, hidden, code, "encoder")
	rev := make([]int, len(sizes))
	for i, s := range sizes {
		rev[len(sizes)-1-i] = s
	}
	return graph.Autoencoder{Encoder: enc, Decoder: stack(rng, rev, hidden, out, "decoder")}
}

// uniform feeds every input with values in [0,1).
func uniform(rng *rand.Rand, p *graph.Program) [][]float32 {
	var in [][]float32
	for _, n := range p.Inputs {
		v := make([]float32, n.Shape().TotalSize())
		for i := range v {
			v[i] = rng.Float32()
		}
		in = append(in, v)
	}
	return in
}

// labelled feeds a batch and one-hot labels.
func labelled(rng *rand.Rand, p *graph.Program) [][]float32 {
	in := uniform(rng, p)
	y := in[1]
	clear(y)
	classes := p.Inputs[1].Shape()[1]
	for r := range len(y) / classes {
		y[r*classes+rng.IntN(classes)] = 1
	}
	return in
}

func trainingCase(name string, sizes []int, hidden, code, out graph.Activation, obj graph.Objective) graphCase {
	return graphCase{name: name, feed: uniform, build: func(rng *rand.Rand) (*graph.Program, error) {
		return graph.NewTrainingProgram(autoencoder(rng, sizes, hidden, code, out), obj, 8)
	}}
}

// programs lists every kind of program aelab builds.
func programs() []graphCase {
	mse, bce := graph.Objective{Loss: graph.MSE}, graph.Objective{Loss: graph.BCE}
	cae := graph.Objective{Loss: graph.MSE, Contractive: 0.05}
	r, s, t, l := graph.ReLU, graph.Sigmoid, graph.Tanh, graph.Linear
	return []graphCase{
		trainingCase("ae relu", []int{12, 6}, r, r, s, mse),
		trainingCase("ae sigmoid bce", []int{12, 6}, s, s, s, bce),
		trainingCase("ae tanh linear", []int{12, 6}, t, t, l, mse),
		trainingCase("cae relu", []int{12, 6}, r, r, s, cae),
		trainingCase("cae sigmoid", []int{12, 6}, s, s, s, cae),
		trainingCase("cae tanh", []int{12, 6}, t, t, s, cae),
		trainingCase("deep relu", []int{12, 9, 5}, r, r, s, mse),
		trainingCase("deep cae", []int{12, 9, 5}, r, r, s, cae),
		trainingCase("hinton-like", []int{12, 10, 8, 6, 3}, s, l, s, mse),
		{name: "forward stack", feed: uniform, build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewStackProgram(autoencoder(rng, []int{12, 9, 5}, r, r, s).Layers(), 7)
		}},
		{name: "energy gradient", feed: uniform, build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewEnergyProgram(autoencoder(rng, []int{12, 9, 5}, r, r, s), 4)
		}},
		{name: "energy gradient sigmoid", feed: uniform, build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewEnergyProgram(autoencoder(rng, []int{12, 6}, s, s, s), 4)
		}},
		{name: "classifier", feed: labelled, build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewClassifierTrainingProgram(stack(rng, []int{12, 8, 4}, s, l, "encoder"), 6)
		}},
		{name: "probe", feed: labelled, build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewClassifierTrainingProgram(stack(rng, []int{5, 10}, l, l, "probe"), 6)
		}},
	}
}

func close32(a, b float32, tol float64) bool {
	return math.Abs(float64(a)-float64(b)) <= tol*(1+math.Abs(float64(b)))
}

// TestPlanMatchesTapeMachine runs every program on the CPU plan backend and on gorgonia's
// TapeMachine from the same parameters and inputs: 20 steps (losses, gradients, updated
// weights) for programs that train, one run (outputs) for the others.
func TestPlanMatchesTapeMachine(t *testing.T) {
	for _, tc := range programs() {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := tc.build(rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.build(rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			tape, err := graph.CPU{}.Compile(ref, graph.Adam{LR: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			defer tape.Close()
			ex, err := New(NewCPU()).Compile(got, graph.Adam{LR: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			defer ex.Close()
			rng := rand.New(rand.NewPCG(2, 2))
			if !ref.Trains() {
				in := tc.feed(rng, ref)
				if err := tape.Run(in...); err != nil {
					t.Fatal(err)
				}
				if err := ex.Run(in...); err != nil {
					t.Fatal(err)
				}
				for i := range ref.Outputs {
					for j, want := range tape.Output(i) {
						if g := ex.Output(i)[j]; !close32(g, want, 1e-5) {
							t.Fatalf("output %d[%d] = %g, TapeMachine %g", i, j, g, want)
						}
					}
				}
				return
			}
			for step := range 20 {
				in := tc.feed(rng, ref)
				lw, err := tape.Step(in...)
				if err != nil {
					t.Fatal(err)
				}
				lg, err := ex.Step(in...)
				if err != nil {
					t.Fatal(err)
				}
				if !close32(lg, lw, 1e-5) {
					t.Fatalf("step %d: loss %g, TapeMachine %g", step, lg, lw)
				}
				if step == 0 {
					for i, p := range ref.Params {
						for j, want := range tape.Gradient(i) {
							if g := ex.Gradient(i)[j]; !close32(g, want, 1e-4) {
								t.Fatalf("gradient of %s[%d] = %g, TapeMachine %g", p.Name, j, g, want)
							}
						}
					}
				}
			}
			for i, p := range ref.Params {
				for j, want := range p.Data {
					if g := got.Params[i].Data[j]; !close32(g, want, 1e-3) {
						t.Fatalf("after 20 steps %s[%d] = %g, TapeMachine %g", p.Name, j, g, want)
					}
				}
			}
		})
	}
}
