package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

func specFlags(hiddenDefault string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kind", Value: "ae", Usage: "autoencoder kind: ae (plain), dae (denoising) or cae (contractive)"},
		&cli.StringFlag{Name: "hidden", Value: hiddenDefault, Usage: "hidden layer sizes, comma-separated: 128 is one layer, 512,128 a deep stack"},
		&cli.StringFlag{Name: "activation", Value: "relu", Usage: "hidden units: relu, sigmoid, tanh or linear"},
		&cli.StringFlag{Name: "code-activation", Usage: "the top code's units (default: --activation)"},
		&cli.StringFlag{Name: "output-activation", Value: "sigmoid", Usage: "the reconstruction's units"},
		&cli.StringFlag{Name: "loss", Value: "mse", Usage: "reconstruction loss: mse or bce"},
		noiseFlag("training corruption of a dae (default gaussian:0.4)"),
		&cli.Float64Flag{Name: "cae-lambda", Value: models.DefaultLambda, Usage: "weight λ of a cae's contractive penalty"},
	}
}

func trainingFlags(epochsFlag string, epochsDefault int) []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: epochsFlag, Value: epochsDefault, Usage: "passes over the training set"},
		&cli.IntFlag{Name: "batch", Value: train.DefaultBatch, Usage: "images per training step"},
		&cli.Float64Flag{Name: "lr", Value: train.DefaultLR, Usage: "the learning rate"},
		optimizerFlag(),
		momentumFlag(),
		weightDecayFlag(),
		scheduleFlag(),
		warmupFlag(),
		walkbackFlag(),
		patienceFlag(),
		keepFlag(),
		seedFlag(),
		deviceFlag(),
		tf32Flag(),
		gemmFlag(),
		trainLimitFlag(),
		dataDirFlag(),
	}
}

func scheduleFlag() cli.Flag {
	return &cli.StringFlag{Name: "lr-schedule", Value: train.ScheduleConstant, Usage: "the learning rate over the epochs: constant; cosine (half a cosine towards 0); step:N[:γ] (times γ, 0.1 unless given, every N epochs); plateau:N[:γ] (times γ when the validation loss has not improved for N epochs)"}
}

func warmupFlag() cli.Flag {
	return &cli.IntFlag{Name: "warmup", DefaultText: "none", Usage: "the first `N` epochs rise linearly to the learning rate (epoch e takes e/(N+1) of it); the schedule starts after them"}
}

func optimizerFlag() cli.Flag {
	return &cli.StringFlag{Name: "optimizer", Value: train.OptimizerAdam, Usage: "adam (with --weight-decay, AdamW's decoupled decay) or sgd (with --momentum; --weight-decay an L2 penalty), as torch.optim's"}
}

func momentumFlag() cli.Flag {
	return &cli.Float64Flag{Name: "momentum", DefaultText: "none", Usage: "sgd: the momentum μ of v ← μ·v + g"}
}

func walkbackFlag() cli.Flag {
	return &cli.IntFlag{Name: "walkback", DefaultText: "none", Usage: "a dae also learns to denoise the points its own chain visits: each image goes on, with odds ½ a round and for at most `K` rounds, to be reconstructed and corrupted again (walkback training, Bengio et al. 2013)"}
}

func weightDecayFlag() cli.Flag {
	return &cli.Float64Flag{Name: "weight-decay", DefaultText: "none", Usage: "decoupled weight decay λ (AdamW): each step first multiplies every weight by 1 − lr·λ"}
}

func patienceFlag() cli.Flag {
	return &cli.IntFlag{Name: "patience", DefaultText: "none", Usage: "stop once the validation loss has not improved for `N` epochs (per level when pretraining)"}
}

func keepFlag() cli.Flag {
	return &cli.StringFlag{Name: "keep", DefaultText: "best with --patience, else last", Usage: "end with the weights of the best epoch by validation loss (best) or of the last (last)"}
}

func trainCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train an autoencoder (ae, dae or cae; one layer or a deep stack end to end)",
		Flags: append(append(specFlags("128"), trainingFlags("epochs", 5)...),
			&cli.StringFlag{Name: "out", Usage: "checkpoint `FILE` to write (default: KIND-HIDDEN.safetensors)"}, resumeFlag()),
		Action: func(c *cli.Context) error { return trainAction(c, s) },
	}
}

