package plan

import (
	"errors"
	"fmt"
	"slices"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/sgemm"
)

// New returns a graph.Backend that compiles programs into plans and runs them on be.
func New(be Device) graph.Backend { return planBackend{be: be} }

// NewWith is New with compile options.
func NewWith(be Device, opt Options) graph.Backend { return planBackend{be: be, opt: opt} }

type planBackend struct {
	be  Device
	opt Options
}

var _ graph.Backend = planBackend{}

func (b planBackend) Name() string { return b.be.Name() }
func (b planBackend) Close() error { return b.be.Close() }

// MatMul implements graph.Backend with aelab's SGEMM, on the CPU backend's kernel.
func (b planBackend) MatMul() graph.MatMul {
	if c, ok := b.be.(*CPU); ok {
		return &sgemm.Multiplier{Kernel: c.gemmKernel, Team: c.team}
	}
	return new(sgemm.Multiplier)
}

// Compile implements graph.Backend: it compiles p and binds the plan to the backend's
// buffers, writing the parameters' host values into their device buffers.
func (b planBackend) Compile(p *graph.Program, opt graph.Adam) (graph.Executor, error) {
	pl, err := CompileWith(p, b.opt)
	if err != nil {
		return nil, err
	}
	ex := &executor{be: b.be, plan: pl, adam: opt.WithDefaults(), lrScale: 1}
	if err := ex.onDevice(ex.bind); err != nil {
		return nil, err
	}
	return ex, nil
}

// Unwrap returns the Device behind a graph.Backend made by New, or nil.
func Unwrap(b graph.Backend) Device {
	if pb, ok := b.(planBackend); ok {
		return pb.be
	}
	return nil
}

// ErrClosed is returned by an executor used after Close.
var ErrClosed = errors.New("plan: the executor is closed")

// ErrBackendClosed is returned by a backend's Runner after the backend is closed.
var ErrBackendClosed = errors.New("plan: the backend is closed")

// executor runs a bound plan. On a program with a loss and two inputs of equal size (an
// autoencoder's corrupted and clean batch) it also keeps the training images on the
// backend and builds each batch there (graph.DeviceData).
type executor struct {
	be     Device
	plan   *Plan
	adam   graph.Adam
	closed bool
	owned  []Memory       // buffers this executor allocated
	held   []*graph.Param // parameters whose buffers it holds
	seqs   []Sequence     // sequences it prepared

	mem     []Memory   // each of the plan's buffers
	kernels []KernelOp // the plan's steps
	inputs  []Slice
	outputs []Slice
	params  []Slice
	host    [][]float32 // outputs, read back after each run
	forward Sequence    // the steps (Run); a training program's, at its first Run

	// With a loss:
	loss     Slice
	grads    []Slice
	ms, vs   []Slice
	counters Memory
	steps    uint32   // Adam updates made, as the counters say
	lrScale  float32  // ScaleLR's factor, which the counters hold too
	train    Sequence // the steps, Adam, and the counters advanced (Step)
	lossBuf  []float32
	gradBuf  [][]float32 // gradients read since the last step

	// With the training images on the backend (SetData):
	order    Memory
	d, n     int // values an image, images held
	maxLen   int // batches an epoch holds at most
	losses   Slice
	epoch    Sequence // the batch gathered, the steps, Adam, its loss kept and the counters advanced
	epochLen int      // batches in the current epoch
	queued   int      // of which queued so far
	lossHost []float32
}

var (
	_ graph.Executor   = (*executor)(nil)
	_ graph.DeviceData = (*executor)(nil)
)

// onDevice runs fn on the backend's goroutine when it has one, else directly.
func (ex *executor) onDevice(fn func() error) error {
	if ex.closed {
		return ErrClosed
	}
	if r, ok := ex.be.(Runner); ok {
		return r.Run(fn)
	}
	return fn()
}

func (ex *executor) alloc(n int) (Memory, error) {
	m, err := ex.be.Alloc(n)
	if err == nil {
		ex.owned = append(ex.owned, m)
	}
	return m, err
}

func (ex *executor) prepare(ops []Op) (Sequence, error) {
	s, err := ex.be.Prepare(ops)
	if err == nil {
		ex.seqs = append(ex.seqs, s)
	}
	return s, err
}

