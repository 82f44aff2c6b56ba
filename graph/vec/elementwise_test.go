package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// specials are the values whose handling most often differs between a vector instruction
// and the scalar code: NaNs, infinities, signed zeros, denormals, extremes, and 0 and 1 for
// the comparisons and y·(1 − y).
var specials = []float32{
	float32(math.NaN()), math.Float32frombits(0x7fc01234), math.Float32frombits(0xffc00000),
	float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
	1e-40, -1e-40, math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
	1, -1, 0.5, 2, 3,
}

// testValues returns n values: random ones, repeats (so that comparisons meet equal pairs)
// and specials.
func testValues(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch rng.IntN(4) {
		case 0:
			x[i] = specials[rng.IntN(len(specials))]
		case 1:
			x[i] = float32(rng.IntN(3))
		default:
			x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
		}
	}
	return x
}

// testLengths are the lengths the loops are checked on: every one up to 70 (the vector
// loops' 8- and 32-value steps and their tails) and a few large ones.
func testLengths() []int {
	var ns []int
	for n := range 71 {
		ns = append(ns, n)
	}
	return append(ns, 1000, 1024, 4099)
}

// sameBits reports whether got is want bit for bit.
func sameBits(got, want float32) bool { return math.Float32bits(got) == math.Float32bits(want) }

func TestBinary(t *testing.T) {
	defs := []struct {
		op Op
		f  func(a, b float32) float32 // the scalar definition of the plan's kernel
	}{
		{Add, func(a, b float32) float32 { return a + b }},
		{Sub, func(a, b float32) float32 { return a - b }},
		{Mul, func(a, b float32) float32 { return a * b }},
		{Div, func(a, b float32) float32 { return a / b }},
		{Less, func(a, b float32) float32 { return truth(a < b) }},
		{LessEq, func(a, b float32) float32 { return truth(a <= b) }},
		{Greater, func(a, b float32) float32 { return truth(a > b) }},
		{GreaterEq, func(a, b float32) float32 { return truth(a >= b) }},
		{Equal, func(a, b float32) float32 { return truth(a == b) }},
		{NotEqual, func(a, b float32) float32 { return truth(a != b) }},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range defs {
		t.Run(fmt.Sprint(d.op), func(t *testing.T) {
			for _, n := range testLengths() {
				for off := range 4 { // unaligned starts
					a, b := testValues(rng, n+off)[off:], testValues(rng, n+off+1)[off+1:]
					o := make([]float32, n+off)[off:]
					check := func(form string, want func(i int) float32) {
						t.Helper()
						for i := range o {
							if w := want(i); !sameBits(o[i], w) {
								t.Fatalf("%s n=%d off=%d: [%d] = %g (%#x) of %g, %g; want %g (%#x)",
									form, n, off, i, o[i], math.Float32bits(o[i]), a[i], b[i], w, math.Float32bits(w))
							}
						}
					}
					VV(d.op, o, a, b)
					check("vv", func(i int) float32 { return d.f(a[i], b[i]) })
					for _, s := range specials {
						VS(d.op, o, a, s)
						check(fmt.Sprintf("vs %g", s), func(i int) float32 { return d.f(a[i], s) })
						SV(d.op, o, s, b)
						check(fmt.Sprintf("sv %g", s), func(i int) float32 { return d.f(s, b[i]) })
					}
				}
			}
		})
	}
}

func TestUnary(t *testing.T) {
	defs := []struct {
		op UnaryOp
		f  func(v float32) float32
	}{
		{Neg, func(v float32) float32 { return -v }},
		{Abs, func(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }},
		{Square, func(v float32) float32 { return v * v }},
		{Cube, func(v float32) float32 { return v * v * v }},
		{Inv, func(v float32) float32 { return 1 / v }},
		{Sqrt, func(v float32) float32 { return float32(math.Sqrt(float64(v))) }},
		{SigmoidGrad, func(v float32) float32 { return v * (1 - v) }},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, d := range defs {
		t.Run(fmt.Sprint(d.op), func(t *testing.T) {
			for _, n := range testLengths() {
				for off := range 4 {
					a := testValues(rng, n+off)[off:]
					o := make([]float32, n+off+1)[off+1:]
					Map(d.op, o, a)
					for i, v := range a {
						if w := d.f(v); !sameBits(o[i], w) {
							t.Fatalf("n=%d off=%d: f(%g) = %g (%#x), want %g (%#x)", n, off, v, o[i], math.Float32bits(o[i]), w, math.Float32bits(w))
						}
					}
					// In place, as a fused step may write a register over its operand.
					c := append([]float32(nil), a...)
					Map(d.op, c, c)
					for i := range c {
						if !sameBits(c[i], o[i]) {
							t.Fatalf("n=%d off=%d in place: [%d] = %g, want %g", n, off, i, c[i], o[i])
						}
					}
				}
			}
		})
	}
}

func TestSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sizes := [][2]int{{256, 784}, {256, 128}, {37, 61}, {64, 1024}, {9, 8}}
	for rows := range 20 {
		for _, cols := range []int{0, 1, 7, 8, 9, 16, 63, 64, 65, 71, 130} {
			sizes = append(sizes, [2]int{rows, cols})
		}
	}
	for _, sz := range sizes {
		rows, cols := sz[0], sz[1]
		for _, pad := range []int{0, 3} { // pad: a block of a wider matrix
			stride := cols + pad
			a := testValues(rng, rows*stride+1)[1:]
			if rng.IntN(2) == 0 { // mostly finite, so that the sums are not all NaN
				for i := range a {
					if a[i] != a[i] || math.IsInf(float64(a[i]), 0) {
						a[i] = float32(i % 5)
					}
				}
			}
			colSums := make([]float32, cols)
			for c := range colSums {
				colSums[c] = 42 // overwritten, not added to
			}
			SumColumns(colSums, a, rows, stride)
			for c := range cols {
				var s float32
				for r := range rows {
					s += a[r*stride+c]
				}
				if !sameBits(colSums[c], s) {
					t.Fatalf("%d×%d (stride %d): column %d sums to %g, want %g", rows, cols, stride, c, colSums[c], s)
				}
			}
			rowSums := make([]float32, rows)
			SumRows(rowSums, a, cols, stride)
			for r := range rows {
				var s float32
				for _, v := range a[r*stride : r*stride+cols] {
					s += v
				}
				if !sameBits(rowSums[r], s) {
					t.Fatalf("%d×%d (stride %d): row %d sums to %g, want %g", rows, cols, stride, r, rowSums[r], s)
				}
			}
		}
	}
}

func BenchmarkElementwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, y, o := testValues(rng, 1024), testValues(rng, 1024), make([]float32, 1024)
	b.Run("mul", func(b *testing.B) {
		for b.Loop() {
			VV(Mul, o, x, y)
		}
	})
	b.Run("ge", func(b *testing.B) {
		for b.Loop() {
			VS(GreaterEq, o, x, 0)
		}
	})
	b.Run("sigmoidgrad", func(b *testing.B) {
		for b.Loop() {
			Map(SigmoidGrad, o, x)
		}
	})
}

func BenchmarkSums(b *testing.B) {
	a, o := make([]float32, 256*784), make([]float32, 784)
	b.Run("columns", func(b *testing.B) {
		for b.Loop() {
			SumColumns(o, a, 256, 784)
		}
	})
	b.Run("rows", func(b *testing.B) {
		for b.Loop() {
			SumRows(o[:256], a, 784, 784)
		}
	})
}
