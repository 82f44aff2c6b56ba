package study

import (
	"context"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// Digits are test digits shown in figures: one of each class in turn, and their corruption.
type Digits struct {
	Clean, Noisy *datasets.Images
	Noise        datasets.Noise
}

// PickDigits picks n test digits, a class each in turn (draws from seed), and corrupts them
// by noise.
func PickDigits(test *datasets.Images, n int, noise datasets.Noise, seed uint64) Digits {
	picked := datasets.PickByClass(test, n, models.NewRand(seed, 0))
	noisy := &datasets.Images{Rows: picked.Rows, Cols: picked.Cols, Pixels: make([]float32, len(picked.Pixels))}
	noise.ApplyImages(noisy.Pixels, picked.Pixels, picked.Dim(), models.NewRand(seed, 1))
	return Digits{Clean: picked, Noisy: noisy, Noise: noise}
}

// Reconstruction is how one model reconstructs Digits.
type Reconstruction struct {
	Name      string    // the model's name, the label of its rows
	FromClean []float32 // N×D, from the clean digits
	FromNoisy []float32 // N×D, from the noisy ones; nil without noise
}

// Reconstruct returns how ae, called name, reconstructs the clean digits and, unless there
// is no noise, the noisy ones.
func (d Digits) Reconstruct(ctx context.Context, backend graph.Backend, name string, ae graph.Autoencoder) (Reconstruction, error) {
	r := Reconstruction{Name: name}
	var err error
	if r.FromClean, err = models.Reconstruct(ctx, backend, ae, d.Clean); err != nil || d.Noise.IsNone() {
		return r, err
	}
	r.FromNoisy, err = models.Reconstruct(ctx, backend, ae, d.Noisy)
	return r, err
}
