package datasets

import (
	"math"
	"slices"
	"strconv"
	"testing"
)

// TestApplyAtStatistics checks that the counter-based corruption has the distribution Apply
// has, and that it is a function of (seed, step, index).
func TestApplyAtStatistics(t *testing.T) {
	const n = 200001 // odd: the last Gaussian value has no partner
	for _, tc := range []struct {
		noise Noise
		check func(out []float32) (string, bool)
	}{
		{Noise{Kind: Gaussian, Level: 0.4}, func(out []float32) (string, bool) {
			var s, sq, cross float64
			for i, v := range out {
				d := float64(v) - 0.5
				s, sq = s+d, sq+d*d
				if i%2 == 1 {
					cross += d * (float64(out[i-1]) - 0.5)
				}
			}
			m, sd, corr := s/n, math.Sqrt(sq/n), cross/(n/2)/(0.16)
			return fmtStats("mean", m, "std", sd, "pair correlation", corr),
				math.Abs(m) < 0.004 && math.Abs(sd-0.4) < 0.004 && math.Abs(corr) < 0.01
		}},
		{Noise{Kind: Mask, Level: 0.3}, func(out []float32) (string, bool) {
			zeros := 0
			for _, v := range out {
				if v == 0 {
					zeros++
				}
			}
			f := float64(zeros) / n
			return fmtStats("masked", f), math.Abs(f-0.3) < 0.005
		}},
		{Noise{Kind: SaltPepper, Level: 0.2}, func(out []float32) (string, bool) {
			salt, pepper := 0, 0
			for _, v := range out {
				switch v {
				case 1:
					salt++
				case 0:
					pepper++
				}
			}
			s, p := float64(salt)/n, float64(pepper)/n
			return fmtStats("salt", s, "pepper", p), math.Abs(s-0.1) < 0.004 && math.Abs(p-0.1) < 0.004
		}},
	} {
		t.Run(tc.noise.String(), func(t *testing.T) {
			src := make([]float32, n)
			for i := range src {
				src[i] = 0.5
			}
			out := make([]float32, n)
			tc.noise.ApplyAt(out, src, 42, 7)
			if stats, ok := tc.check(out); !ok {
				t.Errorf("%s", stats)
			}
			again := make([]float32, n)
			tc.noise.ApplyAt(again, src, 42, 7)
			other := make([]float32, n)
			tc.noise.ApplyAt(other, src, 42, 8)
			same, differ := true, 0
			for i := range out {
				same = same && again[i] == out[i]
				if other[i] != out[i] {
					differ++
				}
			}
			if !same {
				t.Errorf("two draws of (seed 42, step 7) differ")
			}
			if differ < n/10 {
				t.Errorf("steps 7 and 8 differ in %d of %d values", differ, n)
			}
		})
	}
}

// TestApplyAtInPlace checks that dst and src may be the same slice.
func TestApplyAtInPlace(t *testing.T) {
	for _, noise := range []Noise{{Kind: Gaussian, Level: 0.3}, {Kind: Mask, Level: 0.5}, {Kind: SaltPepper, Level: 0.5}} {
		src := []float32{0.1, 0.2, 0.3, 0.4, 0.5}
		want := make([]float32, len(src))
		noise.ApplyAt(want, src, 3, 1)
		noise.ApplyAt(src, src, 3, 1)
		for i := range src {
			if src[i] != want[i] {
				t.Fatalf("%s: in place [%d] = %g, into a copy %g", noise, i, src[i], want[i])
			}
		}
	}
}

// TestFastMath checks the float32 logarithm and sine/cosine against package math.
func TestFastMath(t *testing.T) {
	worst := func(f func(x float64) (got, want float64), lo, hi float64) (float64, float64) {
		var err, at float64
		for i := range 1 << 16 {
			x := lo + (hi-lo)*float64(i)/(1<<16)
			got, want := f(x)
			if e := math.Abs(got - want); e > err {
				err, at = e, x
			}
		}
		return err, at
	}
	for _, tc := range []struct {
		name   string
		f      func(x float64) (float64, float64)
		lo, hi float64
		tol    float64
	}{
		{"logf relative", func(x float64) (float64, float64) {
			x = float64(float32(x))
			return float64(logf(float32(x))) / math.Max(1, math.Abs(math.Log(x))), math.Log(x) / math.Max(1, math.Abs(math.Log(x)))
		}, 1.0 / (1 << 24), 1, 3e-7},
		{"sin 2πu", func(u float64) (float64, float64) {
			u = float64(float32(u))
			s, _ := sincos2pi(float32(u))
			return float64(s), math.Sin(2 * math.Pi * u)
		}, 0, 1, 6e-7},
		{"cos 2πu", func(u float64) (float64, float64) {
			u = float64(float32(u))
			_, c := sincos2pi(float32(u))
			return float64(c), math.Cos(2 * math.Pi * u)
		}, 0, 1, 6e-7},
	} {
		if err, at := worst(tc.f, tc.lo, tc.hi); err > tc.tol {
			t.Errorf("%s: error %.3g at %g, over %.3g", tc.name, err, at, tc.tol)
		}
	}
	for _, x := range []float32{1, 0.5, 1.0 / (1 << 24), 0.70710677, 0.70710678} {
		if got, want := float64(logf(x)), math.Log(float64(x)); math.Abs(got-want) > 3e-7*math.Max(1, math.Abs(want)) {
			t.Errorf("logf(%g) = %g, want %g", x, got, want)
		}
	}
}

