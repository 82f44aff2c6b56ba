package study

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// The defaults and limits of an interpolation study, for the command line and configs alike.
const (
	DefaultPairs     = 3   // pairs of test digits
	MaxPairs         = 50  //
	DefaultPathSteps = 11  // points on each path, a = 0 to 1
	MaxPathSteps     = 101 //
)

// CheckInterpolation reports, as a *models.SettingError, a number of pairs or of points per
// path outside the limits.
func CheckInterpolation(pairs, steps int) error {
	switch {
	case pairs < 1 || pairs > MaxPairs:
		return &models.SettingError{Setting: "pairs", Problem: fmt.Sprintf("must be between 1 and %d, got %d", MaxPairs, pairs)}
	case steps < 2 || steps > MaxPathSteps:
		return &models.SettingError{Setting: "steps", Problem: fmt.Sprintf("must be between 2 and %d, got %d", MaxPathSteps, steps)}
	}
	return nil
}

// Alphas returns steps mixing weights evenly spaced from 0 to 1.
func Alphas(steps int) []float64 {
	a := make([]float64, steps)
	for k := range a {
		a[k] = float64(k) / float64(steps-1)
	}
	a[steps-1] = 1
	return a
}

// Interpolate encodes x1 and x2 into their top codes z1 and z2 and decodes
// z = a·z1 + (1−a)·z2 for every a of alphas: at a = 1 the result is decode(z1), at a = 0
// decode(z2), exactly.
func Interpolate(ctx context.Context, backend graph.Backend, ae *models.Autoencoder, x1, x2 []float32, alphas []float64) ([][]float32, error) {
	d := ae.Spec.Layers[0]
	if len(x1) != d || len(x2) != d {
		return nil, fmt.Errorf("models: interpolate images of %d and %d values with a model of %d inputs", len(x1), len(x2), d)
	}
	codes, err := models.Encode(ctx, backend, ae.Encoder, &datasets.Images{Rows: 1, Cols: d, Pixels: append(append([]float32(nil), x1...), x2...)})
	if err != nil {
		return nil, err
	}
	h := codes.Dim()
	z1, z2 := codes.Pixels[:h], codes.Pixels[h:]
	mixed := &datasets.Images{Rows: 1, Cols: h, Pixels: make([]float32, 0, len(alphas)*h)}
	for _, a := range alphas {
		a32 := float32(a)
		for j := range h {
			mixed.Pixels = append(mixed.Pixels, a32*z1[j]+(1-a32)*z2[j])
		}
	}
	return Decode(ctx, backend, ae, mixed)
}

// Decode runs codes (N×H, the top code) through the decoder.
func Decode(ctx context.Context, backend graph.Backend, ae *models.Autoencoder, codes *datasets.Images) ([][]float32, error) {
	out, err := models.Encode(ctx, backend, ae.Decoder, codes)
	if err != nil {
		return nil, err
	}
	images := make([][]float32, out.Len())
	for i := range images {
		images[i] = out.Image(i)
	}
	return images, nil
}

// PixelBlend returns a·x1 + (1−a)·x2 for every a of alphas: the straight line in pixel
// space that a decoded path is compared with.
func PixelBlend(x1, x2 []float32, alphas []float64) [][]float32 {
	out := make([][]float32, len(alphas))
	for k, a := range alphas {
		a32 := float32(a)
		out[k] = make([]float32, len(x1))
		for j := range x1 {
			out[k][j] = a32*x1[j] + (1-a32)*x2[j]
		}
	}
	return out
}

// PathScore is how a classifier sees a path of images from x2 (a = 0) to x1 (a = 1).
type PathScore struct {
	MeanConfidence   float64            `json:"mean_confidence"`    // mean top softmax probability
	EndClassFraction float64            `json:"end_class_fraction"` // share classified as x1's or x2's class with p ≥ 0.9
	SwitchAlpha      *float64           `json:"switch_alpha"`       // first a whose predicted class differs from a = 0's; null if none
	Classes          []int              `json:"classes"`
	Confidences      []float64          `json:"confidences"`
	Alphas           []float64          `json:"alphas"`
	Judgements       []models.Judgement `json:"-"`
}

// confidentThreshold is the probability above which an image counts as a clear digit.
const confidentThreshold = 0.9

