//go:build aelabcuda

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/graph/plan/plantest"
)

func openDevice(t *testing.T) graph.Backend {
	t.Helper()
	b, err := Open(0)
	if err != nil {
		t.Fatalf("open device 0: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestCUDAMatchesCPU runs every program aelab builds on the GPU and on the CPU plan:
// losses over 20 steps, gradients and updated weights.
func TestCUDAMatchesCPU(t *testing.T) {
	plantest.Compare(t, plan.New(plan.NewCPU()), openDevice(t), 1e-4)
}

// TestGatherCorruptMatchesCPU checks the device's batch gathering and corruption against
// the CPU's, value for value.
func TestGatherCorruptMatchesCPU(t *testing.T) {
	dev := openDevice(t)
	const d, n, batch = 6, 10, 4
	rng := rand.New(rand.NewPCG(1, 1))
	data := make([]float32, n*d)
	for i := range data {
		data[i] = rng.Float32()
	}
	idx := []int32{7, 2, 2, 9}
	for _, noise := range []datasets.Noise{{}, {Kind: datasets.Gaussian, Level: 0.4}, {Kind: datasets.Mask, Level: 0.3}, {Kind: datasets.SaltPepper, Level: 0.2}} {
		var noisy, clean []float32
		be := devBackend(t, dev)
		err := be.Run(func() error {
			dm, err := be.Alloc(n * d)
			if err != nil {
				return err
			}
			if err := be.Write(plan.Slice{Mem: dm, Len: n * d}, data); err != nil {
				return err
			}
			im, err := be.AllocIndices(batch)
			if err != nil {
				return err
			}
			if err := be.WriteIndices(im, idx); err != nil {
				return err
			}
			nm, _ := be.Alloc(batch * d)
			cm, _ := be.Alloc(batch * d)
			if err := be.Gather(plan.Slice{Mem: nm, Len: batch * d}, plan.Slice{Mem: cm, Len: batch * d}, dm, im, batch, d, noise, 99, 5); err != nil {
				return err
			}
			noisy, clean = make([]float32, batch*d), make([]float32, batch*d)
			if err := be.Read(noisy, plan.Slice{Mem: nm, Len: batch * d}); err != nil {
				return err
			}
			return be.Read(clean, plan.Slice{Mem: cm, Len: batch * d})
		})
		if err != nil {
			t.Fatal(err)
		}
		for k, i := range idx {
			for j := range d {
				x := data[int(i)*d+j]
				if clean[k*d+j] != x {
					t.Fatalf("%s: clean[%d,%d] = %g, want %g", noise, k, j, clean[k*d+j], x)
				}
				want := plan.Corrupt(noise, x, 99, 5, uint32(k*d+j))
				if math.Abs(float64(noisy[k*d+j]-want)) > 1e-5 {
					t.Fatalf("%s: noisy[%d,%d] = %g, the CPU corrupts to %g", noise, k, j, noisy[k*d+j], want)
				}
			}
		}
	}
}

// devBackend digs the CUDA backend out of the graph.Backend Open returns.
func devBackend(t *testing.T, b graph.Backend) *backend {
	t.Helper()
	cb, ok := plan.Unwrap(b).(*backend)
	if !ok {
		t.Fatalf("%T is not the CUDA backend", b)
	}
	return cb
}
