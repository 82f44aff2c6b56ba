// Package cuda runs aelab's gorgonia programs on NVIDIA GPUs through gorgonia.org/cu.
//
// It builds only with the cuda build tag (scripts/build-cuda.sh). Without the tag, Open and
// Devices return a *NotBuiltError that says how to build with CUDA, and aelab runs on the
// CPU; [Built] tells which build this is.
package cuda
