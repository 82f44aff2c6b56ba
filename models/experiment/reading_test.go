package experiment

import (
	"strings"
	"testing"

	"github.com/aelab/aelab/models/study"
)

// The reading names a winner only when the next model is more than 2% behind.
func TestLeadersNeedAClearDifference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mses   []float64 // sorted, best first
		winner bool
		even   string // the models called even
	}{
		{"clear", []float64{0.0100, 0.0110, 0.0200}, true, ""},
		{"within 2%", []float64{0.0100, 0.0101, 0.0150}, false, "a, b"},
		{"three within 2%", []float64{0.0100, 0.0101, 0.0102, 0.0150}, false, "a, b, c"},
		{"one model", []float64{0.0100}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var results []Result
			for i, v := range tc.mses {
				results = append(results, Result{Run: Run{Name: string(rune('a' + i))}, Metrics: study.Metrics{TestMSE: v}})
			}
			got := leaders(results, func(r Result) float64 { return r.Metrics.TestMSE }, "is best", "%.5f")
			if unclear := strings.Contains(got, "no model clearly"); unclear == tc.winner {
				t.Errorf("%q: a winner named %v, want %v", got, !unclear, tc.winner)
			}
			if tc.even != "" && !strings.Contains(got, tc.even+" are within 2%") {
				t.Errorf("%q does not call %s even", got, tc.even)
			}
		})
	}
}
