package study

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
	"github.com/aelab/aelab/models/train"
)

// TestInterpolationEndsAreExact checks that a = 1 decodes z1 and a = 0 decodes z2 exactly,
// on both CPU executors and a deep model.
func TestInterpolationEndsAreExact(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 300, 20)
	for _, backend := range []graph.Backend{graph.Tape{}, plan.New(plan.NewCPU())} {
		ae := modeltest.NewModel(t, models.DAE, []int{784, 32, 12}, 4)
		if _, err := trainAE(t, ae, trainSet, val, train.Config{Epochs: 1, Batch: 30}, train.Hooks{}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		x1, x2 := val.Image(3), val.Image(7)
		alphas := Alphas(11)
		if alphas[0] != 0 || alphas[10] != 1 || math.Abs(alphas[5]-0.5) > 1e-12 {
			t.Fatalf("alphas %v", alphas)
		}
		path, err := Interpolate(ctx, backend, ae, x1, x2, alphas)
		if err != nil {
			t.Fatal(err)
		}
		codes, err := models.Encode(ctx, backend, ae.Encoder, &datasets.Images{Rows: 1, Cols: 784, Pixels: append(slices.Clone(x1), x2...)})
		if err != nil {
			t.Fatal(err)
		}
		ends, err := Decode(ctx, backend, ae, codes)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(path[10], ends[0]) {
			t.Errorf("%s: a = 1 does not decode z1 exactly", backend.Name())
		}
		if !slices.Equal(path[0], ends[1]) {
			t.Errorf("%s: a = 0 does not decode z2 exactly", backend.Name())
		}
		if slices.Equal(path[5], path[0]) || slices.Equal(path[5], path[10]) {
			t.Errorf("%s: the middle of the path equals an end", backend.Name())
		}
		blend := PixelBlend(x1, x2, alphas)
		if !slices.Equal(blend[10], x1) || !slices.Equal(blend[0], x2) {
			t.Error("pixel blends do not end at the originals")
		}
	}
}

func TestScorePath(t *testing.T) {
	judged := []models.Judgement{{Class: 3, Confidence: 0.99}, {Class: 3, Confidence: 0.95}, {Class: 5, Confidence: 0.5}, {Class: 7, Confidence: 0.92}, {Class: 7, Confidence: 0.97}}
	s := ScorePath(judged, []float64{0, 0.25, 0.5, 0.75, 1}, 7, 3)
	if math.Abs(s.MeanConfidence-0.866) > 1e-9 || s.EndClassFraction != 0.8 || s.SwitchAlpha == nil || *s.SwitchAlpha != 0.5 {
		t.Errorf("score %+v", s)
	}
	s = ScorePath([]models.Judgement{{Class: 1, Confidence: 0.9}, {Class: 1, Confidence: 0.9}}, []float64{0, 1}, 1, 1)
	if s.SwitchAlpha != nil || s.EndClassFraction != 1 {
		t.Errorf("a path of one class: %+v", s)
	}
}

func TestChoosePairs(t *testing.T) {
	_, test := modeltest.SmallMNIST(t, 10, 200)
	rng := models.NewRand(1, 0)
	for _, tc := range []struct {
		name   string
		choice PairChoice
		check  func(p [2]int) bool
		err    bool
	}{
		{"same class", PairChoice{SameClass: 4, Classes: [2]int{-1, -1}, Indices: [2]int{-1, -1}, Pairs: 3},
			func(p [2]int) bool { return test.Labels[p[0]] == 4 && test.Labels[p[1]] == 4 && p[0] != p[1] }, false},
		// From a 2 to a 9: the path starts at x2 (a = 0), a 2, and ends at x1, a 9.
		{"classes", PairChoice{SameClass: -1, Classes: [2]int{2, 9}, Indices: [2]int{-1, -1}, Pairs: 2},
			func(p [2]int) bool { return test.Labels[p[1]] == 2 && test.Labels[p[0]] == 9 }, false},
		{"different by default", PairChoice{SameClass: -1, Classes: [2]int{-1, -1}, Indices: [2]int{-1, -1}, Pairs: 5},
			func(p [2]int) bool { return test.Labels[p[0]] != test.Labels[p[1]] }, false},
		{"indices", PairChoice{SameClass: -1, Classes: [2]int{-1, -1}, Indices: [2]int{3, 8}, Pairs: 1},
			func(p [2]int) bool { return p == [2]int{3, 8} }, false},
		{"index out of range", PairChoice{SameClass: -1, Classes: [2]int{-1, -1}, Indices: [2]int{3, 200}}, nil, true},
		{"class out of range", PairChoice{SameClass: 12, Classes: [2]int{-1, -1}, Indices: [2]int{-1, -1}, Pairs: 1}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pairs, err := ChoosePairs(test, tc.choice, rng)
			if tc.err {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pairs {
				if !tc.check(p) {
					t.Errorf("pair %v (classes %d, %d)", p, test.Labels[p[0]], test.Labels[p[1]])
				}
			}
		})
	}
}

