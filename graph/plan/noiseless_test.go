package plan

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/vec"
)

// TestNoiselessEpochsReadOneBuffer trains autoencoders without noise through the CPU's
// device-data path, whose steps read the clean batch for the corrupted one (cleanForNoisy),
// and through Step with the same batches in both inputs: losses and weights must be the same
// bits.
func TestNoiselessEpochsReadOneBuffer(t *testing.T) {
	const d, hidden, batch, batches = 60, 16, 8, 5
	for _, tc := range []struct {
		name   string
		act    graph.Activation
		cost   graph.Cost
		pixels bool // images of bytes over 255, which the CPU's gather reads as bytes
	}{
		{"ae relu", graph.ReLU, graph.Cost{Loss: graph.MSE}, false},
		{"ae relu pixels", graph.ReLU, graph.Cost{Loss: graph.MSE}, true},
		{"ae sigmoid bce", graph.Sigmoid, graph.Cost{Loss: graph.BCE}, false},
		{"cae pixels", graph.Sigmoid, graph.Cost{Loss: graph.MSE, Contractive: 0.1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func() (*graph.Program, graph.Executor) {
				rng := rand.New(rand.NewPCG(5, 5))
				p, err := oneLayer(rng, d, hidden, batch, tc.act, tc.cost)
				if err != nil {
					t.Fatal(err)
				}
				ex, err := New(NewCPU()).Compile(p, graph.Adam{LR: 0.01})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ex.Close() })
				return p, ex
			}
			stepped, byStep := build()
			epoched, byEpoch := build()
			if _, ok := byEpoch.(*executor).cleanForNoisy(); !ok {
				t.Fatal("the training program's steps do not read the corrupted batch as cleanForNoisy expects")
			}
			rng := rand.New(rand.NewPCG(6, 6))
			images := make([]float32, (batch*batches+3)*d)
			for i := range images {
				images[i] = rng.Float32()
				if tc.pixels {
					images[i] = float32(rng.IntN(256)) / 255
				}
			}
			if got := pixelBytes(images) != nil; got != (tc.pixels && vec.FastPixels()) {
				t.Fatalf("pixelBytes reads the images as bytes: %v", got)
			}
			dd := byEpoch.(graph.DeviceData)
			if err := dd.SetData(images, d, datasets.Noise{}, 1); err != nil {
				t.Fatal(err)
			}
			order := make([]int32, batch*batches)
			for i, j := range rng.Perm(len(images) / d)[:len(order)] {
				order[i] = int32(j)
			}
			if err := dd.StartEpoch(order, 0); err != nil {
				t.Fatal(err)
			}
			if err := dd.StepBatches(batches); err != nil {
				t.Fatal(err)
			}
			losses, err := dd.Losses()
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, batch*d)
			for s := range batches {
				for k, i := range order[s*batch : (s+1)*batch] {
					copy(x[k*d:(k+1)*d], images[int(i)*d:(int(i)+1)*d])
				}
				want, err := byStep.Step(x, x)
				if err != nil {
					t.Fatal(err)
				}
				if losses[s] != want {
					t.Fatalf("step %d: loss %g, by Step %g", s+1, losses[s], want)
				}
			}
			for _, ex := range []graph.Executor{byStep, byEpoch} {
				if err := ex.SyncParams(); err != nil {
					t.Fatal(err)
				}
			}
			for i, p := range stepped.Params {
				if !slices.Equal(p.Data, epoched.Params[i].Data) {
					t.Errorf("%s differs after the epoch", p.Name)
				}
			}
		})
	}
}

// TestPixelBytes reads images as bytes only when every value is one over 255, bit for bit.
func TestPixelBytes(t *testing.T) {
	if !vec.FastPixels() {
		t.Skip("no vector loop for pixels here: images stay floats")
	}
	negZero := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		name   string
		values []float32
		want   []byte
	}{
		{"pixels", []float32{0, 1, 51.0 / 255, float32(128) / 255}, []byte{0, 255, 51, 128}},
		{"a float between pixels", []float32{0, 0.5}, nil},
		{"above one", []float32{1.5}, nil},
		{"negative", []float32{-1.0 / 255}, nil},
		{"negative zero", []float32{negZero, 1}, nil},
		{"NaN", []float32{float32(math.NaN())}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pixelBytes(tc.values); !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("pixelBytes(%v) = %v, want %v", tc.values, got, tc.want)
			}
		})
	}
}
