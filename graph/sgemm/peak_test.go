package sgemm

import (
	"math"
	"testing"
)

// TestPeakGFLOPS measures each kernel's peak where the processor runs it (a positive,
// finite figure) and none for gonum's.
func TestPeakGFLOPS(t *testing.T) {
	for _, k := range []Kernel{AVX512, AVX2, Gonum} {
		t.Run(k.String(), func(t *testing.T) {
			got := PeakGFLOPS(k)
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
