package models

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// Kind names the family of an autoencoder.
type Kind string

// The autoencoder kinds.
const (
	AE  Kind = "ae"  // plain: reconstruct the input
	DAE Kind = "dae" // denoising: reconstruct the clean input from a corrupted one
	CAE Kind = "cae" // contractive: reconstruct, penalising the encoder's Jacobian
)

// ParseKind checks that s names a known kind.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case AE, DAE, CAE:
		return k, nil
	}
	return "", fmt.Errorf("models: unknown kind %q (want ae, dae or cae)", s)
}

// Defaults for what a Spec leaves zero.
const (
	DefaultNoise      = "gaussian:0.4" // a DAE's training corruption
	DefaultLevelNoise = "gaussian:0.2" // a DAE's corruption of the codes deeper levels pretrain on
	DefaultLambda     = 1e-5           // a CAE's penalty weight (the loss is a mean over pixels, the penalty a sum)
)

// Spec describes an autoencoder: its kind, sizes, activations and training objective.
type Spec struct {
	Kind       Kind             `json:"kind"`
	Layers     []int            `json:"layers"`            // D, H1, …, Hk: the encoder's sizes; the decoder mirrors them
	Activation graph.Activation `json:"activation"`        // the encoder's hidden units, and the decoder's
	Code       graph.Activation `json:"code_activation"`   // the top code's units
	Output     graph.Activation `json:"output_activation"` // the reconstruction's units
	Loss       graph.Loss       `json:"loss"`              // reconstruction loss
	Noise      datasets.Noise   `json:"noise"`             // training corruption (DAE); of the images when pretraining
	LevelNoise datasets.Noise   `json:"level_noise"`       // corruption of the codes that pretraining levels 2… reconstruct (DAE)
	Lambda     float64          `json:"lambda,omitempty"`  // contractive penalty weight (CAE)
}

