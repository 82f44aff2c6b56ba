//go:build !amd64

package vec

// FastPixels reports whether Pixels runs a vector loop here (written for amd64 only).
func FastPixels() bool { return false }

// Pixels writes each byte of b as a pixel value in [0, 1], o[i] = float32(b[i]) / 255, for
// i < len(o).
func Pixels(o []float32, b []byte) { pixelsGo(o, b) }
