package cuda

import (
	"fmt"
	"strings"

	"github.com/aelab/aelab/graph/plan"
)

// Device describes one CUDA device.
type Device struct {
	Ordinal int    `json:"ordinal"` // the N of --device cuda:N
	Name    string `json:"name"`    // as the driver reports it
	Memory  int64  `json:"memory"`  // bytes of device memory
	Compute string `json:"compute"` // compute capability, e.g. "9.0"
}

// NotBuiltError is returned when CUDA is asked of a build without it.
type NotBuiltError struct{}

func (*NotBuiltError) Error() string {
	return "cuda: this aelab was built without CUDA; build it with scripts/build-cuda.sh (go build -tags aelabcuda), or use --device cpu"
}

// Options configure a CUDA backend.
type Options struct {
	// NoReplay queues every operation of every step from the host instead of replaying the
	// steps as captured CUDA graphs (to compare the two, or to rule replay out).
	NoReplay bool
	// TF32 lets cuBLAS compute matrix products on tensor cores with TF32 inputs (10-bit
	// mantissas, FP32 accumulation), as JAX does by default on GPUs that have them: faster,
	// and about 1e-3 relative error in each product instead of 1e-7.
	TF32 bool
	// GEMM chooses the library call that computes each matrix product (the zero value:
	// cublasSgemm).
	GEMM GEMM
	// Plan configures the plans the backend compiles.
	Plan plan.Options
}

// GEMM is how the backend computes a plan's matrix products.
type GEMM uint8

const (
	// GEMMCublas calls cublasSgemm, which picks its kernel by cuBLAS's own heuristics.
	GEMMCublas GEMM = iota
	// GEMMLt calls cublasLtMatmul with the first algorithm cuBLASLt's heuristic offers for
	// each product's shape, transposes and alignments (cublasSgemm where it offers none).
	GEMMLt
	// GEMMTuned times, for each product when its sequence is prepared, cublasSgemm and up to
	// 8 of the algorithms cuBLASLt's heuristic offers, and keeps the fastest. The choice
	// depends on timings, so two runs may round differently in the last bits; GEMMCublas
	// and GEMMLt choose the same way every time.
	GEMMTuned
)

// String gives the name ParseGEMM reads.
func (g GEMM) String() string {
	switch g {
	case GEMMCublas:
		return "cublas"
	case GEMMLt:
		return "lt"
	case GEMMTuned:
		return "tuned"
	}
	return fmt.Sprintf("GEMM(%d)", uint8(g))
}

// ParseGEMM reads a GEMM path by name: cublas, lt or tuned ("" is cublas).
func ParseGEMM(name string) (GEMM, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return GEMMCublas, nil
	}
	for _, g := range []GEMM{GEMMCublas, GEMMLt, GEMMTuned} {
		if n == g.String() {
			return g, nil
		}
	}
	return GEMMCublas, fmt.Errorf("cuda: unknown GEMM path %q (want cublas, lt or tuned)", name)
}
