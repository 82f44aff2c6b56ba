package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
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

// TestGemm checks every transpose form on shapes with edge tiles, k-blocks and several
// workers against a float64 product.
func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {6, 16, 3}, {7, 17, 5}, {13, 33, 300}, {256, 128, 784}, {32, 784, 128}, {784, 128, 256}, {5, 100, 0}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				t.Run(fmt.Sprintf("%dx%dx%d-%v-%v", m, n, k, tA, tB), func(t *testing.T) {
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					a, b := random(rng, m*k), random(rng, k*n)
					c := random(rng, m*n) // stale values must be overwritten
					Gemm(tA, tB, m, n, k, a, lda, b, ldb, c, n)
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

func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{256, 128, 784}, {256, 784, 128}, {784, 128, 256}, {32, 128, 784}, {256, 512, 784}} {
		m, n, k := s[0], s[1], s[2]
		a, bm, c := random(rng, m*k), random(rng, k*n), make([]float32, m*n)
		flops := float64(2 * m * n * k)
		b.Run(fmt.Sprintf("aelab/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Gemm(false, false, m, n, k, a, k, bm, n, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		b.Run(fmt.Sprintf("gonum/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				gonum.Implementation{}.Sgemm('N', 'N', m, n, k, 1, a, k, bm, n, 0, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
