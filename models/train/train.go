package train

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// The defaults and limits of a training run's settings, for the command line and configs
// alike.
const (
	DefaultBatch = 32
	DefaultLR    = 0.001 // Adam's learning rate
	MaxLR        = 10    // larger rates only diverge
)

// Config holds the settings of a training run. Zero fields mean the defaults noted.
type Config struct {
	Epochs int        // passes over the training set; must be positive
	Batch  int        // images per step; 0 means DefaultBatch
	Adam   graph.Adam // learning rate and moments; zero fields take Adam's defaults (LR DefaultLR)
	Seed   uint64     // seeds the shuffling and the corruption
	// Patience, when positive, stops training once the validation loss has not improved for
	// this many epochs.
	Patience int
	// Keep says which epoch's weights training ends with: KeepBest (the lowest validation
	// loss) or KeepLast; "" means KeepBest with a patience and KeepLast without.
	Keep string
	// Dropout is the share of hidden units a classifier's training drops at each step (a
	// fresh mask per step, drawn from Seed; evaluation drops nothing); 0 means none. Only
	// supervised training uses it.
	Dropout float64
	// Schedule varies the learning rate from epoch to epoch; the zero value keeps it.
	Schedule Schedule
	// Walkback, when positive, trains a DAE on the points its own chain visits as well,
	// up to this many rounds of reconstructing and corrupting a step (walkback training).
	Walkback int
	// Refit fine-tunes on the training and validation images together, with no validation
	// (so no patience, best epoch or plateau): the final run of settings chosen on a run that
	// held the validation images out.
	Refit bool
}

// The optimizers, as the command line and configs name them.
const (
	OptimizerAdam = "adam" // Adam, with --weight-decay the decoupled decay of AdamW
	OptimizerSGD  = "sgd"  // SGD with momentum, --weight-decay an L2 penalty
)

// ParseOptimizer sets adam's method from name: OptimizerAdam ("" too) or OptimizerSGD.
func ParseOptimizer(name string, adam *graph.Adam) error {
	switch name {
	case "", OptimizerAdam:
		adam.SGD = false
	case OptimizerSGD:
		adam.SGD = true
	default:
		return &models.SettingError{Setting: "optimizer", Problem: fmt.Sprintf("%q: want adam or sgd", name)}
	}
	return nil
}

// recordedAdam is the optimiser a record describes (optimizerName's inverse).
func recordedAdam(lr, weightDecay float64, optimizer string, momentum float64) graph.Adam {
	return graph.Adam{LR: lr, WeightDecay: weightDecay, SGD: optimizer == OptimizerSGD, Momentum: momentum}
}

// optimizerName is what a record keeps: "" for Adam, else OptimizerSGD.
func optimizerName(adam graph.Adam) string {
	if adam.SGD {
		return OptimizerSGD
	}
	return ""
}

// The epochs Config.Keep can keep.
const (
	KeepBest = "best"
	KeepLast = "last"
)

// keepsBest reports whether training ends with the best epoch's weights.
func (c Config) keepsBest() bool {
	return c.Keep == KeepBest || c.Keep == "" && c.Patience > 0
}

// WithDefaults returns c with its zero batch and learning rate filled in.
func (c Config) WithDefaults() Config {
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Adam.LR == 0 {
		c.Adam.LR = DefaultLR
	}
	return c
}

