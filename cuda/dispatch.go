package cuda

import "fmt"

// threads is the block size of the kernels that run many threads.
const threads = 256

// adamPer is how many values of a parameter each thread of the Adam and SGD updates takes
// (ADAM_PER in kernels.cu).
const adamPer = 4

// launch is how the backend runs one plan kernel: which CUDA function, the integer
// arguments after its pointer arguments (out, then the inputs), and the grid.
type launch struct {
	fn      string // the extern "C" kernel of kernels.cu
	args    []int  // in the kernel's order
	grid    int    // blocks of threads
	scratch int    // sum_all: partial sums to allocate (one per block), passed after args
}

// blocks is the grid that covers n values with one thread each (kernels loop over the rest).
func blocks(n int) int { return min(max((n+threads-1)/threads, 1), 65535) }

// dispatch maps a plan kernel and its Dims (see graph/plan's Step) onto a CUDA kernel.
func dispatch(kernel string, dims []int) (launch, error) {
	if op, ok := unaryOps()[kernel]; ok {
		return launch{fn: "unary", args: []int{dims[0], op}, grid: blocks(dims[0])}, nil
	}
	if op, ok := binaryOps()[kernel]; ok {
		// Dims [n, modeA, modeB, rows, cols]
		return launch{fn: "binary", args: []int{dims[0], op, dims[1], dims[2], dims[4]}, grid: blocks(dims[0])}, nil
	}
	switch kernel {
	case "broadcast":
		return launch{fn: "broadcast", args: dims[:4], grid: blocks(dims[0] * dims[1])}, nil
	case "sum":
		rows, cols := dims[0], dims[1]
		switch dims[2] {
		case 0:
			return launch{fn: "sum_rows", args: []int{rows, cols}, grid: (cols + 31) / 32}, nil
		case 1:
			return launch{fn: "sum_cols", args: []int{rows, cols}, grid: min(max(rows, 1), 65535)}, nil
		default:
			// A block per 4 values a thread, at most 1024 partial sums for the last block.
			g := min(max((rows*cols+4*threads-1)/(4*threads), 1), 1024)
			return launch{fn: "sum_all", args: []int{rows * cols}, grid: g, scratch: g}, nil
		}
	case "softmax", "logsoftmax":
		return launch{fn: "softmax", args: []int{dims[0], dims[1], boolInt(kernel == "logsoftmax")}, grid: blocks(dims[0])}, nil
	case "softmaxgrad", "logsoftmaxgrad":
		return launch{fn: "softmax_grad", args: []int{dims[0], dims[1], boolInt(kernel == "logsoftmaxgrad")}, grid: blocks(dims[0])}, nil
	case "copy":
		return launch{fn: "copy", args: []int{dims[0]}, grid: blocks(dims[0])}, nil
	}
	return launch{}, fmt.Errorf("cuda: no kernel for plan step %q; --device cpu runs it", kernel)
}

// kernelNames lists every kernel of kernels.cu the backend launches.
func kernelNames() []string {
	return []string{"unary", "binary", "broadcast", "sum_rows", "sum_cols", "sum_all", "softmax", "softmax_grad", "copy",
		"adam", "advance", "adam_advance", "sgd", "gather_corrupt"}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
