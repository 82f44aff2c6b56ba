package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestExprKeepsFirstError(t *testing.T) {
	g := G.NewGraph()
	a := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("b"))
	tests := []struct {
		name    string
		formula func(e *expr) *G.Node
		wantErr bool
	}{
		{"well-formed", func(e *expr) *G.Node { return e.Mean(e.Square(e.Sub(a, b))) }, false},
		// a·b with inner sizes 3 and 2 fails; the ops after it must be skipped, not panic on nil.
		{"shape mismatch first", func(e *expr) *G.Node { return e.Sum(e.Square(e.Mul(a, b))) }, true},
		{"shape mismatch last", func(e *expr) *G.Node { return e.Mul(e.Square(a), b) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e expr
			n := tc.formula(&e)
			if gotErr := e.Err() != nil; gotErr != tc.wantErr {
				t.Fatalf("Err() = %v, want an error: %v", e.Err(), tc.wantErr)
			}
			if (n == nil) != tc.wantErr {
				t.Errorf("node = %v, want nil exactly when the formula failed", n)
			}
		})
	}
}
