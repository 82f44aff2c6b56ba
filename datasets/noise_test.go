package datasets

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseNoise(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Noise
		err  string
	}{
		{"", Noise{}, ""},
		{"none", Noise{}, ""},
		{"gaussian:0.4", Noise{Kind: Gaussian, Level: 0.4}, ""},
		{"mask:0.25", Noise{Kind: Mask, Level: 0.25}, ""},
		{"saltpepper:0.1", Noise{Kind: SaltPepper, Level: 0.1}, ""},
		{"gaussian", Noise{}, "level is missing"},
		{"gaussian:", Noise{}, "level is missing"},
		{"gaussian:abc", Noise{}, `level "abc" is not a number`},
		{"gaussian:-1", Noise{}, "σ must be in (0, 100]"},
		{"mask:1.5", Noise{}, "ν must be in [0, 1]"},
		{"blur:0.3", Noise{}, `unknown kind "blur"`},
		{"gaussian:NaN", Noise{}, "σ must be"},
		{"gaussian:0.1..1", Noise{Kind: Gaussian, Level: 0.1, Max: 1}, ""},
		{"mask:0..0.5", Noise{Kind: Mask, Level: 0, Max: 0.5}, ""},
		{"gaussian:1..0.5", Noise{}, "upper level must be above"},
		{"mask:0.2..1.5", Noise{}, "ν must be in [0, 1]"},
		{"gaussian:0.1..x", Noise{}, `level "x" is not a number`},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseNoise(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			if back, _ := ParseNoise(got.String()); back != got {
				t.Errorf("String %q does not parse back to %v", got.String(), got)
			}
		})
	}
}

// TestNoiseStatistics checks each corruption's statistics on a large sample.
func TestNoiseStatistics(t *testing.T) {
	const n = 200000
	src := make([]float32, n)
	for i := range src {
		src[i] = 0.5
	}
	dst := make([]float32, n)
	rng := rand.New(rand.NewPCG(1, 1))

	Noise{Kind: Gaussian, Level: 0.4}.Apply(dst, src, rng)
	var sum, sq float64
	for _, v := range dst {
		d := float64(v) - 0.5
		sum += d
		sq += d * d
	}
	mean, std := sum/n, math.Sqrt(sq/n)
	if math.Abs(mean) > 0.005 || math.Abs(std-0.4) > 0.005 {
		t.Errorf("gaussian:0.4 added noise of mean %.4f and std %.4f, want 0 and 0.4", mean, std)
	}
	if slices.Max(dst) <= 1 || slices.Min(dst) >= 0 {
		t.Error("gaussian noise was clipped to [0,1]; it must not be")
	}

	Noise{Kind: Mask, Level: 0.3}.Apply(dst, src, rng)
	zeros := 0
	for _, v := range dst {
		switch v {
		case 0:
			zeros++
		case 0.5:
		default:
			t.Fatalf("mask produced %g", v)
		}
	}
	if f := float64(zeros) / n; math.Abs(f-0.3) > 0.005 {
		t.Errorf("mask:0.3 zeroed %.4f of the pixels", f)
	}

	Noise{Kind: SaltPepper, Level: 0.2}.Apply(dst, src, rng)
	var salt, pepper int
	for _, v := range dst {
		switch v {
		case 1:
			salt++
		case 0:
			pepper++
		}
	}
	if f := float64(salt+pepper) / n; math.Abs(f-0.2) > 0.005 {
		t.Errorf("saltpepper:0.2 changed %.4f of the pixels", f)
	}
	if r := float64(salt) / float64(salt+pepper); math.Abs(r-0.5) > 0.02 {
		t.Errorf("salt is %.3f of the changed pixels, want 0.5", r)
	}
}

// TestNoiseIsFreshAndSeeded: each call draws new noise; the same seed repeats it.
func TestNoiseIsFreshAndSeeded(t *testing.T) {
	src := make([]float32, 100)
	a, b, c := make([]float32, 100), make([]float32, 100), make([]float32, 100)
	rng := rand.New(rand.NewPCG(7, 7))
	noise := Noise{Kind: Gaussian, Level: 0.1}
	noise.Apply(a, src, rng)
	noise.Apply(b, src, rng)
	noise.Apply(c, src, rand.New(rand.NewPCG(7, 7)))
	if slices.Equal(a, b) {
		t.Error("two batches got the same noise")
	}
	if !slices.Equal(a, c) {
		t.Error("the same seed gave different noise")
	}
}

func TestBatcher(t *testing.T) {
	im := &Images{Rows: 1, Cols: 1, Pixels: make([]float32, 10)}
	for i := range im.Pixels {
		im.Pixels[i] = float32(i)
	}
	if _, err := NewBatcher(im, 0, nil); err == nil {
		t.Error("batch size 0 accepted")
	}
	if _, err := NewBatcher(im, 11, nil); err == nil {
		t.Error("a batch larger than the set accepted")
	}
	epochs := func(seed uint64) [][]float32 {
		b, err := NewBatcher(im, 3, rand.New(rand.NewPCG(seed, 0)))
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for range 2 {
			b.Shuffle()
			var seen []float32
			for s := range b.Steps() {
				batch := make([]float32, 3)
				b.Gather(s, batch, nil)
				seen = append(seen, batch...)
			}
			out = append(out, seen)
		}
		return out
	}
	a := epochs(1)
	for _, e := range a {
		if len(e) != 9 {
			t.Fatalf("an epoch gave %d images, want 3 batches of 3", len(e))
		}
		sorted := slices.Clone(e)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != 9 {
			t.Errorf("an epoch repeated an image: %v", e)
		}
	}
	if slices.Equal(a[0], a[1]) {
		t.Error("two epochs had the same order")
	}
	if b := epochs(1); !slices.Equal(a[0], b[0]) || !slices.Equal(a[1], b[1]) {
		t.Error("the same seed gave a different order")
	}
}
