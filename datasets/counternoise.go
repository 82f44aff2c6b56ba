package datasets

import (
	"math"
	"math/bits"
)

// ApplyAt writes a corrupted copy of src into dst (same length; they may be the same slice),
// like Apply, but the noise of value i is a function of (seed, step, i) alone: a
// counter-based generator. Any device, splitting the work in any way, draws the same noise
// for the same batch, so a batch corrupted on a GPU (cuda's kernel gather_corrupt computes
// exactly this) equals the one the CPU makes, up to float32 rounding of log and sine.
//
// Gaussian noise pairs the values (2p, 2p+1) and draws both from one Box–Muller transform
// of the uniforms (2p, 2p+1); mask and salt-and-pepper noise use one uniform per value. A
// range of levels takes one level for all of src, the level of image 0 (ApplyImagesAt draws
// one an image).
func (n Noise) ApplyAt(dst, src []float32, seed uint64, step uint32) {
	n.ApplyImagesAt(dst, src, len(src), seed, step)
}

// ApplyImagesAt is ApplyAt over images of d values each: with a range of levels, image k
// takes the level LevelAt(seed, step, k); each value's noise is ApplyAt's, so a single
// level gives ApplyAt's result whatever d is.
func (n Noise) ApplyImagesAt(dst, src []float32, d int, seed uint64, step uint32) {
	n.ApplyImagesFrom(dst, src, d, seed, step, 0)
}

// ApplyImagesFrom is ApplyImagesAt for the values [first, first+len(src)) of a batch: pieces
// of a batch corrupted apart, on several goroutines, make the batch ApplyImagesAt makes whole.
func (n Noise) ApplyImagesFrom(dst, src []float32, d int, seed uint64, step uint32, first int) {
	dst = dst[:len(src)]
	if n.IsNone() || len(src) == 0 {
		copy(dst, src)
		return
	}
	d = max(d, 1)
	level := float32(n.Level)
	var levels []float32 // a range's level of each image from first's; nil for one level
	if n.IsRange() {
		levels = make([]float32, (first+len(src)-1)/d-first/d+1)
		for k := range levels {
			levels[k] = n.LevelAt(seed, step, uint32(first/d+k))
		}
	}
	// levelOf is value i's level; never reassigned, it is inlined into the loops below.
	levelOf := func(i int) float32 {
		if levels == nil {
			return level
		}
		return levels[(first+i)/d-first/d]
	}
	switch n.Kind {
	case Gaussian:
		i := 0
		if first%2 == 1 { // the second value of a pair first
			_, z1 := boxMuller(seed, step, uint32(first/2))
			dst[0] = src[0] + levelOf(0)*z1
			i = 1
		}
		for ; i < len(src); i += 2 {
			z0, z1 := boxMuller(seed, step, uint32((first+i)/2))
			dst[i] = src[i] + levelOf(i)*z0
			if i+1 < len(src) {
				dst[i+1] = src[i+1] + levelOf(i+1)*z1
			}
		}
	case Mask:
		for i, v := range src {
			if uniformAt(hashAt(seed, step, uint32(first+i))) < levelOf(i) {
				v = 0
			}
			dst[i] = v
		}
	case SaltPepper:
		for i, v := range src {
			if h := hashAt(seed, step, uint32(first+i)); uniformAt(h) < levelOf(i) {
				v = float32(h & 1)
			}
			dst[i] = v
		}
	}
}

// rangeSalt separates the draws of images' levels from the draws of their values.
const rangeSalt = 0xD1B54A32D192ED03

// LevelAt is the level image k of step draws from a range: Level + (Max − Level)·u in
// float32, u uniform in [0, 1) from (seed, step, k) (cuda's gather_corrupt draws the same).
func (n Noise) LevelAt(seed uint64, step, k uint32) float32 {
	lo, hi := float32(n.Level), float32(n.Max)
	return lo + float32((hi-lo)*uniformAt(hashAt(seed^rangeSalt, step, k))) // the conversion keeps it from becoming a fused multiply-add
}

// hashAt mixes (seed, step, i) into 32 random bits: a PCG output permutation of a counter
// scrambled with the seed (kernels.cu's hash32 is the same function).
func hashAt(seed uint64, step, i uint32) uint32 {
	x := seed ^ (0x9E3779B97F4A7C15 * (uint64(step)<<32 | uint64(i)))
	x = x*6364136223846793005 + 1442695040888963407
	xorshifted := uint32(((x >> 18) ^ x) >> 27)
	rot := uint32(x >> 59)
	return bits.RotateLeft32(xorshifted, -int(rot))
}

// uniformAt maps the top 24 bits of h onto [0, 1).
func uniformAt(h uint32) float32 { return float32(h>>8) * (1.0 / 16777216) }

// boxMuller returns two independent standard normal values of pair p: with u1 in (0, 1]
// and u2 in [0, 1) from the counters 2p and 2p+1, r = √(−2 ln u1) and the values are
// r·cos 2πu2 and r·sin 2πu2.
func boxMuller(seed uint64, step, p uint32) (float32, float32) {
	u1 := float32(hashAt(seed, step, 2*p)>>8+1) * (1.0 / 16777216)
	u2 := uniformAt(hashAt(seed, step, 2*p+1))
	r := float32(math.Sqrt(float64(-2 * logf(u1))))
	s, c := sincos2pi(u2)
	return r * c, r * s
}

// logf is the natural logarithm of a positive normal float32 (Cephes' logf: x = m·2^e with
// m in [√½, √2), found without a branch as musl does, and a degree-9 polynomial in m−1);
// relative error below 2e-7. The noise needs it on every value, where math.Log's float64
// round trip would cost more than the training step it feeds.
func logf(x float32) float32 {
	ix := math.Float32bits(x) - 0x3f3504f3 // √½
	e := float32(int32(ix) >> 23)
	m := math.Float32frombits(ix&0x007fffff+0x3f3504f3) - 1
	z := m * m
	y := ((((((((7.0376836292e-2*m-1.1514610310e-1)*m+1.1676998740e-1)*m-1.2420140846e-1)*m+
		1.4249322787e-1)*m-1.6668057665e-1)*m+2.0000714765e-1)*m-2.4999993993e-1)*m + 3.3333331174e-1) * m * z
	y += -2.12194440e-4 * e
	y += -0.5 * z
	return m + y + 0.693359375*e
}

// sincos2pi returns sin 2πu and cos 2πu for u in [0, 1): the nearest quarter turn q is
// taken off, leaving an angle in [−π/4, π/4] for Cephes' sinf and cosf polynomials, and q
// swaps and negates the two by bit operations (a branch on it would mispredict often).
func sincos2pi(u float32) (sin, cos float32) {
	q := uint32(u*4 + 0.5) // 0…4
	a := (u - float32(q)*0.25) * (2 * math.Pi)
	a2 := a * a
	s := a + a*a2*(-1.6666654611e-1+a2*(8.3321608736e-3+a2*-1.9515295891e-4))
	c := 1 - 0.5*a2 + a2*a2*(4.166664568298827e-2+a2*(-1.388731625493765e-3+a2*2.443315711809948e-5))
	swap := -(q & 1) // all ones for odd quarter turns
	sb, cb := math.Float32bits(s), math.Float32bits(c)
	sinBits := sb&^swap | cb&swap
	cosBits := cb&^swap | sb&swap
	sinBits ^= (q >> 1 & 1) << 31
	cosBits ^= ((q ^ q>>1) & 1) << 31
	return math.Float32frombits(sinBits), math.Float32frombits(cosBits)
}
