package datasets_test

import (
	"fmt"

	"github.com/aelab/aelab/datasets"
)

// A noise spec names a corruption and its level; a DAE is trained on inputs corrupted so.
func ExampleParseNoise() {
	for _, spec := range []string{"gaussian:0.4", "mask:0.25", "none", "blur:0.3"} {
		n, err := datasets.ParseNoise(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(n, n.IsNone())
	}
	// Output:
	// gaussian:0.4 false
	// mask:0.25 false
	// none true
	// datasets: noise "blur:0.3": unknown kind "blur" (want none, gaussian:σ, mask:ν or saltpepper:ν, or a range such as gaussian:0.1..1)
}

// Counter-based noise: the same seed, step and index give the same corruption anywhere.
func ExampleNoise_ApplyAt() {
	n, _ := datasets.ParseNoise("mask:0.5")
	clean := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	a, b := make([]float32, 8), make([]float32, 8)
	n.ApplyAt(a, clean, 42, 7)
	n.ApplyAt(b, clean, 42, 7)
	fmt.Println(a, fmt.Sprint(a) == fmt.Sprint(b))
	// Output:
	// [1 0 1 0 0 0 0 0] true
}
