package models

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// forward runs an autoencoder's forward program over whole image sets, in batches of
// evalBatch; the last batch is padded and its padding ignored.
type forward struct {
	ex    graph.Executor
	depth int
	d     int
	batch []float32 // evalBatch × D
}

func newForward(backend graph.Backend, ae graph.Autoencoder) (*forward, error) {
	prog, err := graph.NewForwardProgram(ae, evalBatch)
	if err != nil {
		return nil, err
	}
	ex, err := backend.Compile(prog, graph.Adam{})
	if err != nil {
		return nil, err
	}
	d := ae.Encoder[0].In()
	return &forward{ex: ex, depth: len(ae.Encoder), d: d, batch: make([]float32, evalBatch*d)}, nil
}

func (f *forward) Close() error { return f.ex.Close() }

// outputs are one batch's results: rows [0, n) of each are valid.
type outputs struct {
	n      int
	input  []float32   // n × D, what was fed (corrupted, when noise applies)
	codes  [][]float32 // per encoder layer, n × H_i
	recon  []float32   // n × D
	offset int         // index of the batch's first image in the set
}

// run feeds images [0, n) (corrupted by noise drawn from rng, unless noise is none) and
// calls fn for each batch.
func (f *forward) run(ctx context.Context, images *datasets.Images, noise datasets.Noise, rng *rand.Rand, fn func(outputs) error) error {
	n := images.Len()
	if images.Dim() != f.d {
		return fmt.Errorf("models: the model takes %d inputs but the images have %d pixels", f.d, images.Dim())
	}
	for lo := 0; lo < n; lo += evalBatch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("models: %w", ErrInterrupted)
		}
		hi := min(lo+evalBatch, n)
		rows := hi - lo
		src := images.Pixels[lo*f.d : hi*f.d]
		noise.Apply(f.batch[:rows*f.d], src, rng)
		clear(f.batch[rows*f.d:])
		if err := f.ex.Run(f.batch); err != nil {
			return err
		}
		out := outputs{n: rows, input: f.batch[:rows*f.d], offset: lo}
		for i := range f.depth {
			c := f.ex.Output(i)
			out.codes = append(out.codes, c[:rows*(len(c)/evalBatch)])
		}
		out.recon = f.ex.Output(f.depth)[:rows*f.d]
		if err := fn(out); err != nil {
			return err
		}
	}
	return nil
}

// loss returns the mean reconstruction loss of the clean images.
func (f *forward) loss(ctx context.Context, images *datasets.Images, kind graph.Loss) (float64, error) {
	var sum float64
	err := f.run(ctx, images, datasets.Noise{}, nil, func(o outputs) error {
		target := images.Pixels[o.offset*f.d : (o.offset+o.n)*f.d]
		sum += lossSum(kind, o.recon, target)
		return nil
	})
	return sum / float64(len(images.Pixels)), err
}

// lossSum returns the summed per-pixel loss of recon against target.
func lossSum(kind graph.Loss, recon, target []float32) float64 {
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
	fwd, err := newForward(backend, ae)
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	recon := make([]float32, 0, len(images.Pixels))
	err = fwd.run(ctx, images, datasets.Noise{}, nil, func(o outputs) error {
		recon = append(recon, o.recon...)
		return nil
	})
	return recon, err
}
