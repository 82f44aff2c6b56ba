package cuda

import (
	"strings"
	"testing"
)

// TestParseGEMM reads every GEMM path by its name, and refuses any other name with an error
// that lists the three.
func TestParseGEMM(t *testing.T) {
	for _, tc := range []struct {
		name string
		want GEMM
		bad  bool
	}{
		{name: "", want: GEMMCublas},
		{name: "cublas", want: GEMMCublas},
		{name: "lt", want: GEMMLt},
		{name: " LT ", want: GEMMLt},
		{name: "tuned", want: GEMMTuned},
		{name: "cublasLt", bad: true},
		{name: "fast", bad: true},
	} {
		got, err := ParseGEMM(tc.name)
		switch {
		case tc.bad && (err == nil || !strings.HasPrefix(err.Error(), "cuda: ") || !strings.Contains(err.Error(), "cublas, lt or tuned")):
			t.Errorf("ParseGEMM(%q) = %v, %v; want an error naming the three paths", tc.name, got, err)
		case !tc.bad && (err != nil || got != tc.want):
			t.Errorf("ParseGEMM(%q) = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	for _, g := range []GEMM{GEMMCublas, GEMMLt, GEMMTuned} {
		if back, err := ParseGEMM(g.String()); err != nil || back != g {
			t.Errorf("ParseGEMM(%q) = %v, %v", g, back, err)
		}
	}
}
