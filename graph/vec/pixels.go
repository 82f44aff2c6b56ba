package vec

// pixelsGo writes each byte of b as a pixel value in [0, 1]: o[i] = float32(b[i]) / 255,
// the float an IDX image file's byte becomes (datasets reads them with Pixels).
func pixelsGo(o []float32, b []byte) {
	b = b[:len(o)]
	for i, p := range b {
		o[i] = float32(p) / 255
	}
}
