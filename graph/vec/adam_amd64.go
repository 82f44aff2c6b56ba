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

// adamAVX512 is adamAVX2 for n values (a multiple of 16), 16 at a time.
//
//go:noescape
func adamAVX512(wp, gp, mp, vp *float32, n int, k *adamConsts)

// Adam updates w in place from the gradient g and the moments m and v, with the AVX2 loop
// where the processor has it: then every value, the last few too, goes through the vector
// loop, so a value's update does not depend on where a caller splits the work; with AVX-512
// the first multiple of 16 go 16 at a time, through the same operations.
func Adam(s AdamStep, w, g, m, v []float32) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		adamGo(s, w, g, m, v)
		return
	}
	k := adamConsts{s.StepSize, s.Beta1, s.Beta2, s.Eps, s.InvSqrtC2, 1 - s.Beta1, 1 - s.Beta2}
	if n := len(w) &^ 15; n > 0 && cpu.X86.HasAVX512F {
		adamAVX512(&w[0], &g[0], &m[0], &v[0], n, &k)
		w, g, m, v = w[n:], g[n:], m[n:], v[n:]
	}
	n := len(w) &^ 7
	if n > 0 {
		adamAVX2(&w[0], &g[0], &m[0], &v[0], n, &k)
	}
	if rest := len(w) - n; rest > 0 {
		var tw, tg, tm, tv [8]float32
		copy(tw[:], w[n:])
		copy(tg[:], g[n:len(w)])
		copy(tm[:], m[n:len(w)])
		copy(tv[:], v[n:len(w)])
		adamAVX2(&tw[0], &tg[0], &tm[0], &tv[0], 8, &k)
		copy(w[n:], tw[:rest])
		copy(m[n:len(w)], tm[:rest])
		copy(v[n:len(w)], tv[:rest])
	}
}
