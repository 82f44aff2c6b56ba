package cuda

import "github.com/aelab/aelab/graph/plan"

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
	// Plan configures the plans the backend compiles.
	Plan plan.Options
}
