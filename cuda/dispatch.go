package cuda

import "fmt"

// launch is how the backend runs one plan kernel: which CUDA function, with which op code
// and integer arguments.
type launch struct {
	fn   string // the extern "C" kernel of kernels.cu
	op   int    // op code for unary and binary kernels, else −1
	args []int  // the integer arguments after the pointers, in the kernel's order
	rows int    // parallel units: values, rows or columns
}

// dispatch maps a plan kernel and its Dims (see graph/plan's Step) onto a CUDA kernel.
func dispatch(kernel string, dims []int) (launch, error) {
	if op, ok := unaryOps()[kernel]; ok {
		return launch{fn: "unary", op: op, args: []int{dims[0], op}, rows: dims[0]}, nil
	}
	if op, ok := binaryOps()[kernel]; ok {
		// Dims [n, modeA, modeB, rows, cols]
		return launch{fn: "binary", op: op, args: []int{dims[0], op, dims[1], dims[2], dims[4]}, rows: dims[0]}, nil
	}
	switch kernel {
	case "broadcast":
		return launch{fn: "broadcast", op: -1, args: dims[:4], rows: dims[0] * dims[1]}, nil
	case "sum":
		rows, cols := dims[0], dims[1]
		switch dims[2] {
		case 0:
			return launch{fn: "sum_rows", op: -1, args: []int{rows, cols}, rows: cols}, nil
		case 1:
			return launch{fn: "sum_cols", op: -1, args: []int{rows, cols}, rows: rows}, nil
		default:
			return launch{fn: "sum_all", op: -1, args: []int{rows * cols}, rows: 1}, nil
		}
	case "softmax", "logsoftmax":
		return launch{fn: "softmax", op: -1, args: []int{dims[0], dims[1], boolInt(kernel == "logsoftmax")}, rows: dims[0]}, nil
	case "softmaxgrad", "logsoftmaxgrad":
		return launch{fn: "softmax_grad", op: -1, args: []int{dims[0], dims[1], boolInt(kernel == "logsoftmaxgrad")}, rows: dims[0]}, nil
	case "copy":
		return launch{fn: "copy", op: -1, args: []int{dims[0]}, rows: dims[0]}, nil
	}
	return launch{}, fmt.Errorf("cuda: no kernel for plan step %q; --device cpu runs it", kernel)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
