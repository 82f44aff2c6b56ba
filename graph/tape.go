package graph

import (
	"errors"
	"fmt"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Tape is the backend that runs programs on gorgonia's TapeMachine (--device tape), the
// reference the compiled plans are checked against. Parameters stay in Param.Data, which
// the graphs' tensors share, so every executor sees every update at once.
type Tape struct{}

var _ Backend = Tape{}

// Name implements Backend.
func (Tape) Name() string { return "tape" }

// Close implements Backend.
func (Tape) Close() error { return nil }

// MatMul implements Backend with gonum's SGEMM.
func (Tape) MatMul() MatMul { return gonumMatMul{} }

// gonumMatMul is gonum's pure-Go SGEMM.
type gonumMatMul struct{}

func (gonumMatMul) Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	t := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	gonum.Implementation{}.Sgemm(t(transA), t(transB), m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

// Compile implements Backend.
func (Tape) Compile(p *Program, opt Adam) (ex Executor, err error) {
	// gorgonia's compiler panics on graphs it cannot schedule; report that as an error.
	defer func() {
		if r := recover(); r != nil {
			ex, err = nil, fmt.Errorf("graph: compile: %v", r)
		}
	}()
	// The TapeMachine reuses registers, so an intermediate node's value may be overwritten by
	// the time the run ends; Read nodes copy each value the caller reads as it is computed.
	t := &tapeExecutor{prog: p}
	read := func(n *G.Node) *G.Value {
		v := new(G.Value)
		G.Read(n, v)
		return v
	}
	for _, n := range p.Outputs {
		t.outputReads = append(t.outputReads, read(n))
	}
	if p.Trains() {
		t.lossRead = read(p.Loss)
		for _, g := range p.Grads {
			t.gradReads = append(t.gradReads, read(g))
		}
	}
	t.vm = G.NewTapeMachine(p.Graph)
	for _, in := range p.Inputs {
		dense, ok := in.Value().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("graph: input %s has no tensor bound", in.Name())
		}
		t.inputs = append(t.inputs, dense.Data().([]float32))
	}
	if p.Trains() {
		t.adam = newAdamState(opt, p.Params)
		t.weights = make([][]float32, len(p.Params))
		for i, par := range p.Params {
			t.weights[i] = par.Data
		}
		t.grads = make([][]float32, len(p.Params))
	}
	t.outputs = make([][]float32, len(p.Outputs))
	t.scratch = make([]float32, len(p.Outputs)+1)
	return t, nil
}

// tapeExecutor runs a Program on a gorgonia TapeMachine.
type tapeExecutor struct {
	prog    *Program
	vm      G.VM
	inputs  [][]float32 // the backing arrays of the input nodes' tensors
	outputs [][]float32 // views of the output values after a run
	adam    *adamState  // nil for a program without a loss
	weights [][]float32 // Param.Data of every parameter
	grads   [][]float32 // views of the gradient values after a run
	scratch []float32   // one float per output, and the loss last, for scalar values

	outputReads []*G.Value // where the Read nodes copy the outputs, the loss and the gradients
	lossRead    *G.Value
	gradReads   []*G.Value
}

func (t *tapeExecutor) feed(inputs [][]float32) error {
	if len(inputs) != len(t.inputs) {
		return fmt.Errorf("graph: the program takes %d inputs, got %d", len(t.inputs), len(inputs))
	}
	for i, in := range inputs {
		if len(in) != len(t.inputs[i]) {
			return fmt.Errorf("graph: input %s takes %d values, got %d", t.prog.Inputs[i].Name(), len(t.inputs[i]), len(in))
		}
		copy(t.inputs[i], in)
	}
	return nil
}

func (t *tapeExecutor) run(inputs [][]float32) error {
	if err := t.feed(inputs); err != nil {
		return err
	}
	defer t.vm.Reset()
	if err := t.vm.RunAll(); err != nil {
		return fmt.Errorf("graph: run: %w", err)
	}
	for i, n := range t.prog.Outputs {
		v, err := values(n.Name(), *t.outputReads[i], t.scratch[i:i+1])
		if err != nil {
			return err
		}
		t.outputs[i] = v
	}
	return nil
}

// values returns a value as a slice; a scalar is copied into scratch (length 1).
func values(name string, val G.Value, scratch []float32) ([]float32, error) {
	switch v := val.(type) {
	case *tensor.Dense:
		return v.Data().([]float32), nil
	case *G.F32:
		if len(scratch) == 0 {
			return nil, fmt.Errorf("graph: node %s is a scalar", name)
		}
		scratch[0] = float32(*v)
		return scratch, nil
	case nil:
		return nil, fmt.Errorf("graph: node %s has no value after the run", name)
	default:
		return nil, fmt.Errorf("graph: node %s holds a %T, not float32", name, v)
	}
}

// Run implements Executor.
func (t *tapeExecutor) Run(inputs ...[]float32) error { return t.run(inputs) }

// Step implements Executor.
func (t *tapeExecutor) Step(inputs ...[]float32) (float32, error) {
	if t.adam == nil {
		return 0, errors.New("graph: Step on a program without a loss")
	}
	if err := t.run(inputs); err != nil {
		return 0, err
	}
	loss, err := values(t.prog.Loss.Name(), *t.lossRead, t.scratch[len(t.prog.Outputs):])
	if err != nil {
		return 0, err
	}
	for i, g := range t.prog.Grads {
		if t.grads[i], err = values(g.Name(), *t.gradReads[i], nil); err != nil {
			return 0, err
		}
		if len(t.grads[i]) != len(t.weights[i]) {
			return 0, fmt.Errorf("graph: gradient of %s has %d values, want %d", t.prog.Params[i].Name, len(t.grads[i]), len(t.weights[i]))
		}
	}
	t.adam.update(t.weights, t.grads)
	return loss[0], nil
}

// Gradient implements Executor.
func (t *tapeExecutor) Gradient(i int) []float32 { return t.grads[i] }

// Output implements Executor.
func (t *tapeExecutor) Output(i int) []float32 { return t.outputs[i] }

// SyncParams implements Executor: the tensors share Param.Data, so there is nothing to copy.
func (t *tapeExecutor) SyncParams() error { return nil }

// Close implements Executor.
func (t *tapeExecutor) Close() error { return t.vm.Close() }

// AdamState implements Executor.
func (t *tapeExecutor) AdamState() (AdamState, error) {
	if t.adam == nil {
		return AdamState{}, fmt.Errorf("graph: a program without a loss has no optimiser")
	}
	s := AdamState{Steps: t.adam.t}
	for i := range t.adam.m {
		s.M, s.V = append(s.M, slices.Clone(t.adam.m[i])), append(s.V, slices.Clone(t.adam.v[i]))
	}
	return s, nil
}

// ScaleLR implements Executor.
func (t *tapeExecutor) ScaleLR(f float32) error {
	if t.adam == nil {
		return fmt.Errorf("graph: a program without a loss has no optimiser")
	}
	t.adam.scale = f
	return nil
}

// SetAdamState implements Executor.
func (t *tapeExecutor) SetAdamState(s AdamState) error {
	if t.adam == nil {
		return fmt.Errorf("graph: a program without a loss has no optimiser")
	}
	if err := s.Check(t.prog.Params); err != nil {
		return err
	}
	t.adam.t = s.Steps
	for i := range t.adam.m {
		copy(t.adam.m[i], s.M[i])
		copy(t.adam.v[i], s.V[i])
	}
	return nil
}
