package vec

import "golang.org/x/sys/cpu"

// sigmoidAVX2 writes 1/(1+e^−x) for n values (a multiple of 8).
//
//go:noescape
func sigmoidAVX2(op, xp *float32, n int)

// Sigmoid writes the logistic function of x into o (as long as x). With AVX2 every value,
// the last few too, goes through the vector loop, so a value's result does not depend on
// where a caller splits the work.
func Sigmoid(o, x []float32) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		sigmoidGo(o[:len(x)], x)
		return
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
