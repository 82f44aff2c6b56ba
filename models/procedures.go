package models

import (
	"context"
	"fmt"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// Procedures name how a model is made.
const (
	ProcedureTrain    = "train"    // end to end from random weights
	ProcedurePretrain = "pretrain" // greedily, level by level
)

// DefaultFinetuneLR is fine-tuning's default learning rate: a tenth of pretraining's, so
// Adam's first steps do not undo what the levels learned.
const DefaultFinetuneLR = 1e-4

// Progress supplies the hooks of each training stage; stage names the stage ("train",
// "level 1/2", "finetune"). A nil Progress shows nothing.
type Progress func(stage string) Hooks

func (p Progress) hooks(stage string) Hooks {
	if p == nil {
		return Hooks{}
	}
	return p(stage)
}

// withSave returns h with save called after h's own EpochEnd.
func withSave(h Hooks, save func(EpochStats) error) Hooks {
	end := h.EpochEnd
	h.EpochEnd = func(st EpochStats) error {
		if end != nil {
			if err := end(st); err != nil {
				return err
			}
		}
		return save(st)
	}
	return h
}

// startModel starts a model of spec (its first layer sized to the data) with its record.
func startModel(spec Spec, set *datasets.Set, cfg TrainConfig, procedure, device string, trainLimit int) (*Model, error) {
	spec.Layers = append([]int{set.Train.Dim()}, spec.Layers...)
	ae, err := New(spec, InitRand(cfg.Seed))
	if err != nil {
		return nil, err
	}
	return &Model{AE: ae, Record: Record{
		Training: TrainingSettings{Procedure: procedure, Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.Adam.LR,
			Seed: cfg.Seed, Device: device, TrainLimit: trainLimit},
		Data: NewDataInfo(set),
	}}, nil
}

// TrainModel makes a model of spec (whose Layers are the hidden sizes; the input size comes
// from the data) and trains it end to end on set, writing the checkpoint to path after
// every epoch. The returned model is the one on disk, also when the error wraps
// ErrInterrupted or ErrDiverged (then with the epochs completed so far).
func TrainModel(ctx context.Context, backend graph.Backend, spec Spec, set *datasets.Set, cfg TrainConfig, trainLimit int,
	path string, progress Progress) (*Model, error) {
	m, err := startModel(spec, set, cfg, ProcedureTrain, backend.Name(), trainLimit)
	if err != nil {
		return nil, err
	}
	rec := &m.Record
	h := withSave(progress.hooks("train"), func(st EpochStats) error {
		rec.History = append(rec.History, st)
		rec.Training.Seconds += st.Seconds
		return Save(path, m)
	})
	_, err = Train(ctx, backend, m.AE.Graph(), m.AE.Spec.Objective(), m.AE.Spec.Noise, set.Train, set.Validation, cfg, h)
	return m, err
}

// PretrainModel makes a model of spec and pretrains it greedily on set, cfg.Epochs epochs
// per level, writing the checkpoint to path after every epoch of every level.
func PretrainModel(ctx context.Context, backend graph.Backend, spec Spec, set *datasets.Set, cfg TrainConfig, trainLimit int,
	path string, progress Progress) (*Model, error) {
	m, err := startModel(spec, set, cfg, ProcedurePretrain, backend.Name(), trainLimit)
	if err != nil {
		return nil, err
	}
	rec := &m.Record
	hooks := PretrainHooks{
		Level: func(level, levels int) Hooks {
			return withSave(progress.hooks(fmt.Sprintf("level %d/%d", level, levels)), func(st EpochStats) error {
				rec.Training.Seconds += st.Seconds
				return nil
			})
		},
		EpochEnd: func(levels []LevelRecord) error {
			rec.Levels = levels
			return Save(path, m)
		},
	}
	_, err = Pretrain(ctx, backend, m.AE, set.Train, set.Validation, cfg, hooks)
	return m, err
}

// FinetuneModel fine-tunes a pretrained model in place, on reconstruction of inputs
// corrupted by noise or (objective classify) on set's labels through a new softmax head,
// writing the checkpoint to path after every epoch.
func FinetuneModel(ctx context.Context, backend graph.Backend, m *Model, objective string, noise datasets.Noise, set *datasets.Set,
	cfg TrainConfig, path string, progress Progress) error {
	if len(m.Record.Levels) == 0 {
		return fmt.Errorf("models: the model is not a pretrained stack (it was made by %q)", m.Record.Procedure())
	}
	if m.Record.Finetune != nil {
		return fmt.Errorf("models: the model is already fine-tuned (%s)", m.Record.Procedure())
	}
	if set.Train.Dim() != m.AE.Spec.Layers[0] {
		return fmt.Errorf("models: the model takes %d inputs but the images have %d pixels", m.AE.Spec.Layers[0], set.Train.Dim())
	}
	ae, rec := m.AE, &m.Record
	rec.Finetune = &FinetuneRecord{Objective: objective, Noise: noise.String(), Epochs: cfg.Epochs, Batch: cfg.Batch,
		LR: cfg.Adam.LR, Seed: cfg.Seed, Device: backend.Name()}
	h := withSave(progress.hooks("finetune"), func(st EpochStats) error {
		rec.Finetune.History = append(rec.Finetune.History, st)
		rec.Finetune.Seconds += st.Seconds
		return Save(path, m)
	})
	switch objective {
	case ObjectiveClassify:
		if set.Train.Labels == nil {
			return fmt.Errorf("models: the data set has no labels to classify")
		}
		ae.Head = ae.NewHead(NewRand(cfg.Seed, 0))
		_, err := TrainClassifier(ctx, backend, ae.Classifier(), noise, set.Train, set.Validation, cfg, h)
		return err
	case ObjectiveReconstruct:
		_, err := Train(ctx, backend, ae.Graph(), ae.Spec.Objective(), noise, set.Train, set.Validation, cfg, h)
		return err
	}
	return fmt.Errorf("models: unknown fine-tuning objective %q (want reconstruct or classify)", objective)
}
