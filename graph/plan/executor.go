package plan

import (
	"errors"
	"fmt"
	"math"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// New returns a graph.Backend that compiles programs into plans and runs them on be.
func New(be Backend) graph.Backend { return planBackend{be} }

type planBackend struct{ be Backend }

var _ graph.Backend = planBackend{}

func (b planBackend) Name() string { return b.be.Name() }
func (b planBackend) Close() error { return b.be.Close() }

// Compile implements graph.Backend: it compiles p and binds the plan to the backend's
// buffers, writing the parameters' host values into their device buffers.
func (b planBackend) Compile(p *graph.Program, opt graph.Adam) (graph.Executor, error) {
	pl, err := Compile(p)
	if err != nil {
		return nil, err
	}
	var ex *executor
	if r, ok := b.be.(Runner); ok {
		err = r.Run(func() (err error) { ex, err = bind(b.be, pl, opt); return err })
	} else {
		ex, err = bind(b.be, pl, opt)
	}
	if err != nil {
		return nil, err
	}
	if g, ok := b.be.(Gatherer); ok && pl.Loss != nil {
		return &deviceExecutor{executor: ex, g: g}, nil
	}
	return ex, nil
}

// executor runs a bound plan.
type executor struct {
	be      Backend
	plan    *Plan
	calls   []func() error
	inputs  []Slice
	outputs []Slice
	loss    Slice
	params  []Slice
	grads   []Slice
	host    [][]float32 // outputs, read back after each run
	lossBuf []float32
	gradBuf [][]float32
	owned   []Memory // buffers this executor allocated

	adam   graph.Adam
	t      int
	ms, vs []Slice
}

func bind(be Backend, pl *Plan, opt graph.Adam) (_ *executor, err error) {
	ex := &executor{be: be, plan: pl, adam: opt.WithDefaults()}
	defer func() {
		if err != nil {
			ex.free()
		}
	}()
	mem := make([]Memory, len(pl.Buffers))
	for i, b := range pl.Buffers {
		switch {
		case b.Param != nil:
			var fresh bool
			if mem[i], fresh, err = be.Param(b.Param); err == nil && !fresh {
				err = be.Write(Slice{Mem: mem[i], Len: b.Len}, b.Param.Data)
			}
		default:
			if mem[i], err = be.Alloc(b.Len); err == nil {
				ex.owned = append(ex.owned, mem[i])
				if b.Const != nil {
					err = be.Write(Slice{Mem: mem[i], Len: b.Len}, b.Const)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("plan: bind buffer %d: %w", i, err)
		}
	}
	slice := func(v View) Slice { return Slice{Mem: mem[v.Buf], Off: v.Off, Len: v.Len} }
	for _, s := range pl.Steps {
		out, dims, kernel := slice(s.Out), s.Dims, s.Kernel
		in := make([]Slice, len(s.In))
		for j, v := range s.In {
			in[j] = slice(v)
		}
		if kernel == "gemm" {
			tA, tB := dims[3] == 1, dims[4] == 1
			m, n, k := dims[0], dims[1], dims[2]
			ex.calls = append(ex.calls, func() error { return be.Gemm(tA, tB, m, n, k, in[0], in[1], out) })
			continue
		}
		ex.calls = append(ex.calls, func() error { return be.Launch(kernel, dims, out, in) })
	}
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
	if pl.Loss != nil {
		ex.loss = slice(*pl.Loss)
		ex.lossBuf = make([]float32, 1)
		for i, v := range pl.Grads {
			ex.grads = append(ex.grads, slice(v))
			m, err := be.Alloc(v.Len)
			if err != nil {
				return nil, err
			}
			vv, err := be.Alloc(v.Len)
			if err != nil {
				return nil, err
			}
			ex.owned = append(ex.owned, m, vv)
			ex.ms = append(ex.ms, Slice{Mem: m, Len: v.Len})
			ex.vs = append(ex.vs, Slice{Mem: vv, Len: v.Len})
			if v.Len != pl.Params[i].Len {
				return nil, fmt.Errorf("plan: gradient of parameter %d has %d values, the parameter %d", i, v.Len, pl.Params[i].Len)
			}
		}
		ex.gradBuf = make([][]float32, len(pl.Grads))
	}
	return ex, nil
}

func (ex *executor) run(inputs [][]float32) error {
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
	for _, call := range ex.calls {
		if err := call(); err != nil {
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

// onDevice runs fn on the backend's goroutine when it has one, else directly.
func (ex *executor) onDevice(fn func() error) error {
	if r, ok := ex.be.(Runner); ok {
		return r.Run(fn)
	}
	return fn()
}

// Run implements graph.Executor.
func (ex *executor) Run(inputs ...[]float32) error {
	return ex.onDevice(func() error {
		if err := ex.run(inputs); err != nil {
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
	err = ex.onDevice(func() error {
		if err := ex.run(inputs); err != nil {
			return err
		}
		loss, err = ex.update()
		return err
	})
	return loss, err
}

// adamStep returns the scalars of the next Adam update.
func (ex *executor) adamStep() AdamStep {
	ex.t++
	c := ex.adam
	return AdamStep{
		StepSize:  float32(c.LR / (1 - math.Pow(c.Beta1, float64(ex.t)))),
		Beta1:     float32(c.Beta1),
		Beta2:     float32(c.Beta2),
		Eps:       float32(c.Eps),
		InvSqrtC2: float32(1 / math.Sqrt(1-math.Pow(c.Beta2, float64(ex.t)))),
	}
}

// update reads the loss, applies Adam and reads the outputs.
func (ex *executor) update() (float32, error) {
	s := ex.adamStep()
	for i := range ex.gradBuf {
		ex.gradBuf[i] = nil // gradients are read back on demand
	}
	if err := ex.be.Read(ex.lossBuf, ex.loss); err != nil {
		return 0, err
	}
	if err := ex.be.Adam(s, ex.params, ex.grads, ex.ms, ex.vs); err != nil {
		return 0, err
	}
	if err := ex.readOutputs(); err != nil {
		return 0, err
	}
	return ex.lossBuf[0], nil
}

// Output implements graph.Executor.
func (ex *executor) Output(i int) []float32 { return ex.host[i] }

// Gradient implements graph.Executor: it reads the gradient back from the backend.
func (ex *executor) Gradient(i int) []float32 {
	if ex.gradBuf == nil || ex.t == 0 {
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
			p := ex.plan.Buffers[v.Buf].Param
			if err := ex.be.Read(p.Data, ex.params[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close implements graph.Executor: it frees the executor's buffers; parameters stay with
// the backend.
func (ex *executor) Close() error { return ex.onDevice(ex.free) }

func (ex *executor) free() error {
	var first error
	for _, m := range ex.owned {
		if err := ex.be.Free(m); err != nil && first == nil {
			first = err
		}
	}
	ex.owned = nil
	return first
}

// deviceExecutor is an executor on a backend that keeps the training images in its memory
// (a Gatherer): it implements graph.DeviceData.
type deviceExecutor struct {
	*executor
	g       Gatherer
	data    Memory
	d       int
	idx     Memory
	loss    [2][]float32 // alternate host slots for the loss of successive steps
	slot    int          // the slot of the last StepBatch
	pending func() error // waits for the last StepBatch's loss; nil before the first
}

var _ graph.DeviceData = (*deviceExecutor)(nil)

// SetData implements graph.DeviceData.
func (dx *deviceExecutor) SetData(images []float32, d int) error {
	if len(dx.inputs) != 2 || dx.inputs[0].Len != dx.inputs[1].Len || dx.inputs[0].Len%d != 0 {
		return fmt.Errorf("plan: device data needs a program with two inputs of equal size, a corrupted and a clean batch")
	}
	return dx.onDevice(func() error {
		mem, err := dx.be.Alloc(len(images))
		if err != nil {
			return err
		}
		dx.owned = append(dx.owned, mem)
		if err := dx.be.Write(Slice{Mem: mem, Len: len(images)}, images); err != nil {
			return err
		}
		idx, err := dx.g.AllocIndices(dx.inputs[0].Len / d)
		if err != nil {
			return err
		}
		dx.owned = append(dx.owned, idx)
		dx.data, dx.d, dx.idx = mem, d, idx
		return nil
	})
}

// StepBatch implements graph.DeviceData.
func (dx *deviceExecutor) StepBatch(idx []int32, noise datasets.Noise, seed uint64, step uint32) (prev float32, ok bool, err error) {
	if dx.data == nil {
		return 0, false, errors.New("plan: StepBatch before SetData")
	}
	batch := dx.inputs[0].Len / dx.d
	if len(idx) != batch {
		return 0, false, fmt.Errorf("plan: %d indices for a batch of %d", len(idx), batch)
	}
	err = dx.onDevice(func() error {
		if err := dx.g.WriteIndices(dx.idx, idx); err != nil {
			return err
		}
		if err := dx.g.Gather(dx.inputs[0], dx.inputs[1], dx.data, dx.idx, batch, dx.d, noise, seed, step); err != nil {
			return err
		}
		for _, call := range dx.calls {
			if err := call(); err != nil {
				return err
			}
		}
		if err := dx.be.Adam(dx.adamStep(), dx.params, dx.grads, dx.ms, dx.vs); err != nil {
			return err
		}
		if dx.pending != nil {
			// The previous step's loss arrived while this step was queued.
			if err := dx.pending(); err != nil {
				return err
			}
			prev, ok = dx.loss[dx.slot][0], true
		}
		dx.slot = 1 - dx.slot
		if dx.loss[dx.slot] == nil {
			dx.loss[dx.slot] = make([]float32, 1)
		}
		wait, err := dx.g.ReadLater(dx.loss[dx.slot], dx.executor.loss)
		dx.pending = wait
		return err
	})
	return prev, ok, err
}

// LastLoss implements graph.DeviceData.
func (dx *deviceExecutor) LastLoss() (float32, error) {
	if dx.pending == nil {
		return 0, errors.New("plan: no step to read the loss of")
	}
	err := dx.onDevice(dx.pending)
	dx.pending = nil
	return dx.loss[dx.slot][0], err
}

// Unwrap returns the Backend behind a graph.Backend made by New, or nil.
func Unwrap(b graph.Backend) Backend {
	if pb, ok := b.(planBackend); ok {
		return pb.be
	}
	return nil
}