// specFromFlags builds the spec the flags describe.
func specFromFlags(c *cli.Context) (models.Spec, error) {
	kind, err := models.ParseKind(c.String("kind"))
	if err != nil {
		return models.Spec{}, usageError{fmt.Errorf("--kind: %w", err)}
	}
	hidden, err := models.ParseLayers(c.String("hidden"))
	if err != nil {
		return models.Spec{}, usageError{fmt.Errorf("--hidden: %w", err)}
	}
	spec := models.Spec{Kind: kind, Layers: hidden}
	for _, f := range []struct {
		flag string
		dst  *graph.Activation
	}{{"activation", &spec.Activation}, {"code-activation", &spec.Code}, {"output-activation", &spec.Output}} {
		if c.String(f.flag) == "" {
			continue
		}
		if *f.dst, err = graph.ParseActivation(c.String(f.flag)); err != nil {
			return models.Spec{}, usageError{fmt.Errorf("--%s: %w", f.flag, err)}
		}
	}
	if spec.Loss, err = graph.ParseLoss(c.String("loss")); err != nil {
		return models.Spec{}, usageError{fmt.Errorf("--loss: %w", err)}
	}
	if spec.Noise, err = parseNoise(c); err != nil {
		return models.Spec{}, err
	}
	if c.IsSet("noise") && kind != models.DAE && !spec.Noise.IsNone() {
		return models.Spec{}, usagef("--noise is for --kind dae, not %s", kind)
	}
	if c.IsSet("level-noise") {
		if spec.LevelNoise, err = datasets.ParseNoise(c.String("level-noise")); err != nil {
			return models.Spec{}, usageError{fmt.Errorf("--level-noise: %w", err)}
		}
		if kind != models.DAE && !spec.LevelNoise.IsNone() {
			return models.Spec{}, usagef("--level-noise is for --kind dae, not %s", kind)
		}
	}
	if c.IsSet("cae-lambda") {
		if kind != models.CAE {
			return models.Spec{}, usagef("--cae-lambda is for --kind cae, not %s", kind)
		}
		if spec.Lambda = c.Float64("cae-lambda"); !(spec.Lambda > 0) {
			return models.Spec{}, usagef("--cae-lambda must be positive, got %g", spec.Lambda)
		}
	}
	return spec, nil
}

// trainConfigFromFlags reads the epochs flag, --batch, --lr and --seed; an unset --batch
// takes defaultBatch when that is positive.
func trainConfigFromFlags(c *cli.Context, epochsFlag string, defaultBatch int, defaultLR float64) (train.Config, error) {
	cfg := train.Config{Epochs: c.Int(epochsFlag), Batch: c.Int("batch"), Adam: graph.Adam{LR: c.Float64("lr"), WeightDecay: c.Float64("weight-decay")}, Seed: c.Uint64("seed"),
		Patience: c.Int("patience"), Keep: c.String("keep"), Walkback: c.Int("walkback")}
	if !c.IsSet("batch") && defaultBatch > 0 {
		cfg.Batch = defaultBatch
	}
	if !c.IsSet("lr") && defaultLR > 0 {
		cfg.Adam.LR = defaultLR
	}
	renamed := map[string]string{"epochs": epochsFlag, "lr_schedule": "lr-schedule"}
	cfg.Adam.Momentum = c.Float64("momentum")
	if err := train.ParseOptimizer(c.String("optimizer"), &cfg.Adam); err != nil {
		return cfg, settingError(err, renamed)
	}
	if c.IsSet("lr-schedule") {
		s, err := train.ParseSchedule(c.String("lr-schedule"))
		if err != nil {
			return cfg, settingError(err, renamed)
		}
		cfg.Schedule = s
	}
	cfg.Schedule.Warmup = c.Int("warmup")
	if err := cfg.Validate(); err != nil {
		return cfg, settingError(err, renamed)
	}
	return cfg, nil
}

func defaultOut(spec models.Spec) string {
	sizes := make([]string, len(spec.Layers))
	for i, n := range spec.Layers {
		sizes[i] = strconv.Itoa(n)
	}
	return fmt.Sprintf("%s-%s.safetensors", spec.Kind, strings.Join(sizes[1:], "-"))
}

