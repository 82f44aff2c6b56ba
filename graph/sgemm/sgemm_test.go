package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// reference computes op(a)·op(b) in float64.
func reference(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int) []float64 {
	am, bm := matrix{a, lda, tA}, matrix{b, ldb, tB}
	c := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(am.at(i, p)) * float64(bm.at(p, j))
			}
			c[i*n+j] = s
		}
	}
	return c
}

func random(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

// kernels lists the kernels this processor runs, skipping the others by name.
func kernels(t testing.TB) []Kernel {
	var ks []Kernel
	for _, k := range []Kernel{AVX512, AVX2, Gonum} {
		if k.Available() {
			ks = append(ks, k)
		} else {
			t.Logf("this processor has no %s kernel", k)
		}
	}
	return ks
}

// leading returns the stored row lengths of a and b for op(a) m×k and op(b) k×n.
func leading(tA, tB bool, m, n, k int) (lda, ldb int) {
	lda, ldb = k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	return lda, ldb
}

// TestGemm checks every kernel in every transpose form on shapes with edge tiles, k-blocks
// and several workers against a float64 product.
func TestGemm(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {6, 16, 3}, {8, 32, 3}, {7, 17, 5}, {13, 33, 300}, {256, 128, 784}, {32, 784, 128}, {784, 128, 256}, {5, 100, 0}}
	for _, kern := range kernels(t) {
		rng := rand.New(rand.NewPCG(1, 2))
		mul := Multiplier{Kernel: kern}
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%dx%dx%d-%v-%v", kern, m, n, k, tA, tB), func(t *testing.T) {
						lda, ldb := leading(tA, tB, m, n, k)
						a, b := random(rng, m*k), random(rng, k*n)
						c := random(rng, m*n) // stale values must be overwritten
						mul.Gemm(tA, tB, m, n, k, a, lda, b, ldb, c, n)
						want := reference(tA, tB, m, n, k, a, lda, b, ldb)
						for i, w := range want {
							if math.Abs(float64(c[i])-w) > 1e-5*math.Sqrt(float64(k))+1e-6 {
								t.Fatalf("c[%d] = %g, want %g", i, c[i], w)
							}
						}
					})
				}
			}
		}
	}
}

// planShapes returns the products a layer of in→out units makes on a batch, for every batch
// and every pair of layer sizes aelab's plans use, and odd sizes that leave edge tiles:
// forward batch×out×in, weight gradient in×out×batch, input gradient batch×in×out (m×n×k).
func planShapes(short bool) [][3]int {
	batches := []int{32, 256, 8}
	sizes := []int{784, 1000, 512, 500, 250, 128, 30, 10, 6, 1, 7, 17, 33}
	if short {
		batches = []int{8, 33}
		sizes = []int{784, 128, 30, 10, 1, 7, 17}
	}
	var shapes [][3]int
	for _, b := range batches {
		for _, in := range sizes {
			for _, out := range sizes {
				shapes = append(shapes, [3]int{b, out, in}, [3]int{in, out, b}, [3]int{b, in, out})
			}
		}
	}
	return shapes
}

// TestAVX512MatchesAVX2 requires the AVX-512 kernel to give the AVX2 kernel's bits on every
// product shape of aelab's plans, in all four transpose forms: a CPU run must repeat exactly
// whichever kernel the processor picks (the seed preset's committed metrics).
func TestAVX512MatchesAVX2(t *testing.T) {
	if !AVX512.Available() || !AVX2.Available() {
		t.Skip("this processor lacks the AVX-512 or the AVX2 kernel")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	wide, narrow := Multiplier{Kernel: AVX512}, Multiplier{Kernel: AVX2}
	for _, s := range planShapes(testing.Short()) {
		m, n, k := s[0], s[1], s[2]
		a, b := random(rng, m*k), random(rng, k*n)
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				lda, ldb := leading(tA, tB, m, n, k)
				got, want := random(rng, m*n), random(rng, m*n)
				wide.Gemm(tA, tB, m, n, k, a, lda, b, ldb, got, n)
				narrow.Gemm(tA, tB, m, n, k, a, lda, b, ldb, want, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%dx%dx%d transA=%v transB=%v: c[%d] = %x with AVX-512, %x with AVX2",
							m, n, k, tA, tB, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
					}
				}
			}
		}
	}
}

// TestUnavailableKernel checks that a kernel the processor lacks falls back to Best.
func TestUnavailableKernel(t *testing.T) {
	for _, k := range []Kernel{AVX512, AVX2} {
		if k.Available() {
			continue
		}
		a, b, c := []float32{2}, []float32{3}, []float32{0}
		mul := Multiplier{Kernel: k}
		mul.Gemm(false, false, 1, 1, 1, a, 1, b, 1, c, 1)
		if c[0] != 6 {
			t.Errorf("%s: 2·3 = %g", k, c[0])
		}
	}
	if !Auto.Available() || !Gonum.Available() || !Best().Available() {
		t.Errorf("Auto, Gonum and Best() (%s) must run everywhere", Best())
	}
}

// BenchmarkKernels times every kernel this processor runs, in one run, on the products of a
// 784-128 autoencoder layer at batch 256 and a wider one, reporting GFLOP/s.
func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"forward", false, false, 256, 128, 784},
		{"decode", false, false, 256, 784, 128},
		{"AtB", true, false, 784, 128, 256},
		{"AtB", true, false, 128, 784, 256},
		{"ABt", false, true, 256, 784, 128},
		{"ABt", false, true, 256, 128, 784},
		{"forward", false, false, 256, 512, 784},
	} {
		lda, ldb := leading(s.tA, s.tB, s.m, s.n, s.k)
		a, bm, c := random(rng, s.m*s.k), random(rng, s.k*s.n), make([]float32, s.m*s.n)
		flops := float64(2 * s.m * s.n * s.k)
		for _, kern := range kernels(b) {
			mul := Multiplier{Kernel: kern}
			b.Run(fmt.Sprintf("%s-%dx%dx%d/%s", s.name, s.m, s.n, s.k, kernelTag(kern)), func(b *testing.B) {
				for b.Loop() {
					mul.Gemm(s.tA, s.tB, s.m, s.n, s.k, a, lda, bm, ldb, c, s.n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// kernelTag is a kernel's name in benchmark output.
func kernelTag(k Kernel) string {
	return map[Kernel]string{AVX512: "avx512", AVX2: "avx2", Gonum: "gonum"}[k]
}
