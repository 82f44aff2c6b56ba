package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Loss names a reconstruction loss.
type Loss string

// The reconstruction losses.
const (
	MSE Loss = "mse" // mean squared error over pixels and images
	BCE Loss = "bce" // binary cross-entropy, mean over pixels and images; needs a sigmoid output
)

// ParseLoss checks that s names a known loss; "" means MSE.
func ParseLoss(s string) (Loss, error) {
	switch l := Loss(s); l {
	case "":
		return MSE, nil
	case MSE, BCE:
		return l, nil
	}
	return "", fmt.Errorf("graph: unknown loss %q (want mse or bce)", s)
}

// Autoencoder is a stack of encoder layers followed by decoder layers.
type Autoencoder struct {
	Encoder []*Dense // D → … → H
	Decoder []*Dense // H → … → D
}

// Cost is what training minimises: a reconstruction loss plus, when Contractive > 0,
// λ times the mean over the batch of ‖J‖²_F, the squared Frobenius norm of each encoder
// layer's Jacobian with respect to that layer's input, summed over the encoder's layers.
type Cost struct {
	Loss        Loss    // "" means MSE
	Contractive float64 // λ; 0 means no penalty
}

// Check reports whether ae is a well-formed stack: sizes chain from D back to D.
func (ae Autoencoder) Check() error {
	if len(ae.Encoder) == 0 || len(ae.Decoder) == 0 {
		return fmt.Errorf("graph: an autoencoder needs at least one encoder and one decoder layer")
	}
	if err := CheckStack(ae.Layers()); err != nil {
		return err
	}
	if d, out := ae.Encoder[0].In(), ae.Decoder[len(ae.Decoder)-1].Out(); d != out {
		return fmt.Errorf("graph: the encoder takes %d inputs but the decoder gives %d", d, out)
	}
	return nil
}

// Layers returns the encoder's layers followed by the decoder's.
func (ae Autoencoder) Layers() []*Dense {
	return append(append([]*Dense(nil), ae.Encoder...), ae.Decoder...)
}

// Params returns the autoencoder's parameters, encoder first.
func (ae Autoencoder) Params() []*Param { return StackParams(ae.Layers()) }

// passes holds the nodes of one pass through an autoencoder.
type passes struct {
	layerIn []*G.Node // each encoder layer's input, B×In
	codes   []*G.Node // each encoder layer's output, B×Out
	logits  *G.Node   // the last decoder layer's pre-activation, B×D
	recon   *G.Node   // the reconstruction, B×D
}

func (b *builder) autoencode(x *G.Node, ae Autoencoder) (*passes, error) {
	if err := ae.Check(); err != nil {
		return nil, err
	}
	ps := &passes{}
	h := x
	for _, l := range ae.Encoder {
		ps.layerIn = append(ps.layerIn, h)
		_, out, err := b.dense(h, l)
		if err != nil {
			return nil, err
		}
		ps.codes = append(ps.codes, out)
		h = out
	}
	for _, l := range ae.Decoder {
		pre, out, err := b.dense(h, l)
		if err != nil {
			return nil, err
		}
		ps.logits, h = pre, out
	}
	ps.recon = h
	return ps, nil
}

// NewTrainingProgram builds the program that trains ae on obj.
// Inputs: the corrupted batch (B×D) and the clean batch (B×D). Outputs: the loss.
func NewTrainingProgram(ae Autoencoder, obj Cost, batch int) (*Program, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("graph: batch size %d must be positive", batch)
	}
	if err := ae.Check(); err != nil {
		return nil, err
	}
	d := ae.Encoder[0].In()
	b, done := newBuilder()
	defer done()
	noisy, clean := b.input("x_noisy", batch, d), b.input("x", batch, d)
	ps, err := b.autoencode(noisy, ae)
	if err != nil {
		return nil, err
	}
	out := ae.Decoder[len(ae.Decoder)-1]
	loss, err := reconstructionLoss(obj.Loss, out.Act, ps, clean)
	if err != nil {
		return nil, err
	}
	if obj.Contractive > 0 {
		for i, l := range ae.Encoder {
			pen, err := b.contractive(l, ps.codes[i], batch)
			if err != nil {
				return nil, err
			}
			var e expr // loss += λ·penalty
			loss = e.Add(loss, e.Mul(pen, scalar(float32(obj.Contractive))))
			if err := e.Err(); err != nil {
				return nil, fmt.Errorf("graph: contractive penalty: %w", err)
			}
		}
	}
	return b.program(batch, []*G.Node{noisy, clean}, []*G.Node{loss}, loss)
}

