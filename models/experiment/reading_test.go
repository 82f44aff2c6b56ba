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
			got := reader{}.leaders(results, testMSE, "is best", "%.5f")
			if unclear := strings.Contains(got, "no model clearly"); unclear == tc.winner {
				t.Errorf("%q: a winner named %v, want %v", got, !unclear, tc.winner)
			}
			if tc.even != "" && !strings.Contains(got, tc.even+" are within 2%") {
				t.Errorf("%q does not call %s even", got, tc.even)
			}
		})
	}
}

// With seeds, a model is best only when it leads by more than the seeds' spread.
func TestLeadersWithSeedsNeedMoreThanTheSpread(t *testing.T) {
	seeded := func(name string, mses ...float64) []Result {
		var out []Result
		for i, v := range mses {
			out = append(out, Result{Run: Run{Name: name + string(rune('1'+i)), Config: name}, Metrics: study.Metrics{TestMSE: v}})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		a, b   []Result
		winner bool
	}{
		{"apart", seeded("a", 0.010, 0.0101, 0.0099), seeded("b", 0.012, 0.0121, 0.0119), true},
		{"within the spread", seeded("a", 0.010, 0.011, 0.009), seeded("b", 0.0105, 0.0115, 0.0095), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := append(append([]Result(nil), tc.a...), tc.b...)
			text := strings.Join(Reading(all), " ")
			if got := strings.Contains(text, "a reconstructs best"); got != tc.winner {
				t.Errorf("winner named: %v, want %v:\n%s", got, tc.winner, text)
			}
			if !tc.winner && !strings.Contains(text, "no clear difference") {
				t.Errorf("no 'no clear difference':\n%s", text)
			}
		})
	}
}
