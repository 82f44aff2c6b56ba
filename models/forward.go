package models

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// evalBatch is the batch size of evaluation programs; inputs are padded to a multiple.
const evalBatch = 500

// Forward runs a stack of layers over whole image sets on a backend, in batches of 500; the
// last batch is padded and its padding ignored.
type Forward struct {
	ex     graph.Executor
	layers []*graph.Dense
	d      int
	batch  []float32 // evalBatch × D
}

// NewForward compiles the stack of layers on backend; Close releases it.
func NewForward(backend graph.Backend, layers []*graph.Dense) (*Forward, error) {
	prog, err := graph.NewStackProgram(layers, evalBatch)
	if err != nil {
		return nil, err
	}
	ex, err := backend.Compile(prog, graph.Adam{})
	if err != nil {
		return nil, err
	}
	d := layers[0].In()
	return &Forward{ex: ex, layers: layers, d: d, batch: make([]float32, evalBatch*d)}, nil
}

// Close releases what the stack holds on its backend.
func (f *Forward) Close() error { return f.ex.Close() }

// Outputs are one batch's results: rows [0, N) of each are valid.
type Outputs struct {
	N      int
	Offset int         // index of the batch's first image in the set
	Input  []float32   // N × D, what was fed (corrupted, when noise applies)
	Layers [][]float32 // each layer's output, N × Out_i
}

// Last returns the last layer's output.
func (o Outputs) Last() []float32 { return o.Layers[len(o.Layers)-1] }

// Run feeds images (corrupted by noise drawn from rng, unless noise is none) and calls fn
// for each batch.
func (f *Forward) Run(ctx context.Context, images *datasets.Images, noise datasets.Noise, rng *rand.Rand, fn func(Outputs) error) error {
	n := images.Len()
	if images.Dim() != f.d {
		return fmt.Errorf("models: the model takes %d inputs but the images have %d values", f.d, images.Dim())
	}
	for lo := 0; lo < n; lo += evalBatch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("models: %w", ErrInterrupted)
		}
		hi := min(lo+evalBatch, n)
		rows := hi - lo
		noise.ApplyImages(f.batch[:rows*f.d], images.Pixels[lo*f.d:hi*f.d], f.d, rng)
		clear(f.batch[rows*f.d:])
		if err := f.ex.Run(f.batch); err != nil {
			return err
		}
		out := Outputs{N: rows, Offset: lo, Input: f.batch[:rows*f.d]}
		for i, l := range f.layers {
			out.Layers = append(out.Layers, f.ex.Output(i)[:rows*l.Out()])
		}
		if err := fn(out); err != nil {
			return err
		}
	}
	return nil
}

// Collect runs images through the stack and returns layer i's output for every image, as
// an image set of 1×Out_i "images" carrying the same labels.
func (f *Forward) Collect(ctx context.Context, images *datasets.Images, layer int) (*datasets.Images, error) {
	width := f.layers[layer].Out()
	out := &datasets.Images{Rows: 1, Cols: width, Pixels: make([]float32, 0, images.Len()*width), Labels: images.Labels}
	err := f.Run(ctx, images, datasets.Noise{}, nil, func(o Outputs) error {
		out.Pixels = append(out.Pixels, o.Layers[layer]...)
		return nil
	})
	return out, err
}

// Loss returns the mean reconstruction loss of the clean images (the stack's last layer
// reconstructs its input).
func (f *Forward) Loss(ctx context.Context, images *datasets.Images, kind graph.Loss) (float64, error) {
	var sum float64
	err := f.Run(ctx, images, datasets.Noise{}, nil, func(o Outputs) error {
		sum += LossSum(kind, o.Last(), o.Input)
		return nil
	})
	return sum / float64(len(images.Pixels)), err
}

// LossSum returns the summed per-value loss of recon against target.
func LossSum(kind graph.Loss, recon, target []float32) float64 {
	var s float64
	switch kind {
	case graph.BCE:
		const eps = 1e-7
		for i, r := range recon {
			p := math.Min(math.Max(float64(r), eps), 1-eps)
			x := float64(target[i])
			s -= x*math.Log(p) + (1-x)*math.Log(1-p)
		}
	default:
		for i, r := range recon {
			e := float64(r - target[i])
			s += e * e
		}
	}
	return s
}

// Reconstruct returns the reconstructions of images (N×D), fed as they are.
func Reconstruct(ctx context.Context, backend graph.Backend, ae graph.Autoencoder, images *datasets.Images) ([]float32, error) {
	fwd, err := NewForward(backend, ae.Layers())
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	recon, err := fwd.Collect(ctx, images, len(ae.Layers())-1)
	if err != nil {
		return nil, err
	}
	return recon.Pixels, nil
}

// Encode returns the output of the last of layers for every image, as 1×H "images" with
// the same labels.
func Encode(ctx context.Context, backend graph.Backend, layers []*graph.Dense, images *datasets.Images) (*datasets.Images, error) {
	fwd, err := NewForward(backend, layers)
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	return fwd.Collect(ctx, images, len(layers)-1)
}

// Classify returns the mean cross-entropy and the accuracy of a classifier stack (its last
// layer gives logits) on labelled images.
func (f *Forward) Classify(ctx context.Context, images *datasets.Images) (loss, accuracy float64, err error) {
	var ce float64
	correct := 0
	c := f.layers[len(f.layers)-1].Out()
	err = f.Run(ctx, images, datasets.Noise{}, nil, func(o Outputs) error {
		logits := o.Last()
		for i := range o.N {
			z := logits[i*c : (i+1)*c]
			best, lse := ArgmaxLogSumExp(z)
			label := int(images.Labels[o.Offset+i])
			ce += lse - float64(z[label])
			if best == label {
				correct++
			}
		}
		return nil
	})
	n := float64(images.Len())
	return ce / n, float64(correct) / n, err
}

// ArgmaxLogSumExp returns the index of the largest logit and log Σ exp(z).
func ArgmaxLogSumExp(z []float32) (int, float64) {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	m := float64(z[best])
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	return best, m + math.Log(s)
}
