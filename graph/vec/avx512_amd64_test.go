package vec

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestSigmoidAVX512MatchesAVX2 checks that the 16-wide loop gives the 8-wide loop's bits
// over the whole range, the clamped ends included.
func TestSigmoidAVX512MatchesAVX2(t *testing.T) {
	if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("this processor has no AVX-512F")
	}
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 88.5, -88.5, 200, -200, float32(math.Inf(1)), float32(math.Inf(-1))}
	for v := float32(-120); v <= 120; v += 0.0071 {
		x = append(x, v)
	}
	n := len(x) &^ 15
	wide, narrow := make([]float32, n), make([]float32, n)
	sigmoidAVX512(&wide[0], &x[0], n)
	sigmoidAVX2(&narrow[0], &x[0], n)
	for i := range n {
		if math.Float32bits(wide[i]) != math.Float32bits(narrow[i]) {
			t.Fatalf("σ(%g): AVX-512 %g, AVX2 %g", x[i], wide[i], narrow[i])
		}
	}
}

// TestAdamAVX512MatchesAVX2 checks that the 16-wide Adam loop gives the 8-wide one's bits.
func TestAdamAVX512MatchesAVX2(t *testing.T) {
	if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("this processor has no AVX-512F")
	}
	const n = 4096
	rng := rand.New(rand.NewPCG(3, 4))
	var w, g, m, v [2][n]float32
	for i := range n {
		w[0][i], g[0][i], m[0][i], v[0][i] = rng.Float32()*2-1, (rng.Float32()-0.5)*float32(math.Pow(10, float64(rng.IntN(8)-6))), rng.Float32()*0.1, rng.Float32()*0.01
	}
	w[1], g[1], m[1], v[1] = w[0], g[0], m[0], v[0]
	k := adamConsts{0.001, 0.9, 0.999, 1e-8, 3.16, 0.1, 0.001}
	adamAVX512(&w[0][0], &g[0][0], &m[0][0], &v[0][0], n, &k)
	adamAVX2(&w[1][0], &g[1][0], &m[1][0], &v[1][0], n, &k)
	for i := range n {
		if w[0][i] != w[1][i] || m[0][i] != m[1][i] || v[0][i] != v[1][i] {
			t.Fatalf("value %d: AVX-512 w %g m %g v %g, AVX2 %g %g %g", i, w[0][i], m[0][i], v[0][i], w[1][i], m[1][i], v[1][i])
		}
	}
}
