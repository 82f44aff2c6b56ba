// Package cuda runs aelab's compiled plans (package graph/plan) on an NVIDIA GPU through
// gorgonia.org/cu: device buffers for every value of a plan, cuBLAS SGEMM for the matrix
// products, aelab's own kernels (kernels.cu, compiled by NVRTC when the backend opens, for
// the device's compute capability) for everything else, Adam as one fused kernel over all
// parameters, and the training images kept on the device, each batch gathered and
// corrupted there, the loss read one step late so the GPU never waits for the host.
//
// The backend builds only with the aelabcuda build tag (scripts/build-cuda.sh). The tag is
// not "cuda" because gorgonia's own files use that tag to switch on its CUDA machinery
// (cuDNN, and a TapeMachine whose gradients came back as zero on CUDA 13), which aelab does
// not use. Without the tag, Open and Devices return a *NotBuiltError that says how to build
// with CUDA, and aelab runs on the CPU; [Built] tells which build this is.
//
// One goroutine, locked to its OS thread, owns the CUDA context and makes every call; the
// plan executor hands it whole runs (plan.Runner), one hand-over per training step.
//
// Note: gorgonia.org/cu initialises the driver when the program starts and exits the
// process if no CUDA device answers, so a binary built with the tag needs a GPU.
package cuda