// Validate reports, as a *models.SettingError, the first setting that cannot work once
// the defaults are filled in (training fills them itself).
func (c Config) Validate() error {
	switch {
	case c.Epochs <= 0:
		return &models.SettingError{Setting: "epochs", Problem: fmt.Sprintf("must be positive, got %d", c.Epochs)}
	case c.Batch <= 0:
		return &models.SettingError{Setting: "batch", Problem: fmt.Sprintf("must be positive, got %d", c.Batch)}
	case c.Patience < 0:
		return &models.SettingError{Setting: "patience", Problem: fmt.Sprintf("must be 0 (none) or more, got %d", c.Patience)}
	case c.Keep != "" && c.Keep != KeepBest && c.Keep != KeepLast:
		return &models.SettingError{Setting: "keep", Problem: fmt.Sprintf("%q: want best or last", c.Keep)}
	case !(c.Dropout >= 0 && c.Dropout < 1): // NaN too
		return &models.SettingError{Setting: "dropout", Problem: fmt.Sprintf("must be in [0, 1), got %g", c.Dropout)}
	case !(c.Adam.WeightDecay >= 0):
		return &models.SettingError{Setting: "weight_decay", Problem: fmt.Sprintf("must be 0 (none) or more, got %g", c.Adam.WeightDecay)}
	case !(c.Adam.Momentum >= 0 && c.Adam.Momentum < 1):
		return &models.SettingError{Setting: "momentum", Problem: fmt.Sprintf("must be in [0, 1), got %g", c.Adam.Momentum)}
	case c.Adam.Momentum > 0 && !c.Adam.SGD:
		return &models.SettingError{Setting: "momentum", Problem: "is for the sgd optimizer (Adam keeps its own moments)"}
	case c.Walkback < 0 || c.Walkback > MaxWalkback:
		return &models.SettingError{Setting: "walkback", Problem: fmt.Sprintf("must be 0 (none) to %d rounds, got %d", MaxWalkback, c.Walkback)}
	case c.Refit && (c.Patience > 0 || c.Keep == KeepBest || c.Schedule.Kind == SchedulePlateau):
		return &models.SettingError{Setting: "refit", Problem: "trains on the validation images too: it takes no patience, keep best or plateau schedule, which watch them"}
	case c.Schedule.Warmup < 0:
		return &models.SettingError{Setting: "warmup", Problem: fmt.Sprintf("must be 0 (none) or more epochs, got %d", c.Schedule.Warmup)}
	case !c.Adam.SGD && c.Adam.LR*c.Adam.WeightDecay >= 1:
		return &models.SettingError{Setting: "weight_decay", Problem: fmt.Sprintf("%g times the learning rate %g must be below 1 (each step multiplies the weights by 1 − lr·decay)", c.Adam.WeightDecay, c.Adam.LR)}
	}
	return CheckLR("lr", c.Adam.LR)
}

// CheckLR reports, as a *models.SettingError naming setting, a learning rate outside
// (0, MaxLR].
func CheckLR(setting string, lr float64) error {
	if lr > 0 && lr <= MaxLR {
		return nil
	}
	return &models.SettingError{Setting: setting, Problem: fmt.Sprintf("must be in (0, %d], got %g", MaxLR, lr)}
}

// Hooks are called by the training loop at fixed points; nil hooks are skipped.
type Hooks struct {
	EpochStart func(epoch, epochs, steps int)
	// Step is called after every step with the running mean of the epoch's loss.
	Step func(step int, runningLoss float64)
	// EpochEnd is called once an epoch is done and validated; an error stops training.
	EpochEnd func(stats models.EpochStats) error
}

// Run is what a training run fits besides the model: the training images, the validation
// images (nil for none, for a classifier), the corruption of the inputs, the settings and
// the hooks.
type Run struct {
	Train, Val *datasets.Images
	Noise      datasets.Noise
	Config     Config
	Hooks      Hooks
	// From, when not nil, goes on with a run that stopped after From.Epochs epochs: the
	// parameters hold what they held then, From.Adam the optimiser's state. The epochs it
	// trains, and their batches and noise, are those the run would have gone on with.
	From *Resume
	// SaveState, when not nil, is given the optimiser's state after every epoch (epochs
	// done so far), before Hooks.EpochEnd.
	SaveState func(epochs int, s graph.AdamState) error
}

// Resume is where a stopped run goes on from.
type Resume struct {
	Epochs  int // completed
	Adam    graph.AdamState
	History []models.EpochStats // of the epochs completed, so a patience counts from where it was
}

// Autoencoder fits ae to run.Train, its inputs corrupted by run.Noise, minimising obj, and
// returns one models.EpochStats per completed epoch; the validation loss is the
// reconstruction loss of the clean run.Val images. When ctx is cancelled or the loss
// diverges, the parameters are put back to their values at the end of the last completed
// epoch (or the start) and the error wraps models.ErrInterrupted or models.ErrDiverged.
func Autoencoder(ctx context.Context, backend graph.Backend, ae graph.Autoencoder, obj graph.Cost, run Run) ([]models.EpochStats, error) {
	train, val, noise, cfg, hooks := run.Train, run.Val, run.Noise, run.Config.WithDefaults(), run.Hooks
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := ae.Encoder[0].In()
	if train.Dim() != d {
		return nil, fmt.Errorf("models: the model takes %d inputs but the images have %d values", d, train.Dim())
	}
	prog, err := graph.NewTrainingProgram(ae, obj, cfg.Batch)
	if err != nil {
		return nil, err
	}
	fwd, err := models.NewForward(backend, ae.Layers())
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	onDevice := &deviceBatches{images: train.Pixels, d: d, noise: noise, seed: cfg.Seed}
	var walk *walkback
	if cfg.Walkback > 0 {
		if walk, err = newWalkback(backend, ae, cfg.Batch, cfg.Walkback, noise, cfg.Seed); err != nil {
			return nil, err
		}
		defer walk.Close()
		onDevice = nil // the walks run the model between steps, on the host's batches
	}
	clean := make([]float32, cfg.Batch*d) // B×D
	noisy := make([]float32, cfg.Batch*d) // B×D
	return fit(ctx, backend, prog, train, cfg, hooks, run, fitter{
		fill: func(b *datasets.Batcher, step int, counter uint32) ([][]float32, error) {
			b.Gather(step, clean, nil)
			noise.ApplyImagesAt(noisy, clean, d, cfg.Seed, counter)
			if walk != nil {
				if err := walk.walk(noisy, counter); err != nil {
					return nil, err
				}
			}
			return [][]float32{noisy, clean}, nil
		},
		onDevice: onDevice,
		validate: func(ctx context.Context) (float64, float64, error) {
			loss, err := fwd.Loss(ctx, val, obj.Loss)
			return loss, 0, err
		},
	})
}

