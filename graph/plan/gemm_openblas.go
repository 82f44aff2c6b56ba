//go:build openblas

package plan

// #cgo LDFLAGS: -lopenblas
// int openblas_get_num_threads(void);
import "C"

import (
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"

	"github.com/aelab/aelab/graph/sgemm"
)

// teamSpin is 0: OpenBLAS's threads spin between products, and helpers spinning beside them
// would leave them fewer cores than they count on (epochs took half again as long).
const teamSpin time.Duration = 0

// gemmSplitsThen is false: OpenBLAS hands the result over whole, on one goroutine, so a fused
// step after a product runs as a step of its own, split across the cores.
const gemmSplitsThen = false

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = op(a)·op(b) with OpenBLAS (through gonum's netlib binding), then calls
// then (when not nil) on all of c; OpenBLAS keeps its own buffers, so mul is not used.
func gemm(_ *sgemm.Multiplier, transA, transB bool, m, n, k int, a, b, out []float32, then sgemm.Then) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	netlib.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, 1, a, lda, b, ldb, 0, out, n)
	if then != nil {
		then(0, 0, m, 0, n)
	}
}

// BLASName names the BLAS behind the CPU backend's matrix products.
func BLASName() string { return "OpenBLAS (cgo)" }
