//go:build !amd64 && !arm64

package sgemm

// hasKernel is false: the assembly kernels are amd64's and arm64's; gonum does the work
// elsewhere.
func hasKernel(Kernel) bool { return false }

// tilingOf is never called: Gemm asks for a tiling only for an available assembly kernel.
func tilingOf(Kernel) tiling { return tiling{} }
