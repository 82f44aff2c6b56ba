package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/aelab/aelab/graph/team"
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
	for _, k := range []Kernel{AVX512, AVX2, NEON, Gonum} {
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

// fma32 is x·y + z rounded once to float32, as FMLA and VFMADD231PS compute it. The product
// of two float32s is exact in float64; the sum is rounded to odd (to nearest, then, if that
// was inexact and even, to the odd neighbour on the exact sum's side) so that rounding it
// again to float32 gives the correctly rounded sum. float32(math.FMA(x, y, z)) would round
// twice and differ where the float64 sum lands on a float32 tie.
func fma32(x, y, z float32) float32 {
	p, w := float64(x)*float64(y), float64(z)
	s := p + w
	d := s - p
	e := (p - (s - d)) + (w - d) // s + e = p + w exactly (Knuth's TwoSum), s ≠ 0 where e ≠ 0
	if bits := math.Float64bits(s); e != 0 && bits&1 == 0 && !math.IsInf(s, 0) {
		if (e > 0) == (s > 0) {
			bits++ // the next float64 away from zero
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}

// TestFMA32 checks fma32 where rounding twice goes wrong: (1 + 2⁻¹²)² is a float32 tie, and
// a tiny addend moves the exact sum off it by less than a float64 can show.
func TestFMA32(t *testing.T) {
	const tiny = 0x1p-80 // far below half an ulp of float64 near 1
	for _, c := range []struct {
		name    string
		x, y, z float32
		want    float32
	}{
		{"exact", 3, 5, 7, 22},
		{"a tie: to even", 1 + 0x1p-12, 1 + 0x1p-12, 0, 1 + 0x1p-11},
		{"just past a tie: up", 1 + 0x1p-12, 1 + 0x1p-12, tiny, 1 + 0x1p-11 + 0x1p-23}, // float32(math.FMA(…)) is down
		{"just short of a tie: down", 1 + 0x1p-12, 1 + 0x1p-12, -tiny, 1 + 0x1p-11},
		{"cancellation", 1 + 0x1p-12, 1 + 0x1p-12, -1, 0x1p-11 + 0x1p-24},
		{"overflow", 0x1p100, 0x1p100, 0, float32(math.Inf(1))},
	} {
		if got := fma32(c.x, c.y, c.z); math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("%s: fma32(%g, %g, %g) = %g, want %g", c.name, c.x, c.y, c.z, got, c.want)
		}
	}
}

// contract computes op(a)·op(b) (m×k by k×n, row-major) as doc.go says every assembly kernel
// does: each element is the sum of its k products in k order by fused multiply-adds from
// zero within each block of kc values of k; the blocks' sums are then added in order.
func contract(a, b []float32, m, n, k int) []float32 {
	c := make([]float32, m*n)
	block := make([]float32, n)
	for i := range m {
		row := c[i*n : (i+1)*n]
		for p0 := 0; p0 < k; p0 += kc {
			clear(block)
			for p := p0; p < min(p0+kc, k); p++ {
				x, bp := a[i*k+p], b[p*n:(p+1)*n]
				for j, y := range bp {
					block[j] = fma32(x, y, block[j])
				}
			}
			if p0 == 0 {
				copy(row, block)
				continue
			}
			for j := range row {
				row[j] += block[j]
			}
		}
	}
	return c
}

// stored returns the m×n row-major x as a product's operand is stored: itself, or its
// transpose (n×m) when t.
func stored(x []float32, m, n int, t bool) []float32 {
	if !t {
		return x
	}
	xt := make([]float32, len(x))
	for i := range m {
		for j := range n {
			xt[j*m+i] = x[i*n+j]
		}
	}
	return xt
}

// TestKernelsKeepTheContract requires every assembly kernel this processor runs to give the
// bits of contract, in all four transpose forms, so that AVX-512, AVX2 and NEON give the same
// bits and a CPU run repeats exactly whichever the processor picks (the seed preset's
// committed metrics); gonum's kernel must agree to rounding (TestGemm checks every kernel
// against a float64 product). The shapes are a 1×1×2 product whose second multiply-add comes
// out wrong if rounded twice (TestFMA32's tie), and the plans' short list, which has edge
// tiles both ways, several k-blocks and several workers; the full list would keep the Go
// model busy for a minute (TestAVX512MatchesAVX2 compares the amd64 kernels on it).
func TestKernelsKeepTheContract(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := append([][3]int{{1, 1, 2}}, planShapes(true)...)
	kerns := kernels(t)
	for si, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		a, b := random(rng, m*k), random(rng, k*n) // op(a) and op(b)
		if si == 0 {
			a, b = []float32{0x1p-40, 1 + 0x1p-12}, []float32{0x1p-40, 1 + 0x1p-12}
		}
		want := contract(a, b, m, n, k)
		for _, kern := range kerns {
			mul := Multiplier{Kernel: kern}
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					lda, ldb := leading(tA, tB, m, n, k)
					got := random(rng, m*n) // stale values must be overwritten
					mul.Gemm(tA, tB, m, n, k, stored(a, m, k, tA), lda, stored(b, k, n, tB), ldb, got, n)
					for i := range want {
						if kern == Gonum {
							if math.Abs(float64(got[i])-float64(want[i])) > 1e-5*math.Sqrt(float64(k))+1e-6 {
								t.Fatalf("%s %dx%dx%d transA=%v transB=%v: c[%d] = %g, the contract gives %g",
									kern, m, n, k, tA, tB, i, got[i], want[i])
							}
						} else if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s %dx%dx%d transA=%v transB=%v: c[%d] = %x, the contract gives %x",
								kern, m, n, k, tA, tB, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
						}
					}
				}
			}
		}
	}
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
	for _, k := range []Kernel{AVX512, AVX2, NEON} {
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
// 784-128 autoencoder layer at batch 256 and a wider one, reporting GFLOP/s. The products'
// slices run on a team of goroutines, as in a plan's step.
func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	tm := team.New(0)
	defer tm.Close()
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
			mul := Multiplier{Kernel: kern, Team: tm}
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
	return map[Kernel]string{AVX512: "avx512", AVX2: "avx2", NEON: "neon", Gonum: "gonum"}[k]
}