// Classifier fits layers, whose last layer gives a logit per class (the labels index them),
// to the labels of run.Train by cross-entropy; inputs are corrupted by run.Noise. The validation
// figures are the cross-entropy and the accuracy on run.Val; with a nil Val there are none.
func Classifier(ctx context.Context, backend graph.Backend, layers []*graph.Dense, run Run) ([]models.EpochStats, error) {
	train, val, noise, cfg, hooks := run.Train, run.Val, run.Noise, run.Config.WithDefaults(), run.Hooks
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if train.Labels == nil || (val != nil && val.Labels == nil) {
		return nil, fmt.Errorf("models: the data set has no labels to classify")
	}
	d := layers[0].In()
	if train.Dim() != d {
		return nil, fmt.Errorf("models: the classifier takes %d inputs but the images have %d values", d, train.Dim())
	}
	prog, err := graph.NewClassifierTrainingProgram(layers, cfg.Batch, cfg.Dropout > 0)
	if err != nil {
		return nil, err
	}
	var fwd *models.Forward
	if val != nil {
		if fwd, err = models.NewForward(backend, layers); err != nil {
			return nil, err
		}
		defer fwd.Close()
	}
	classes := layers[len(layers)-1].Out()
	for _, images := range []*datasets.Images{train, val} {
		if images == nil {
			continue
		}
		for i, l := range images.Labels {
			if int(l) >= classes {
				return nil, fmt.Errorf("models: label %d of image %d is not one of the classifier's %d classes", l, i, classes)
			}
		}
	}
	x := make([]float32, cfg.Batch*d)            // B×D
	onehot := make([]float32, cfg.Batch*classes) // B×C
	labels := make([]uint8, cfg.Batch)
	masks := newDropout(layers, cfg)
	return fit(ctx, backend, prog, train, cfg, hooks, run, fitter{
		fill: func(b *datasets.Batcher, step int, counter uint32) ([][]float32, error) {
			b.Gather(step, x, labels)
			noise.ApplyImagesAt(x, x, d, cfg.Seed, counter)
			clear(onehot)
			for i, l := range labels {
				onehot[i*classes+int(l)] = 1
			}
			return append([][]float32{x, onehot}, masks.draw(counter)...), nil
		},
		validate: func(ctx context.Context) (float64, float64, error) {
			if fwd == nil {
				return 0, 0, nil
			}
			return fwd.Classify(ctx, val)
		},
		noVal: val == nil,
	})
}

// fitter supplies what differs between training tasks: each step's inputs (counter numbers
// the step from the start of training, for counter-based noise) and the end-of-epoch
// validation (a loss and, for classifiers, an accuracy).
type fitter struct {
	fill     func(b *datasets.Batcher, step int, counter uint32) ([][]float32, error)
	validate func(ctx context.Context) (loss, accuracy float64, err error)
	noVal    bool // no validation images: validate measures nothing
	// onDevice, when not nil, describes the batches for an executor that builds them on its
	// device (graph.DeviceData); fill is then not used.
	onDevice *deviceBatches
}

// deviceBatches is what an executor needs to gather and corrupt batches on its device.
type deviceBatches struct {
	images []float32 // N×D
	d      int
	noise  datasets.Noise
	seed   uint64
}

