package study

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
	"github.com/aelab/aelab/models/train"
)

// The Parzen estimate matches a direct float64 computation.
func TestParzenMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, m, d, sigma = 50, 20, 6, 0.2
	samples, points := make([]float32, n*d), make([]float32, m*d)
	for i := range samples {
		samples[i] = rng.Float32()
	}
	for i := range points {
		points[i] = rng.Float32()
	}
	got := ParzenLogLikelihoods(graph.Tape{}.MatMul(), samples, points, d, sigma)
	for r := range m {
		var sum float64
		for i := range n {
			var sq float64
			for k := range d {
				diff := float64(points[r*d+k]) - float64(samples[i*d+k])
				sq += diff * diff
			}
			sum += math.Exp(-sq / (2 * sigma * sigma))
		}
		want := math.Log(sum/n) - d/2.0*math.Log(2*math.Pi*sigma*sigma)
		if math.Abs(got[r]-want) > 1e-4 {
			t.Errorf("point %d: %g, want %g", r, got[r], want)
		}
	}
}

// The Fréchet distance of a set to itself is 0; shifting every feature by c adds d·c².
func TestFrechetDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows, d, c = 400, 5, 0.7
	a, b := mat.NewDense(rows, d, nil), mat.NewDense(rows, d, nil)
	for i := range rows {
		for k := range d {
			v := rng.NormFloat64() * float64(k+1)
			a.Set(i, k, v)
			b.Set(i, k, v+c)
		}
	}
	same, err := FrechetDistance(a, a)
	if err != nil || math.Abs(same) > 1e-6 {
		t.Errorf("FD(a, a) = %g (%v), want 0", same, err)
	}
	shifted, err := FrechetDistance(a, b)
	if err != nil || math.Abs(shifted-d*c*c) > 1e-6 {
		t.Errorf("FD(a, a + %g) = %g (%v), want %g", c, shifted, err, d*c*c)
	}
}

// The judge on known inputs: training images score near the floor with every class
// covered; uniform noise and blurred digits score badly on plausibility and the Fréchet
// distance, whatever the Parzen estimate says of them.
func TestSampleJudgeOnKnownInputs(t *testing.T) {
	full := modeltest.MNIST(t)
	set := &datasets.Set{Name: full.Name, TrainFile: full.TrainFile, Train: full.Train.Slice(0, 5000),
		Validation: full.Validation.Slice(0, 300), Test: full.Test.Slice(0, 1000)}
	ctx, cpu := context.Background(), graph.Tape{}
	noise, _ := datasets.ParseNoise(classifierNoise)
	judge := models.NewClassifier([]int{784, 64, datasets.NumClasses + 1}, 1)
	run := train.Run{Train: withNotDigits(set.Train, models.NewRand(1, models.StreamNotDigits)), Noise: noise,
		Config: train.Config{Epochs: 10, Batch: 50, Adam: graph.Adam{LR: 0.002}, Seed: 1}}
	if _, err := train.Classifier(ctx, cpu, judge.Layers, run); err != nil {
		t.Fatal(err)
	}
	j := SampleJudge{Classifier: judge, Set: set, ParzenTest: 300, ParzenValidation: 200}
	n := 1000
	digits := full.Train.Slice(10000, 10000+n).Pixels // training images the judge's set does not hold
	rng := rand.New(rand.NewPCG(5, 6))
	uniform := make([]float32, n*784)
	for i := range uniform {
		uniform[i] = rng.Float32()
	}
	blurred := make([]float32, n*784)
	for i := range n {
		img := digits[i*784 : (i+1)*784]
		for r := range 28 {
			for c := range 28 {
				var s float32
				var k int
				for dr := -3; dr <= 3; dr++ {
					for dc := -3; dc <= 3; dc++ {
						if rr, cc := r+dr, c+dc; rr >= 0 && rr < 28 && cc >= 0 && cc < 28 {
							s += img[rr*28+cc]
							k++
						}
					}
				}
				blurred[i*784+r*28+c] = s / float32(k)
			}
		}
	}
	score := func(name string, samples []float32) SampleScore {
		s, err := j.Score(ctx, cpu, samples)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%-8s %+v", name, s)
		return s
	}
	real, noisy, blurry := score("digits", digits), score("uniform", uniform), score("blurred", blurred)
	if real.ClassesCovered != 10 || real.ClassEntropy < 0.95 || real.PlausibleShare < 0.6 || real.FD > 3*real.FDFloor+1e-9 {
		t.Errorf("training digits: %+v", real)
	}
	for _, s := range []SampleScore{real, noisy, blurry} {
		total := 0
		for _, c := range s.ClassCounts {
			total += c
		}
		if total != s.N {
			t.Errorf("class counts %v add up to %d of %d samples", s.ClassCounts, total, s.N)
		}
	}
	if noiseNoDigit := noisy.ClassCounts[datasets.NumClasses]; noiseNoDigit < noisy.N/2 || real.ClassCounts[datasets.NumClasses] > real.N/10 {
		t.Errorf("no digit: %d of the uniform noise, %d of the digits", noiseNoDigit, real.ClassCounts[datasets.NumClasses])
	}
	for _, bad := range []struct {
		name string
		s    SampleScore
	}{{"uniform noise", noisy}, {"blurred digits", blurry}} {
		if bad.s.PlausibleShare > 0.2 || bad.s.FD < 3*real.FD { // good samples must stay within 3× the floor
			t.Errorf("%s pass as digits: plausible %.2f, FD %.2f against %.2f for digits", bad.name, bad.s.PlausibleShare, bad.s.FD, real.FD)
		}
	}
	if blurry.ParzenLL < noisy.ParzenLL {
		t.Errorf("the Parzen estimate rates blurred digits (%.1f) below noise (%.1f)", blurry.ParzenLL, noisy.ParzenLL)
	}
}
