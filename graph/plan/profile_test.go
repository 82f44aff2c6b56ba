package plan

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aelab/aelab/graph"
)

func TestDescribe(t *testing.T) {
	cases := []struct {
		op   Op
		want string
	}{
		{KernelOp{Kernel: "gemm", Dims: []int{256, 128, 784, 0, 0}}, "gemm A·B 256×128×784"},
		{KernelOp{Kernel: "gemm", Dims: []int{128, 784, 256, 1, 0}}, "gemm Aᵀ·B 128×784×256"},
		{KernelOp{Kernel: "gemm", Dims: []int{256, 128, 784, 0, 1}}, "gemm A·Bᵀ 256×128×784"},
		{KernelOp{Kernel: "fused", Dims: []int{6, 2, 3}, Fusion: &Fusion{Rows: 2, Cols: 3,
			Code: []Instr{{Kernel: "add"}, {Kernel: "sigmoid"}}, Reduce: &Reduce{Axis: 2}}}, "fused add sigmoid Σ2, 2×3"},
		{KernelOp{Kernel: "sum", Dims: []int{4, 5, 0}}, "sum [4 5 0]"},
		{GatherOp{B: 32, D: 784}, "gather 32×784"},
		{AdamOp{Params: make([]Slice, 4)}, "adam (4 parameters)"},
		{AdvanceOp{}, "advance"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := Describe(tc.op); got != tc.want {
				t.Errorf("Describe = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestProfileTimesEveryOperation profiles a small autoencoder's training step on the CPU:
// one time for each operation the step runs, in order, named as Describe names them, a
// fused step run inside the product before it sharing the product's.
func TestProfileTimesEveryOperation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	prog, err := oneLayer(rng, 20, 8, 4, graph.ReLU, graph.Cost{Loss: graph.MSE})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := Compile(prog)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(NewCPU()).Compile(prog, graph.Adam{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	ops, err := ex.(Profiler).Profile(3)
	if err != nil {
		t.Fatal(err)
	}
	// The plan's steps (a fused step that runs inside the product before it named after
	// it: "gemm … + fused …"), Adam, the counters' advance.
	var want, got []string
	for _, s := range pl.Steps {
		want = append(want, Describe(KernelOp{Kernel: s.Kernel, Dims: s.Dims, Fusion: s.Fusion}))
	}
	want = append(want, "adam (4 parameters)", "advance")
	for _, o := range ops {
		got = append(got, strings.Split(o.Op, " + ")...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations %v, want the steps %q", ops, want)
	}
	if len(ops) >= len(want) {
		t.Errorf("%d operations for %d steps: no fused step ran inside its product", len(ops), len(want))
	}
	for _, o := range ops {
		if o.Time < 0 {
			t.Errorf("%s took %v", o.Op, o.Time)
		}
	}
	if _, err := ex.(Profiler).Profile(0); err == nil {
		t.Error("Profile(0) did not fail")
	}
}
