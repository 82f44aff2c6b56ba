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
		// A block takes width columns, its lanes of threads every lanes-th row; the lanes'
		// sums are then added pairwise in a fixed order. Blocks narrow (to 8 columns, a
		// whole 32-byte sector of a row) until there are enough of them to fill the GPU:
		// 32 columns a block left the 128 columns of a hidden layer to 4 blocks, 64 rows each.
		width := sumWidth(cols)
		lanes := threads / width
		l.grid = (cols + width - 1) / width
		fmt.Fprintf(&src, `    __shared__ float part[%[1]d][%[2]d + 1];
    const int col = blockIdx.x * %[2]d + threadIdx.x %% %[2]d, lane = threadIdx.x / %[2]d;
    if (col < cols) {
#pragma unroll 4
        for (int row = lane; row < rows; row += %[1]d) {
        const int i = row * cols + col;
%[3]s        }
    }
    part[lane][threadIdx.x %% %[2]d] = s;
    __syncthreads();
    for (int half = %[1]d / 2; half > 0; half /= 2) {
        if (lane < half) part[lane][threadIdx.x %% %[2]d] += part[lane + half][threadIdx.x %% %[2]d];
        __syncthreads();
    }
    if (lane == 0 && col < cols) reduceOut[col] = part[0][threadIdx.x];
}
`, lanes, width, value.String())
		return src.String(), l, nil
	}
	n := rows * cols
	l.grid = blocks(n)
	fmt.Fprintf(&src, `    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < rows * cols; i += gridDim.x * blockDim.x) {
        const int row = i / cols, col = i - row * cols;
%s    }
`, value.String())
	if f.Reduce != nil {
		// Partial sums per block, added by the last block to finish (as sum_all). A value a
		// thread: four a thread left the loads of a loss over 256×784 waiting in line.
		l.grid = min(blocks(n), 2048)
		l.scratch = l.grid
		src.WriteString("    finish_sum(s, partial, done, reduceOut);\n")
	}
	src.WriteString("}\n")
	return src.String(), l, nil
}

// sumWidth is how many columns a block of a fused sum over rows takes: 32, halved down to 8
// while that leaves fewer than 128 blocks.
func sumWidth(cols int) int {
	width := 32
	for width > 8 && (cols+width-1)/width < 128 {
		width /= 2
	}
	return width
}
