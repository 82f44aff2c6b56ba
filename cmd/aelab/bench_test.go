package main

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/models"
)

// BenchmarkTrainingStep times one Adam step of each benchmark architecture on the CPU
// executors: aelab's compiled plan and gorgonia's TapeMachine.
func BenchmarkTrainingStep(b *testing.B) {
	backends := []struct {
		name    string
		backend func() graph.Backend
	}{
		{"plan", func() graph.Backend { return plan.New(plan.NewCPU()) }},
		{"tape", func() graph.Backend { return graph.Tape{} }},
	}
	for _, arch := range benchArchs() {
		for _, batch := range []int{32, 256} {
			for _, be := range backends {
				b.Run(fmt.Sprintf("%s/batch%d/%s", arch, batch, be.name), func(b *testing.B) {
					spec, err := benchSpec(arch, models.AE)
					if err != nil {
						b.Fatal(err)
					}
					ae, err := models.New(spec, models.InitRand(1))
					if err != nil {
						b.Fatal(err)
					}
					prog, err := graph.NewTrainingProgram(ae.Graph(), spec.Cost(), batch)
					if err != nil {
						b.Fatal(err)
					}
					ex, err := be.backend().Compile(prog, graph.Adam{})
					if err != nil {
						b.Fatal(err)
					}
					defer ex.Close()
					rng := rand.New(rand.NewPCG(1, 1))
					x := make([]float32, batch*784)
					for i := range x {
						x[i] = rng.Float32()
					}
					steps := 0
					for b.Loop() {
						if _, err := ex.Step(x, x); err != nil {
							b.Fatal(err)
						}
						steps++
					}
					b.ReportMetric(float64(steps*batch)/b.Elapsed().Seconds(), "images/s")
				})
			}
		}
	}
}
