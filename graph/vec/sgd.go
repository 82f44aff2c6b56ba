package vec

// SGD applies one update of stochastic gradient descent with momentum μ and an L2 penalty
// λ to w, as torch.optim.SGD makes it: v ← μ·v + (g + λ·w), w ← w − stepSize·v. Every
// executor that updates on the host calls it, so they compute the same floats.
func SGD(stepSize, momentum, l2 float32, w, g, v []float32) {
	g, v = g[:len(w)], v[:len(w)]
	for j := range w {
		d := g[j] + l2*w[j]
		vj := momentum*v[j] + d
		v[j] = vj
		w[j] -= stepSize * vj
	}
}
