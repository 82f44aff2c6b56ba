package cuda

import (
	"strings"
	"testing"

	"github.com/aelab/aelab/graph/plan"
)

// TestFusedKernelSource checks the CUDA C generated for each kind of fused step: what each
// register computes from, what is stored, and the reduction's launch.
func TestFusedKernelSource(t *testing.T) {
	code := []plan.Instr{
		{Kernel: "add", A: plan.Operand{Reg: -1, In: 0}, B: plan.Operand{Reg: -1, In: 1, Mode: 2}}, // x + bias (a row)
		{Kernel: "sigmoid", A: plan.Operand{Reg: 0}},
		{Kernel: "mul", A: plan.Operand{Reg: 1}, B: plan.Operand{Reg: -1, In: 2, Mode: 1}}, // · a scalar
		{Kernel: "sub", A: plan.Operand{Reg: 2}, B: plan.Operand{Reg: -1, In: 3, Mode: 3}}, // − a column
	}
	for _, tc := range []struct {
		name   string
		reduce *plan.Reduce
		want   []string
		grid   int
		extra  int
	}{
		{"none", nil, []string{"out0[i] = r1;", "out1[i] = r3;", "i < rows * cols"}, 784, 0},
		{"everything", &plan.Reduce{Reg: 3, Axis: 2}, []string{"s += r3;", "float* partial, unsigned int* done", "finish_sum(s, partial, done, reduceOut);"}, 784, 784},
		{"over rows", &plan.Reduce{Reg: 3, Axis: 0}, []string{"s += r3;", "for (int row = lane; row < rows; row += 32)", "reduceOut[col] = part[0][threadIdx.x];"}, 98, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &plan.Fusion{Rows: 256, Cols: 784, Code: code, Stores: []int{1, 3}, Reduce: tc.reduce}
			src, l, err := fusedKernel("fused_0", f, 4)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{
				`extern "C" __global__ void fused_0(const float* __restrict__ in0, const float* __restrict__ in1`,
				"const int rows = 256, cols = 784;",
				"const float r0 = binary_op(0, in0[i], in1[col]);",
				"const float r1 = unary_op(5, r0);",
				"const float r2 = binary_op(2, r1, in2[0]);",
				"const float r3 = binary_op(1, r2, in3[row]);",
			}, tc.want...)
			for _, w := range want {
				if !strings.Contains(src, w) {
					t.Errorf("the kernel lacks %q:\n%s", w, src)
				}
			}
			if l.grid != tc.grid || l.scratch != tc.extra {
				t.Errorf("launch over %d blocks with %d partial sums, want %d and %d", l.grid, l.scratch, tc.grid, tc.extra)
			}
		})
	}
	if _, _, err := fusedKernel("f", &plan.Fusion{Rows: 1, Cols: 1, Code: []plan.Instr{{Kernel: "conv", A: plan.Operand{Reg: -1}}}}, 1); err == nil {
		t.Error("a kernel with no CUDA counterpart was generated")
	}
}

// TestSumWidth checks how many columns a block of a fused sum over rows takes: narrow
// blocks for few columns, down to a sector of a row.
func TestSumWidth(t *testing.T) {
	for _, tc := range []struct{ cols, want int }{
		{10, 8}, {128, 8}, {784, 8}, {1000, 8}, {2048, 16}, {3000, 16}, {4096, 32}, {8192, 32},
	} {
		if got := sumWidth(tc.cols); got != tc.want {
			t.Errorf("sumWidth(%d) = %d, want %d", tc.cols, got, tc.want)
		}
	}
}
