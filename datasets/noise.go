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
// The zero value is no corruption.
type Noise struct {
	Kind  NoiseKind `json:"kind"`
	Level float64   `json:"level,omitempty"`
}

// ParseNoise parses "none", "gaussian:σ", "mask:ν" or "saltpepper:ν" (ν in [0,1]).
func ParseNoise(spec string) (Noise, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == string(NoNoise) {
		return Noise{}, nil
	}
	kind, level, ok := strings.Cut(spec, ":")
	bad := func(why string) (Noise, error) {
		return Noise{}, fmt.Errorf("datasets: noise %q: %s (want none, gaussian:σ, mask:ν or saltpepper:ν)", spec, why)
	}
	switch k := NoiseKind(kind); k {
	case Gaussian, Mask, SaltPepper:
		if !ok || level == "" {
			return bad("the level is missing")
		}
		v, err := strconv.ParseFloat(level, 64)
		if err != nil {
			return bad(fmt.Sprintf("level %q is not a number", level))
		}
		switch {
		case k == Gaussian && !(v > 0 && v <= 100):
			return bad("σ must be in (0, 100]")
		case k != Gaussian && !(v >= 0 && v <= 1):
			return bad("ν must be in [0, 1]")
		}
		return Noise{Kind: k, Level: v}, nil
	}
	return bad(fmt.Sprintf("unknown kind %q", kind))
}

// String returns the spec ParseNoise reads back.
func (n Noise) String() string {
	if n.IsNone() {
		return string(NoNoise)
	}
	return string(n.Kind) + ":" + strconv.FormatFloat(n.Level, 'g', -1, 64)
}

// IsNone reports whether n leaves inputs unchanged.
func (n Noise) IsNone() bool {
	return n.Kind == "" || n.Kind == NoNoise || (n.Kind != Gaussian && n.Level == 0)
}

// Apply writes a corrupted copy of src into dst (same length; they may be the same slice),
// drawing fresh noise from rng.
func (n Noise) Apply(dst, src []float32, rng *rand.Rand) {
	if n.IsNone() {
		copy(dst, src)
		return
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
