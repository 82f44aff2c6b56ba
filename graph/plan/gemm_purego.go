//go:build !openblas

package plan

import (
	"github.com/aelab/aelab/graph/sgemm"
	"github.com/aelab/aelab/graph/team"
)

// teamSpin is how long the CPU backend's helper goroutines wait for the next kernel spinning.
const teamSpin = team.Spin

// gemmSplitsThen says that gemm hands the blocks of its result over as the cores finish
// them, so that a fused step can run inside a product (CPU.afterGemm).
const gemmSplitsThen = true

// gemm computes c = op(a)·op(b) with aelab's pure-Go SGEMM, packing panels into mul's
// buffers (each prepared GEMM has its own, so plans can run on several goroutines at once),
// and calls then (when not nil) on each block of c once it is final.
func gemm(mul *sgemm.Multiplier, transA, transB bool, m, n, k int, a, b, out []float32, then sgemm.Then) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	mul.GemmThen(transA, transB, m, n, k, a, lda, b, ldb, out, n, then)
}

// BLASName names the BLAS behind the CPU backend's matrix products, with the SGEMM kernel
// NewCPU's plans run on this processor.
func BLASName() string { return "aelab's pure-Go SGEMM (" + sgemm.Best().String() + ")" }
