// Package plan compiles a differentiated gorgonia graph into a device plan and runs it.
//
// gorgonia builds the graphs and differentiates them (gorgonia.Grad); this package reads the
// result — the nodes in topological order, their ops and shapes — and turns the part that
// the program's outputs, loss and gradients need into a flat list of steps over buffers:
// matrix products (GEMM in its four forms) and named kernels (elementwise unary and binary
// ops, with scalar operands; broadcasts; sums along axes; softmax and its derivative). Dead
// nodes (gradients nobody reads) are dropped, reshapes become views of their source, and a
// buffer is reused once the last step that reads it has run.
//
// A [Backend] supplies the buffers and runs the steps: allocate, copy in and out, GEMM,
// launch a named kernel, and Adam. [CPU] is the pure-Go backend: it is aelab's fast CPU
// executor and the reference that the CUDA backend (package cuda) is checked against; the
// tests check it against gorgonia's TapeMachine on every graph aelab builds.
//
// An op the compiler does not know is an *[UnsupportedOpError] that names it; nothing falls
// back silently.
//
// Shapes: every value is row-major float32; vectors and scalars are 1×N and 1×1 matrices to
// the kernels.
package plan