// TestWalkMethods checks each walk on a small DAE: snapshots recorded as asked, the score
// walk lowers the reconstruction energy of uniform noise, and the energy walk moves
// against the gradient.
func TestWalkMethods(t *testing.T) {
	trainSet, val := modeltest.SmallMNIST(t, 2000, 100)
	ae := modeltest.NewModel(t, models.DAE, []int{784, 64}, 5)
	if _, err := trainAE(t, ae, trainSet, val, train.Config{Epochs: 2, Batch: 25}, train.Hooks{}); err != nil {
		t.Fatal(err)
	}
	backend := plan.New(plan.NewCPU())
	start, err := WalkStart("uniform", 4, val, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{WalkScore, WalkEnergy, WalkChain, WalkAnnealed, WalkLangevin, WalkDiffusion} {
		t.Run(method, func(t *testing.T) {
			cfg := WalkConfig{Method: method, Steps: 30, Eta: 0.5, Snapshots: []int{0, 10, 30}, Clip: method == WalkEnergy, Seed: 2, Anneal: DefaultAnneal}
			if method == WalkEnergy {
				cfg.Eta = 0.02
			}
			snaps, err := Walk(context.Background(), backend, ae, start, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(snaps) != 3 || snaps[2].Step != 30 || len(snaps[0].Images) != 4 {
				t.Fatalf("%d snapshots", len(snaps))
			}
			if !slices.Equal(snaps[0].Images[0], start[:784]) {
				t.Error("step 0 is not the start")
			}
			mean := func(s Snapshot) float64 {
				var m float64
				for _, e := range s.Energy {
					m += e / float64(len(s.Energy))
				}
				return m
			}
			// The chains corrupt before every step: their energy measures the corruption too.
			if method != WalkChain && method != WalkAnnealed && !(mean(snaps[2]) < mean(snaps[0])/2) {
				t.Errorf("energy %.3f at the start, %.3f after 30 steps", mean(snaps[0]), mean(snaps[2]))
			}
		})
	}
	if _, err := Walk(context.Background(), backend, ae, start, WalkConfig{Method: WalkScore, Steps: 5, Eta: 0}); err == nil {
		t.Error("η = 0 accepted")
	}
	if _, err := Walk(context.Background(), backend, ae, start, WalkConfig{Method: WalkAnnealed, Steps: 5}); err == nil {
		t.Error("an annealed walk without its starting level accepted")
	}
	if _, err := Walk(context.Background(), backend, ae, start, WalkConfig{Method: WalkLangevin, Steps: 5, Eta: 2}); err == nil {
		t.Error("a Langevin walk with η > 1 accepted")
	}
}

// TestLangevinStep checks one Langevin step against its definition: at temperature 0 it is
// the score walk's step; at temperature T it moves by η(r(x) − x) plus Gaussian noise of
// standard deviation T·σ√(2η).
func TestLangevinStep(t *testing.T) {
	_, val := modeltest.SmallMNIST(t, 10, 200)
	ae := modeltest.NewModel(t, models.DAE, []int{784, 32}, 3) // gaussian:0.4
	backend := plan.New(plan.NewCPU())
	start, err := WalkStart("uniform", 200, val, 1)
	if err != nil {
		t.Fatal(err)
	}
	const eta, temp = 0.3, 2.0
	one := func(method string, anneal float64) []float32 {
		// Steps 2, snapshot after 1: the first step runs at the starting temperature.
		snaps, err := Walk(context.Background(), backend, ae, slices.Clone(start), WalkConfig{Method: method, Steps: 2, Eta: eta, Anneal: anneal, Snapshots: []int{1}, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		var out []float32
		for _, im := range snaps[0].Images {
			out = append(out, im...)
		}
		return out
	}
	score, cold, hot := one(WalkScore, 0), one(WalkLangevin, 0), one(WalkLangevin, temp)
	if !slices.Equal(score, cold) {
		t.Error("a Langevin step at temperature 0 is not the score walk's step")
	}
	var sum, sum2 float64
	for i := range hot {
		d := float64(hot[i] - score[i])
		sum, sum2 = sum+d, sum2+d*d
	}
	n := float64(len(hot))
	mean, sd := sum/n, math.Sqrt(sum2/n-(sum/n)*(sum/n))
	if want := temp * 0.4 * math.Sqrt(2*eta); math.Abs(sd-want) > 0.01*want || math.Abs(mean) > 4*want/math.Sqrt(n) {
		t.Errorf("the noise of a step: mean %.5f, sd %.5f; want 0 and %.5f", mean, sd, want)
	}
}

// TestDiffusionSteps checks the diffusion walk's steps against their definitions: a burn-in
// step is the Langevin walk's first step at temperature 1; an ancestral step from level σ to
// σ' moves to r(x) + (σ'/σ)²(x − r(x)) plus Gaussian noise of standard deviation
// σ'√(1 − (σ'/σ)²); the last step ends on r(x); and the settings that cannot work are
// refused.
func TestDiffusionSteps(t *testing.T) {
	_, val := modeltest.SmallMNIST(t, 10, 200)
	ae := modeltest.NewModel(t, models.DAE, []int{784, 32}, 3) // gaussian:0.4: levels 0.4 down to 0.04
	backend := plan.New(plan.NewCPU())
	start, err := WalkStart("uniform", 200, val, 1)
	if err != nil {
		t.Fatal(err)
	}
	const eta = 0.3
	walk := func(from []float32, cfg WalkConfig) [][]float32 {
		t.Helper()
		cfg.Seed = 4
		snaps, err := Walk(context.Background(), backend, ae, slices.Clone(from), cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := make([][]float32, len(snaps))
		for i, s := range snaps {
			out[i] = slices.Concat(s.Images...)
		}
		return out
	}
	burn := walk(start, WalkConfig{Method: WalkDiffusion, Steps: 12, BurnIn: 2, Eta: eta, Snapshots: []int{1}})[0]
	langevin := walk(start, WalkConfig{Method: WalkLangevin, Steps: 12, Eta: eta, Anneal: 1, Snapshots: []int{1}})[0]
	if !slices.Equal(burn, langevin) {
		t.Error("a burn-in step is not a Langevin step at temperature 1")
	}

	// Two steps and no burn-in: from 0.4 to 0.04, then r(x).
	snaps := walk(start, WalkConfig{Method: WalkDiffusion, Steps: 2, Eta: eta, Snapshots: []int{1, 2}})
	keep := (0.04 / 0.4) * (0.04 / 0.4)
	toward := walk(start, WalkConfig{Method: WalkScore, Steps: 1, Eta: 1 - keep})[1] // r(x) + keep·(x − r(x))
	var sum, sum2 float64
	for i, v := range snaps[0] {
		d := float64(v - toward[i])
		sum, sum2 = sum+d, sum2+d*d
	}
	n := float64(len(toward))
	mean, sd := sum/n, math.Sqrt(sum2/n-(sum/n)*(sum/n))
	if want := 0.04 * math.Sqrt(1-keep); math.Abs(sd-want) > 0.01*want || math.Abs(mean) > 4*want/math.Sqrt(n) {
		t.Errorf("the noise of an ancestral step: mean %.5f, sd %.5f; want 0 and %.5f", mean, sd, want)
	}
	if last := walk(snaps[0], WalkConfig{Method: WalkScore, Steps: 1, Eta: 1})[1]; !slices.Equal(snaps[1], last) {
		t.Error("the last step does not end on r(x)")
	}

	for _, bad := range []WalkConfig{
		{Method: WalkDiffusion, Steps: 10, Eta: 2},
		{Method: WalkDiffusion, Steps: 10, Eta: 0.5, BurnIn: 10},
		{Method: WalkDiffusion, Steps: 10, Eta: 0.5, BurnIn: -1},
		{Method: WalkDiffusion, Steps: 10, Eta: 0.5, ChainNoise: datasets.Noise{Kind: datasets.Mask, Level: 0.2}},
	} {
		if _, err := Walk(context.Background(), backend, ae, start, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestNearestDistances(t *testing.T) {
	_, val := modeltest.SmallMNIST(t, 10, 50)
	q := slices.Clone(val.Image(7))
	q[100] += 0.5
	d := NearestDistances(plan.New(plan.NewCPU()).MatMul(), q, val)
	if math.Abs(d[0]-0.5) > 1e-3 {
		t.Errorf("distance %g to the nearest image, want 0.5", d[0])
	}
}

// trainAE fits ae on the TapeMachine.
func trainAE(t *testing.T, ae *models.Autoencoder, trainSet, val *datasets.Images, cfg train.Config, hooks train.Hooks) ([]models.EpochStats, error) {
	t.Helper()
	return train.Autoencoder(context.Background(), graph.Tape{}, ae.Graph(), ae.Spec.Cost(), train.Run{Train: trainSet, Val: val, Noise: ae.Spec.Noise, Config: cfg, Hooks: hooks})
}