func (ex *executor) bind() (err error) {
	defer func() {
		if err != nil {
			ex.free()
		}
	}()
	pl, be := ex.plan, ex.be
	mem := make([]Memory, len(pl.Buffers))
	for i, b := range pl.Buffers {
		switch {
		case b.Param != nil:
			var fresh bool
			if mem[i], fresh, err = be.Param(b.Param); err == nil {
				ex.held = append(ex.held, b.Param)
				if !fresh {
					err = be.Write(Slice{Mem: mem[i], Len: b.Len}, b.Param.Data)
				}
			}
		default:
			if mem[i], err = ex.alloc(b.Len); err == nil && b.Const != nil {
				err = be.Write(Slice{Mem: mem[i], Len: b.Len}, b.Const)
			}
		}
		if err != nil {
			return fmt.Errorf("plan: bind buffer %d: %w", i, err)
		}
	}
	ex.mem = mem
	slice := ex.slice
	ex.kernels = ex.kernelOps(func(v View) View { return v })
	for _, v := range pl.Inputs {
		ex.inputs = append(ex.inputs, slice(v))
	}
	for _, v := range pl.Outputs {
		ex.outputs = append(ex.outputs, slice(v))
		ex.host = append(ex.host, make([]float32, v.Len))
	}
	for _, v := range pl.Params {
		ex.params = append(ex.params, slice(v))
	}
	if pl.Loss == nil {
		// A program without a loss only runs forward; a training program prepares its
		// forward pass only if it is ever Run.
		ex.forward, err = ex.prepare(ex.ops())
		return err
	}
	ex.loss = slice(*pl.Loss)
	ex.lossBuf = make([]float32, 1)
	if len(pl.Grads) != len(pl.Params) || len(pl.Params) == 0 {
		return fmt.Errorf("plan: %d gradients for %d parameters", len(pl.Grads), len(pl.Params))
	}
	for i, v := range pl.Grads {
		if v.Len != pl.Params[i].Len {
			return fmt.Errorf("plan: gradient of parameter %d has %d values, the parameter %d", i, v.Len, pl.Params[i].Len)
		}
		ex.grads = append(ex.grads, slice(v))
		m, err := ex.alloc(v.Len)
		if err != nil {
			return err
		}
		vv, err := ex.alloc(v.Len)
		if err != nil {
			return err
		}
		ex.ms = append(ex.ms, Slice{Mem: m, Len: v.Len})
		ex.vs = append(ex.vs, Slice{Mem: vv, Len: v.Len})
	}
	ex.gradBuf = make([][]float32, len(pl.Grads))
	if ex.counters, err = be.NewCounters(); err != nil {
		return err
	}
	ex.owned = append(ex.owned, ex.counters)
	if err := be.SetCounters(ex.counters, Counters{Adam: ex.adamAt(1)}); err != nil {
		return err
	}
	ex.train, err = ex.prepare(ex.ops(ex.update(Slice{})...))
	return err
}

// slice returns the bound memory of a view.
func (ex *executor) slice(v View) Slice { return Slice{Mem: ex.mem[v.Buf], Off: v.Off, Len: v.Len} }

// kernelOps binds the plan's steps, each view first passed through view.
func (ex *executor) kernelOps(view func(View) View) []KernelOp {
	slice := func(v View) Slice { return ex.slice(view(v)) }
	var ops []KernelOp
	for _, s := range ex.plan.Steps {
		in := make([]Slice, len(s.In))
		for j, v := range s.In {
			in[j] = slice(v)
		}
		op := KernelOp{Kernel: s.Kernel, Dims: s.Dims, Out: slice(s.Out), In: in, Node: s.Node, Fusion: s.Fusion}
		for _, v := range s.Outs {
			op.Outs = append(op.Outs, slice(v))
		}
		ops = append(ops, op)
	}
	return ops
}

// cleanForNoisy returns the plan's steps with every read of the corrupted batch (input 0)
// reading the clean one (input 1) instead, for training without noise, where the two are the
// same images: the batch is then gathered once, and the products and the loss read one
// buffer. ok is false where a step reads part of input 0's buffer outside the input or writes
// to it.
func (ex *executor) cleanForNoisy() (ops []KernelOp, ok bool) {
	noisy, clean := ex.plan.Inputs[0], ex.plan.Inputs[1]
	inside := func(v View) bool { return v.Off >= noisy.Off && v.Off+v.Len <= noisy.Off+noisy.Len }
	for _, s := range ex.plan.Steps {
		for _, v := range append([]View{s.Out}, s.Outs...) {
			if v.Buf == noisy.Buf && v.Len > 0 {
				return nil, false
			}
		}
		for _, v := range s.In {
			if v.Buf == noisy.Buf && !inside(v) {
				return nil, false
			}
		}
	}
	return ex.kernelOps(func(v View) View {
		if v.Buf != noisy.Buf {
			return v
		}
		return View{Buf: clean.Buf, Off: v.Off - noisy.Off + clean.Off, Len: v.Len}
	}), true
}

