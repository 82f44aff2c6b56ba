package plan

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/aelab/aelab/graph"
)

// TestFusedInsideProductAfterMoreProcs prepares a plan whose fused steps run inside matrix
// products (an autoencoder's, products large enough to split) under GOMAXPROCS 1, then
// steps it under 4: the products split into more parts than there were when the plan was
// prepared, and each part still has its registers.
func TestFusedInsideProductAfterMoreProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	rng := rand.New(rand.NewPCG(1, 1))
	const d, hidden, batch = 128, 64, 64 // a product of 64×64×128 multiply-adds splits
	p, err := oneLayer(rng, d, hidden, batch, graph.ReLU, graph.Cost{Loss: graph.MSE})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(NewCPU()).Compile(p, graph.Adam{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	runtime.GOMAXPROCS(4)
	x := make([]float32, batch*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	if _, err := ex.Step(x, x); err != nil {
		t.Fatal(err)
	}
}
