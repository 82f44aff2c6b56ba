package sgemm

import (
	"math"
	"testing"
)

// TestPeakGFLOPS measures each kernel's peak where the processor runs it (a positive,
// finite figure) and none for gonum's; under -short with a hundredth of the rounds.
func TestPeakGFLOPS(t *testing.T) {
	rounds := peakRounds
	if testing.Short() {
		rounds /= 100
	}
	for _, k := range []Kernel{AVX512, AVX2, NEON, Gonum} {
		t.Run(k.String(), func(t *testing.T) {
			got := peakGFLOPS(k, rounds)
			switch {
			case k == Gonum || !k.Available():
				if got != 0 {
					t.Errorf("a peak of %g GFLOP/s for a kernel without its loop", got)
				}
			case !(got > 0) || math.IsInf(got, 0):
				t.Errorf("peak %g GFLOP/s", got)
			default:
				t.Logf("%s: %.0f GFLOP/s", k, got)
			}
		})
	}
}
