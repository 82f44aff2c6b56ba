package cuda

import (
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
	for _, m := range regexp.MustCompile(`(?m)^#define OP_([A-Z0-9]+) (\d+)$`).FindAllStringSubmatch(kernelSource, -1) {
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
	for _, k := range []string{"unary", "binary", "broadcast", "sum_rows", "sum_cols", "sum_all", "softmax", "softmax_grad", "copy", "adam", "gather_corrupt"} {
		if !strings.Contains(kernelSource, `extern "C" __global__ void `+k+"(") {
			t.Errorf("kernels.cu has no kernel %s", k)
		}
	}
}

// TestEveryPlanKernelHasALaunch checks that the backend can run every kernel a plan uses.
func TestEveryPlanKernelHasALaunch(t *testing.T) {
	for _, k := range plan.Kernels() {
		if k == "gemm" {
			continue // cuBLAS
		}
		dims := []int{4, 0, 0, 2, 2}
		l, err := dispatch(k, dims)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if !strings.Contains(kernelSource, `extern "C" __global__ void `+l.fn+"(") {
			t.Errorf("%s launches %s, which kernels.cu lacks", k, l.fn)
		}
	}
	if _, err := dispatch("conv2d", nil); err == nil || !strings.Contains(err.Error(), "--device cpu") {
		t.Errorf("an unknown kernel gave %v", err)
	}
}
