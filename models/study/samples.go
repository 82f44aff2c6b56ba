package study

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// SampleScore is how a set of generated images compares with the data, by figures that
// cannot be fooled one at a time: a Parzen-window estimate of the test images'
// log-likelihood (Breuleux et al. 2011, as Goodfellow et al. 2014 report it), which blurry or
// collapsed samples can game (Theis et al. 2016); the classes the digit classifier finds and
// how evenly; the share of plausible digits and of near-copies of training images; and the
// Fréchet distance between the samples and the test images in the classifier's penultimate
// features, beside the same distance for training images (its floor).
type SampleScore struct {
	N              int     `json:"n"`
	ParzenLL       float64 `json:"parzen_ll"`    // mean log-likelihood of the test images, nats
	ParzenSE       float64 `json:"parzen_se"`    // its standard error
	ParzenSigma    float64 `json:"parzen_sigma"` // the window width, chosen on validation images
	ClassesCovered int     `json:"classes_covered"`
	ClassEntropy   float64 `json:"class_entropy"` // of the class histogram, normalised to [0,1]
	PlausibleShare float64 `json:"plausible_share"`
	NearCopyShare  float64 `json:"near_copy_share"` // closer to a training image than 99% of test images are
	FD             float64 `json:"fd"`
	FDFloor        float64 `json:"fd_floor"` // the Fréchet distance of training images
	// ClassCounts is the classifier's verdicts: how many samples it calls each digit, and
	// last how many it calls no digit; the histogram behind ClassEntropy.
	ClassCounts [datasets.NumClasses + 1]int `json:"class_counts"`
}

// SampleJudge is what samples are judged against.
type SampleJudge struct {
	Classifier *models.Classifier
	Set        *datasets.Set
	// ParzenTest and ParzenValidation are how many test and validation images the Parzen
	// estimate uses; 0 means all the test images (10,000) and 1,000 validation images.
	ParzenTest, ParzenValidation int
}

// parzenSigmas returns the window widths tried on the validation images.
func parzenSigmas() []float64 {
	return []float64{0.05, 0.08, 0.1, 0.12, 0.15, 0.17, 0.2, 0.25, 0.3, 0.4}
}

// Score judges samples (N×D, pixels in [0,1]).
func (j SampleJudge) Score(ctx context.Context, backend graph.Backend, samples []float32) (SampleScore, error) {
	set := j.Set
	d := set.Test.Dim()
	if len(samples) == 0 || len(samples)%d != 0 {
		return SampleScore{}, fmt.Errorf("models: %d values are not whole images of %d pixels", len(samples), d)
	}
	n := len(samples) / d
	s := SampleScore{N: n}
	mul := backend.MatMul()

	// Parzen: the window width that best explains validation images, then the test images.
	nVal := j.ParzenValidation
	if nVal == 0 {
		nVal = 1000
	}
	nTest := j.ParzenTest
	if nTest == 0 {
		nTest = set.Test.Len()
	}
	val := set.Validation.Slice(0, min(nVal, set.Validation.Len()))
	test := set.Test.Slice(0, min(nTest, set.Test.Len()))
	best := math.Inf(-1)
	for _, sigma := range parzenSigmas() {
		ll := ParzenLogLikelihoods(mul, samples, val.Pixels, d, sigma)
		if m := stat.Mean(ll, nil); m > best {
			best, s.ParzenSigma = m, sigma
		}
	}
	ll := ParzenLogLikelihoods(mul, samples, test.Pixels, d, s.ParzenSigma)
	s.ParzenLL = stat.Mean(ll, nil)
	s.ParzenSE = stat.StdDev(ll, nil) / math.Sqrt(float64(len(ll)))

	// The classifier's verdicts, and nearness to the training images.
	ref := NewReference(mul, set.Train, set.Test)
	judged, err := j.Classifier.Judge(ctx, backend, samples)
	if err != nil {
		return s, err
	}
	dists := NearestDistances(mul, samples, set.Train)
	digits, plausible, copies := 0, 0, 0
	for i, v := range judged {
		if v.Class == models.NotADigit {
			s.ClassCounts[datasets.NumClasses]++
		} else {
			s.ClassCounts[v.Class]++
			digits++
		}
		p := WalkPoint{NearestDistance: dists[i], Near: dists[i] <= ref.NearDistance, Class: &judged[i].Class, Confidence: &judged[i].Confidence}
		if *p.Plausible() {
			plausible++
		}
		if dists[i] < ref.CopyDistance {
			copies++
		}
	}
	for _, c := range s.ClassCounts[:datasets.NumClasses] {
		if c > 0 {
			s.ClassesCovered++
			q := float64(c) / float64(digits)
			s.ClassEntropy -= q * math.Log(q) / math.Log(datasets.NumClasses)
		}
	}
	s.PlausibleShare, s.NearCopyShare = float64(plausible)/float64(n), float64(copies)/float64(n)

	// Fréchet distances in the classifier's penultimate features.
	testFeat, err := j.features(ctx, backend, test.Pixels)
	if err != nil {
		return s, err
	}
	sampleFeat, err := j.features(ctx, backend, samples)
	if err != nil {
		return s, err
	}
	trainFeat, err := j.features(ctx, backend, set.Train.Slice(0, min(n, set.Train.Len())).Pixels)
	if err != nil {
		return s, err
	}
	if s.FD, err = FrechetDistance(sampleFeat, testFeat); err != nil {
		return s, err
	}
	s.FDFloor, err = FrechetDistance(trainFeat, testFeat)
	return s, err
}

