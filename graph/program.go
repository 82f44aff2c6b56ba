package graph

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Program is a gorgonia graph ready for an executor.
type Program struct {
	Graph   *G.ExprGraph
	Batch   int       // B, the leading dimension of every input
	Inputs  []*G.Node // fed by the caller on every run, in order
	Outputs []*G.Node // read by the caller after a run, in order
	Loss    *G.Node   // scalar cost that Step minimises; nil for a program that only evaluates
	Params  []*Param  // parameters the graph reads, aligned with ParamNodes
	Nodes   []*G.Node // the graph's node for each of Params
	Grads   []*G.Node // ∂Loss/∂Params from gorgonia.Grad, aligned with Params; nil without Loss
}

// Trains reports whether the program has a loss and gradients to take Adam steps on.
func (p *Program) Trains() bool { return p.Loss != nil }

// builder creates one graph, giving each Param one node.
type builder struct {
	g      *G.ExprGraph
	params []*Param
	nodes  []*G.Node
	index  map[*Param]int
}

// building serialises graph construction: gorgonia numbers the groups of the ops it creates
// with a package-level counter, which programs built on several goroutines at once (experiment
// --parallel) would race on.
var building sync.Mutex

// newBuilder starts a graph; done must be called when it is built.
func newBuilder() (b *builder, done func()) {
	building.Lock()
	return &builder{g: G.NewGraph(), index: map[*Param]int{}}, building.Unlock
}

// param returns p's node in the graph, creating it bound to p.Data on first use.
func (b *builder) param(p *Param) *G.Node {
	if i, ok := b.index[p]; ok {
		return b.nodes[i]
	}
	t := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))
	n := G.NewTensor(b.g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(t))
	b.index[p] = len(b.params)
	b.params = append(b.params, p)
	b.nodes = append(b.nodes, n)
	return n
}

// input returns a placeholder matrix (rows × cols) bound to a zero tensor of its own.
func (b *builder) input(name string, rows, cols int) *G.Node {
	t := tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(make([]float32, rows*cols)))
	return G.NewMatrix(b.g, tensor.Float32, G.WithShape(rows, cols), G.WithName(name), G.WithValue(t))
}

// scalar returns a float32 constant.
func scalar(v float32) *G.Node { return G.NewConstant(v) }

// dense applies l to x (B×In) and returns the pre-activation and the activation (B×Out).
func (b *builder) dense(x *G.Node, l *Dense) (pre, out *G.Node, err error) {
	if got := x.Shape(); len(got) != 2 || got[1] != l.In() {
		return nil, nil, fmt.Errorf("graph: layer %s takes %d inputs, got shape %v", l.W.Name, l.In(), got)
	}
	var e expr
	pre = e.BroadcastAdd(e.Mul(x, b.param(l.W)), b.param(l.B))
	out = e.Activate(pre, l.Act)
	if err := e.Err(); err != nil {
		return nil, nil, fmt.Errorf("graph: layer %s: %w", l.W.Name, err)
	}
	if got := out.Shape(); got[0] != x.Shape()[0] || got[1] != l.Out() {
		return nil, nil, fmt.Errorf("graph: layer %s gave shape %v, want (%d, %d)", l.W.Name, got, x.Shape()[0], l.Out())
	}
	return pre, out, nil
}

// activate applies a to x.
func activate(x *G.Node, a Activation) (*G.Node, error) {
	switch a {
	case ReLU:
		return G.Rectify(x)
	case Sigmoid:
		return G.Sigmoid(x)
	case Tanh:
		return G.Tanh(x)
	case Linear:
		return x, nil
	}
	return nil, fmt.Errorf("unknown activation %q", a)
}

// program finishes a Program; with a loss it adds the gradients of the loss with respect
// to every parameter.
func (b *builder) program(batch int, inputs, outputs []*G.Node, loss *G.Node) (*Program, error) {
	p := &Program{Graph: b.g, Batch: batch, Inputs: inputs, Outputs: outputs, Loss: loss, Params: b.params, Nodes: b.nodes}
	if loss == nil {
		return p, nil
	}
	grads, err := G.Grad(loss, b.nodes...)
	if err != nil {
		return nil, fmt.Errorf("graph: differentiate: %w", err)
	}
	p.Grads = grads
	return p, nil
}
