package study

import (
	"math"
	"testing"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models/modeltest"
)

// A blob the classifier is sure of is not a plausible digit: it is far from every
// training image, while real test digits are near.
func TestPlausibleNeedsNearness(t *testing.T) {
	trainSet, test := modeltest.SmallMNIST(t, 5000, 1000)
	ref := NewReference(graph.Tape{}.MatMul(), trainSet, test)
	d := test.Dim()
	blob := make([]float32, d) // a bright disc in the middle, the walk's typical failure
	for i := range blob {
		r, c := float64(i/28)-13.5, float64(i%28)-13.5
		blob[i] = float32(math.Exp(-(r*r + c*c) / 30))
	}
	digit := test.Image(test.Len() - 1)
	dists := NearestDistances(graph.Tape{}.MatMul(), append(append([]float32{}, blob...), digit...), trainSet)
	sure := 0.99
	for _, tc := range []struct {
		name      string
		dist      float64
		plausible bool
	}{
		{"blob", dists[0], false},
		{"test digit", dists[1], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := WalkPoint{NearestDistance: tc.dist, Near: tc.dist <= ref.NearDistance, Confidence: &sure}
			if got := *p.Plausible(); got != tc.plausible {
				t.Errorf("distance %.2f (near within %.2f): plausible %v, want %v", tc.dist, ref.NearDistance, got, tc.plausible)
			}
		})
	}
	if p := (WalkPoint{Near: true}); p.Plausible() != nil {
		t.Error("a point nothing judged has a plausibility")
	}
}
