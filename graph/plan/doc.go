// Package plan compiles a differentiated gorgonia graph into a device plan and runs it.
//
// gorgonia builds the graphs and differentiates them (gorgonia.Grad); this package reads the
// result — the nodes in topological order, their ops and shapes — and turns the part that
// the program's outputs, loss and gradients need into a flat list of steps over buffers:
// matrix products (GEMM in its four forms) and named kernels (elementwise unary and binary
// ops, with scalar, row and column operands; broadcasts; sums along axes; softmax and its
// derivative). Dead nodes (gradients nobody reads) are dropped, steps on constants are
// computed once, reshapes become views of their source, chains of elementwise kernels of
// one shape (and the sum that ends one) become a single fused step with its own small
// program ([Fusion]; [Options] turns this off), and a buffer is reused once the last step
// that reads it has run.
//
//	b := plan.New(plan.NewCPU()) // a graph.Backend
//	ex, err := b.Compile(program, graph.Adam{LR: 1e-3})
//	if err != nil {
//		return err
//	}
//	defer ex.Close()
//	loss, err := ex.Step(noisy, clean)
//
// A [Device] supplies the buffers and runs what the executor prepares once per plan: the
// steps, and around a training step the batch gathered and corrupted, Adam, and the step
// counters advanced ([Sequence]). [CPU] is the pure-Go backend: aelab's fast CPU executor
// and the reference that the CUDA backend (package cuda) is checked against; the tests check
// it against gorgonia's TapeMachine on every graph aelab builds, fused and not.
//
// An op the compiler does not know is an *[UnsupportedOpError] that names it; nothing falls
// back silently.
//
// Shapes: every value is row-major float32; vectors and scalars are 1×N and 1×1 matrices to
// the kernels.
package plan