// ops returns the plan's steps, then more.
func (ex *executor) ops(more ...Op) []Op { return opsOf(ex.kernels, more...) }

// opsOf returns kernels, then more.
func opsOf(kernels []KernelOp, more ...Op) []Op {
	ops := make([]Op, 0, len(kernels)+len(more))
	for _, k := range kernels {
		ops = append(ops, k)
	}
	return append(ops, more...)
}

// update is what follows the steps of a training step: Adam, and the counters advanced
// (keeping the loss in losses, when given).
func (ex *executor) update(losses Slice) []Op {
	return []Op{
		AdamOp{Params: ex.params, Grads: ex.grads, M: ex.ms, V: ex.vs, Counters: ex.counters, DecayRate: ex.adam.DecayRate(),
			SGD: ex.adam.SGD, Momentum: float32(ex.adam.Momentum), L2: float32(ex.adam.WeightDecay)},
		AdvanceOp{Counters: ex.counters, Adam: ex.adam, Loss: ex.loss, Losses: losses},
	}
}

func (ex *executor) writeInputs(inputs [][]float32) error {
	if len(inputs) != len(ex.inputs) {
		return fmt.Errorf("plan: the program takes %d inputs, got %d", len(ex.inputs), len(inputs))
	}
	for i, in := range inputs {
		if len(in) != ex.inputs[i].Len {
			return fmt.Errorf("plan: input %d takes %d values, got %d", i, ex.inputs[i].Len, len(in))
		}
		if err := ex.be.Write(ex.inputs[i], in); err != nil {
			return err
		}
	}
	return nil
}

func (ex *executor) readOutputs() error {
	for i, o := range ex.outputs {
		if err := ex.be.Read(ex.host[i], o); err != nil {
			return err
		}
	}
	return nil
}

// Run implements graph.Executor.
func (ex *executor) Run(inputs ...[]float32) error {
	return ex.onDevice(func() error {
		if err := ex.writeInputs(inputs); err != nil {
			return err
		}
		if ex.forward == nil {
			var err error
			if ex.forward, err = ex.prepare(ex.ops()); err != nil {
				return err
			}
		}
		if err := ex.forward.Run(1); err != nil {
			return err
		}
		return ex.readOutputs()
	})
}

// Step implements graph.Executor.
func (ex *executor) Step(inputs ...[]float32) (loss float32, err error) {
	if ex.plan.Loss == nil {
		return 0, errors.New("plan: Step on a program without a loss")
	}
	if ex.queued < ex.epochLen {
		// Both advance the same counters: a Step would move the epoch's batch on.
		return 0, fmt.Errorf("plan: Step in an epoch of device batches with %d of %d steps taken", ex.queued, ex.epochLen)
	}
	err = ex.onDevice(func() error {
		if err := ex.writeInputs(inputs); err != nil {
			return err
		}
		if err := ex.train.Run(1); err != nil {
			return err
		}
		ex.stepped(1)
		if err := ex.be.Read(ex.lossBuf, ex.loss); err != nil {
			return err
		}
		return ex.readOutputs()
	})
	return ex.lossBuf[0], err
}

// stepped records n queued training steps.
func (ex *executor) stepped(n int) {
	ex.steps += uint32(n)
	clear(ex.gradBuf) // gradients are read back on demand
}

// Output implements graph.Executor.
func (ex *executor) Output(i int) []float32 { return ex.host[i] }

// Gradient implements graph.Executor: it reads the gradient back from the backend.
func (ex *executor) Gradient(i int) []float32 {
	if ex.gradBuf == nil || ex.steps == 0 {
		return nil
	}
	if ex.gradBuf[i] == nil {
		buf := make([]float32, ex.grads[i].Len)
		if err := ex.onDevice(func() error { return ex.be.Read(buf, ex.grads[i]) }); err != nil {
			return nil
		}
		ex.gradBuf[i] = buf
	}
	return ex.gradBuf[i]
}

