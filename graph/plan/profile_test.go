package plan

import (
	"math/rand/v2"
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
// one time for each operation the step runs, in order, named as Describe names them.
func TestProfileTimesEveryOperation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ae := graph.Autoencoder{Encoder: []*graph.Dense{graph.NewDense("e", 20, 8, graph.ReLU, rng)},
		Decoder: []*graph.Dense{graph.NewDense("d", 8, 20, graph.Sigmoid, rng)}}
	prog, err := graph.NewTrainingProgram(ae, graph.Cost{Loss: graph.MSE}, 4)
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
	if want := len(pl.Steps) + 2; len(ops) != want { // the plan's steps, Adam, the counters' advance
		t.Fatalf("%d operations timed, want %d", len(ops), want)
	}
	if !strings.HasPrefix(ops[0].Op, "gemm") || ops[len(ops)-2].Op != "adam (4 parameters)" || ops[len(ops)-1].Op != "advance" {
		t.Errorf("operations %v: want a gemm first, Adam and advance last", ops)
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
