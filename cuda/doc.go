// Package cuda runs aelab's compiled plans (package graph/plan) on an NVIDIA GPU through
// gorgonia.org/cu: device buffers for every value of a plan, cuBLAS SGEMM for the matrix
// products (or cuBLASLt's cublasLtMatmul: Options.GEMM), aelab's own kernels (kernels.cu,
// compiled by NVRTC when the backend opens, for the device's compute capability) for
// everything else, Adam as one kernel over all parameters, and the training images kept on
// the device, each batch gathered and corrupted there with the counter-based noise the CPU
// draws.
//
// A prepared sequence of operations (a plan's steps, and around a training step the batch
// gathered, Adam and the step counters advanced) is queued by one cgo call (ops.h); from its
// second run on it is replayed as a CUDA graph captured from it, one launch a step. Nothing
// a step needs comes from the host: the counters live in device memory, and the losses are
// kept there until the host reads them.
//
//	b, err := cuda.Open(0) // a graph.Backend; plan.Unwrap(b) is the device backend
//	if err != nil {
//		return err // no driver, no device: the caller falls back to the CPU
//	}
//	defer b.Close()
//
// The backend builds only with the aelabcuda build tag (scripts/build-cuda.sh). The tag is
// not "cuda" because gorgonia's own files use that tag to switch on its CUDA machinery
// (cuDNN, and a TapeMachine whose gradients came back as zero on CUDA 13), which aelab does
// not use. Without the tag, Open and Devices return a *NotBuiltError that says how to build
// with CUDA; [Built] tells which build this is.
//
// gorgonia.org/cu initialises the driver in its package init and exits the process when no
// device answers; compat/cuda.h, first on the include path, defers that to Open and Devices,
// which return an error instead. One goroutine, locked to its OS thread, owns the CUDA
// context and makes every call; the plan executor hands it whole runs (plan.Runner).
package cuda