// reconstructionLoss returns the mean loss between the reconstruction and the clean batch.
func reconstructionLoss(kind Loss, outAct Activation, ps *passes, clean *G.Node) (*G.Node, error) {
	var e expr
	var per *G.Node // B×D
	switch kind {
	case MSE, "":
		per = e.Square(e.Sub(ps.recon, clean))
	case BCE:
		if outAct != Sigmoid {
			return nil, fmt.Errorf("graph: the bce loss needs a sigmoid output layer, not %s", outAct)
		}
		// From the logits z, stably: −x·log σ(z) − (1−x)·log(1−σ(z)) = softplus(z) − x·z.
		per = e.Sub(e.Softplus(ps.logits), e.HadamardProd(clean, ps.logits))
	default:
		return nil, fmt.Errorf("graph: unknown loss %q", kind)
	}
	mean := e.Mean(per)
	if err := e.Err(); err != nil {
		return nil, fmt.Errorf("graph: %s loss: %w", kind, err)
	}
	return mean, nil
}

// contractive returns the mean over the batch of ‖∂h/∂x‖²_F for h = act(x·W + b):
//
//	Σ_j act'(h_j)² Σ_i W_ij²
//
// with act'(h) = h(1−h) for sigmoid, 1−h² for tanh, 1[h>0] for relu and 1 for linear.
func (b *builder) contractive(l *Dense, h *G.Node, batch int) (*G.Node, error) {
	var e expr
	colNorms := e.Sum(e.Square(b.param(l.W)), 0) // Out: Σ_i W_ij²
	var penalty *G.Node
	switch l.Act {
	case Linear:
		penalty = e.Sum(colNorms)
	case ReLU, Sigmoid, Tanh:
		var slope *G.Node // B×Out: act'(h)²
		switch l.Act {
		case ReLU:
			// The indicator carries no gradient; the penalty trains W through colNorms alone.
			slope = e.Positive(h)
		case Sigmoid:
			slope = e.Square(e.HadamardProd(h, e.Sub(scalar(1), h)))
		case Tanh:
			slope = e.Square(e.Sub(scalar(1), e.Square(h)))
		}
		penalty = e.HadamardDiv(e.Sum(e.BroadcastHadamardProd(slope, colNorms)), scalar(float32(batch)))
	default:
		e.err = fmt.Errorf("unknown activation %q", l.Act)
	}
	if err := e.Err(); err != nil {
		return nil, fmt.Errorf("graph: contractive penalty of %s: %w", l.W.Name, err)
	}
	return penalty, nil
}

// NewEnergyProgram builds the program of the walk to the data manifold: for a batch x of
// independent points it gives the reconstruction r(x) and the gradient, with respect to
// x, of the reconstruction energy E = Σ_b ‖r(x_b) − x_b‖², from gorgonia's symbolic
// differentiation of the autoencoder's graph. The points do not interact, so row b of the
// gradient is ∂‖r(x_b) − x_b‖²/∂x_b.
// Inputs: x (B×D). Outputs: r(x) (B×D), ∂E/∂x (B×D).
func NewEnergyProgram(ae Autoencoder, batch int) (*Program, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("graph: batch size %d must be positive", batch)
	}
	if err := ae.Check(); err != nil {
		return nil, err
	}
	b, done := newBuilder()
	defer done()
	x := b.input("x", batch, ae.Encoder[0].In())
	ps, err := b.autoencode(x, ae)
	if err != nil {
		return nil, err
	}
	var e expr
	energy := e.Sum(e.Square(e.Sub(ps.recon, x)))
	if err := e.Err(); err != nil {
		return nil, fmt.Errorf("graph: reconstruction energy: %w", err)
	}
	grads, err := G.Grad(energy, x)
	if err != nil {
		return nil, fmt.Errorf("graph: reconstruction energy: %w", err)
	}
	return b.program(batch, []*G.Node{x}, []*G.Node{ps.recon, grads[0]}, nil)
}
