package vec

import "math"

// Expf is e^x in float32 (Cephes' expf: range reduction by ln 2, a degree-5 polynomial,
// the exponent set directly); relative error below 1e-7, no float64 round trip.
func Expf(x float32) float32 {
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	case x != x:
		return x
	}
	const log2e = 1.44269504088896341
	t := x * log2e
	n := float32(int32(t + 0.5))
	if t < -0.5 {
		n = float32(int32(t - 0.5))
	}
	r := x - n*0.693359375 // x − n·ln 2, ln 2 split in two for precision
	r -= n * -2.12194440e-4
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return math.Float32frombits(math.Float32bits(y) + uint32(int32(n))<<23)
}

// SigmoidOne is the logistic function of one value.
func SigmoidOne(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + Expf(-x))
	}
	e := Expf(x) // e^−|x|: no overflow for large |x|
	return e / (1 + e)
}

func sigmoidGo(o, x []float32) {
	o = o[:len(x)]
	for i, v := range x {
		o[i] = SigmoidOne(v)
	}
}
