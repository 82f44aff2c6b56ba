//go:build aelabcuda

package cuda

import (
	"strings"
	"testing"
)

// TestNoDeviceIsAnError runs where no GPU answers (CI compiles the CUDA build against
// Debian's CUDA and runs its tests without one): opening a device must then be an error,
// not the exit that gorgonia.org/cu's package init would make (compat/cuda.h defers it).
// That this test runs at all shows the process survived cu's init.
func TestNoDeviceIsAnError(t *testing.T) {
	if devs, err := Devices(); err == nil {
		t.Skipf("a CUDA device answers (%d)", len(devs))
	}
	_, err := Devices()
	if err == nil || !strings.Contains(err.Error(), "no CUDA driver answers") {
		t.Errorf("Devices: %v", err)
	}
	if b, err := Open(0); err == nil {
		b.Close()
		t.Error("Open(0) succeeded without a device")
	} else if !strings.HasPrefix(err.Error(), "cuda: ") {
		t.Errorf("Open(0): %v", err)
	}
}

// TestKernelsCompile compiles kernels.cu with NVRTC, which needs no device, for the oldest
// compute capability aelab supports and for Hopper.
func TestKernelsCompile(t *testing.T) {
	for _, cc := range [][2]int{{7, 5}, {9, 0}} {
		ptx, err := compileKernels(cc[0], cc[1])
		if err != nil {
			t.Fatalf("compute %d.%d: %v", cc[0], cc[1], err)
		}
		for _, k := range kernelNames() {
			if !strings.Contains(ptx, ".entry "+k+"(") {
				t.Errorf("compute %d.%d: the PTX has no kernel %s", cc[0], cc[1], k)
			}
		}
	}
}
