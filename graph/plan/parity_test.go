package plan

import (
	"testing"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan/plantest"
)

// TestPlanMatchesTapeMachine runs every program on the CPU plan backend and on gorgonia's
// TapeMachine from the same parameters and inputs.
func TestPlanMatchesTapeMachine(t *testing.T) {
	plantest.Compare(t, graph.CPU{}, New(NewCPU()), 1e-5)
}

// TestGatheringCPUMatchesTapeMachine checks the gathering variant the same way.
func TestGatheringCPUMatchesTapeMachine(t *testing.T) {
	plantest.Compare(t, graph.CPU{}, New(NewGatheringCPU()), 1e-5)
}
