//go:build aelabcuda

package cuda

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/graph/plan/plantest"
)

// TestNoDeviceIsAnError runs where no GPU answers (CI compiles the CUDA build against
// Debian's CUDA and runs its tests without one): opening a device must then be an error,
// not the exit that gorgonia.org/cu's package init would make (compat/cuda.h defers it).
// That this test runs at all shows the process survived cu's init.
func TestNoDeviceIsAnError(t *testing.T) {
	if devs, err := Devices(); err == nil {
		t.Skipf("a CUDA device answers (%d)", len(devs))
	}
	_, err := Devices()
	if err == nil || !strings.Contains(err.Error(), "no CUDA driver answers") {
		t.Errorf("Devices: %v", err)
	}
	if b, err := Open(0); err == nil {
		b.Close()
		t.Error("Open(0) succeeded without a device")
	} else if !strings.HasPrefix(err.Error(), "cuda: ") {
		t.Errorf("Open(0): %v", err)
	}
}

// TestKernelsCompile compiles kernels.cu with NVRTC, which needs no device, for the oldest
// compute capability aelab supports and for Hopper.
func TestKernelsCompile(t *testing.T) {
	for _, cc := range [][2]int{{7, 5}, {9, 0}} {
		ptx, err := compileKernels(cc[0], cc[1])
		if err != nil {
			t.Fatalf("compute %d.%d: %v", cc[0], cc[1], err)
		}
		for _, k := range kernelNames() {
			if !strings.Contains(ptx, ".entry "+k+"(") {
				t.Errorf("compute %d.%d: the PTX has no kernel %s", cc[0], cc[1], k)
			}
		}
	}
}

// TestFusedKernelsCompile generates the kernels of every fused step of every program aelab
// builds (small, and the sizes of the benchmarks) and compiles them with NVRTC.
func TestFusedKernelsCompile(t *testing.T) {
	var programs []*graph.Program
	for _, tc := range plantest.Programs() {
		p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		programs = append(programs, p)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sizes := range [][]int{{784, 128}, {784, 512, 128}, {784, 1000, 500, 250, 30}} {
		ae := graph.Autoencoder{}
		for i := 0; i+1 < len(sizes); i++ {
			ae.Encoder = append(ae.Encoder, graph.NewDense("e", sizes[i], sizes[i+1], graph.Sigmoid, rng))
			ae.Decoder = append([]*graph.Dense{graph.NewDense("d", sizes[i+1], sizes[i], graph.Sigmoid, rng)}, ae.Decoder...)
		}
		for _, lambda := range []float64{0, 1e-5} {
			p, err := graph.NewTrainingProgram(ae, graph.Cost{Loss: graph.MSE, Contractive: lambda}, 256)
			if err != nil {
				t.Fatal(err)
			}
			programs = append(programs, p)
		}
	}
	var src strings.Builder
	kernels := 0
	for _, p := range programs {
		pl, err := plan.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range pl.Steps {
			if s.Kernel != "fused" {
				continue
			}
			code, _, err := fusedKernel(fmt.Sprintf("fused_%d", kernels), s.Fusion, len(s.In))
			if err != nil {
				t.Fatal(err)
			}
			src.WriteString(code)
			kernels++
		}
	}
	if kernels < 20 {
		t.Fatalf("only %d fused steps in aelab's programs", kernels)
	}
	for _, cc := range [][2]int{{7, 5}, {9, 0}} {
		ptx, err := compilePTX(deviceCommon+src.String(), "fused.cu", cc[0], cc[1])
		if err != nil {
			t.Fatalf("compute %d.%d: %v", cc[0], cc[1], err)
		}
		if got := strings.Count(ptx, ".entry fused_"); got != kernels {
			t.Errorf("compute %d.%d: %d kernels in the PTX, %d generated", cc[0], cc[1], got, kernels)
		}
	}
}