func fmtStats(kv ...any) string {
	s := ""
	for i := 0; i+1 < len(kv); i += 2 {
		if s != "" {
			s += ", "
		}
		s += kv[i].(string) + " " + strconv.FormatFloat(kv[i+1].(float64), 'g', 4, 64)
	}
	return s
}

func BenchmarkApplyAt(b *testing.B) {
	for _, noise := range []Noise{{Kind: Gaussian, Level: 0.4}, {Kind: Mask, Level: 0.3}} {
		b.Run(string(noise.Kind), func(b *testing.B) {
			src := make([]float32, 32*784)
			dst := make([]float32, len(src))
			b.SetBytes(int64(4 * len(src)))
			for i := 0; b.Loop(); i++ {
				noise.ApplyAt(dst, src, 1, uint32(i))
			}
		})
	}
}

// TestApplyImagesAt checks images corrupted at levels of their own: one level gives
// ApplyAt's values whatever the image size; a range gives each image the spread of its own
// level (LevelAt), and the levels fill the range.
func TestApplyImagesAt(t *testing.T) {
	const d, images = 784, 200
	src := make([]float32, d*images)
	for i := range src {
		src[i] = float32(i%7) / 7
	}
	one, want := make([]float32, len(src)), make([]float32, len(src))
	fixed := Noise{Kind: Gaussian, Level: 0.3}
	fixed.ApplyImagesAt(one, src, d, 5, 9)
	fixed.ApplyAt(want, src, 5, 9)
	if !slices.Equal(one, want) {
		t.Error("one level: ApplyImagesAt differs from ApplyAt")
	}
	wide := Noise{Kind: Gaussian, Level: 0.1, Max: 1}
	got := make([]float32, len(src))
	wide.ApplyImagesAt(got, src, d, 5, 9)
	lo, hi := float32(1), float32(0)
	for k := range images {
		level := wide.LevelAt(5, 9, uint32(k))
		lo, hi = min(lo, level), max(hi, level)
		var sum2 float64
		for i := k * d; i < (k+1)*d; i++ {
			diff := float64(got[i] - src[i])
			sum2 += diff * diff
		}
		if sd := math.Sqrt(sum2 / d); math.Abs(sd-float64(level)) > 0.15*float64(level) {
			t.Fatalf("image %d: noise of sd %.3f at level %.3f", k, sd, level)
		}
	}
	if lo > 0.15 || hi < 0.95 {
		t.Errorf("200 images drew levels from %.3f to %.3f of [0.1, 1]", lo, hi)
	}
}

// TestApplyImagesFromPieces corrupts a batch in pieces, cut anywhere (odd values, mid-image,
// mid-pair), with every kind of noise, one level and a range: the pieces make ApplyImagesAt's
// batch, bit for bit.
func TestApplyImagesFromPieces(t *testing.T) {
	const d, images = 10, 7
	src := make([]float32, d*images)
	for i := range src {
		src[i] = float32(i%5) / 5
	}
	for _, n := range []Noise{
		{Kind: Gaussian, Level: 0.3}, {Kind: Gaussian, Level: 0.1, Max: 1},
		{Kind: Mask, Level: 0.25}, {Kind: Mask, Level: 0.1, Max: 0.6},
		{Kind: SaltPepper, Level: 0.2}, {},
	} {
		whole := make([]float32, len(src))
		n.ApplyImagesAt(whole, src, d, 3, 8)
		for _, cuts := range [][]int{{20, 40}, {1, 33, 34, 69}, {5}, {35}} {
			t.Run(n.String()+"/"+strconv.Itoa(cuts[0]), func(t *testing.T) {
				got := make([]float32, len(src))
				lo := 0
				for _, hi := range append(cuts, len(src)) {
					n.ApplyImagesFrom(got[lo:hi], src[lo:hi], d, 3, 8, lo)
					lo = hi
				}
				for i := range whole {
					if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
						t.Fatalf("cut at %v: value %d = %g, whole %g", cuts, i, got[i], whole[i])
					}
				}
			})
		}
	}
}