// features returns the classifier's penultimate layer's outputs for images, a row each.
func (j SampleJudge) features(ctx context.Context, backend graph.Backend, images []float32) (*mat.Dense, error) {
	layers := j.Classifier.Layers
	if len(layers) < 2 {
		return nil, fmt.Errorf("models: a classifier of one layer has no features to compare")
	}
	fwd, err := models.NewForward(backend, layers)
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	d := layers[0].In()
	h := layers[len(layers)-2].Out()
	set := &datasets.Images{Rows: 1, Cols: d, Pixels: images}
	out := mat.NewDense(set.Len(), h, nil)
	err = fwd.Run(ctx, set, datasets.Noise{}, nil, func(o models.Outputs) error {
		f := o.Layers[len(o.Layers)-2]
		for i := range o.N {
			for k := range h {
				out.Set(o.Offset+i, k, float64(f[i*h+k]))
			}
		}
		return nil
	})
	return out, err
}

// ParzenLogLikelihoods returns, for each row x of points (M×d), the log-likelihood under a
// Gaussian Parzen window of width sigma around the samples s_i (N×d):
//
//	log p(x) = log Σ_i exp(−‖x − s_i‖² / 2σ²) − log N − (d/2) log(2πσ²).
func ParzenLogLikelihoods(mul graph.MatMul, samples, points []float32, d int, sigma float64) []float64 {
	n, m := len(samples)/d, len(points)/d
	sNorm := rowNorms(samples, d)
	pNorm := rowNorms(points, d)
	out := make([]float64, m)
	const chunk = 256 // points at a time: chunk × N distances in memory
	dots := make([]float32, chunk*n)
	logNorm := math.Log(float64(n)) + float64(d)/2*math.Log(2*math.Pi*sigma*sigma)
	terms := make([]float64, n)
	for lo := 0; lo < m; lo += chunk {
		c := min(chunk, m-lo)
		mul.Gemm(false, true, c, n, d, points[lo*d:(lo+c)*d], d, samples, d, dots[:c*n], n)
		for r := range c {
			peak := math.Inf(-1)
			for i := range n {
				sq := max(0, pNorm[lo+r]+sNorm[i]-2*float64(dots[r*n+i]))
				terms[i] = -sq / (2 * sigma * sigma)
				peak = math.Max(peak, terms[i])
			}
			var sum float64
			for _, t := range terms {
				sum += math.Exp(t - peak)
			}
			out[lo+r] = peak + math.Log(sum) - logNorm
		}
	}
	return out
}

// FrechetDistance is the Fréchet distance between Gaussians fitted to the rows of a and b:
// ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½), the square root's trace taken as the sum of the
// square roots of the eigenvalues of Σa^½ Σb Σa^½ (symmetric, so gonum's EigenSym serves).
func FrechetDistance(a, b *mat.Dense) (float64, error) {
	ma, ca := meanCov(a)
	mb, cb := meanCov(b)
	var diff float64
	for i := range ma {
		diff += (ma[i] - mb[i]) * (ma[i] - mb[i])
	}
	rootA, err := sqrtSym(ca)
	if err != nil {
		return 0, err
	}
	var prod, inner mat.Dense
	prod.Mul(rootA, cb)
	inner.Mul(&prod, rootA)
	h, _ := inner.Dims()
	sym := mat.NewSymDense(h, nil)
	for i := range h {
		for k := i; k < h; k++ {
			sym.SetSym(i, k, (inner.At(i, k)+inner.At(k, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		return 0, fmt.Errorf("models: the Fréchet distance's eigenvalues did not converge")
	}
	var rootTrace float64
	for _, v := range eig.Values(nil) {
		rootTrace += math.Sqrt(math.Max(v, 0))
	}
	return diff + mat.Trace(ca) + mat.Trace(cb) - 2*rootTrace, nil
}

// meanCov returns the rows' mean and covariance (gonum's stat).
func meanCov(x *mat.Dense) ([]float64, *mat.SymDense) {
	_, cols := x.Dims()
	mu := make([]float64, cols)
	for j := range cols {
		mu[j] = stat.Mean(mat.Col(nil, j, x), nil)
	}
	cov := mat.NewSymDense(cols, nil)
	stat.CovarianceMatrix(cov, x, nil)
	return mu, cov
}

// sqrtSym returns the symmetric square root of a positive semi-definite matrix.
func sqrtSym(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("models: a covariance's eigenvalues did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	n := len(vals)
	d := mat.NewDiagDense(n, nil)
	for i, v := range vals {
		d.SetDiag(i, math.Sqrt(math.Max(v, 0)))
	}
	var tmp, root mat.Dense
	tmp.Mul(&vecs, d)
	root.Mul(&tmp, vecs.T())
	return &root, nil
}

func rowNorms(x []float32, d int) []float64 {
	out := make([]float64, len(x)/d)
	for i := range out {
		for _, v := range x[i*d : (i+1)*d] {
			out[i] += float64(v) * float64(v)
		}
	}
	return out
}
