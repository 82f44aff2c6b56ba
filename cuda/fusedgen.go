package cuda

import (
	"fmt"
	"strings"

	"github.com/aelab/aelab/graph/plan"
)

// A fused step (plan.Fusion) runs as a kernel of its own, generated as CUDA C and compiled by
// NVRTC when the step is prepared: each register a local variable, the shape constants, the
// ops the same device functions aelab's kernels use (common.cuh). Interpreting the program
// instead — a loop over its instructions for every value — took longer on an H200 than the
// separate kernels it replaces.

// fusedLaunch is how a generated fused kernel is launched.
type fusedLaunch struct {
	grid    int
	scratch int // a sum of everything: partial sums to allocate, one per block
}

// fusedKernel returns the CUDA C of kernel name computing f over inputs inputs, and its
// launch. The kernel's parameters are the inputs, then the stored registers' outputs, then,
// with a reduction, its output, and for a sum of everything the partial sums and the count
// of finished blocks (as sum_all).
func fusedKernel(name string, f *plan.Fusion, inputs int) (string, fusedLaunch, error) {
	var params []string
	for i := range inputs {
		params = append(params, fmt.Sprintf("const float* __restrict__ in%d", i))
	}
	for o := range f.Stores {
		params = append(params, fmt.Sprintf("float* __restrict__ out%d", o))
	}
	if f.Reduce != nil {
		params = append(params, "float* __restrict__ reduceOut")
		if f.Reduce.Axis != 0 {
			params = append(params, "float* partial", "unsigned int* done")
		}
	}
	operand := func(x plan.Operand) (string, error) {
		if x.Reg >= 0 {
			return fmt.Sprintf("r%d", x.Reg), nil
		}
		if x.In < 0 || x.In >= inputs {
			return "", fmt.Errorf("cuda: fused step reads input %d of %d", x.In, inputs)
		}
		switch x.Mode {
		case 1: // scalar
			return fmt.Sprintf("in%d[0]", x.In), nil
		case 2: // row: one value per column
			return fmt.Sprintf("in%d[col]", x.In), nil
		case 3: // column: one value per row
			return fmt.Sprintf("in%d[row]", x.In), nil
		}
		return fmt.Sprintf("in%d[i]", x.In), nil
	}
	var value strings.Builder // the statements for value i at (row, col)
	for k, in := range f.Code {
		a, err := operand(in.A)
		if err != nil {
			return "", fusedLaunch{}, err
		}
		if code, ok := unaryOps()[in.Kernel]; ok {
			fmt.Fprintf(&value, "        const float r%d = unary_op(%d, %s);\n", k, code, a)
			continue
		}
		code, ok := binaryOps()[in.Kernel]
		if !ok {
			return "", fusedLaunch{}, fmt.Errorf("cuda: no kernel for %q in a fused step", in.Kernel)
		}
		b, err := operand(in.B)
		if err != nil {
			return "", fusedLaunch{}, err
		}
		fmt.Fprintf(&value, "        const float r%d = binary_op(%d, %s, %s);\n", k, code, a, b)
	}
	for o, reg := range f.Stores {
		fmt.Fprintf(&value, "        out%d[i] = r%d;\n", o, reg)
	}
	if f.Reduce != nil {
		fmt.Fprintf(&value, "        s += r%d;\n", f.Reduce.Reg)
	}
	rows, cols := f.Rows, f.Cols
	var src strings.Builder
	fmt.Fprintf(&src, "extern \"C\" __global__ void %s(%s) {\n", name, strings.Join(params, ", "))
	fmt.Fprintf(&src, "    const int rows = %d, cols = %d;\n    float s = 0.f;\n", rows, cols)
	var l fusedLaunch
	if f.Reduce != nil && f.Reduce.Axis == 0 {
		// A block takes 32 columns; 8 lanes of threads take every 8th row (as sum_rows).
		l.grid = (cols + 31) / 32
		fmt.Fprintf(&src, `    __shared__ float part[8][33];
    const int col = blockIdx.x * 32 + threadIdx.x %% 32, lane = threadIdx.x / 32;
    if (col < cols)
        for (int row = lane; row < rows; row += 8) {
        const int i = row * cols + col;
%s        }
    part[lane][threadIdx.x %% 32] = s;
    __syncthreads();
    if (lane == 0 && col < cols) {
        float t = part[0][threadIdx.x];
        for (int l = 1; l < 8; l++) t += part[l][threadIdx.x];
        reduceOut[col] = t;
    }
}
`, value.String())
		return src.String(), l, nil
	}
	n := rows * cols
	l.grid = blocks(n)
	fmt.Fprintf(&src, `    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < rows * cols; i += gridDim.x * blockDim.x) {
        const int row = i / cols, col = i - row * cols;
%s    }
`, value.String())
	if f.Reduce != nil {
		// Partial sums per block, added by the last block to finish (as sum_all).
		l.grid = min(max((n+4*threads-1)/(4*threads), 1), 1024)
		l.scratch = l.grid
		src.WriteString("    finish_sum(s, partial, done, reduceOut);\n")
	}
	src.WriteString("}\n")
	return src.String(), l, nil
}
