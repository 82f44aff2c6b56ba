package plan

import (
	"slices"
	"testing"
)

// TestDeviceImages checks where an executor keeps its training images: the CPU keeps the
// caller's own (no copy, nothing of its own to free), a device with memory of its own a copy.
func TestDeviceImages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		device Device
		shared bool
	}{
		{"cpu", NewCPU(), true},
		{"device-like", newDeviceLikeCPU(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			images := []float32{0, 0.25, 0.5, 1, 0.75, 0.125}
			ex := &executor{be: tc.device}
			m, err := ex.deviceImages(images)
			if err != nil {
				t.Fatal(err)
			}
			got := m.([]float32)
			if !slices.Equal(got, images) {
				t.Fatalf("the device holds %v, want %v", got, images)
			}
			if shared := &got[0] == &images[0]; shared != tc.shared {
				t.Errorf("the device's images are the caller's: %v, want %v", shared, tc.shared)
			}
		})
	}
}
