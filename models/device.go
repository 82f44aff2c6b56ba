package models

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aelab/aelab/cuda"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
)

// OpenBackend returns the executor backend that name asks for: "cpu" (aelab's compiled
// plan on the CPU), "tape" (gorgonia's TapeMachine on the CPU, the reference), "cuda"
// (device 0), "cuda:N", or "auto" (CUDA when this build has it and a device answers, else
// the CPU). The note says what was chosen and why, for the log. AELAB_CUDA_REPLAY=0 in the
// environment makes the CUDA backend queue every operation from the host instead of
// replaying captured steps (a diagnostic).
func OpenBackend(name string) (backend graph.Backend, note string, err error) {
	opt := cuda.Options{NoReplay: os.Getenv("AELAB_CUDA_REPLAY") == "0"}
	cpu := func() graph.Backend { return plan.New(plan.NewCPU()) }
	switch n := strings.ToLower(strings.TrimSpace(name)); {
	case n == "cpu":
		return cpu(), "device: cpu", nil
	case n == "tape":
		return graph.CPU{}, "device: cpu, gorgonia TapeMachine", nil
	case n == "auto" || n == "":
		b, err := cuda.OpenWith(0, opt)
		if err == nil {
			return b, "device: " + b.Name() + " (auto)", nil
		}
		var nb *cuda.NotBuiltError
		if errors.As(err, &nb) {
			return cpu(), "device: cpu (auto: this build has no CUDA)", nil
		}
		return cpu(), fmt.Sprintf("device: cpu (auto: no CUDA device answered: %v)", err), nil
	case n == "cuda" || strings.HasPrefix(n, "cuda:"):
		ordinal := 0
		if rest, ok := strings.CutPrefix(n, "cuda:"); ok {
			if ordinal, err = strconv.Atoi(rest); err != nil || ordinal < 0 {
				return nil, "", fmt.Errorf("models: device %q: want cuda:N with N a device number", name)
			}
		}
		b, err := cuda.OpenWith(ordinal, opt)
		if err != nil {
			return nil, "", err
		}
		return b, "device: " + b.Name(), nil
	}
	return nil, "", fmt.Errorf("models: unknown device %q (want auto, cpu, tape, cuda or cuda:N)", name)
}
