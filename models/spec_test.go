package models

import "testing"

func TestTrainingFLOPs(t *testing.T) {
	cases := []struct {
		layers []int
		want   float64
	}{
		// Five products of 784×128 multiply-adds: forward twice, two weight gradients, the
		// decoder's input gradient.
		{[]int{784, 128}, 2 * 5 * 784 * 128},
		// Forward 2·(784·512 + 512·128), the same again for the weight gradients, and the
		// input gradients of every layer but the first.
		{[]int{784, 512, 128}, 2 * (6*(784*512+512*128) - 784*512)},
	}
	for _, tc := range cases {
		if got := (Spec{Layers: tc.layers}).TrainingFLOPs(); got != tc.want {
			t.Errorf("%v: %g FLOPs an image, want %g", tc.layers, got, tc.want)
		}
	}
}
