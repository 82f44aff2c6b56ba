package plan

import (
	"fmt"
	"math"

	"github.com/aelab/aelab/datasets"
)

// GatheringCPU is the CPU backend that also keeps a training set and builds each batch
// itself (a Gatherer), with the same corruption as the CUDA kernel gather_corrupt: it runs
// the device-data path of training, and checks it, without a GPU.
type GatheringCPU struct{ *CPU }

var _ Gatherer = GatheringCPU{}

// NewGatheringCPU returns a CPU backend that gathers batches.
func NewGatheringCPU() GatheringCPU { return GatheringCPU{NewCPU()} }

// AllocIndices implements Gatherer.
func (GatheringCPU) AllocIndices(n int) (Memory, error) { return make([]int32, n), nil }

// WriteIndices implements Gatherer.
func (GatheringCPU) WriteIndices(dst Memory, idx []int32) error {
	d, ok := dst.([]int32)
	if !ok || len(d) != len(idx) {
		return fmt.Errorf("plan: index buffer of %d for %d indices", len(d), len(idx))
	}
	copy(d, idx)
	return nil
}

// Gather implements Gatherer.
func (g GatheringCPU) Gather(noisy, clean Slice, data, idx Memory, batch, d int, noise datasets.Noise, seed uint64, step uint32) error {
	src, ix := data.([]float32), idx.([]int32)
	nz, cl := g.slice(noisy), g.slice(clean)
	for k := range batch {
		copy(cl[k*d:(k+1)*d], src[int(ix[k])*d:(int(ix[k])+1)*d])
	}
	for i, x := range cl[:batch*d] {
		nz[i] = Corrupt(noise, x, seed, step, uint32(i))
	}
	return nil
}

// ReadLater implements Gatherer: the CPU is done when its calls return.
func (g GatheringCPU) ReadLater(dst []float32, src Slice) (func() error, error) {
	if err := g.Read(dst, src); err != nil {
		return nil, err
	}
	return func() error { return nil }, nil
}

// Corrupt is the corruption of value i of batch step that the gathering backends apply:
// counter-based, so any device computes the same noise for the same (seed, step, i).
func Corrupt(noise datasets.Noise, x float32, seed uint64, step, i uint32) float32 {
	if noise.IsNone() {
		return x
	}
	level := float32(noise.Level)
	switch noise.Kind {
	case datasets.Gaussian:
		u1 := max(uniform01(seed, step, 2*i), 1e-7)
		u2 := uniform01(seed, step, 2*i+1)
		return x + level*float32(math.Sqrt(-2*math.Log(float64(u1)))*math.Cos(2*math.Pi*float64(u2)))
	case datasets.Mask:
		if uniform01(seed, step, i) < level {
			return 0
		}
	case datasets.SaltPepper:
		if uniform01(seed, step, 2*i) < level {
			if uniform01(seed, step, 2*i+1) < 0.5 {
				return 0
			}
			return 1
		}
	}
	return x
}

// hash32 mixes (seed, step, i) into 32 random bits, as kernels.cu's hash32 does: a PCG
// output permutation of a counter scrambled with the seed.
func hash32(seed uint64, step, i uint32) uint32 {
	x := seed ^ (0x9E3779B97F4A7C15 * (uint64(step)<<32 | uint64(i)))
	x = x*6364136223846793005 + 1442695040888963407
	xorshifted := uint32(((x >> 18) ^ x) >> 27)
	rot := uint32(x >> 59)
	return xorshifted>>rot | xorshifted<<((32-rot)&31)
}

func uniform01(seed uint64, step, i uint32) float32 {
	return float32(hash32(seed, step, i)>>8) * (1.0 / 16777216)
}
