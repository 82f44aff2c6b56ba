package plan

import (
	"errors"
	"fmt"
	"math"

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
	return bind(b.be, pl, opt)
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
			ex.Close()
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

// Run implements graph.Executor.
func (ex *executor) Run(inputs ...[]float32) error {
	if err := ex.run(inputs); err != nil {
		return err
	}
	return ex.readOutputs()
}

// Step implements graph.Executor.
func (ex *executor) Step(inputs ...[]float32) (float32, error) {
	if ex.plan.Loss == nil {
		return 0, errors.New("plan: Step on a program without a loss")
	}
	if err := ex.run(inputs); err != nil {
		return 0, err
	}
	ex.t++
	c := ex.adam
	s := AdamStep{
		StepSize:  float32(c.LR / (1 - math.Pow(c.Beta1, float64(ex.t)))),
		Beta1:     float32(c.Beta1),
		Beta2:     float32(c.Beta2),
		Eps:       float32(c.Eps),
		InvSqrtC2: float32(1 / math.Sqrt(1-math.Pow(c.Beta2, float64(ex.t)))),
	}
	for i := range ex.gradBuf {
		ex.gradBuf[i] = nil // gradients are read back on demand
	}
	if err := ex.be.Read(ex.lossBuf, ex.loss); err != nil {
		return 0, err
	}
	// Read before the update: Adam leaves the gradients as they are, but tests read them.
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
		if err := ex.be.Read(buf, ex.grads[i]); err != nil {
			return nil
		}
		ex.gradBuf[i] = buf
	}
	return ex.gradBuf[i]
}

// SyncParams implements graph.Executor.
func (ex *executor) SyncParams() error {
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
}

// Close implements graph.Executor: it frees the executor's buffers; parameters stay with
// the backend.
func (ex *executor) Close() error {
	var first error
	for _, m := range ex.owned {
		if err := ex.be.Free(m); err != nil && first == nil {
			first = err
		}
	}
	ex.owned = nil
	return first
}
