package train

import (
	"context"
	"fmt"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// PretrainHooks are called by Pretrain; nil hooks are skipped.
type PretrainHooks struct {
	// Level returns the training hooks (progress) of level l of levels.
	Level func(level, levels int) Hooks
	// EpochEnd is called after every epoch of every level with the records so far, the
	// current level's last; an error stops pretraining.
	EpochEnd func(levels []models.LevelRecord) error
	// SaveState is given the optimiser's state of level l after each of its epochs
	// (epochs done so far), before EpochEnd.
	SaveState func(level, epochs int, s graph.AdamState) error
}

// PretrainResume is where a stopped pretraining goes on from: the records of the levels
// begun (the last may be unfinished; the parameters hold what they held then) and, for an
// unfinished level, its optimiser's state.
type PretrainResume struct {
	Levels []models.LevelRecord
	Adam   graph.AdamState
}

// Pretrain trains ae greedily, one level at a time (Bengio et al., 2007; Vincent et al.,
// 2010). Level 1 is the single-layer autoencoder of the images; level l > 1 is the
// single-layer autoencoder of the clean codes that the trained encoders 1…l−1 give. A models.DAE
// corrupts each level's input (the images with models.Spec.Noise, codes with models.Spec.LevelNoise); a
// models.CAE penalises each level's Jacobian. Each level trains cfg.Epochs epochs.
//
// On an error the records of the completed epochs are returned with it, and the parameters
// hold the last completed epoch, as with Train.
func Pretrain(ctx context.Context, backend graph.Backend, ae *models.Autoencoder, train, val *datasets.Images,
	cfg Config, hooks PretrainHooks) ([]models.LevelRecord, error) {
	return PretrainFrom(ctx, backend, ae, train, val, cfg, hooks, nil)
}

// PretrainFrom is Pretrain going on from a stopped pretraining (nil: from the start); the
// levels it makes, and their batches and noise, are those the first would have gone on
// with.
func PretrainFrom(ctx context.Context, backend graph.Backend, ae *models.Autoencoder, train, val *datasets.Images,
	cfg Config, hooks PretrainHooks, from *PretrainResume) ([]models.LevelRecord, error) {
	spec := ae.Spec
	levels := spec.Depth()
	var records []models.LevelRecord
	var done []models.LevelRecord
	if from != nil {
		if len(from.Levels) > levels {
			return nil, fmt.Errorf("models: %d levels pretrained, the model has %d", len(from.Levels), levels)
		}
		done = from.Levels
	}
	levelTrain, levelVal := train, val
	for l := 1; l <= levels; l++ {
		var resume *Resume
		if l <= len(done) {
			prior := done[l-1]
			if len(prior.History) >= cfg.Epochs || prior.StoppedEarly {
				records = append(records, prior)
				continue
			}
			if l < len(done) { // the levels after it learnt from its codes as they were
				return records, fmt.Errorf("models: level %d was pretrained %d epochs and level %d after it; it cannot be pretrained longer without the levels after it again: pretrain the stack anew",
					l, len(prior.History), l+1)
			}
			if len(prior.History) > 0 {
				resume = &Resume{Epochs: len(prior.History), Adam: from.Adam, History: prior.History}
			}
		}
		if l > 1 {
			var err error
			if levelTrain, err = models.Encode(ctx, backend, ae.Encoder[:l-1], train); err != nil {
				return records, err
			}
			if levelVal, err = models.Encode(ctx, backend, ae.Encoder[:l-1], val); err != nil {
				return records, err
			}
		}
		obj, noise := graph.Cost{Loss: graph.MSE, Contractive: spec.Lambda}, spec.LevelNoise
		if l == 1 {
			obj.Loss, noise = spec.Loss, spec.Noise
		}
		record := models.LevelRecord{Level: l, Layers: [2]int{spec.Layers[l-1], spec.Layers[l]}, Noise: noise.String(), Loss: obj.Loss}
		if resume != nil {
			record.History = done[l-1].History
		}
		records = append(records, record)
		var h Hooks
		if hooks.Level != nil {
			h = hooks.Level(l, levels)
		}
		progressEnd := h.EpochEnd
		h.EpochEnd = func(st models.EpochStats) error {
			records[l-1].History = append(records[l-1].History, st)
			if progressEnd != nil {
				if err := progressEnd(st); err != nil {
					return err
				}
			}
			if hooks.EpochEnd != nil {
				return hooks.EpochEnd(records)
			}
			return nil
		}
		levelCfg := cfg
		levelCfg.Seed = cfg.Seed ^ uint64(l)<<40 // each level its own shuffling and noise
		run := Run{Train: levelTrain, Val: levelVal, Noise: noise, Config: levelCfg, Hooks: h, From: resume}
		if hooks.SaveState != nil {
			run.SaveState = func(epochs int, st graph.AdamState) error { return hooks.SaveState(l, epochs, st) }
		}
		if _, err := Autoencoder(ctx, backend, ae.Level(l), obj, run); err != nil {
			return records, fmt.Errorf("%w (pretraining level %d of %d)", err, l, levels)
		}
		if h := records[l-1].History; len(h) > 0 {
			records[l-1].StoppedEarly, records[l-1].KeptEpoch = h[len(h)-1].Epoch < levelCfg.Epochs, 0
			if e := KeptEpoch(levelCfg, h); e != h[len(h)-1].Epoch {
				records[l-1].KeptEpoch = e
			}
			// On disk at once: how the level ended, and the weights it kept.
			if (records[l-1].StoppedEarly || records[l-1].KeptEpoch != 0) && hooks.EpochEnd != nil {
				if err := hooks.EpochEnd(records); err != nil {
					return records, err
				}
			}
		}
	}
	return records, nil
}