// newRun is what train and pretrain share: the flags read, the data loaded, the output
// checked and the backend opened.
type newRun struct {
	spec    models.Spec // Layers: the hidden sizes
	cfg     train.Config
	set     *datasets.Set
	out     string
	backend graph.Backend
}

func startNewRun(c *cli.Context, s streams, epochsFlag string) (*newRun, error) {
	spec, err := specFromFlags(c)
	if err != nil {
		return nil, err
	}
	cfg, err := trainConfigFromFlags(c, epochsFlag, 0, 0)
	if err != nil {
		return nil, err
	}
	set, err := loadData(c)
	if err != nil {
		return nil, err
	}
	full := spec
	full.Layers = append([]int{set.Train.Dim()}, spec.Layers...)
	if err := full.WithDefaults().Validate(); err != nil {
		return nil, usageError{err}
	}
	out := c.String("out")
	if out == "" {
		out = defaultOut(full)
	}
	if err := checkOutput("out", out); err != nil {
		return nil, err
	}
	backend, err := openBackend(c, s)
	if err != nil {
		return nil, err
	}
	return &newRun{spec: spec, cfg: cfg, set: set, out: out, backend: backend}, nil
}

// job describes the run's training for the models' procedures.
func (r *newRun) job(c *cli.Context, show train.Progress) train.Job {
	return train.Job{Set: r.set, Config: r.cfg, TrainLimit: c.Int("train-limit"), Path: r.out, Progress: show}
}

// progress returns the stage hooks that draw bars and epoch lines on s.Err.
func progress(s streams, batch int) (train.Progress, *trainProgress) {
	p := newTrainProgress(s.Err, batch)
	return func(stage string) train.Hooks {
		p.prefix = ""
		if stage != "train" && stage != "finetune" {
			p.prefix = stage + " "
		}
		return p.hooks(nil)
	}, p
}

func trainAction(c *cli.Context, s streams) error {
	return makeModel(c, s, "epochs", "training %s %s on %d %s images, batch %d, %s\n", train.NewModel,
		func(m *models.Model) string {
			if n := len(m.Record.History); n > 0 {
				return fmt.Sprintf("epoch %d", n)
			}
			return ""
		})
}

// procedure makes a new model: train.NewModel or train.NewStack.
type procedure func(context.Context, graph.Backend, models.Spec, train.Job) (*models.Model, error)

// makeModel runs a procedure that makes a new model, with progress, and reports what it
// wrote; saved says what the checkpoint holds after an interruption ("" for nothing).
func makeModel(c *cli.Context, s streams, epochsFlag, announce string, proc procedure, saved func(*models.Model) string) error {
	if c.IsSet("resume") {
		return resumeAction(c, s, epochsFlag)
	}
	run, err := startNewRun(c, s, epochsFlag)
	if err != nil {
		return err
	}
	defer run.backend.Close()
	fmt.Fprintf(s.Err, announce, run.spec.Kind, joinInts(run.spec.Layers), run.set.Train.Len(), run.set.Name, run.cfg.Batch, plural(run.cfg.Epochs, "epoch"))
	show, bar := progress(s, run.cfg.Batch)
	m, err := proc(c.Context, run.backend, run.spec, run.job(c, show))
	if err != nil {
		bar.abandon()
		if m == nil {
			return err
		}
		what := saved(m)
		return trainingError(err, run.out, what, what != "")
	}
	fmt.Fprintf(s.Out, "wrote %s (%s %s, %d parameters, %s, %.1fs of training)\n",
		run.out, m.AE.Spec.Kind, m.AE.Spec, m.AE.NumParams(), plural(m.Record.Epochs(), "epoch"), m.Record.Training.Seconds)
	return nil
}

// trainingError explains what an interrupted or diverged run left on disk: out holds what
// says, when saved is true.
func trainingError(err error, out, what string, saved bool) error {
	if !errors.Is(err, models.ErrInterrupted) && !errors.Is(err, models.ErrDiverged) {
		return err
	}
	if !saved {
		return fmt.Errorf("%w; no epoch was complete, nothing written", err)
	}
	if errors.Is(err, models.ErrInterrupted) {
		return fmt.Errorf("%w; %s holds %s (go on with --resume %s)", err, out, what, out)
	}
	return fmt.Errorf("%w; %s holds %s", err, out, what)
}
