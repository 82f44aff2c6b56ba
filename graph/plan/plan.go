package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aelab/aelab/graph"
)

// View is a region of one of a plan's buffers.
type View struct {
	Buf int // index into Plan.Buffers
	Off int // first value
	Len int // number of values
}

// Buffer describes one buffer a plan needs.
type Buffer struct {
	Len   int
	Param *graph.Param // the parameter whose values the buffer holds, or nil
	Const []float32    // the constant values it holds, or nil
	Input bool         // fed by the caller before each run
}

// Step is one operation of a plan: a GEMM or a named kernel.
//
// Kernels and their Dims (all sizes in values):
//
//	unary  (neg square sqrt exp log sigmoid tanh softplus abs sign inv cube log1p expm1 invsqrt)
//	       Dims [n]: Out[i] = f(In[0][i])
//	binary (add sub mul div pow lt gt le ge eq ne)
//	       Dims [n, modeA, modeB, rows, cols]: Out (rows×cols) = a op b, each operand laid out
//	       in full (mode 0), as one scalar (1), as one row repeated (2: cols values) or one
//	       column repeated (3: rows values); comparisons give 1 or 0
//	sigmoidgrad  Dims [n]: Out[i] = y(1 − y) for y = In[0][i], the sigmoid's derivative
//	broadcast  Dims [rows, cols, inRows, inCols]: Out[r,c] = In[0][r mod inRows, c mod inCols]
//	sum        Dims [rows, cols, axis]: axis 0 sums the rows (Out has cols values), 1 the
//	           columns (Out has rows values), 2 everything (Out has 1 value)
//	softmax, logsoftmax            Dims [rows, cols]: along each row
//	softmaxgrad, logsoftmaxgrad    Dims [rows, cols]: In [y, dy], the derivative with
//	                               respect to the input of softmax or logsoftmax with output y
//	copy       Dims [n]
//	gemm       Dims [m, n, k, transA, transB]: Out (m×n) = op(In[0]) · op(In[1])
//	fused      Dims [n, rows, cols]: Fusion's program over In, writing Outs (Out is Outs[0])
type Step struct {
	Kernel string
	Out    View
	In     []View
	Dims   []int
	Node   string  // the gorgonia node the step computes, for messages
	Outs   []View  // fused: every output
	Fusion *Fusion // fused: the program
}

// Plan is a compiled program: its buffers, steps and where its values live.
type Plan struct {
	Buffers []Buffer
	Steps   []Step
	Inputs  []View // aligned with graph.Program.Inputs
	Outputs []View // aligned with graph.Program.Outputs
	Loss    *View  // nil for a program without a loss
	Params  []View // aligned with graph.Program.Params
	Grads   []View // aligned with graph.Program.Params; nil without a loss
	Batch   int
}

// String lists the steps, one per line, for debugging and tests.
func (p *Plan) String() string {
	var b strings.Builder
	for i, s := range p.Steps {
		out := fmt.Sprint(s.Out)
		if s.Fusion != nil {
			out = fmt.Sprint(s.Outs)
			s.Node = s.Fusion.kernels() + ": " + s.Node
		}
		fmt.Fprintf(&b, "%3d %-14s %v ← %v %v  # %s\n", i, s.Kernel, out, s.In, s.Dims, s.Node)
	}
	return b.String()
}

// UnsupportedOpError reports a gorgonia op that the compiler cannot turn into a step.
type UnsupportedOpError struct {
	Op   string // the op as gorgonia prints it
	Node string
}

func (e *UnsupportedOpError) Error() string {
	return fmt.Sprintf("plan: gorgonia op %q (node %s) has no kernel in aelab's executor; --device tape runs it on gorgonia's TapeMachine", e.Op, e.Node)
}

// Kernels lists every kernel name a plan's steps may carry, for backends to check that
// they run them all.
func Kernels() []string {
	names := []string{"broadcast", "sum", "softmax", "logsoftmax", "softmaxgrad", "logsoftmaxgrad", "copy", "sigmoidgrad", "gemm", "fused"}
	for _, k := range unaryKernels() {
		names = append(names, k)
	}
	for _, k := range binaryKernels() {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// kernels lists the fusion's kernels in order, and its sum: "add sigmoid sub square Σ2".
func (f *Fusion) kernels() string {
	var code []string
	for _, c := range f.Code {
		code = append(code, c.Kernel)
	}
	if r := f.Reduce; r != nil {
		code = append(code, fmt.Sprintf("Σ%d", r.Axis))
	}
	return strings.Join(code, " ")
}
