package train

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

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
			WeightDecay: cfg.Adam.WeightDecay, LRSchedule: cfg.Schedule.spec(), Warmup: cfg.Schedule.Warmup, Walkback: cfg.Walkback, Optimizer: optimizerName(cfg.Adam), Momentum: cfg.Adam.Momentum, Seed: cfg.Seed, Device: device, TrainLimit: job.TrainLimit, Patience: cfg.Patience, Keep: cfg.Keep},
		Data: models.NewDataInfo(job.Set),
	}}, nil
}

// NewModel makes a model of spec (whose Layers are the hidden sizes; the input size comes
// from the data) and trains it end to end on job.Set, writing the checkpoint and the
// optimiser's state beside it after every epoch. The returned model is the one on disk, also
// when the error wraps models.ErrInterrupted or models.ErrDiverged (then with the epochs
// completed so far).
func NewModel(ctx context.Context, backend graph.Backend, spec models.Spec, job Job) (*models.Model, error) {
	m, err := startModel(spec, job, models.ProcedureTrain, backend.Name())
	if err != nil {
		return nil, err
	}
	return m, trainModel(ctx, backend, m, job, job.Config.WithDefaults(), nil)
}

// trainModel trains m end to end for cfg.Epochs epochs in all, going on from from.
func trainModel(ctx context.Context, backend graph.Backend, m *models.Model, job Job, cfg Config, from *Resume) error {
	rec := &m.Record
	h := withSave(job.Progress.hooks("train"), func(st models.EpochStats) error {
		rec.History = append(rec.History, st)
		rec.Training.Seconds += st.Seconds
		return models.Save(job.Path, m)
	})
	ae := m.AE.Graph()
	_, err := Autoencoder(ctx, backend, ae, m.AE.Spec.Cost(), Run{Train: job.Set.Train, Val: job.Set.Validation, Noise: m.AE.Spec.Noise,
		Config: cfg, Hooks: h, From: from, SaveState: saveState(job, stageTrain, ae.Params())})
	if err != nil {
		return err
	}
	return finished(job, m, &rec.Training.KeptEpoch, &rec.Training.StoppedEarly, cfg, rec.History)
}

// finished records how training ended — early, by the patience, and with which epoch's
// weights — and, when either differs from the checkpoint on disk (the last epoch's, with no
// such note), writes the checkpoint again.
func finished(job Job, m *models.Model, kept *int, early *bool, cfg Config, history []models.EpochStats) error {
	if len(history) == 0 {
		return nil
	}
	last := history[len(history)-1].Epoch
	*early, *kept = last < cfg.Epochs, 0
	if e := KeptEpoch(cfg, history); e != last {
		*kept = e
	}
	if *early || *kept != 0 {
		return models.Save(job.Path, m)
	}
	return nil
}

// The stages an optimiser state belongs to.
const (
	stageTrain    = "train"
	stageFinetune = "finetune"
)

func stageLevel(l int) string { return fmt.Sprintf("level %d", l) }

