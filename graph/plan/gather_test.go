package plan

import (
	"math"
	"strconv"
	"testing"

	"github.com/aelab/aelab/datasets"
)

// TestCorruptStatistics checks the counter-based corruption that the gathering backends
// (and the CUDA kernel) apply.
func TestCorruptStatistics(t *testing.T) {
	const n = 200000
	for _, tc := range []struct {
		noise datasets.Noise
		check func(out []float32) string
	}{
		{datasets.Noise{Kind: datasets.Gaussian, Level: 0.4}, func(out []float32) string {
			var s, sq float64
			for _, v := range out {
				d := float64(v) - 0.5
				s, sq = s+d, sq+d*d
			}
			if m, sd := s/n, math.Sqrt(sq/n); math.Abs(m) > 0.005 || math.Abs(sd-0.4) > 0.005 {
				return "gaussian noise of mean and std " + fmtF(m) + ", " + fmtF(sd)
			}
			return ""
		}},
		{datasets.Noise{Kind: datasets.Mask, Level: 0.3}, func(out []float32) string {
			zeros := 0
			for _, v := range out {
				if v == 0 {
					zeros++
				}
			}
			if f := float64(zeros) / n; math.Abs(f-0.3) > 0.005 {
				return "masked share " + fmtF(f)
			}
			return ""
		}},
		{datasets.Noise{Kind: datasets.SaltPepper, Level: 0.2}, func(out []float32) string {
			salt, pepper := 0, 0
			for _, v := range out {
				switch v {
				case 1:
					salt++
				case 0:
					pepper++
				}
			}
			if f := float64(salt+pepper) / n; math.Abs(f-0.2) > 0.005 || math.Abs(float64(salt)/float64(salt+pepper)-0.5) > 0.02 {
				return "salt and pepper " + fmtF(float64(salt)/n) + ", " + fmtF(float64(pepper)/n)
			}
			return ""
		}},
	} {
		out := make([]float32, n)
		for i := range out {
			out[i] = Corrupt(tc.noise, 0.5, 42, 7, uint32(i))
		}
		if problem := tc.check(out); problem != "" {
			t.Errorf("%s: %s", tc.noise, problem)
		}
		if Corrupt(tc.noise, 0.5, 42, 7, 3) != out[3] || Corrupt(tc.noise, 0.5, 42, 8, 3) == out[3] && tc.noise.Kind == datasets.Gaussian {
			t.Errorf("%s: not a function of (seed, step, index)", tc.noise)
		}
	}
}

func fmtF(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
