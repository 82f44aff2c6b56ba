package plan

import (
	"math"

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

// Device is what a plan runs on (the CPU, a CUDA GPU). Its methods are called from one goroutine at a time.
//
// The executor binds a plan once: it allocates the buffers, then hands the backend each
// list of operations it will run again and again (a forward pass; a training step) to
// Prepare, so that running one costs no allocation and no lookup — on a GPU, a few host
// calls, or one. What changes from step to step (the Adam step count, the batch within the
// epoch, the noise counter) lives in Counters in the backend's memory, read and advanced
// by the operations themselves, so a prepared step never waits for the host.
type Device interface {
	// Name says what computes: "cpu", "cuda:0", ….
	Name() string
	// Alloc returns a zeroed buffer of n float32 values; Free releases it.
	Alloc(n int) (Memory, error)
	Free(m Memory) error
	// AllocIndices returns a buffer of n int32 values (an epoch's order of images).
	AllocIndices(n int) (Memory, error)
	// Param returns the buffer that holds p's values on this backend, the same one to every
	// plan that holds it; fresh reports whether it was just made (and filled from p.Data).
	// ReleaseParam says that a plan is done with it: a backend with buffers of its own frees
	// it when no plan holds it (p.Data keeps what SyncParams last read).
	Param(p *graph.Param) (mem Memory, fresh bool, err error)
	ReleaseParam(p *graph.Param) error
	// Write copies src into dst; Read copies src into dst. WriteIndices fills an index
	// buffer from its start.
	Write(dst Slice, src []float32) error
	Read(dst []float32, src Slice) error
	WriteIndices(dst Memory, idx []int32) error
	// NewCounters returns a set of step counters; SetCounters and ReadCounters write and
	// read them (after the operations queued before).
	NewCounters() (Memory, error)
	SetCounters(m Memory, c Counters) error
	ReadCounters(m Memory) (Counters, error)
	// Prepare readies ops to run in order, each time the Sequence runs.
	Prepare(ops []Op) (Sequence, error)
	// Sync waits for every queued operation to finish.
	Sync() error
	// Close releases the backend's buffers.
	Close() error
}

// HostMemory is implemented by a Device whose memory is the host's (the CPU): Adopt makes
// values a buffer of the device as they are, without a copy. An executor adopts the
// training images so that they are not copied to where they already are (and not held
// twice: 157 MB for MNIST's training set); the caller must not change them while the
// executor holds them.
type HostMemory interface {
	Adopt(values []float32) Memory
}

// Sequence is a prepared list of operations.
type Sequence interface {
	// Run queues the operations n times over; a backend that computes on the host has done
	// them when Run returns.
	Run(n int) error
	// Close releases what Prepare made.
	Close() error
}

// Runner is implemented by backends whose calls must come from one goroutine (a GPU
// context bound to an OS thread): the executor hands each whole run to Run, one hand-over
// per run instead of one per call.
type Runner interface {
	Run(fn func() error) error
}

// Counters are what changes from one training step to the next, kept in the backend's
// memory so that a prepared step reads them there.
type Counters struct {
	Steps uint32 // Adam updates made so far
	Batch uint32 // batches of the epoch's order taken so far
	Noise uint32 // the noise counter of the next batch (see datasets.Noise.ApplyAt)
	// Adam is the update the next AdamOp makes; Advance recomputes it.
	Adam AdamStep
}

// AdamStep holds the scalars of one Adam update (see graph.Adam):
// w ← w − StepSize·Scale · m / (√v · InvSqrtC2 + Eps), after m and v take in the gradient.
// Scale is the learning rate's factor (graph.Executor.ScaleLR), which advancing the counters
// keeps.
type AdamStep struct {
	StepSize, Beta1, Beta2, Eps, InvSqrtC2 float32
	Scale                                  float32
}

// AdamAt returns the update number t (from 1) that cfg makes. Backends that compute it on a
// device do so in double precision by the same formula, so both round to the same floats.
func AdamAt(cfg graph.Adam, t uint32) AdamStep {
	cfg = cfg.WithDefaults()
	if cfg.SGD { // no bias correction: the step size is the learning rate
		return AdamStep{StepSize: float32(cfg.LR), Scale: 1}
	}
	return AdamStep{
		StepSize:  float32(cfg.LR / (1 - math.Pow(cfg.Beta1, float64(t)))),
		Beta1:     float32(cfg.Beta1),
		Beta2:     float32(cfg.Beta2),
		Eps:       float32(cfg.Eps),
		InvSqrtC2: float32(1 / math.Sqrt(1-math.Pow(cfg.Beta2, float64(t)))),
		Scale:     1,
	}
}

// Advance returns the counters after one more step: the next Adam update, batch and noise.
func (c Counters) Advance(cfg graph.Adam) Counters {
	c.Steps++
	c.Batch++
	c.Noise++
	scale := c.Adam.Scale
	c.Adam = AdamAt(cfg, c.Steps+1)
	c.Adam.Scale = scale
	return c
}

// Op is one operation of a Sequence: KernelOp, GatherOp, AdamOp or AdvanceOp.
type Op interface{ op() }

// KernelOp is a plan step bound to buffers: a GEMM, a named kernel or a fused program (see
// Step).
type KernelOp struct {
	Kernel string
	Dims   []int
	Out    Slice
	In     []Slice
	Node   string  // for messages
	Outs   []Slice // fused: every output
	Fusion *Fusion // fused: the program
}

// GatherOp builds a training batch in the backend's memory: Clean gets the images of Data
// (D values each) at the positions Order[Batch·B …] where Batch is the counters' batch and B
// the batch size, and Noisy their corruption by Noise, drawn from Seed and the counters'
// noise counter. Without noise Noisy may be Clean itself.
type GatherOp struct {
	Noisy, Clean Slice
	Data, Order  Memory
	B, D         int
	Noise        datasets.Noise
	Seed         uint64
	Counters     Memory
}

// AdamOp updates the parameters Params in place from their gradients and moments, with the
// counters' Adam update, after multiplying them by graph.DecayFactor(DecayRate, the counters'
// scale) when DecayRate (graph.Adam.DecayRate) is not 0. With SGD it makes graph.Adam's SGD
// update instead, M holding the velocities, with the counters' step size, Momentum and the L2
// penalty L2.
type AdamOp struct {
	Params, Grads, M, V []Slice
	Counters            Memory
	DecayRate           float32
	SGD                 bool
	Momentum, L2        float32
}

// AdvanceOp moves the counters on by one step (Counters.Advance with Adam). With Losses, it
// first copies the step's loss (one value) to Losses[Batch], so that an epoch's losses are
// read once, not after every step.
type AdvanceOp struct {
	Counters     Memory
	Adam         graph.Adam
	Loss, Losses Slice
}

func (KernelOp) op()  {}
func (GatherOp) op()  {}
func (AdamOp) op()    {}
func (AdvanceOp) op() {}