// ParseLayers reads comma-separated layer sizes such as "512,128".
func ParseLayers(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("models: no layer sizes given (want sizes such as 128 or 512,128)")
	}
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("models: layer size %q is not a whole number", strings.TrimSpace(f))
		}
		if n <= 0 {
			return nil, fmt.Errorf("models: layer size %d must be positive", n)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// WithDefaults fills the fields a user may leave out: ReLU hidden units and code, a sigmoid
// output, MSE, gaussian:0.4 noise for a DAE (gaussian:0.2 on the codes of deeper levels)
// and λ = 1e-5 for a CAE.
func (s Spec) WithDefaults() Spec {
	if s.Activation == "" {
		s.Activation = graph.ReLU
	}
	if s.Code == "" {
		s.Code = s.Activation
	}
	if s.Output == "" {
		s.Output = graph.Sigmoid
	}
	if s.Loss == "" {
		s.Loss = graph.MSE
	}
	if s.Kind == DAE && s.Noise.IsNone() {
		s.Noise, _ = datasets.ParseNoise(DefaultNoise)
	}
	if s.Kind == DAE && s.LevelNoise.IsNone() && s.Depth() > 1 {
		s.LevelNoise, _ = datasets.ParseNoise(DefaultLevelNoise)
	}
	if s.Kind == CAE && s.Lambda == 0 {
		s.Lambda = DefaultLambda
	}
	return s
}

// Validate reports the first thing wrong with s.
func (s Spec) Validate() error {
	if _, err := ParseKind(string(s.Kind)); err != nil {
		return err
	}
	if len(s.Layers) < 2 {
		return fmt.Errorf("models: an autoencoder needs an input size and at least one hidden layer, got layers %v", s.Layers)
	}
	for _, n := range s.Layers {
		if n <= 0 {
			return fmt.Errorf("models: layer size %d must be positive", n)
		}
	}
	for _, a := range []graph.Activation{s.Activation, s.Code, s.Output} {
		if _, err := graph.ParseActivation(string(a)); err != nil {
			return fmt.Errorf("models: %w", err)
		}
	}
	if _, err := graph.ParseLoss(string(s.Loss)); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	if s.Loss == graph.BCE && s.Output != graph.Sigmoid {
		return fmt.Errorf("models: the bce loss needs a sigmoid output, not %s", s.Output)
	}
	switch {
	case s.Kind == DAE && s.Noise.IsNone():
		return fmt.Errorf("models: a dae needs a corruption (--noise)")
	case s.Kind != DAE && !s.Noise.IsNone():
		return fmt.Errorf("models: noise %s is for a dae, not a %s", s.Noise, s.Kind)
	case s.Kind != DAE && !s.LevelNoise.IsNone():
		return fmt.Errorf("models: level noise %s is for a dae, not a %s", s.LevelNoise, s.Kind)
	case s.Kind == CAE && !(s.Lambda > 0):
		return fmt.Errorf("models: a cae needs a positive λ, got %g", s.Lambda)
	case s.Kind != CAE && s.Lambda != 0:
		return fmt.Errorf("models: λ is for a cae, not a %s", s.Kind)
	}
	return nil
}

// ForwardMACs returns the multiply-adds of one image's pass through the encoder and the
// decoder: a measure of work for progress estimates.
func (s Spec) ForwardMACs() float64 {
	var macs float64
	for i := 1; i < len(s.Layers); i++ {
		macs += 2 * float64(s.Layers[i-1]*s.Layers[i])
	}
	return macs
}

// TrainingFLOPs returns the floating-point operations of the matrix products of one
// training step per image: the forward pass, the weight gradients and the input gradients
// of every layer but the first (whose input gradient nobody needs), two operations a
// multiply-add. The elementwise work is left out, as benchmarks of dense networks do.
func (s Spec) TrainingFLOPs() float64 {
	first := float64(s.Layers[0] * s.Layers[1])
	return 2 * (3*s.ForwardMACs() - first)
}

// Depth returns the number of encoder layers.
func (s Spec) Depth() int { return len(s.Layers) - 1 }

// paramCount returns the number of weights and biases of s, or -1 past 2^40.
func (s Spec) paramCount() int {
	n := 0
	for i := 1; i < len(s.Layers); i++ {
		in, out := s.Layers[i-1], s.Layers[i]
		if in > 1<<20 || out > 1<<20 {
			return -1
		}
		n += 2*in*out + in + out // encoder and decoder layer
		if n > 1<<40 {
			return -1
		}
	}
	return n
}

// Cost returns what training s minimises.
func (s Spec) Cost() graph.Cost {
	return graph.Cost{Loss: s.Loss, Contractive: s.Lambda}
}

// String gives the sizes of the whole stack, e.g. "784-512-128-512-784".
func (s Spec) String() string {
	parts := make([]string, 0, 2*len(s.Layers)-1)
	for _, n := range s.Layers {
		parts = append(parts, strconv.Itoa(n))
	}
	for i := len(s.Layers) - 2; i >= 0; i-- {
		parts = append(parts, strconv.Itoa(s.Layers[i]))
	}
	return strings.Join(parts, "-")
}

// encoderActivation returns the activation of encoder layer i (0-based).
func (s Spec) encoderActivation(i int) graph.Activation {
	if i == s.Depth()-1 {
		return s.Code
	}
	return s.Activation
}

// levelActivation returns the activation of representation level l: 0 is the input, whose
// reconstruction uses Output; level l ≥ 1 is encoder layer l's output.
func (s Spec) levelActivation(l int) graph.Activation {
	if l == 0 {
		return s.Output
	}
	return s.encoderActivation(l - 1)
}

// Autoencoder is an autoencoder's spec and parameters.
//
// Encoder[i] maps Layers[i] to Layers[i+1]; Decoder[i] maps Layers[k−i] to Layers[k−i−1]
// (k = depth), so Decoder runs top-down. The decoder layer that rebuilds level l ends in
// the activation of level l's units (the output activation for the input), as a stack of
// separately trained levels requires.
type Autoencoder struct {
	Spec    Spec
	Encoder []*graph.Dense
	Decoder []*graph.Dense
	Head    *graph.Dense // H → 10 logits, after supervised fine-tuning; nil otherwise
}

// New returns an autoencoder of spec with Glorot-uniform weights drawn from rng.
func New(spec Spec, rng *rand.Rand) (*Autoencoder, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	k := spec.Depth()
	a := &Autoencoder{Spec: spec}
	for i := range k {
		a.Encoder = append(a.Encoder, graph.NewDense(encoderName(i), spec.Layers[i], spec.Layers[i+1], spec.encoderActivation(i), rng))
	}
	for i := range k {
		top := k - i
		a.Decoder = append(a.Decoder, graph.NewDense(decoderName(i), spec.Layers[top], spec.Layers[top-1], spec.levelActivation(top-1), rng))
	}
	return a, nil
}

// Parameter names follow torch.nn.Sequential: each Linear is followed by its activation
// module, so the i-th Linear has index 2i.
func encoderName(i int) string { return fmt.Sprintf("encoder.%d", 2*i) }
func decoderName(i int) string { return fmt.Sprintf("decoder.%d", 2*i) }

// headName names the classifier layer's parameters, as a torch.nn.Linear called classifier.
const headName = "classifier"

// NewHead returns a fresh linear classifier over the top code, drawn from rng.
func (a *Autoencoder) NewHead(rng *rand.Rand) *graph.Dense {
	return graph.NewDense(headName, a.Spec.Layers[a.Spec.Depth()], datasets.NumClasses, graph.Linear, rng)
}

// Classifier returns the encoder followed by the head, or nil without a head.
func (a *Autoencoder) Classifier() []*graph.Dense {
	if a.Head == nil {
		return nil
	}
	return append(append([]*graph.Dense(nil), a.Encoder...), a.Head)
}

// Level returns the single-layer autoencoder of pretraining level l (1-based): encoder
// layer l and the decoder layer that rebuilds level l−1 from it.
func (a *Autoencoder) Level(l int) graph.Autoencoder {
	return graph.Autoencoder{Encoder: a.Encoder[l-1 : l], Decoder: a.Decoder[a.Spec.Depth()-l : a.Spec.Depth()-l+1]}
}

// Graph returns the layers as graph builds them.
func (a *Autoencoder) Graph() graph.Autoencoder {
	return graph.Autoencoder{Encoder: a.Encoder, Decoder: a.Decoder}
}

// CheckImages reports whether the model can take images of this size.
func (a *Autoencoder) CheckImages(im *datasets.Images) error {
	if d := a.Spec.Layers[0]; im.Dim() != d {
		return fmt.Errorf("models: the model takes %d inputs but the images have %d pixels", d, im.Dim())
	}
	return nil
}

// Params returns every parameter, encoder first, the head's last.
func (a *Autoencoder) Params() []*graph.Param {
	ps := a.Graph().Params()
	if a.Head != nil {
		ps = append(ps, a.Head.Params()...)
	}
	return ps
}

// NumParams returns the number of trainable values.
func (a *Autoencoder) NumParams() int {
	n := 0
	for _, p := range a.Params() {
		n += len(p.Data)
	}
	return n
}