// TestGemmThenSeesFinalBlocks runs GemmThen with every kernel on products that split rows,
// split columns, run on one goroutine, add several blocks of k, are computed turned around
// or have k = 0: every value of c is in exactly one block, each block already holds what
// Gemm computes when its callback runs, and part is below GOMAXPROCS.
func TestGemmThenSeesFinalBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	tm := team.New(0)
	defer tm.Close()
	cases := []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"rows", false, false, 256, 128, 784},
		{"columns", true, false, 128, 784, 256},
		{"many k blocks", false, false, 100, 70, 600},
		{"one goroutine", false, false, 9, 10, 11},
		{"turned", false, true, 32, 784, 128},
		{"no k", false, false, 5, 6, 0},
	}
	for _, tc := range cases {
		lda, ldb := leading(tc.tA, tc.tB, tc.m, tc.n, tc.k)
		a, b := random(rng, tc.m*tc.k), random(rng, tc.k*tc.n)
		for _, kern := range kernels(t) {
			t.Run(fmt.Sprintf("%s/%s", tc.name, kernelTag(kern)), func(t *testing.T) {
				mul := Multiplier{Kernel: kern, Team: tm}
				want := make([]float32, tc.m*tc.n)
				mul.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, a, lda, b, ldb, want, tc.n)
				c := make([]float32, tc.m*tc.n)
				seen := make([]atomic.Int32, tc.m*tc.n)
				var stale atomic.Int32
				mul.GemmThen(tc.tA, tc.tB, tc.m, tc.n, tc.k, a, lda, b, ldb, c, tc.n, func(part, i0, i1, j0, j1 int) {
					if part < 0 || part >= runtime.GOMAXPROCS(0) {
						stale.Add(1)
					}
					for i := i0; i < i1; i++ {
						for j := j0; j < j1; j++ {
							seen[i*tc.n+j].Add(1)
							if c[i*tc.n+j] != want[i*tc.n+j] {
								stale.Add(1)
							}
						}
					}
				})
				for i := range seen {
					if got := seen[i].Load(); got != 1 {
						t.Fatalf("value %d of c is in %d blocks", i, got)
					}
				}
				if got := stale.Load(); got != 0 {
					t.Errorf("%d values not final (or parts out of range) when their block was handed over", got)
				}
			})
		}
	}
}
