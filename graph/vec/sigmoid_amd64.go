package vec

import "golang.org/x/sys/cpu"

// sigmoidAVX2 writes 1/(1+e^−x) for n values (a multiple of 8).
//
//go:noescape
func sigmoidAVX2(op, xp *float32, n int)

// sigmoidAVX512 is sigmoidAVX2 for n values (a multiple of 16), 16 at a time.
//
//go:noescape
func sigmoidAVX512(op, xp *float32, n int)

// Sigmoid writes the logistic function of x into o (as long as x). With AVX2 every value,
// the last few too, goes through the vector loop, so a value's result does not depend on
// where a caller splits the work; with AVX-512 the first multiple of 16 go 16 at a time,
// through the same operations, so with the same bits.
func Sigmoid(o, x []float32) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		sigmoidGo(o[:len(x)], x)
		return
	}
	if n := len(x) &^ 15; n > 0 && cpu.X86.HasAVX512F {
		sigmoidAVX512(&o[0], &x[0], n)
		o, x = o[n:], x[n:]
	}
	n := len(x) &^ 7
	if n > 0 {
		sigmoidAVX2(&o[0], &x[0], n)
	}
	if n < len(x) {
		var in, out [8]float32
		copy(in[:], x[n:])
		sigmoidAVX2(&out[0], &in[0], 8)
		copy(o[n:len(x)], out[:])
	}
}
