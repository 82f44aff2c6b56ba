package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSigmoid(t *testing.T) {
	var x []float32
	for v := float32(-120); v <= 120; v += 0.013 {
		x = append(x, v)
	}
	x = append(x, 0, -0, 1e-30, -1e-30, 88.5, -88.5, 200, -200)
	o := make([]float32, len(x))
	Sigmoid(o, x)
	for i, v := range x {
		want := 1 / (1 + math.Exp(-float64(v)))
		// Results below float32's smallest normal number (1.18e-38) may come out as 0.
		if diff := math.Abs(float64(o[i]) - want); diff > 2e-7*want+1.18e-38 {
			t.Fatalf("σ(%g) = %g, want %g", v, o[i], want)
		}
	}
}

func TestExpf(t *testing.T) {
	for v := float32(-87); v < 88; v += 0.0007 {
		want := math.Exp(float64(v))
		if got := float64(Expf(v)); math.Abs(got-want) > 2e-7*want {
			t.Fatalf("Expf(%g) = %g, want %g", v, got, want)
		}
	}
}

func TestAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 37
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		w[i], g[i], m[i], v[i] = rng.Float32(), rng.Float32()-0.5, rng.Float32()*0.1, rng.Float32()*0.01
	}
	w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
	s := AdamStep{StepSize: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, InvSqrtC2: 3}
	Adam(s, w, g, m, v)
	adamGo(s, w2, g, m2, v2)
	for i := range n {
		if math.Abs(float64(w[i]-w2[i])) > 1e-6 || math.Abs(float64(m[i]-m2[i])) > 1e-7 || math.Abs(float64(v[i]-v2[i])) > 1e-7 {
			t.Fatalf("value %d: w %g m %g v %g, the Go loop gives %g %g %g", i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
		}
	}
}

func BenchmarkSigmoid(b *testing.B) {
	x := make([]float32, 200704)
	for i := range x {
		x[i] = float32(i%200)*0.1 - 10
	}
	o := make([]float32, len(x))
	for b.Loop() {
		Sigmoid(o, x)
	}
}

// TestSplitDoesNotChangeResults checks that a value's sigmoid and Adam update do not depend
// on where the work is split (the vector loop's last few values included).
func TestSplitDoesNotChangeResults(t *testing.T) {
	const n = 37
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i-18) * 0.37
	}
	whole := make([]float32, n)
	Sigmoid(whole, x)
	step := AdamStep{StepSize: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, InvSqrtC2: 31.6}
	adam := func(split []int) []float32 {
		w, m, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], m[i], v[i] = float32(i)*0.1, float32(i)*0.01, float32(i)*0.001
		}
		lo := 0
		for _, hi := range append(split, n) {
			Adam(step, w[lo:hi], x[lo:hi], m[lo:hi], v[lo:hi])
			lo = hi
		}
		return append(append(w, m...), v...)
	}
	wholeAdam := adam(nil)
	for _, split := range [][]int{{1}, {5, 13}, {3, 11, 19, 30}, {8, 16, 36}} {
		parts := make([]float32, n)
		lo := 0
		for _, hi := range append(split, n) {
			Sigmoid(parts[lo:hi], x[lo:hi])
			lo = hi
		}
		for i := range x {
			if parts[i] != whole[i] {
				t.Errorf("split %v: sigmoid[%d] = %g, whole %g", split, i, parts[i], whole[i])
			}
		}
		for i, v := range adam(split) {
			if v != wholeAdam[i] {
				t.Errorf("split %v: Adam value %d = %g, whole %g", split, i, v, wholeAdam[i])
			}
		}
	}
}

// TestPixels checks the byte-to-pixel conversion against the Go division for every byte,
// at lengths that end in each of the vector loops' tails.
func TestPixels(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 31, 256, 784, 1000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		if n == 256 {
			for i := range b {
				b[i] = byte(i)
			}
		}
		o := make([]float32, n+1)
		o[n] = -1 // past the end: untouched
		Pixels(o[:n], b)
		for i, p := range b {
			if want := float32(p) / 255; o[i] != want {
				t.Fatalf("n=%d: byte %d gives %v, want %v", n, p, o[i], want)
			}
		}
		if o[n] != -1 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}
