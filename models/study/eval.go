package study

import (
	"context"
	"math"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// Metrics are an autoencoder's figures on a test set.
type Metrics struct {
	TestMSE        float64 `json:"test_mse"`        // clean input vs clean target, mean over pixels and images
	TestMSENoisy   float64 `json:"test_mse_noisy"`  // corrupted input vs clean target
	Noise          string  `json:"noise"`           // the corruption behind test_mse_noisy
	PerImageSSE    float64 `json:"per_image_sse"`   // squared error summed over an image's pixels, mean over images
	PSNR           float64 `json:"psnr_db"`         // 10·log10(1/test_mse), pixels in [0,1]
	JacobianFro2   float64 `json:"jacobian_fro2"`   // mean ‖J_f(x)‖²_F of the encoder
	JacobianImages int     `json:"jacobian_images"` // how many test images jacobian_fro2 averages over
	NTest          int     `json:"n_test"`          // test images
	// ProbeAccuracy is the test accuracy of a linear softmax classifier trained on the frozen
	// top code of the training images ([Probe]); absent for unlabelled data or when skipped.
	ProbeAccuracy *float64 `json:"probe_accuracy,omitempty"`
	ProbeImages   int      `json:"probe_train_images,omitempty"` // the training codes the probe learnt from
	// TestAccuracy is the accuracy of the model's own classifier, after supervised fine-tuning.
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
}

// EvalOptions selects what Evaluate measures besides the reconstruction figures.
type EvalOptions struct {
	Noise   datasets.Noise // corruption for test_mse_noisy (see EvalNoise)
	Seed    uint64         // seeds that corruption
	NoProbe bool           // skip the linear probe
}

// For a multi-layer encoder each image's Jacobian costs a chain of matrix products, so
// ‖J‖²_F is averaged over the first test images only: at most jacobianImagesDeep, fewer
// (but not under jacobianImagesMin) when the chain costs more than jacobianBudget
// multiply-adds in all. A single layer uses every image.
const (
	jacobianImagesDeep = 500
	jacobianImagesMin  = 50
	jacobianBudget     = 5e10
)

// EvalNoise returns the corruption eval uses for test_mse_noisy: the one asked for, else the
// model's training noise, else gaussian:0.4.
func EvalNoise(asked datasets.Noise, spec models.Spec) datasets.Noise {
	switch {
	case !asked.IsNone():
		return asked
	case !spec.Noise.IsNone():
		return spec.Noise
	}
	n, _ := datasets.ParseNoise(models.DefaultNoise)
	return n
}

// Evaluate measures model on set's test images: reconstruction figures, the encoder's
// Jacobian, and, when the data has labels, the linear probe (trained on the codes of set's
// whole training split) and the model's own classifier if it has one.
func Evaluate(ctx context.Context, backend graph.Backend, model *models.Autoencoder, set *datasets.Set, opts EvalOptions) (Metrics, error) {
	m, err := evaluateReconstruction(ctx, backend, model.Graph(), set.Test, opts.Noise, opts.Seed)
	if err != nil || set.Test.Labels == nil {
		return m, err
	}
	if !opts.NoProbe {
		// One recipe wherever a model is evaluated: the whole training split, whatever
		// limit the model was trained under.
		probeSet := set.FullTrain()
		acc, err := Probe(ctx, backend, model.Encoder, probeSet, set.Test)
		if err != nil {
			return m, err
		}
		m.ProbeAccuracy, m.ProbeImages = &acc, probeSet.Len()
	}
	if model.Head != nil {
		_, acc, err := Accuracy(ctx, backend, model.Classifier(), set.Test)
		if err != nil {
			return m, err
		}
		m.TestAccuracy = &acc
	}
	return m, nil
}

// EvaluationCost estimates the multiply-adds of Evaluate for a model of spec, for a progress
// line's time left.
func EvaluationCost(spec models.Spec, set *datasets.Set, opts EvalOptions) float64 {
	nTest := float64(set.Test.Len())
	cost := 2 * spec.ForwardMACs() * nTest // from clean and noisy inputs
	enc := spec.ForwardMACs() / 2
	if spec.Depth() > 1 {
		top := float64(spec.Layers[len(spec.Layers)-1])
		var perImage float64
		for i := 1; i < len(spec.Layers); i++ {
			perImage += top * float64(spec.Layers[i-1]*spec.Layers[i])
		}
		images := min(nTest, jacobianImagesDeep, max(jacobianImagesMin, jacobianBudget/perImage))
		cost += images * perImage
	}
	if set.Test.Labels != nil && !opts.NoProbe {
		nTrain, codes := float64(set.FullTrain().Len()), float64(spec.Layers[len(spec.Layers)-1])
		cost += enc*(nTrain+nTest) + (3*probeEpochs*nTrain+nTest)*codes*datasets.NumClasses
	}
	return cost
}

// evaluateReconstruction measures ae on test; noise corrupts the inputs for
// test_mse_noisy, drawn from a generator seeded by seed.
func evaluateReconstruction(ctx context.Context, backend graph.Backend, ae graph.Autoencoder, test *datasets.Images, noise datasets.Noise, seed uint64) (Metrics, error) {
	fwd, err := models.NewForward(backend, ae.Layers())
	if err != nil {
		return Metrics{}, err
	}
	defer fwd.Close()
	n, d := test.Len(), test.Dim()
	m := Metrics{Noise: noise.String(), NTest: n}

	jacN := n
	if len(ae.Encoder) > 1 {
		perImage := newJacobian(nil, ae.Encoder).cost()
		jacN = min(n, jacobianImagesDeep, max(jacobianImagesMin, int(jacobianBudget/perImage)))
	}
	jac := newJacobian(backend.MatMul(), ae.Encoder)
	var sse, jacSum float64
	err = fwd.Run(ctx, test, datasets.Noise{}, nil, func(o models.Outputs) error {
		sse += models.LossSum(graph.MSE, o.Last(), o.Input)
		for i := range min(o.N, jacN-o.Offset) {
			jacSum += jac.fro2(o.Layers, i)
		}
		return nil
	})
	if err != nil {
		return Metrics{}, err
	}
	var sseNoisy float64
	err = fwd.Run(ctx, test, noise, models.NewRand(seed, models.StreamEval), func(o models.Outputs) error {
		sseNoisy += models.LossSum(graph.MSE, o.Last(), test.Pixels[o.Offset*d:(o.Offset+o.N)*d])
		return nil
	})
	if err != nil {
		return Metrics{}, err
	}
	m.TestMSE = sse / float64(n*d)
	m.TestMSENoisy = sseNoisy / float64(n*d)
	m.PerImageSSE = sse / float64(n)
	m.PSNR = 10 * math.Log10(1/m.TestMSE)
	m.JacobianFro2 = jacSum / float64(jacN)
	m.JacobianImages = jacN
	return m, nil
}

// jacobian computes ‖J‖²_F of an encoder at one input from the layers' outputs there.
// For one layer, J = diag(act'(h))·Wᵀ and ‖J‖²_F = Σ_j act'(h_j)² Σ_i W_ij²; deeper, the
// layers' Jacobians are multiplied from the top code down, so the product stays H_k wide.
type jacobian struct {
	mul      graph.MatMul
	layers   []*graph.Dense
	colNorms []float64    // Σ_i W_ij² of the first layer, for the one-layer formula
	chain    [2][]float32 // scratch: H_k × (widest layer)
}

func newJacobian(mul graph.MatMul, layers []*graph.Dense) *jacobian {
	j := &jacobian{mul: mul, layers: layers}
	w := layers[0]
	j.colNorms = make([]float64, w.Out())
	for i := range w.In() {
		for o := range w.Out() {
			v := float64(w.W.Data[i*w.Out()+o])
			j.colNorms[o] += v * v
		}
	}
	if len(layers) > 1 {
		top, widest := layers[len(layers)-1].Out(), 0
		for _, l := range layers {
			widest = max(widest, l.In())
		}
		j.chain = [2][]float32{make([]float32, top*widest), make([]float32, top*widest)}
	}
	return j
}

// cost returns the multiply-adds of one image's Jacobian chain.
func (j *jacobian) cost() float64 {
	top := float64(j.layers[len(j.layers)-1].Out())
	var c float64
	for _, l := range j.layers {
		c += top * float64(l.In()*l.Out())
	}
	return c
}

// slope returns act'(·) expressed through the activation's output h.
func slope(a graph.Activation, h float32) float32 {
	switch a {
	case graph.ReLU:
		if h > 0 {
			return 1
		}
		return 0
	case graph.Sigmoid:
		return h * (1 - h)
	case graph.Tanh:
		return 1 - h*h
	}
	return 1
}

// fro2 returns ‖J‖²_F for row r of a batch whose layer outputs (the encoder's first) are
// codes.
func (j *jacobian) fro2(codes [][]float32, r int) float64 {
	if len(j.layers) == 1 {
		l := j.layers[0]
		h := codes[0][r*l.Out() : (r+1)*l.Out()]
		var s float64
		for o, v := range h {
			g := float64(slope(l.Act, v))
			s += g * g * j.colNorms[o]
		}
		return s
	}
	k := len(j.layers)
	top := j.layers[k-1].Out()
	// M starts as I (top × top); each step scales M's columns by act'(h_i) and multiplies by
	// W_iᵀ (Out_i × In_i), leaving top × In_i.
	cur, next := j.chain[0], j.chain[1]
	width := top
	clear(cur[:top*top])
	for i := range top {
		cur[i*top+i] = 1
	}
	for i := k - 1; i >= 0; i-- {
		l := j.layers[i]
		h := codes[i][r*l.Out() : (r+1)*l.Out()]
		for row := range top {
			for c := range width {
				cur[row*width+c] *= slope(l.Act, h[c])
			}
		}
		// next (top × In) = cur (top × Out) · Wᵀ, W stored In × Out.
		j.mul.Gemm(false, true, top, l.In(), width, cur[:top*width], width, l.W.Data, l.Out(), next[:top*l.In()], l.In())
		cur, next, width = next, cur, l.In()
	}
	var s float64
	for _, v := range cur[:top*width] {
		s += float64(v) * float64(v)
	}
	return s
}
