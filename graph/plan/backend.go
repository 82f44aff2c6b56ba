package plan

import (
	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// Memory is a backend's buffer handle; only the backend that made it knows what it is.
type Memory any

// Slice is a region of a backend buffer.
type Slice struct {
	Mem Memory
	Off int
	Len int
}

// AdamStep holds the scalars of one Adam update (see graph.Adam):
// w ← w − StepSize · m / (√v · InvSqrtC2 + Eps), after m and v take in the gradient.
type AdamStep struct {
	StepSize, Beta1, Beta2, Eps, InvSqrtC2 float32
}

// Backend is what a plan runs on. Its methods are called from one goroutine at a time.
type Backend interface {
	// Name says what computes: "cpu", "cuda:0", ….
	Name() string
	// Alloc returns a zeroed buffer of n float32 values; Free releases it.
	Alloc(n int) (Memory, error)
	Free(m Memory) error
	// Param returns the buffer that holds p's values on this backend, the same one to every
	// plan; fresh reports whether it was just made (and filled from p.Data).
	Param(p *graph.Param) (mem Memory, fresh bool, err error)
	// Write copies src into dst; Read copies src into dst.
	Write(dst Slice, src []float32) error
	Read(dst []float32, src Slice) error
	// Gemm computes c = op(a)·op(b), row-major, with op(a) m×k and op(b) k×n.
	Gemm(transA, transB bool, m, n, k int, a, b, c Slice) error
	// Launch runs the named kernel (see Step) writing out from in.
	Launch(kernel string, dims []int, out Slice, in []Slice) error
	// Adam updates the parameters ws in place from their gradients gs and moments ms, vs.
	Adam(s AdamStep, ws, gs, ms, vs []Slice) error
	// Sync waits for every launched operation to finish.
	Sync() error
	// Close releases the backend's buffers.
	Close() error
}

// Runner is implemented by backends whose calls must come from one goroutine (a GPU
// context bound to an OS thread): the executor hands each whole run to Run, one hand-over
// per run instead of one per call.
type Runner interface {
	Run(fn func() error) error
}

// Gatherer is implemented by backends that keep a training set in their memory and build
// each batch there (see graph.DeviceData).
type Gatherer interface {
	// AllocIndices returns a buffer of n int32 batch indices; WriteIndices fills it.
	AllocIndices(n int) (Memory, error)
	WriteIndices(dst Memory, idx []int32) error
	// Gather writes rows idx of data (d values each) into clean, and their corruption by
	// noise, drawn from seed and step, into noisy.
	Gather(noisy, clean Slice, data, idx Memory, batch, d int, noise datasets.Noise, seed uint64, step uint32) error
	// ReadLater starts copying src into dst; wait waits until dst holds it.
	ReadLater(dst []float32, src Slice) (wait func() error, err error)
}
