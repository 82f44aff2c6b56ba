package graph

import (
	"fmt"
	"math"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph/vec"
)

// Executor runs one compiled Program.
//
// Inputs are row-major float32 slices, one per Program.Inputs entry, each exactly as long as
// its node's shape. Outputs are valid until the next Run or Step. An Executor is not safe
// for concurrent use.
type Executor interface {
	// Run feeds the inputs and evaluates the program's outputs. Parameters do not change.
	Run(inputs ...[]float32) error
	// Step feeds the inputs, evaluates the loss and its gradients and applies one Adam update
	// to the parameters. It returns the loss. Step fails on a program without a loss.
	Step(inputs ...[]float32) (float32, error)
	// Output returns output i of the last Run or Step.
	Output(i int) []float32
	// Gradient returns the gradient of Program.Params[i] that the last Step computed (before
	// its update); nil before the first Step.
	Gradient(i int) []float32
	// SyncParams copies the executor's current parameter values into Program.Params' Data.
	SyncParams() error
	// AdamState returns the optimiser's state (steps made, moments); SetAdamState restores
	// one, so that training stopped after an epoch goes on exactly. Both fail on a program
	// without a loss.
	AdamState() (AdamState, error)
	SetAdamState(s AdamState) error
	// ScaleLR multiplies the learning rate of the steps that follow by f (a schedule's
	// factor; 1 gives the configured rate): each update's step size, LR/(1−β1ᵗ) rounded to
	// float32, is multiplied by f in float32. It fails on a program without a loss.
	ScaleLR(f float32) error
	// Close releases what the executor holds.
	Close() error
}

// Backend compiles programs into executors. Executors of one backend read and update the
// same parameters: a Param shared by two programs has one value.
type Backend interface {
	// Name says what runs the programs: "cpu", "cuda:0", ….
	Name() string
	// Compile prepares p. opt configures Step's Adam updates; it is ignored for a program
	// without a loss.
	Compile(p *Program, opt Adam) (Executor, error)
	// MatMul returns a matrix product in host memory for what evaluation computes outside
	// the programs (Jacobians layer by layer, distances to the training images), as fast as
	// this backend's CPU side multiplies. One MatMul serves one goroutine.
	MatMul() MatMul
	// Close releases what the backend holds.
	Close() error
}

// MatMul multiplies row-major float32 matrices in host memory: c = op(a)·op(b), op(a) m×k
// and op(b) k×n; a has lda values per stored row, b ldb and c ldc; transA and transB select
// the transposes.
type MatMul interface {
	Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)
}

// Adam holds the optimiser's settings (the name is the default's, and the executors'
// state keeps it): by default the Adam optimiser (Kingma & Ba, 2015), with the update
// PyTorch's torch.optim.Adam makes:
//
//	m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//	w ← w − LR · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
//
// Zero fields mean the defaults: LR 0.001, Beta1 0.9, Beta2 0.999, Eps 1e-8.
//
// WeightDecay, when positive, decays the weights apart from the gradient (AdamW, Loshchilov &
// Hutter 2019, as torch.optim.AdamW does it): before each update w ← w·(1 − lr·WeightDecay),
// for every parameter, lr the update's learning rate (LR times Executor.ScaleLR's factor).
//
// SGD, when set, makes the update stochastic gradient descent with momentum instead, as
// torch.optim.SGD does it: v ← Momentum·v + g + WeightDecay·w (the decay an L2 penalty, as
// the classic recipes have it), w ← w − LR·v; the moments' M holds v, and Beta1, Beta2 and
// Eps are unused.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	WeightDecay           float64
	SGD                   bool
	Momentum              float64
}

// DecayRate is LR·WeightDecay in float32 for AdamW (0 without weight decay, and with SGD,
// whose decay is L2). An update at learning-rate factor f multiplies every weight first by
// DecayFactor(rate, f), the same float32 operations on every executor.
func (a Adam) DecayRate() float32 {
	a = a.WithDefaults()
	if a.SGD {
		return 0
	}
	return float32(a.LR * a.WeightDecay)
}

// DecayFactor is 1 − rate·f in float32, rounded after the product as a GPU computes it.
func DecayFactor(rate, f float32) float32 { return 1 - float32(rate*f) }

