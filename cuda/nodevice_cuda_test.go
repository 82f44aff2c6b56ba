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
