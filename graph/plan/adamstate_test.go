package plan

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aelab/aelab/graph"
)

// Training that stops, hands its parameters and optimiser state to a new executor, and goes
// on, takes exactly the steps of training that never stopped, on every backend.
func TestAdamStateResumesExactly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backend func() graph.Backend
	}{
		{"tape", func() graph.Backend { return graph.Tape{} }},
		{"cpu plan", func() graph.Backend { return New(NewCPU()) }},
		{"device-like plan", func() graph.Backend { return New(newDeviceLikeCPU()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func() (*graph.Program, graph.Autoencoder) {
				rng := rand.New(rand.NewPCG(3, 3))
				ae := graph.Autoencoder{
					Encoder: []*graph.Dense{graph.NewDense("encoder.0", 6, 3, graph.Sigmoid, rng)},
					Decoder: []*graph.Dense{graph.NewDense("decoder.0", 3, 6, graph.Sigmoid, rng)},
				}
				prog, err := graph.NewTrainingProgram(ae, graph.Cost{Loss: graph.MSE}, 4)
				if err != nil {
					t.Fatal(err)
				}
				return prog, ae
			}
			rng := rand.New(rand.NewPCG(5, 5))
			batches := make([][]float32, 6)
			for i := range batches {
				batches[i] = make([]float32, 4*6)
				for j := range batches[i] {
					batches[i][j] = rng.Float32()
				}
			}
			train := func(ex graph.Executor, from, to int) {
				for _, b := range batches[from:to] {
					if _, err := ex.Step(b, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			whole, wholeAE := build()
			ex, err := tc.backend().Compile(whole, graph.Adam{LR: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			defer ex.Close()
			train(ex, 0, len(batches))
			if err := ex.SyncParams(); err != nil {
				t.Fatal(err)
			}

			first, firstAE := build()
			ex1, err := tc.backend().Compile(first, graph.Adam{LR: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			train(ex1, 0, 3)
			if err := ex1.SyncParams(); err != nil {
				t.Fatal(err)
			}
			state, err := ex1.AdamState()
			if err != nil {
				t.Fatal(err)
			}
			ex1.Close()
			if state.Steps != 3 {
				t.Errorf("%d steps in the state, want 3", state.Steps)
			}
			second, secondAE := build() // fresh parameters, then the stopped run's values
			for i, p := range secondAE.Params() {
				copy(p.Data, firstAE.Params()[i].Data)
			}
			ex2, err := tc.backend().Compile(second, graph.Adam{LR: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			defer ex2.Close()
			if err := ex2.SetAdamState(state); err != nil {
				t.Fatal(err)
			}
			train(ex2, 3, len(batches))
			if err := ex2.SyncParams(); err != nil {
				t.Fatal(err)
			}
			for i, p := range wholeAE.Params() {
				if !slices.Equal(p.Data, secondAE.Params()[i].Data) {
					t.Errorf("%s differs after stopping and going on", p.Name)
				}
			}
			state.M = state.M[:1]
			if err := ex2.SetAdamState(state); err == nil {
				t.Error("a state for other parameters was accepted")
			}
		})
	}
}
