package datasets

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// NoiseKind names a way of corrupting an input image.
type NoiseKind string

// The corruptions aelab knows.
const (
	NoNoise    NoiseKind = "none"
	Gaussian   NoiseKind = "gaussian"   // additive N(0, σ²), unclipped (as Keras' GaussianNoise)
	Mask       NoiseKind = "mask"       // a fraction ν of the pixels set to 0
	SaltPepper NoiseKind = "saltpepper" // a fraction ν of the pixels set to 0 or 1, equal odds
)

// Noise is an input corruption: a kind and its level (σ for gaussian, ν for the others).
// With Max above Level it is a range of levels: each image draws its own level uniformly
// from [Level, Max] (a DAE trained over many noise levels learns to denoise far from the
// data as well as near it). The zero value is no corruption.
type Noise struct {
	Kind  NoiseKind `json:"kind"`
	Level float64   `json:"level,omitempty"`
	Max   float64   `json:"max,omitempty"`
}

// IsRange reports whether each image draws its own level.
func (n Noise) IsRange() bool { return n.Max > n.Level }

// ParseNoise parses "none", "gaussian:σ", "mask:ν" or "saltpepper:ν" (ν in [0,1]), or a
// range of levels such as "gaussian:0.1..1".
func ParseNoise(spec string) (Noise, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == string(NoNoise) {
		return Noise{}, nil
	}
	kind, level, ok := strings.Cut(spec, ":")
	bad := func(why string) (Noise, error) {
		return Noise{}, fmt.Errorf("datasets: noise %q: %s (want none, gaussian:σ, mask:ν or saltpepper:ν, or a range such as gaussian:0.1..1)", spec, why)
	}
	switch k := NoiseKind(kind); k {
	case Gaussian, Mask, SaltPepper:
		if !ok || level == "" {
			return bad("the level is missing")
		}
		lo, hi, isRange := strings.Cut(level, "..")
		var levels []float64
		for _, l := range []string{lo, hi}[:1+boolInt(isRange)] {
			v, err := strconv.ParseFloat(l, 64)
			if err != nil {
				return bad(fmt.Sprintf("level %q is not a number", l))
			}
			switch {
			case k == Gaussian && !(v > 0 && v <= 100):
				return bad("σ must be in (0, 100]")
			case k != Gaussian && !(v >= 0 && v <= 1):
				return bad("ν must be in [0, 1]")
			}
			levels = append(levels, v)
		}
		n := Noise{Kind: k, Level: levels[0]}
		if isRange {
			if !(levels[1] > levels[0]) {
				return bad("a range's upper level must be above its lower one")
			}
			n.Max = levels[1]
		}
		return n, nil
	}
	return bad(fmt.Sprintf("unknown kind %q", kind))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// String returns the spec ParseNoise reads back.
func (n Noise) String() string {
	if n.IsNone() {
		return string(NoNoise)
	}
	spec := string(n.Kind) + ":" + strconv.FormatFloat(n.Level, 'g', -1, 64)
	if n.IsRange() {
		spec += ".." + strconv.FormatFloat(n.Max, 'g', -1, 64)
	}
	return spec
}

// IsNone reports whether n leaves inputs unchanged.
func (n Noise) IsNone() bool {
	return n.Kind == "" || n.Kind == NoNoise || (n.Kind != Gaussian && n.Level == 0 && n.Max == 0)
}

// ApplyImages is Apply over images of d values each: with a range of levels, each image
// draws its own level from rng first.
func (n Noise) ApplyImages(dst, src []float32, d int, rng *rand.Rand) {
	if !n.IsRange() {
		n.Apply(dst, src, rng)
		return
	}
	for lo := 0; lo < len(src); lo += d {
		hi := min(lo+d, len(src))
		at := n
		at.Level, at.Max = n.Level+(n.Max-n.Level)*rng.Float64(), 0
		at.Apply(dst[lo:hi], src[lo:hi], rng)
	}
}

// Apply writes a corrupted copy of src into dst (same length; they may be the same slice),
// drawing fresh noise from rng. A range of levels draws one level for all of src
// (ApplyImages draws one an image).
func (n Noise) Apply(dst, src []float32, rng *rand.Rand) {
	if n.IsNone() {
		copy(dst, src)
		return
	}
	if n.IsRange() {
		n.Level, n.Max = n.Level+(n.Max-n.Level)*rng.Float64(), 0
	}
	switch n.Kind {
	case Gaussian:
		sigma := n.Level
		for i, v := range src {
			dst[i] = v + float32(sigma*rng.NormFloat64())
		}
	case Mask:
		for i, v := range src {
			if rng.Float64() < n.Level {
				v = 0
			}
			dst[i] = v
		}
	case SaltPepper:
		for i, v := range src {
			if rng.Float64() < n.Level {
				v = float32(rng.IntN(2))
			}
			dst[i] = v
		}
	}
}
