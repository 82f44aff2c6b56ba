package graph

import (
	G "gorgonia.org/gorgonia"
)

// expr chains gorgonia operations and keeps the first error, as bufio.Writer does ("errors
// are values"): each op after a failure is skipped and returns nil, so a formula reads as one
// block and is checked once, at the end, with Err.
type expr struct{ err error }

// Err returns the first error any op returned, or nil.
func (e *expr) Err() error { return e.err }

// keep records err if it is the first and returns n.
func (e *expr) keep(n *G.Node, err error) *G.Node {
	if err != nil {
		e.err = err
		return nil
	}
	return n
}

// The ops used by aelab's graphs, each gorgonia's op of the same name.

func (e *expr) Add(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Add(a, b))
}

func (e *expr) Sub(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Sub(a, b))
}

// Mul is a matrix product, or a product with a scalar.
func (e *expr) Mul(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Mul(a, b))
}

func (e *expr) HadamardProd(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.HadamardProd(a, b))
}

func (e *expr) HadamardDiv(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.HadamardDiv(a, b))
}

// BroadcastAdd adds b to every row of a (b broadcast along a's first axis).
func (e *expr) BroadcastAdd(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.BroadcastAdd(a, b, nil, []byte{0}))
}

// BroadcastHadamardProd multiplies every row of a by b (b broadcast along a's first axis).
func (e *expr) BroadcastHadamardProd(a, b *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.BroadcastHadamardProd(a, b, nil, []byte{0}))
}

func (e *expr) Square(a *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Square(a))
}

func (e *expr) Softplus(a *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Softplus(a))
}

func (e *expr) LogSoftMax(a *G.Node, axis int) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.LogSoftMax(a, axis))
}

// Positive is 1 where a > 0 and 0 elsewhere, in a's type.
func (e *expr) Positive(a *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Gt(a, scalar(0), true))
}

// Sum sums a along axes, or over everything when none are given.
func (e *expr) Sum(a *G.Node, axes ...int) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Sum(a, axes...))
}

func (e *expr) Mean(a *G.Node) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(G.Mean(a))
}

// Activate applies act to a; Linear returns a itself.
func (e *expr) Activate(a *G.Node, act Activation) *G.Node {
	if e.err != nil {
		return nil
	}
	return e.keep(activate(a, act))
}