// SyncParams implements graph.Executor.
func (ex *executor) SyncParams() error {
	return ex.onDevice(func() error {
		if err := ex.be.Sync(); err != nil {
			return err
		}
		for i, v := range ex.plan.Params {
			if err := ex.be.Read(ex.plan.Buffers[v.Buf].Param.Data, ex.params[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// AdamState implements graph.Executor: it reads the moments back from the backend.
func (ex *executor) AdamState() (graph.AdamState, error) {
	if ex.plan.Loss == nil {
		return graph.AdamState{}, errors.New("plan: a program without a loss has no optimiser")
	}
	st := graph.AdamState{Steps: int(ex.steps), M: make([][]float32, len(ex.ms)), V: make([][]float32, len(ex.vs))}
	err := ex.onDevice(func() error {
		if err := ex.be.Sync(); err != nil {
			return err
		}
		for i := range ex.ms {
			st.M[i], st.V[i] = make([]float32, ex.ms[i].Len), make([]float32, ex.vs[i].Len)
			if err := ex.be.Read(st.M[i], ex.ms[i]); err != nil {
				return err
			}
			if err := ex.be.Read(st.V[i], ex.vs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return st, err
}

// SetAdamState implements graph.Executor: it writes the moments to the backend and sets
// the step counter Adam's bias corrections come from.
func (ex *executor) SetAdamState(st graph.AdamState) error {
	if ex.plan.Loss == nil {
		return errors.New("plan: a program without a loss has no optimiser")
	}
	params := make([]*graph.Param, len(ex.plan.Params))
	for i, v := range ex.plan.Params {
		params[i] = ex.plan.Buffers[v.Buf].Param
	}
	if err := st.Check(params); err != nil {
		return err
	}
	if ex.queued < ex.epochLen {
		return fmt.Errorf("plan: SetAdamState in an epoch of device batches with %d of %d steps taken", ex.queued, ex.epochLen)
	}
	return ex.onDevice(func() error {
		for i := range ex.ms {
			if err := ex.be.Write(ex.ms[i], st.M[i]); err != nil {
				return err
			}
			if err := ex.be.Write(ex.vs[i], st.V[i]); err != nil {
				return err
			}
		}
		ex.steps = uint32(st.Steps)
		return ex.be.SetCounters(ex.counters, Counters{Steps: ex.steps, Adam: ex.adamAt(ex.steps + 1)})
	})
}

// adamAt is update t with the executor's learning-rate factor.
func (ex *executor) adamAt(t uint32) AdamStep {
	a := AdamAt(ex.adam, t)
	a.Scale = ex.lrScale
	return a
}

// ScaleLR implements graph.Executor.
func (ex *executor) ScaleLR(f float32) error {
	if ex.plan.Loss == nil {
		return errors.New("plan: a program without a loss has no optimiser")
	}
	if ex.queued < ex.epochLen {
		return fmt.Errorf("plan: ScaleLR in an epoch of device batches with %d of %d steps taken", ex.queued, ex.epochLen)
	}
	return ex.onDevice(func() error {
		c, err := ex.be.ReadCounters(ex.counters)
		if err != nil {
			return err
		}
		ex.lrScale, c.Adam.Scale = f, f
		return ex.be.SetCounters(ex.counters, c)
	})
}

// Close implements graph.Executor: it frees the executor's buffers; parameters stay with
// the backend. Closing twice does nothing.
func (ex *executor) Close() error {
	if ex.closed {
		return nil
	}
	err := ex.onDevice(ex.free)
	ex.closed = true
	if errors.Is(err, ErrBackendClosed) {
		return nil // closing the backend released everything
	}
	return err
}

func (ex *executor) free() error {
	errs := []error{ex.be.Sync()} // nothing queued may still use what is freed
	for _, s := range ex.seqs {
		errs = append(errs, s.Close())
	}
	for _, m := range ex.owned {
		errs = append(errs, ex.be.Free(m))
	}
	for _, p := range ex.held {
		errs = append(errs, ex.be.ReleaseParam(p))
	}
	ex.seqs, ex.owned, ex.held = nil, nil, nil
	return errors.Join(errs...)
}

// SetData implements graph.DeviceData.
func (ex *executor) SetData(images []float32, d int, noise datasets.Noise, seed uint64) error {
	if ex.plan.Loss == nil || len(ex.inputs) != 2 || ex.inputs[0].Len != ex.inputs[1].Len || d <= 0 || ex.inputs[0].Len%d != 0 {
		return fmt.Errorf("plan: device data needs a training program with two inputs of equal size, a corrupted and a clean batch")
	}
	if ex.epoch != nil {
		return errors.New("plan: the executor already holds its training images")
	}
	if len(images)%d != 0 {
		return fmt.Errorf("plan: %d values are not whole images of %d", len(images), d)
	}
	b := ex.inputs[0].Len / d
	return ex.onDevice(func() error {
		n := len(images) / d
		data, err := ex.deviceImages(images)
		if err != nil {
			return err
		}
		order, err := ex.be.AllocIndices(n)
		if err != nil {
			return err
		}
		ex.owned = append(ex.owned, order)
		maxLen := max(n/b, 1)
		lossMem, err := ex.alloc(maxLen)
		if err != nil {
			return err
		}
		losses := Slice{Mem: lossMem, Len: maxLen}
		kernels, noisy := ex.kernels, ex.inputs[0]
		if _, host := ex.be.(HostMemory); host && noise.IsNone() {
			// Only on the CPU, whose gather would copy every image twice; a GPU's gather
			// writes both buffers in one kernel and is left as it was checked on a GPU.
			if k, ok := ex.cleanForNoisy(); ok {
				kernels, noisy = k, ex.inputs[1]
			}
		}
		gather := GatherOp{Noisy: noisy, Clean: ex.inputs[1], Data: data, Order: order,
			B: b, D: d, Noise: noise, Seed: seed, Counters: ex.counters}
		epoch, err := ex.prepare(append([]Op{gather}, opsOf(kernels, ex.update(losses)...)...))
		if err != nil {
			return err
		}
		ex.order, ex.d, ex.n, ex.maxLen, ex.losses, ex.epoch = order, d, n, n/b, losses, epoch
		return nil
	})
}

// deviceImages returns the training images in the device's memory: adopted where that is the
// host's (HostMemory), else copied into a buffer of the executor's own.
func (ex *executor) deviceImages(images []float32) (Memory, error) {
	if h, ok := ex.be.(HostMemory); ok {
		return h.Adopt(images), nil
	}
	data, err := ex.alloc(len(images))
	if err != nil {
		return nil, err
	}
	return data, ex.be.Write(Slice{Mem: data, Len: len(images)}, images)
}

// StartEpoch implements graph.DeviceData.
func (ex *executor) StartEpoch(order []int32, first uint32) error {
	if ex.epoch == nil {
		return errors.New("plan: StartEpoch before SetData")
	}
	b := ex.inputs[0].Len / ex.d
	if len(order)%b != 0 || len(order)/b > ex.maxLen {
		return fmt.Errorf("plan: an epoch's order of %d images is not whole batches of %d within the %d held", len(order), b, ex.maxLen*b)
	}
	for _, i := range order {
		if i < 0 || int(i) >= ex.n {
			return fmt.Errorf("plan: an epoch's order names image %d of %d", i, ex.n)
		}
	}
	return ex.onDevice(func() error {
		if err := ex.be.WriteIndices(ex.order, order); err != nil {
			return err
		}
		ex.epochLen, ex.queued = len(order)/b, 0
		return ex.be.SetCounters(ex.counters, Counters{Steps: ex.steps, Noise: first, Adam: ex.adamAt(ex.steps + 1)})
	})
}

// StepBatches implements graph.DeviceData.
func (ex *executor) StepBatches(n int) error {
	if ex.epoch == nil {
		return errors.New("plan: StepBatches before SetData")
	}
	if n < 0 || ex.queued+n > ex.epochLen {
		return fmt.Errorf("plan: %d more steps in an epoch of %d with %d taken", n, ex.epochLen, ex.queued)
	}
	return ex.onDevice(func() error {
		if err := ex.epoch.Run(n); err != nil {
			return err
		}
		ex.queued += n
		ex.stepped(n)
		return nil
	})
}

// Losses implements graph.DeviceData.
func (ex *executor) Losses() ([]float32, error) {
	if ex.epoch == nil {
		return nil, errors.New("plan: Losses before SetData")
	}
	ex.lossHost = slices.Grow(ex.lossHost[:0], ex.queued)[:ex.queued]
	err := ex.onDevice(func() error {
		if ex.queued == 0 {
			return nil
		}
		return ex.be.Read(ex.lossHost, Slice{Mem: ex.losses.Mem, Len: ex.queued})
	})
	return ex.lossHost, err
}