// fit runs the training loop of a program with a loss.
func fit(ctx context.Context, backend graph.Backend, prog *graph.Program, train *datasets.Images, cfg Config, hooks Hooks, run Run, f fitter) ([]models.EpochStats, error) {
	batcher, err := datasets.NewBatcher(train, cfg.Batch, models.NewRand(cfg.Seed, models.StreamShuffle))
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	ex, err := backend.Compile(prog, cfg.Adam)
	if err != nil {
		return nil, err
	}
	defer ex.Close()

	good := snapshot(prog.Params)
	stop := func(err error) error {
		restore(prog.Params, good)
		return err
	}
	steps := batcher.Steps()
	runEpoch := func(epoch int) (float64, error) {
		return hostEpoch(ctx, ex, batcher, f, hooks, epoch, uint32((epoch-1)*steps))
	}
	if dd, ok := ex.(graph.DeviceData); ok && f.onDevice != nil {
		if err := dd.SetData(f.onDevice.images, f.onDevice.d, f.onDevice.noise, f.onDevice.seed); err != nil {
			return nil, err
		}
		order := make([]int32, 0, steps*cfg.Batch)
		runEpoch = func(epoch int) (float64, error) {
			return deviceEpoch(ctx, dd, batcher.Order(order[:0]), steps, hooks, epoch, uint32((epoch-1)*steps))
		}
	}
	first := 1
	if run.From != nil {
		if run.From.Epochs > cfg.Epochs {
			return nil, fmt.Errorf("models: the run already made %d epochs of the %d asked for", run.From.Epochs, cfg.Epochs)
		}
		if err := ex.SetAdamState(run.From.Adam); err != nil {
			return nil, err
		}
		for range run.From.Epochs { // the orders the epochs made had
			batcher.Shuffle()
		}
		first = run.From.Epochs + 1
	}
	if f.noVal && (cfg.Patience > 0 || cfg.Keep == KeepBest || cfg.Schedule.Kind == SchedulePlateau) {
		return nil, fmt.Errorf("models: a patience, keeping the best epoch or a plateau schedule needs validation images")
	}
	bestLoss, bestEpoch := math.Inf(1), 0
	var best [][]float32 // the best epoch's weights, when they are to be kept
	if run.From != nil {
		if cfg.keepsBest() {
			return nil, fmt.Errorf("models: a run that keeps its best epoch cannot go on exactly (that epoch's weights are not kept beside the checkpoint); train it again, or with --keep last")
		}
		for _, h := range run.From.History {
			if h.ValLoss < bestLoss {
				bestLoss, bestEpoch = h.ValLoss, h.Epoch
			}
		}
	}
	var history []models.EpochStats
	var before []models.EpochStats // the resumed run's epochs, for the schedule
	if run.From != nil {
		before = run.From.History
	}
	scale := 1.0
	for epoch := first; epoch <= cfg.Epochs; epoch++ {
		if f := cfg.Schedule.Factor(epoch, cfg.Epochs, append(slices.Clip(before), history...)); f != scale {
			if err := ex.ScaleLR(float32(f)); err != nil {
				return history, stop(err)
			}
			scale = f
		}
		if hooks.EpochStart != nil {
			hooks.EpochStart(epoch, cfg.Epochs, steps)
		}
		start := time.Now()
		batcher.Shuffle()
		sum, err := runEpoch(epoch)
		if err != nil {
			return history, stop(err)
		}
		seconds := time.Since(start).Seconds()
		if err := ex.SyncParams(); err != nil {
			return history, stop(err)
		}
		valLoss, valAcc, err := f.validate(ctx)
		if err != nil {
			return history, stop(err)
		}
		if !finite(valLoss) {
			return history, stop(fmt.Errorf("models: %w: validation loss %g after epoch %d (try a lower --lr)", models.ErrDiverged, valLoss, epoch))
		}
		stats := models.EpochStats{Epoch: epoch, TrainLoss: sum / float64(steps), ValLoss: valLoss, ValAccuracy: valAcc, Seconds: seconds, NoValidation: f.noVal}
		if !cfg.Schedule.IsConstant() {
			stats.LR = cfg.Adam.LR * scale
		}
		history = append(history, stats)
		good = snapshot(prog.Params)
		if run.SaveState != nil {
			state, err := ex.AdamState()
			if err != nil {
				return history, err
			}
			if err := run.SaveState(epoch, state); err != nil {
				return history, err
			}
		}
		if valLoss < bestLoss {
			bestLoss, bestEpoch = valLoss, epoch
			if cfg.keepsBest() {
				best = good
			}
		}
		if hooks.EpochEnd != nil {
			if err := hooks.EpochEnd(stats); err != nil {
				return history, err
			}
		}
		if cfg.Patience > 0 && epoch-bestEpoch >= cfg.Patience {
			break // no better validation loss for Patience epochs
		}
	}
	if best != nil && bestEpoch != history[len(history)-1].Epoch {
		restore(prog.Params, best)
	}
	return history, nil
}