// ScorePath summarises a classifier's verdicts on a path whose ends have the given classes.
func ScorePath(judged []models.Judgement, alphas []float64, class1, class2 int) PathScore {
	s := PathScore{Alphas: alphas, Judgements: judged}
	ends := 0
	for k, j := range judged {
		s.Classes = append(s.Classes, j.Class)
		s.Confidences = append(s.Confidences, j.Confidence)
		s.MeanConfidence += j.Confidence / float64(len(judged))
		if (j.Class == class1 || j.Class == class2) && j.Confidence >= confidentThreshold {
			ends++
		}
		if s.SwitchAlpha == nil && k > 0 && j.Class != judged[0].Class {
			a := alphas[k]
			s.SwitchAlpha = &a
		}
	}
	s.EndClassFraction = float64(ends) / float64(len(judged))
	return s
}

// PairChoice selects test images to interpolate between.
type PairChoice struct {
	SameClass int    // both of this class; −1: not this way
	Classes   [2]int // from a digit of Classes[0] (x2, at a = 0) to one of Classes[1] (x1); −1s: not this way
	Indices   [2]int // exactly these two test images; −1s: not this way
	Pairs     int    // how many pairs (ignored with Indices)
}

// ChoosePairs returns pairs of test image indices as c asks, drawn by rng; with no way
// given, pairs of different classes (of any two images when there are no labels).
func ChoosePairs(test *datasets.Images, c PairChoice, rng *rand.Rand) ([][2]int, error) {
	n := test.Len()
	if c.Indices[0] >= 0 {
		for _, i := range c.Indices {
			if i >= n {
				return nil, fmt.Errorf("models: test image %d does not exist (there are %d, numbered 0 to %d)", i, n, n-1)
			}
		}
		if c.Indices[0] == c.Indices[1] {
			return nil, fmt.Errorf("models: interpolating test image %d with itself", c.Indices[0])
		}
		return [][2]int{c.Indices}, nil
	}
	if test.Labels == nil {
		if c.SameClass >= 0 || c.Classes[0] >= 0 {
			return nil, fmt.Errorf("models: the test images have no labels to choose classes by; give two indices")
		}
		return randomPairs(n, c.Pairs, rng)
	}
	byClass := make([][]int, datasets.NumClasses)
	for i, l := range test.Labels {
		byClass[l] = append(byClass[l], i)
	}
	pick := func(class int) (int, error) {
		if class < 0 || class >= datasets.NumClasses {
			return 0, fmt.Errorf("models: class %d is not a digit 0-9", class)
		}
		if len(byClass[class]) == 0 {
			return 0, fmt.Errorf("models: no test image of class %d", class)
		}
		return byClass[class][rng.IntN(len(byClass[class]))], nil
	}
	pairs := make([][2]int, 0, c.Pairs)
	for len(pairs) < c.Pairs {
		a, b := c.Classes[1], c.Classes[0] // the classes of x1 and x2
		switch {
		case c.SameClass >= 0:
			a, b = c.SameClass, c.SameClass
		case a < 0:
			a = rng.IntN(datasets.NumClasses)
			b = (a + 1 + rng.IntN(datasets.NumClasses-1)) % datasets.NumClasses
		}
		i, err := pick(a)
		if err != nil {
			return nil, err
		}
		j, err := pick(b)
		if err != nil {
			return nil, err
		}
		if i == j {
			if len(byClass[b]) < 2 {
				return nil, fmt.Errorf("models: class %d has a single test image", b)
			}
			continue
		}
		pairs = append(pairs, [2]int{i, j})
	}
	return pairs, nil
}

// randomPairs draws pairs of two different images out of n.
func randomPairs(n, pairs int, rng *rand.Rand) ([][2]int, error) {
	if n < 2 {
		return nil, fmt.Errorf("models: %d test images are too few to pair", n)
	}
	out := make([][2]int, pairs)
	for k := range out {
		i := rng.IntN(n)
		out[k] = [2]int{i, (i + 1 + rng.IntN(n-1)) % n}
	}
	return out, nil
}

// Path is one interpolation between two test images by one model.
type Path struct {
	Model        string      `json:"model"`
	Index1       int         `json:"index1"` // x1, the end at a = 1
	Index2       int         `json:"index2"` // x2, the end at a = 0
	Class1       int         `json:"class1"`
	Class2       int         `json:"class2"`
	Decoded      [][]float32 `json:"-"`                 // at each alpha
	Pixel        [][]float32 `json:"-"`                 // the pixel blends, when asked for
	DecodedScore *PathScore  `json:"decoded,omitempty"` // nil when nothing judged the path
	PixelScore   *PathScore  `json:"pixel,omitempty"`
}

// Interpolations says what InterpolationStudy interpolates: between which test images,
// through which models, at which a, judged by which classifier (nil: not judged).
type Interpolations struct {
	Names         []string // a name for each model
	Models        []*models.Autoencoder
	Test          *datasets.Images
	Pairs         [][2]int // indices of x1 and x2 in Test
	Alphas        []float64
	Judge         *models.Classifier
	PixelBaseline bool // also blend each pair's pixels
}

