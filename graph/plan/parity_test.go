package plan

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan/plantest"
)

// TestPlanMatchesTapeMachine runs every program on the CPU plan backend and on gorgonia's
// TapeMachine from the same parameters and inputs.
func TestPlanMatchesTapeMachine(t *testing.T) {
	plantest.Compare(t, graph.CPU{}, New(NewCPU()), 1e-5)
}

// deviceLikeCPU keeps its own copy of every parameter, as a GPU backend does: the host's
// values change only through SyncParams.
type deviceLikeCPU struct {
	*CPU
	params map[*graph.Param][]float32
}

func newDeviceLikeCPU() *deviceLikeCPU {
	return &deviceLikeCPU{CPU: NewCPU(), params: map[*graph.Param][]float32{}}
}

func (d *deviceLikeCPU) Param(p *graph.Param) (Memory, bool, error) {
	if m, ok := d.params[p]; ok {
		return m, false, nil
	}
	m := slices.Clone(p.Data)
	d.params[p] = m
	return m, true, nil
}

// TestDeviceLikeBackendMatchesTapeMachine runs the comparison on a backend that keeps its
// own parameters, as the CUDA backend does.
func TestDeviceLikeBackendMatchesTapeMachine(t *testing.T) {
	plantest.Compare(t, graph.CPU{}, New(newDeviceLikeCPU()), 1e-5)
}

// TestParamsReachTheHostOnlyBySync checks what the comparison relies on: on a backend with
// its own parameters, training leaves the host's values alone until SyncParams.
func TestParamsReachTheHostOnlyBySync(t *testing.T) {
	tc := plantest.Programs()[0]
	p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(p.Params[0].Data)
	ex, err := New(newDeviceLikeCPU()).Compile(p, graph.Adam{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	for range 3 {
		if _, err := ex.Step(tc.Feed(rng, p)...); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(p.Params[0].Data, before) {
		t.Fatal("the host's parameters changed without SyncParams")
	}
	if err := ex.SyncParams(); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(p.Params[0].Data, before) {
		t.Fatal("SyncParams left the host's parameters as they were before training")
	}
}

// TestExecutorClose checks that closing twice is harmless and that a closed executor
// refuses work with ErrClosed.
func TestExecutorClose(t *testing.T) {
	tc := plantest.Programs()[0]
	p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(NewCPU()).Compile(p, graph.Adam{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := ex.Step(tc.Feed(rand.New(rand.NewPCG(2, 2)), p)...); err != ErrClosed {
		t.Fatalf("Step after Close: %v, want ErrClosed", err)
	}
}
