package train

import (
	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// dropout draws the masks of a classifier's hidden layers (graph.NewClassifierTrainingProgram
// with dropout): each unit is dropped (0) with probability p, independently, and the others
// are scaled by 1/(1−p) so that a unit's expected output is what evaluation, which drops
// nothing, sees. The masks are counter-based like the corruption (datasets.Noise.ApplyAt),
// from a seed per layer, so a step's masks depend only on the seed and the step: a resumed
// run draws the same ones as an uninterrupted one.
type dropout struct {
	p     float64
	seeds []uint64    // one per hidden layer
	masks [][]float32 // B×width each, reused
	ones  [][]float32
}

// newDropout prepares the masks of layers' hidden layers for batches of cfg.Batch; with no
// dropout it draws none.
func newDropout(layers []*graph.Dense, cfg Config) *dropout {
	m := &dropout{p: cfg.Dropout}
	if cfg.Dropout == 0 {
		return m
	}
	rng := models.NewRand(cfg.Seed, models.StreamDropout)
	for _, l := range layers[:len(layers)-1] {
		n := cfg.Batch * l.Out()
		ones := make([]float32, n)
		for i := range ones {
			ones[i] = 1
		}
		m.seeds = append(m.seeds, rng.Uint64())
		m.masks = append(m.masks, make([]float32, n))
		m.ones = append(m.ones, ones)
	}
	return m
}

// draw returns the masks of the step counter numbers (the slices are reused by the next
// draw).
func (m *dropout) draw(counter uint32) [][]float32 {
	if m.p == 0 {
		return nil
	}
	keep := float32(1 / (1 - m.p))
	drop := datasets.Noise{Kind: datasets.Mask, Level: m.p}
	for l, mask := range m.masks {
		drop.ApplyAt(mask, m.ones[l], m.seeds[l], counter)
		for i, v := range mask {
			mask[i] = v * keep
		}
	}
	return m.masks
}
