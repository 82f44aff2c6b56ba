package vec

import "math"

// AdamStep holds the scalars of one Adam update:
// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − StepSize · m / (√v · InvSqrtC2 + Eps).
type AdamStep struct {
	StepSize, Beta1, Beta2, Eps, InvSqrtC2 float32
}

// adamGo is the update in Go, for what the vector loop leaves.
func adamGo(s AdamStep, w, g, m, v []float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	b1, b2 := s.Beta1, s.Beta2
	for j := range w {
		gj := g[j]
		mj := b1*m[j] + (1-b1)*gj
		vj := b2*v[j] + (1-b2)*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= s.StepSize * mj / (float32(math.Sqrt(float64(vj)))*s.InvSqrtC2 + s.Eps)
	}
}
