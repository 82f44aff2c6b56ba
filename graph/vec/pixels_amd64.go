package vec

import "golang.org/x/sys/cpu"

// pixelsAVX2 writes float32(b[i])/255 for n values (a multiple of 8), 8 at a time.
//
//go:noescape
func pixelsAVX2(op *float32, bp *byte, n int)

// pixelsAVX512 is pixelsAVX2 for n values (a multiple of 16), 16 at a time.
//
//go:noescape
func pixelsAVX512(op *float32, bp *byte, n int)

// FastPixels reports whether Pixels runs a vector loop here: without one, copying floats
// is faster than converting bytes.
func FastPixels() bool { return cpu.X86.HasAVX2 }

// Pixels writes each byte of b as a pixel value in [0, 1], o[i] = float32(b[i]) / 255, for
// i < len(o): the same bits as the division in Go (one IEEE division of the same floats).
func Pixels(o []float32, b []byte) {
	b = b[:len(o)]
	if n := len(o) &^ 15; n > 0 && cpu.X86.HasAVX512F {
		pixelsAVX512(&o[0], &b[0], n)
		o, b = o[n:], b[n:]
	}
	if n := len(o) &^ 7; n > 0 && cpu.X86.HasAVX2 {
		pixelsAVX2(&o[0], &b[0], n)
		o, b = o[n:], b[n:]
	}
	pixelsGo(o, b)
}
