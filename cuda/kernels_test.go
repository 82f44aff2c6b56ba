package cuda

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aelab/aelab/graph/plan"
)

// TestOpCodesMatchKernels checks the Go op codes against kernels.cu's #defines, and that the
// source defines every kernel the backend launches.
func TestOpCodesMatchKernels(t *testing.T) {
	defines := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define OP_([A-Z0-9]+) (\d+)$`).FindAllStringSubmatch(kernelSource(), -1) {
		n, _ := strconv.Atoi(m[2])
		defines[strings.ToLower(m[1])] = n
	}
	for name, code := range unaryOps() {
		if got, ok := defines[name]; !ok || got != code {
			t.Errorf("unary op %s: Go code %d, kernels.cu %d (defined %v)", name, code, got, ok)
		}
	}
	for name, code := range binaryOps() {
		if got, ok := defines[name]; !ok || got != code {
			t.Errorf("binary op %s: Go code %d, kernels.cu %d (defined %v)", name, code, got, ok)
		}
	}
	for _, k := range kernelNames() {
		if !strings.Contains(kernelSource(), `extern "C" __global__ void `+k+"(") {
			t.Errorf("kernels.cu has no kernel %s", k)
		}
	}
}

// TestEveryPlanKernelHasALaunch checks that the backend can run every kernel a plan uses.
// TestAdamPerMatchesKernels keeps the updates' grid (adamPer) in step with the values each
// of their threads takes (ADAM_PER).
func TestAdamPerMatchesKernels(t *testing.T) {
	m := regexp.MustCompile(`(?m)^#define ADAM_PER (\d+)$`).FindStringSubmatch(kernelSource())
	if m == nil || m[1] != strconv.Itoa(adamPer) {
		t.Errorf("kernels.cu defines ADAM_PER as %v, the Go code's adamPer is %d", m, adamPer)
	}
}

func TestEveryPlanKernelHasALaunch(t *testing.T) {
	for _, k := range plan.Kernels() {
		if k == "gemm" || k == "fused" {
			continue // cuBLAS; kernels generated for each fused step (fusedgen.go)
		}
		dims := []int{4, 0, 0, 2, 2}
		l, err := dispatch(k, dims)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if !strings.Contains(kernelSource(), `extern "C" __global__ void `+l.fn+"(") {
			t.Errorf("%s launches %s, which kernels.cu lacks", k, l.fn)
		}
	}
	if _, err := dispatch("conv2d", nil); err == nil || !strings.Contains(err.Error(), "--device cpu") {
		t.Errorf("an unknown kernel gave %v", err)
	}
}

// TestSharedStructs checks that kernels.cu and ops.h declare the step counters alike.
func TestSharedStructs(t *testing.T) {
	header, err := os.ReadFile("ops.h")
	if err != nil {
		t.Fatal(err)
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	re := regexp.MustCompile(`struct counters \{[^}]*\};`)
	dev, host := re.FindString(kernelSource()), re.FindString(string(header))
	if dev == "" || squash(dev) != squash(host) {
		t.Errorf("kernels.cu declares %q, ops.h %q", dev, host)
	}
}

// TestLaunchGeometry checks the grids: every value covered, sums' scratch sized to their grid.
func TestLaunchGeometry(t *testing.T) {
	for _, tc := range []struct {
		kernel      string
		dims        []int
		fn          string
		grid, extra int
	}{
		{"sigmoid", []int{200704}, "unary", 784, 0},
		{"add", []int{32768, 0, 2, 256, 128}, "binary", 128, 0},
		{"sum", []int{256, 784, 0}, "sum_rows", 25, 0},
		{"sum", []int{256, 784, 1}, "sum_cols", 256, 0},
		{"sum", []int{256, 784, 2}, "sum_all", 196, 196},
		{"sum", []int{1, 1, 2}, "sum_all", 1, 1},
		{"sum", []int{100000, 1000, 2}, "sum_all", 1024, 1024},
		{"exp", []int{1 << 30}, "unary", 65535, 0},
	} {
		l, err := dispatch(tc.kernel, tc.dims)
		if err != nil {
			t.Fatal(err)
		}
		if l.fn != tc.fn || l.grid != tc.grid || l.scratch != tc.extra {
			t.Errorf("%s %v: %s over %d blocks with %d partial sums, want %s, %d, %d", tc.kernel, tc.dims, l.fn, l.grid, l.scratch, tc.fn, tc.grid, tc.extra)
		}
	}
}