// InterpolationStudy interpolates every pair of test images with every model, and has the
// classifier judge each decoded image (and each pixel blend, with PixelBaseline).
func InterpolationStudy(ctx context.Context, backend graph.Backend, in Interpolations) ([]Path, error) {
	names, aes, test, pairs, alphas, judge, pixel := in.Names, in.Models, in.Test, in.Pairs, in.Alphas, in.Judge, in.PixelBaseline
	var paths []Path
	for _, pair := range pairs {
		x1, x2 := test.Image(pair[0]), test.Image(pair[1])
		c1, c2 := -1, -1
		if test.Labels != nil {
			c1, c2 = int(test.Labels[pair[0]]), int(test.Labels[pair[1]])
		}
		score := func(images [][]float32) (*PathScore, error) {
			if judge == nil {
				return nil, nil
			}
			j, err := judge.Judge(ctx, backend, flatten(images))
			if err != nil {
				return nil, err
			}
			s := ScorePath(j, alphas, c1, c2)
			return &s, nil
		}
		var blend [][]float32
		var blendScore *PathScore
		if pixel {
			blend = PixelBlend(x1, x2, alphas)
			var err error
			if blendScore, err = score(blend); err != nil {
				return nil, err
			}
		}
		for m, ae := range aes {
			decoded, err := Interpolate(ctx, backend, ae, x1, x2, alphas)
			if err != nil {
				return nil, err
			}
			decodedScore, err := score(decoded)
			if err != nil {
				return nil, err
			}
			paths = append(paths, Path{Model: names[m], Index1: pair[0], Index2: pair[1], Class1: c1, Class2: c2,
				Decoded: decoded, Pixel: blend, DecodedScore: decodedScore, PixelScore: blendScore})
		}
	}
	return paths, nil
}

func flatten(images [][]float32) []float32 {
	var out []float32
	for _, im := range images {
		out = append(out, im...)
	}
	return out
}

// PathSummary averages the scores of a model's paths (or of the pixel blends).
type PathSummary struct {
	Name             string   `json:"name"` // the model, or "pixels"
	Paths            int      `json:"paths"`
	MeanConfidence   float64  `json:"mean_confidence"`
	EndClassFraction float64  `json:"end_class_fraction"`
	MeanSwitchAlpha  *float64 `json:"mean_switch_alpha"` // over the paths whose class changes
}

// SummarizePaths averages scores per model, with the pixel blends last when present; paths
// nothing judged are left out (none judged: nil).
func SummarizePaths(paths []Path) []PathSummary {
	var order []string
	acc := map[string]*PathSummary{}
	switches := map[string][]float64{}
	add := func(name string, s PathScore) {
		sum, ok := acc[name]
		if !ok {
			sum = &PathSummary{Name: name}
			acc[name] = sum
			order = append(order, name)
		}
		sum.Paths++
		sum.MeanConfidence += s.MeanConfidence
		sum.EndClassFraction += s.EndClassFraction
		if s.SwitchAlpha != nil {
			switches[name] = append(switches[name], *s.SwitchAlpha)
		}
	}
	seen := map[[2]int]bool{}
	for _, p := range paths {
		if p.DecodedScore != nil {
			add(p.Model, *p.DecodedScore)
		}
	}
	for _, p := range paths {
		if p.PixelScore != nil && !seen[[2]int{p.Index1, p.Index2}] {
			seen[[2]int{p.Index1, p.Index2}] = true
			add("pixels", *p.PixelScore)
		}
	}
	out := make([]PathSummary, 0, len(order))
	for _, name := range order {
		s := acc[name]
		s.MeanConfidence /= float64(s.Paths)
		s.EndClassFraction /= float64(s.Paths)
		if sw := switches[name]; len(sw) > 0 {
			var m float64
			for _, a := range sw {
				m += a / float64(len(sw))
			}
			s.MeanSwitchAlpha = &m
		}
		out = append(out, *s)
	}
	return out
}

// InterpolationCost estimates the multiply-adds of InterpolationStudy over pairs with paths
// of steps points through models of specs, for a progress line.
func InterpolationCost(specs []models.Spec, pairs, steps int, judged, pixel bool) float64 {
	var perPair float64
	paths := len(specs)
	if pixel {
		paths++
	}
	for _, s := range specs {
		perPair += s.ForwardMACs() + float64(steps)*s.ForwardMACs()/2 // both ends encoded, every point decoded
	}
	if judged {
		perPair += float64(paths*steps) * DigitClassifierMACs(specs[0].Layers[0])
	}
	return float64(pairs) * perPair
}