// KeptEpoch returns the epoch whose weights training with cfg ended with: the best of
// history by validation loss when cfg keeps the best, else the last.
func KeptEpoch(cfg Config, history []models.EpochStats) int {
	if len(history) == 0 {
		return 0
	}
	kept := history[len(history)-1]
	if cfg.keepsBest() {
		for _, h := range history {
			if h.ValLoss < kept.ValLoss || h.ValLoss == kept.ValLoss && h.Epoch < kept.Epoch {
				kept = h
			}
		}
	}
	return kept.Epoch
}

// hostEpoch runs one epoch's steps with batches built on the host; it returns the sum of
// the losses. first numbers the epoch's first step for the noise.
func hostEpoch(ctx context.Context, ex graph.Executor, batcher *datasets.Batcher, f fitter, hooks Hooks, epoch int, first uint32) (float64, error) {
	var sum float64
	for step := range batcher.Steps() {
		if ctx.Err() != nil {
			return sum, fmt.Errorf("models: %w in epoch %d", models.ErrInterrupted, epoch)
		}
		in, err := f.fill(batcher, step, first+uint32(step))
		if err != nil {
			return sum, err
		}
		loss, err := ex.Step(in...)
		if err != nil {
			return sum, err
		}
		if !finite(float64(loss)) {
			return sum, diverged(loss, epoch, step+1)
		}
		sum += float64(loss)
		if hooks.Step != nil {
			hooks.Step(step+1, sum/float64(step+1))
		}
	}
	return sum, nil
}

// reportEvery is how often a device epoch reads its losses back for the progress hook:
// reading waits for the device, so it is not done after every step.
const reportEvery = 100 * time.Millisecond

// deviceEpoch runs one epoch's steps (order: their images, batch after batch) with batches
// built on the device; it returns the sum of the losses. Steps are queued in chunks
// (nextChunk), so an interrupt stops within a few milliseconds of work on the CPU. first
// numbers the epoch's first step for the noise.
func deviceEpoch(ctx context.Context, dd graph.DeviceData, order []int32, steps int, hooks Hooks, epoch int, first uint32) (float64, error) {
	if err := dd.StartEpoch(order, first); err != nil {
		return 0, err
	}
	var sum float64
	counted := 0
	report := func() error {
		losses, err := dd.Losses()
		if err != nil {
			return err
		}
		for ; counted < len(losses); counted++ {
			if loss := losses[counted]; !finite(float64(loss)) {
				return diverged(loss, epoch, counted+1)
			}
			sum += float64(losses[counted])
		}
		if hooks.Step != nil && counted > 0 {
			hooks.Step(counted, sum/float64(counted))
		}
		return nil
	}
	last := time.Now()
	chunk := 1
	for done := 0; done < steps; {
		if ctx.Err() != nil {
			if err := report(); err != nil {
				return sum, err
			}
			return sum, fmt.Errorf("models: %w in epoch %d", models.ErrInterrupted, epoch)
		}
		n := min(chunk, steps-done)
		start := time.Now()
		if err := dd.StepBatches(n); err != nil {
			return sum, err
		}
		done += n
		chunk = nextChunk(chunk, time.Since(start))
		if time.Since(last) >= reportEvery {
			if err := report(); err != nil {
				return sum, err
			}
			last = time.Now()
		}
	}
	return sum, report()
}

// queueTime is how long queueing one chunk of steps may take before the chunk shrinks, and
// maxChunk the most steps queued at once. A device that runs steps as they are queued (the
// CPU) keeps chunks of a few milliseconds, so interruptions and progress stay prompt; one
// that queues them for later (CUDA) takes many steps a call, so the host hands work over
// once every many steps instead of every step.
const (
	queueTime = 10 * time.Millisecond
	maxChunk  = 512
)

// nextChunk is the size of the chunk after one of chunk steps that took took to queue.
func nextChunk(chunk int, took time.Duration) int {
	if took < queueTime {
		return min(2*chunk, maxChunk)
	}
	return max(chunk/2, 1)
}

func diverged(loss float32, epoch, step int) error {
	return fmt.Errorf("models: %w: loss %g at epoch %d, step %d (try a lower --lr)", models.ErrDiverged, loss, epoch, step)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// snapshot copies the parameters' values.
func snapshot(params []*graph.Param) [][]float32 {
	out := make([][]float32, len(params))
	for i, p := range params {
		out[i] = append([]float32(nil), p.Data...)
	}
	return out
}

// restore writes values saved by snapshot back into the parameters.
func restore(params []*graph.Param, saved [][]float32) {
	for i, p := range params {
		copy(p.Data, saved[i])
	}
}