// saveState returns what keeps the optimiser's state of a stage beside job's checkpoint.
func saveState(job Job, stage string, params []*graph.Param) func(int, graph.AdamState) error {
	if job.Path == "" {
		return nil
	}
	return func(epochs int, s graph.AdamState) error {
		path := models.OptimizerPath(job.Path)
		if err := os.Rename(path, models.PreviousOptimizerPath(job.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("models: keep the optimiser's state of the epoch before: %w", err)
		}
		return models.SaveOptimizer(path, models.OptimizerRecord{Stage: stage, Epochs: epochs}, params, s)
	}
}

// NewStack makes a model of spec and pretrains it greedily on job.Set,
// job.Config.Epochs epochs per level, writing the checkpoint and the optimiser's state
// after every epoch of every level.
func NewStack(ctx context.Context, backend graph.Backend, spec models.Spec, job Job) (*models.Model, error) {
	m, err := startModel(spec, job, models.ProcedurePretrain, backend.Name())
	if err != nil {
		return nil, err
	}
	return m, pretrainModel(ctx, backend, m, job, job.Config.WithDefaults(), nil)
}

// pretrainModel pretrains m's levels cfg.Epochs epochs each, going on from from.
func pretrainModel(ctx context.Context, backend graph.Backend, m *models.Model, job Job, cfg Config, from *PretrainResume) error {
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
	if job.Path != "" {
		hooks.SaveState = func(l, epochs int, s graph.AdamState) error {
			return saveState(job, stageLevel(l), m.AE.Level(l).Params())(epochs, s)
		}
	}
	levels, err := PretrainFrom(ctx, backend, m.AE, job.Set.Train, job.Set.Validation, cfg, hooks, from)
	if err != nil {
		return err
	}
	for _, l := range levels {
		if l.KeptEpoch != 0 || l.StoppedEarly { // the checkpoint on disk does not say so yet
			rec.Levels = levels
			return models.Save(job.Path, m)
		}
	}
	return nil
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
		LR: cfg.Adam.LR, Seed: cfg.Seed, Device: backend.Name(), Patience: cfg.Patience, Keep: cfg.Keep, Dropout: cfg.Dropout,
		WeightDecay: cfg.Adam.WeightDecay, LRSchedule: cfg.Schedule.spec(), Warmup: cfg.Schedule.Warmup, Walkback: cfg.Walkback,
		Optimizer: optimizerName(cfg.Adam), Momentum: cfg.Adam.Momentum, Refit: cfg.Refit}
	switch objective {
	case models.ObjectiveClassify:
		if set.Train.Labels == nil {
			return fmt.Errorf("models: the data set has no labels to classify")
		}
		ae.Head = ae.NewHead(models.NewRand(cfg.Seed, 0))
	case models.ObjectiveReconstruct:
	default:
		return fmt.Errorf("models: unknown fine-tuning objective %q (want reconstruct or classify)", objective)
	}
	return finetuneModel(ctx, backend, m, job, cfg, noise, nil)
}

// finetuneModel fine-tunes m as its fine-tuning record says, its inputs corrupted by
// noise, cfg.Epochs epochs in all, going on from from.
func finetuneModel(ctx context.Context, backend graph.Backend, m *models.Model, job Job, cfg Config, noise datasets.Noise, from *Resume) error {
	set, ae, ft := job.Set, m.AE, m.Record.Finetune
	var err error
	h := withSave(job.Progress.hooks("finetune"), func(st models.EpochStats) error {
		ft.History = append(ft.History, st)
		ft.Seconds += st.Seconds
		return models.Save(job.Path, m)
	})
	run := Run{Train: set.Train, Val: set.Validation, Noise: noise, Config: cfg, Hooks: h, From: from}
	if ft.Refit {
		run.Train, run.Val = set.TrainAndValidation(), nil
	}
	if ft.Objective == models.ObjectiveClassify {
		layers := ae.Classifier()
		run.SaveState = saveState(job, stageFinetune, graph.StackParams(layers))
		_, err = Classifier(ctx, backend, layers, run)
	} else {
		g := ae.Graph()
		run.SaveState = saveState(job, stageFinetune, g.Params())
		_, err = Autoencoder(ctx, backend, g, ae.Spec.Cost(), run)
	}
	if err != nil {
		return err
	}
	return finished(job, m, &ft.KeptEpoch, &ft.StoppedEarly, cfg, ft.History)
}

