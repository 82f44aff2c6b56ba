package train

import (
	"context"
	"fmt"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// DefaultFinetuneLR is the default learning rate of fine-tuning on reconstruction: a tenth
// of pretraining's, so Adam's first steps do not undo what the levels learned.
// DefaultClassifyLR is that of fine-tuning on the labels, whose softmax layer starts from
// random weights.
const (
	DefaultFinetuneLR = 1e-4
	DefaultClassifyLR = 1e-3
)

// FinetuneLR returns the default learning rate of fine-tuning for objective.
func FinetuneLR(objective string) float64 {
	if objective == models.ObjectiveClassify {
		return DefaultClassifyLR
	}
	return DefaultFinetuneLR
}

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
func withSave(h Hooks, save func(models.EpochStats) error) Hooks {
	end := h.EpochEnd
	h.EpochEnd = func(st models.EpochStats) error {
		if end != nil {
			if err := end(st); err != nil {
				return err
			}
		}
		return save(st)
	}
	return h
}

// Job is what a training procedure needs besides the model.
type Job struct {
	Set        *datasets.Set
	Config     Config
	TrainLimit int      // recorded: training used only the first N images (0: all)
	Path       string   // the checkpoint, written after every epoch
	ConfigHash string   // recorded, so the checkpoint can be recognised later
	Progress   Progress // nil shows nothing
}

// startModel starts a model of spec (its first layer sized to the data) with its record.
func startModel(spec models.Spec, job Job, procedure, device string) (*models.Model, error) {
	spec.Layers = append([]int{job.Set.Train.Dim()}, spec.Layers...)
	ae, err := models.New(spec, models.InitRand(job.Config.Seed))
	if err != nil {
		return nil, err
	}
	cfg := job.Config.WithDefaults()
	return &models.Model{AE: ae, Record: models.Record{
		ConfigHash: job.ConfigHash,
		Training: models.TrainingSettings{Procedure: procedure, Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.Adam.LR,
			Seed: cfg.Seed, Device: device, TrainLimit: job.TrainLimit},
		Data: models.NewDataInfo(job.Set),
	}}, nil
}

// NewModel makes a model of spec (whose Layers are the hidden sizes; the input size comes
// from the data) and trains it end to end on job.Set, writing the checkpoint after every
// epoch. The returned model is the one on disk, also when the error wraps models.ErrInterrupted or
// models.ErrDiverged (then with the epochs completed so far).
func NewModel(ctx context.Context, backend graph.Backend, spec models.Spec, job Job) (*models.Model, error) {
	m, err := startModel(spec, job, models.ProcedureTrain, backend.Name())
	if err != nil {
		return nil, err
	}
	rec := &m.Record
	h := withSave(job.Progress.hooks("train"), func(st models.EpochStats) error {
		rec.History = append(rec.History, st)
		rec.Training.Seconds += st.Seconds
		return models.Save(job.Path, m)
	})
	_, err = Autoencoder(ctx, backend, m.AE.Graph(), m.AE.Spec.Cost(), Run{Train: job.Set.Train, Val: job.Set.Validation, Noise: m.AE.Spec.Noise, Config: job.Config, Hooks: h})
	return m, err
}

// NewStack makes a model of spec and pretrains it greedily on job.Set,
// job.Config.Epochs epochs per level, writing the checkpoint after every epoch of every level.
func NewStack(ctx context.Context, backend graph.Backend, spec models.Spec, job Job) (*models.Model, error) {
	m, err := startModel(spec, job, models.ProcedurePretrain, backend.Name())
	if err != nil {
		return nil, err
	}
	rec := &m.Record
	hooks := PretrainHooks{
		Level: func(level, levels int) Hooks {
			return withSave(job.Progress.hooks(fmt.Sprintf("level %d/%d", level, levels)), func(st models.EpochStats) error {
				rec.Training.Seconds += st.Seconds
				return nil
			})
		},
		EpochEnd: func(levels []models.LevelRecord) error {
			rec.Levels = levels
			return models.Save(job.Path, m)
		},
	}
	_, err = Pretrain(ctx, backend, m.AE, job.Set.Train, job.Set.Validation, job.Config, hooks)
	return m, err
}

// Finetune fine-tunes a pretrained model in place, on reconstruction of inputs
// corrupted by noise or (objective classify) on the labels through a new softmax head,
// writing the checkpoint after every epoch.
func Finetune(ctx context.Context, backend graph.Backend, m *models.Model, objective string, noise datasets.Noise, job Job) error {
	set, cfg := job.Set, job.Config.WithDefaults()
	if len(m.Record.Levels) == 0 {
		return fmt.Errorf("models: the model is not a pretrained stack (it was made by %q)", m.Record.Procedure())
	}
	if m.Record.Finetune != nil {
		return fmt.Errorf("models: the model is already fine-tuned (%s)", m.Record.Procedure())
	}
	if err := m.AE.CheckImages(set.Train); err != nil {
		return err
	}
	ae, rec := m.AE, &m.Record
	if job.ConfigHash != "" {
		rec.ConfigHash = job.ConfigHash
	}
	rec.Finetune = &models.FinetuneRecord{Objective: objective, Noise: noise.String(), Epochs: cfg.Epochs, Batch: cfg.Batch,
		LR: cfg.Adam.LR, Seed: cfg.Seed, Device: backend.Name()}
	h := withSave(job.Progress.hooks("finetune"), func(st models.EpochStats) error {
		rec.Finetune.History = append(rec.Finetune.History, st)
		rec.Finetune.Seconds += st.Seconds
		return models.Save(job.Path, m)
	})
	switch objective {
	case models.ObjectiveClassify:
		if set.Train.Labels == nil {
			return fmt.Errorf("models: the data set has no labels to classify")
		}
		ae.Head = ae.NewHead(models.NewRand(cfg.Seed, 0))
		_, err := Classifier(ctx, backend, ae.Classifier(), Run{Train: set.Train, Val: set.Validation, Noise: noise, Config: cfg, Hooks: h})
		return err
	case models.ObjectiveReconstruct:
		_, err := Autoencoder(ctx, backend, ae.Graph(), ae.Spec.Cost(), Run{Train: set.Train, Val: set.Validation, Noise: noise, Config: cfg, Hooks: h})
		return err
	}
	return fmt.Errorf("models: unknown fine-tuning objective %q (want reconstruct or classify)", objective)
}
