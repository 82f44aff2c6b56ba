package vec

import "golang.org/x/sys/cpu"

// adamConsts is the layout adamAVX2 reads its scalars from.
type adamConsts struct {
	stepSize, beta1, beta2, eps, invSqrtC2, oneMinusBeta1, oneMinusBeta2 float32
}

// adamAVX2 applies the Adam update to n values (a multiple of 8), 8 at a time.
//
//go:noescape
func adamAVX2(wp, gp, mp, vp *float32, n int, k *adamConsts)

// Adam updates w in place from the gradient g and the moments m and v, with the AVX2 loop
// where the processor has it.
func Adam(s AdamStep, w, g, m, v []float32) {
	n := 0
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		n = len(w) &^ 7
	}
	if n > 0 {
		k := adamConsts{s.StepSize, s.Beta1, s.Beta2, s.Eps, s.InvSqrtC2, 1 - s.Beta1, 1 - s.Beta2}
		adamAVX2(&w[0], &g[0], &m[0], &v[0], n, &k)
	}
	adamGo(s, w[n:], g[n:len(w)], m[n:len(w)], v[n:len(w)])
}