// Continue goes on with the training of m, which stopped: m is the checkpoint at job.Path
// as it was last written, and its optimiser's state is beside it. It trains the stage that
// stopped (training, a pretraining level and the levels after it, or fine-tuning) with the
// settings m records, up to job.Config.Epochs epochs in all (per level when pretraining;
// 0 means the number m's record planned), so that a run stopped and continued ends with
// the weights of one that never stopped.
func Continue(ctx context.Context, backend graph.Backend, m *models.Model, job Job) error {
	rec := &m.Record
	if err := m.AE.CheckImages(job.Set.Train); err != nil {
		return err
	}
	if rec.Training.TrainLimit != job.TrainLimit || rec.Data.Checksum != "" && rec.Data.Checksum != job.Set.Checksum() && !(job.Set.IsMNIST() && rec.Data.Name == "MNIST") {
		return fmt.Errorf("models: %s was trained on other data (%s, train limit %d) than it would go on with", job.Path, rec.Data.Name, rec.Training.TrainLimit)
	}
	epochs := func(planned int) int {
		if job.Config.Epochs > 0 {
			return job.Config.Epochs
		}
		return planned
	}
	// from reads the optimiser's state when the stage has begun.
	from := func(stage string, done int, params []*graph.Param) (*Resume, error) {
		if done == 0 {
			return nil, nil
		}
		path := models.OptimizerPath(job.Path)
		orec, state, err := models.LoadOptimizer(path, params)
		if err != nil {
			return nil, fmt.Errorf("%w (the optimiser's state is needed to go on exactly)", err)
		}
		if orec.Stage != stage || orec.Epochs != done { // stopped between the state's write and the checkpoint's?
			prev, prevState, perr := models.LoadOptimizer(models.PreviousOptimizerPath(job.Path), params)
			if perr != nil || prev.Stage != stage || prev.Epochs != done {
				return nil, fmt.Errorf("models: %s is the optimiser's state after %s epoch %d, but %s stopped after %s epoch %d",
					path, orec.Stage, orec.Epochs, job.Path, stage, done)
			}
			state = prevState
		}
		return &Resume{Epochs: done, Adam: state}, nil
	}
	withHistory := func(r *Resume, h []models.EpochStats) *Resume {
		if r != nil {
			r.History = h
		}
		return r
	}
	if rec.Training.StoppedEarly || rec.Finetune != nil && rec.Finetune.StoppedEarly {
		return fmt.Errorf("models: %s stopped early, its patience run out: there is nothing to go on with", job.Path)
	}
	t := rec.Training
	cfg := Config{Batch: t.Batch, Adam: recordedAdam(t.LR, t.WeightDecay, t.Optimizer, t.Momentum), Seed: t.Seed, Patience: t.Patience, Keep: t.Keep, Walkback: t.Walkback}
	var err error
	if cfg.Schedule, err = recordedSchedule(t.LRSchedule, t.Warmup); err != nil {
		return err
	}
	switch {
	case rec.Finetune != nil:
		ft := rec.Finetune
		cfg = Config{Epochs: epochs(ft.Epochs), Batch: ft.Batch, Adam: recordedAdam(ft.LR, ft.WeightDecay, ft.Optimizer, ft.Momentum), Seed: ft.Seed, Patience: ft.Patience, Keep: ft.Keep, Dropout: ft.Dropout,
			Walkback: ft.Walkback}
		if cfg.Schedule, err = recordedSchedule(ft.LRSchedule, ft.Warmup); err != nil {
			return err
		}
		params := m.AE.Graph().Params()
		if ft.Objective == models.ObjectiveClassify {
			if m.AE.Head == nil {
				return fmt.Errorf("models: %s is fine-tuned to classify but has no classifier head", job.Path)
			}
			params = graph.StackParams(m.AE.Classifier())
		}
		r, err := from(stageFinetune, len(ft.History), params)
		if err != nil {
			return err
		}
		noise, err := datasets.ParseNoise(ft.Noise)
		if err != nil {
			return fmt.Errorf("models: %s: the fine-tuning's noise: %w", job.Path, err)
		}
		ft.Epochs = cfg.Epochs
		return finetuneModel(ctx, backend, m, job, cfg, noise, withHistory(r, ft.History))
	case t.Procedure == models.ProcedurePretrain:
		cfg.Epochs = epochs(t.Epochs)
		resume := &PretrainResume{Levels: rec.Levels}
		if l := len(rec.Levels); l > 0 && len(rec.Levels[l-1].History) < cfg.Epochs {
			r, err := from(stageLevel(l), len(rec.Levels[l-1].History), m.AE.Level(l).Params())
			if err != nil {
				return err
			}
			if r != nil {
				resume.Adam = r.Adam
			}
		}
		rec.Training.Epochs = cfg.Epochs
		return pretrainModel(ctx, backend, m, job, cfg, resume)
	default:
		cfg.Epochs = epochs(t.Epochs)
		r, err := from(stageTrain, len(rec.History), m.AE.Graph().Params())
		if err != nil {
			return err
		}
		rec.Training.Epochs = cfg.Epochs
		return trainModel(ctx, backend, m, job, cfg, withHistory(r, rec.History))
	}
}
