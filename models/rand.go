package models

import "math/rand/v2"

// Stream numbers of the PCG generators derived from a seed, one per use, so that changing
// one use of randomness does not shift another. Every stream aelab draws from is named here.
const (
	StreamInit uint64 = iota + 1
	StreamShuffle
	StreamNoise // unused since the noise became counter-based; kept so later streams keep their numbers
	StreamEval
	StreamWalk
	StreamChain
	StreamNotDigits // the digit classifier's made-up non-digits
	StreamDropout   // the seeds of the dropout masks
)

// NewRand returns the generator for one use (a stream) of seed.
func NewRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// InitRand returns the generator that draws a model's initial weights from seed.
func InitRand(seed uint64) *rand.Rand { return NewRand(seed, StreamInit) }
