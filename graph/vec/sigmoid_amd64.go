package vec

import "golang.org/x/sys/cpu"

// sigmoidAVX2 writes 1/(1+e^−x) for n values (a multiple of 8).
//
//go:noescape
func sigmoidAVX2(op, xp *float32, n int)

// Sigmoid writes the logistic function of x into o (as long as x).
func Sigmoid(o, x []float32) {
	n := 0
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		n = len(x) &^ 7
	}
	if n > 0 {
		sigmoidAVX2(&o[0], &x[0], n)
	}
	sigmoidGo(o[n:len(x)], x[n:])
}