// WithDefaults returns a with every zero field set to its default.
func (a Adam) WithDefaults() Adam {
	if a.LR == 0 {
		a.LR = 0.001
	}
	if a.Beta1 == 0 {
		a.Beta1 = 0.9
	}
	if a.Beta2 == 0 {
		a.Beta2 = 0.999
	}
	if a.Eps == 0 {
		a.Eps = 1e-8
	}
	return a
}

// AdamState is Adam's state for a program's parameters, in Program.Params' order: the
// updates made and the first and second moment estimates.
type AdamState struct {
	Steps int
	M, V  [][]float32
}

// Check reports whether s fits params.
func (s AdamState) Check(params []*Param) error {
	if s.Steps < 0 || len(s.M) != len(params) || len(s.V) != len(params) {
		return fmt.Errorf("graph: an optimiser state of %d steps and %d/%d moments does not fit %d parameters", s.Steps, len(s.M), len(s.V), len(params))
	}
	for i, p := range params {
		if len(s.M[i]) != len(p.Data) || len(s.V[i]) != len(p.Data) {
			return fmt.Errorf("graph: the optimiser state of %s has %d/%d values, want %d", p.Name, len(s.M[i]), len(s.V[i]), len(p.Data))
		}
	}
	return nil
}

// adamState is Adam's moment estimates for a list of parameters, on the host.
type adamState struct {
	cfg   Adam
	t     int
	m, v  [][]float32
	scale float32 // Executor.ScaleLR's factor
}

func newAdamState(cfg Adam, params []*Param) *adamState {
	s := &adamState{cfg: cfg.WithDefaults(), m: make([][]float32, len(params)), v: make([][]float32, len(params)), scale: 1}
	for i, p := range params {
		s.m[i] = make([]float32, len(p.Data))
		s.v[i] = make([]float32, len(p.Data))
	}
	return s
}

// update applies one Adam step: weights[i] -= … using grads[i].
func (s *adamState) update(weights, grads [][]float32) {
	s.t++
	c := s.cfg
	b1, b2 := float32(c.Beta1), float32(c.Beta2)
	stepSize := float32(c.LR/(1-math.Pow(c.Beta1, float64(s.t)))) * s.scale
	invSqrtC2 := float32(1 / math.Sqrt(1-math.Pow(c.Beta2, float64(s.t))))
	eps := float32(c.Eps)
	decay := DecayFactor(c.DecayRate(), s.scale)
	if c.SGD {
		step := float32(c.LR) * s.scale
		for i, w := range weights {
			vec.SGD(step, float32(c.Momentum), float32(c.WeightDecay), w, grads[i], s.m[i])
		}
		return
	}
	for i, w := range weights {
		g, m, v := grads[i], s.m[i], s.v[i]
		g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
		if decay != 1 {
			for j := range w {
				w[j] *= decay
			}
		}
		for j := range w {
			gj := g[j]
			mj := b1*m[j] + (1-b1)*gj
			vj := b2*v[j] + (1-b2)*gj*gj
			m[j], v[j] = mj, vj
			w[j] -= stepSize * mj / (sqrt32(vj)*invSqrtC2 + eps)
		}
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// DeviceData is implemented by executors that keep the training images in their device's
// memory: each step gathers its batch and corrupts it there (datasets.Noise.ApplyAt), keeps
// its loss there, and the host queues steps without waiting for them, reading the losses
// when it wants to report them. The program's inputs must be the corrupted batch and the
// clean batch (a training program of an autoencoder).
type DeviceData interface {
	// SetData copies the images (N×D, row-major) to the device; each batch is corrupted by
	// noise drawn from seed. A device whose memory is the host's (the CPU) keeps the images
	// themselves instead of a copy: they must not change while the executor holds them.
	SetData(images []float32, d int, noise datasets.Noise, seed uint64) error
	// StartEpoch copies an epoch's order of images (its batches one after another) to the
	// device and numbers the noise of its first batch first, of the next first+1, ….
	StartEpoch(order []int32, first uint32) error
	// StepBatches queues the epoch's next n training steps.
	StepBatches(n int) error
	// Losses waits for the queued steps and returns the losses of the epoch's steps so far
	// (valid until the next call).
	Losses() ([]float32, error)
}
