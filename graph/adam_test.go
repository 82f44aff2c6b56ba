package graph

import (
	"math"
	"testing"
)

// TestAdamWeightDecay checks the update against AdamW as torch.optim.AdamW defines it,
// computed in float64: w ← w·(1 − lr·λ), then Adam's step with bias corrections; and SGD's
// against torch.optim.SGD's.
func TestAdamWeightDecay(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Adam
		grads []float32
	}{
		{"no gradient: the decay alone", Adam{LR: 0.01, WeightDecay: 0.1}, []float32{0, 0, 0}},
		{"AdamW", Adam{LR: 0.01, WeightDecay: 0.1}, []float32{0.5, -2, 0.003}},
		{"no decay: plain Adam", Adam{LR: 0.01}, []float32{0.5, -2, 0.003}},
		{"SGD with momentum and L2", Adam{LR: 0.1, SGD: true, Momentum: 0.9, WeightDecay: 0.01}, []float32{0.5, -2, 0.003}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := []float32{1, -0.5, 2}
			p := &Param{Name: "w", Data: w}
			s := newAdamState(tc.cfg, []*Param{p})
			want := make([]float64, len(w))
			m, v := make([]float64, len(w)), make([]float64, len(w))
			for i := range w {
				want[i] = float64(w[i])
			}
			c := tc.cfg.WithDefaults()
			for step := 1; step <= 3; step++ {
				s.update([][]float32{w}, [][]float32{tc.grads})
				for i, g32 := range tc.grads {
					g := float64(g32)
					if c.SGD { // torch.optim.SGD: v ← μv + g + λw, w ← w − lr·v
						m[i] = c.Momentum*m[i] + g + c.WeightDecay*want[i]
						want[i] -= c.LR * m[i]
						continue
					}
					want[i] *= 1 - c.LR*c.WeightDecay
					m[i] = c.Beta1*m[i] + (1-c.Beta1)*g
					v[i] = c.Beta2*v[i] + (1-c.Beta2)*g*g
					mHat, vHat := m[i]/(1-math.Pow(c.Beta1, float64(step))), v[i]/(1-math.Pow(c.Beta2, float64(step)))
					want[i] -= c.LR * mHat / (math.Sqrt(vHat) + c.Eps)
				}
			}
			for i := range w {
				if d := math.Abs(float64(w[i]) - want[i]); d > 1e-6*(1+math.Abs(want[i])) {
					t.Errorf("w[%d] = %.8f after 3 steps, AdamW %.8f", i, w[i], want[i])
				}
			}
		})
	}
}
