package plan_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
)

// Build a 4-2-4 autoencoder as a gorgonia graph, compile it into a plan on the CPU, and take
// Adam steps on one batch: the loss falls.
func Example() {
	rng := rand.New(rand.NewPCG(1, 1))
	ae := graph.Autoencoder{
		Encoder: []*graph.Dense{graph.NewDense("encoder.0", 4, 2, graph.Sigmoid, rng)},
		Decoder: []*graph.Dense{graph.NewDense("decoder.0", 2, 4, graph.Sigmoid, rng)},
	}
	prog, err := graph.NewTrainingProgram(ae, graph.Cost{Loss: graph.MSE}, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	ex, err := plan.New(plan.NewCPU()).Compile(prog, graph.Adam{LR: 0.05})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ex.Close()
	x := []float32{ // three images of four pixels: the input and the target
		1, 0, 1, 0,
		0, 1, 0, 1,
		1, 1, 0, 0,
	}
	for step := 1; step <= 200; step++ {
		loss, err := ex.Step(x, x)
		if err != nil {
			fmt.Println(err)
			return
		}
		if step == 1 || step == 200 {
			fmt.Printf("step %d: loss %.3f\n", step, loss)
		}
	}
	// Output:
	// step 1: loss 0.263
	// step 200: loss 0.005
}
