package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// walkbackSalt separates walkback's draws from the batch's own corruption.
const walkbackSalt = 0x94D049BB133111EB

// MaxWalkback is the most rounds of walkback a step may take.
const MaxWalkback = 100

// walkback makes the inputs of walkback training (Bengio et al. 2013, "Generalized
// denoising auto-encoders as generative models", §3.3): besides the corrupted example, the
// DAE learns to denoise the points its own chain visits. Each image of a batch goes on,
// with probability ½ a round and for at most rounds rounds, to be reconstructed by the
// current model and corrupted again; the corrupted point where it stops is its input, the
// clean image still its target. The chain's spurious modes away from the data are so
// trained away. Every draw is counter-based, from the seed and the step, so a resumed run
// makes the same inputs.
type walkback struct {
	rounds int
	noise  datasets.Noise
	seed   uint64
	d      int
	fwd    graph.Executor // the autoencoder's layers at the batch size
	out    int            // fwd's output of the reconstruction
	redo   []float32      // a round's corrupted reconstructions
}

// newWalkback compiles ae's layers for batches of batch on backend; Close releases them.
func newWalkback(backend graph.Backend, ae graph.Autoencoder, batch, rounds int, noise datasets.Noise, seed uint64) (*walkback, error) {
	if noise.IsNone() {
		return nil, fmt.Errorf("models: walkback needs a corruption to walk with (a dae)")
	}
	layers := ae.Layers()
	prog, err := graph.NewStackProgram(layers, batch)
	if err != nil {
		return nil, err
	}
	fwd, err := backend.Compile(prog, graph.Adam{})
	if err != nil {
		return nil, err
	}
	d := ae.Encoder[0].In()
	return &walkback{rounds: rounds, noise: noise, seed: seed ^ walkbackSalt, d: d, fwd: fwd, out: len(layers) - 1,
		redo: make([]float32, batch*d)}, nil
}

// walk replaces the corrupted images of noisy (the batch of step counter) by the points
// their walks stop at.
func (w *walkback) walk(noisy []float32, counter uint32) error {
	rng := rand.New(rand.NewPCG(w.seed, uint64(counter)))
	walking := make([]bool, len(noisy)/w.d)
	for k := range walking {
		walking[k] = true
	}
	for round := range w.rounds {
		any := false
		for k := range walking {
			walking[k] = walking[k] && rng.Float64() < 0.5
			any = any || walking[k]
		}
		if !any {
			return nil
		}
		if err := w.fwd.Run(noisy); err != nil {
			return err
		}
		w.noise.ApplyImagesAt(w.redo, w.fwd.Output(w.out), w.d, w.seed, counter*uint32(w.rounds)+uint32(round))
		for k, on := range walking {
			if on {
				copy(noisy[k*w.d:(k+1)*w.d], w.redo[k*w.d:(k+1)*w.d])
			}
		}
	}
	return nil
}

// Close releases the compiled layers.
func (w *walkback) Close() error { return w.fwd.Close() }
