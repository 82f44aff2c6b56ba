package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/renameio/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/study"
	"github.com/aelab/aelab/models/train"
)

// Options are how an experiment runs.
type Options struct {
	Out      string        // output folder; created if missing
	Force    bool          // retrain even what is on disk
	Parallel int           // runs trained at once; 0 means 1
	Backend  graph.Backend // where everything computes
	Log      io.Writer     // progress lines (nil: io.Discard)
	// Bars returns progress hooks for a stage (bars, epoch lines); used only when Parallel
	// is 1. Nil prints one line per epoch to Log.
	Bars func(stage string) train.Hooks
}

// Result is one run's outcome.
type Result struct {
	Run     Run
	Model   *models.Model
	Path    string // the run's checkpoint
	Metrics study.Metrics
	Reused  bool // nothing had to be trained
}

// Seconds returns the wall time of the run's training stages (pretraining included).
func (r Result) Seconds() float64 { return r.Model.Record.Seconds() }

// stage is one checkpoint an experiment makes: a train, a pretrain or a fine-tune, shared
// by every run that needs the same one.
type stage struct {
	kind   string // "train", "pretrain" or "finetune"
	run    *Run   // the first run that needs it; its settings define it
	parent *stage // the pretrain a fine-tune starts from
	hash   string
	path   string
	epochs int       // epochs to train (per level when pretraining)
	units  []float64 // estimated cost of one epoch of each level (one entry unless pretraining), for the time left

	mu     sync.Mutex
	done   bool
	reused bool
	model  *models.Model
	err    error
}

// plan cuts the runs into stages, shared where their configuration (hash) is the same.
func planStages(cfg *Config, set *datasets.Set, out string) (finals []*stage, all []*stage, err error) {
	byHash := map[string]*stage{}
	d := set.Train.Dim()
	add := func(st *stage) *stage {
		if have, ok := byHash[st.hash]; ok {
			return have
		}
		byHash[st.hash] = st
		all = append(all, st)
		return st
	}
	for i := range cfg.Runs {
		r := &cfg.Runs[i]
		spec, err := r.Spec(d)
		if err != nil {
			return nil, nil, err
		}
		base := map[string]any{"spec": spec, "batch": r.Batch, "lr": r.LR, "seed": r.Seed,
			"data": set.Checksum(), "train_limit": cfg.TrainLimit}
		var st *stage
		switch r.Procedure {
		case models.ProcedureTrain:
			base["procedure"], base["epochs"] = "train", r.Epochs
			st = add(&stage{kind: "train", run: r, hash: hashOf(base), epochs: r.Epochs, units: []float64{cost(spec.Layers, set)}})
		case models.ProcedurePretrain, models.ProcedureFinetune:
			base["procedure"], base["epochs_per_layer"] = "pretrain", r.EpochsPerLayer
			var levels []float64
			for l := 1; l < len(spec.Layers); l++ {
				levels = append(levels, cost(spec.Layers[l-1:l+1], set))
			}
			st = add(&stage{kind: "pretrain", run: r, hash: hashOf(base), epochs: r.EpochsPerLayer, units: levels})
			if r.Procedure == models.ProcedureFinetune {
				ft := map[string]any{"parent": st.hash, "procedure": "finetune", "epochs": r.FinetuneEpochs,
					"lr": r.FinetuneLR, "batch": r.Batch, "seed": r.Seed, "noise": spec.Noise.String()}
				st = add(&stage{kind: "finetune", run: r, parent: st, hash: hashOf(ft), epochs: r.FinetuneEpochs, units: []float64{cost(spec.Layers, set)}})
			}
		}
		finals = append(finals, st)
	}
	// A stage is named after the first run it is the final stage of, else after its run.
	named := map[*stage]bool{}
	for i, st := range finals {
		if !named[st] {
			st.path = filepath.Join(out, "checkpoints", cfg.Runs[i].Name+".safetensors")
			named[st] = true
		}
	}
	for _, st := range all {
		if !named[st] {
			st.path = filepath.Join(out, "checkpoints", st.run.Name+"-"+st.kind+".safetensors")
		}
	}
	return finals, all, nil
}

func hashOf(v any) string {
	b, _ := json.Marshal(v) // maps of plain values always marshal
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// cost estimates one epoch's work: images × multiply-adds of an autoencoder of these sizes
// (encoder and mirrored decoder).
func cost(layers []int, set *datasets.Set) float64 {
	var macs float64
	for i := 1; i < len(layers); i++ {
		macs += 2 * float64(layers[i-1]*layers[i])
	}
	return macs * float64(set.Train.Len())
}

// complete reports whether a checkpoint found on disk is the whole of stage st.
func (st *stage) complete(m *models.Model) bool {
	rec := m.Record
	if rec.ConfigHash != st.hash {
		return false
	}
	switch st.kind {
	case "train":
		return rec.Finetune == nil && len(rec.History) == st.epochs
	case "pretrain":
		if rec.Finetune != nil || len(rec.Levels) != m.AE.Spec.Depth() {
			return false
		}
		for _, l := range rec.Levels {
			if len(l.History) != st.epochs {
				return false
			}
		}
		return true
	}
	return rec.Finetune != nil && len(rec.Finetune.History) == st.epochs
}

// work returns the estimated cost of training the stage.
func (st *stage) work() float64 {
	var w float64
	for _, u := range st.units {
		w += u * float64(st.epochs)
	}
	return w
}

// unit returns the estimated cost of one epoch of the stage part that label names
// ("level l/L" when pretraining).
func (st *stage) unit(label string) float64 {
	var l, n int
	if _, err := fmt.Sscanf(label, "level %d/%d", &l, &n); err == nil && l >= 1 && l <= len(st.units) {
		return st.units[l-1]
	}
	return st.units[0]
}

// runner runs an experiment's stages.
type runner struct {
	cfg   *Config
	set   *datasets.Set
	opts  Options
	noise datasets.Noise

	mu        sync.Mutex // guards the fields below and the log
	start     time.Time
	total     float64 // work to train
	done      float64
	runsDone  int
	runsTotal int
}

// Execute trains (or finds on disk) every run of cfg, evaluates each on set's test images
// and returns the results in the config's order.
func Execute(ctx context.Context, cfg *Config, set *datasets.Set, opts Options) ([]Result, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	opts.Parallel = max(1, opts.Parallel)
	if err := os.MkdirAll(filepath.Join(opts.Out, "checkpoints"), 0o755); err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	noise, _ := datasets.ParseNoise(cfg.Eval.Noise) // checked by Parse
	if noise.IsNone() {
		noise, _ = datasets.ParseNoise(models.DefaultNoise)
	}
	finals, all, err := planStages(cfg, set, opts.Out)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, set: set, opts: opts, noise: noise, runsTotal: len(finals), start: time.Now()}
	for _, st := range all {
		if !opts.Force {
			if m, err := models.Load(st.path); err == nil && st.complete(m) {
				st.done, st.reused, st.model = true, true, m
				continue
			}
		}
		r.total += st.work()
	}

	results := make([]Result, len(finals))
	jobs := make(chan int)
	errs := make(chan error, len(finals))
	var wg sync.WaitGroup
	for range opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, err := r.run(ctx, i, finals[i])
				if err != nil {
					errs <- fmt.Errorf("run %s: %w", cfg.Runs[i].Name, err)
					continue
				}
				results[i] = res
			}
		}()
	}
feed:
	for i := range finals {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	var failures []error
	for err := range errs {
		failures = append(failures, err)
	}
	if err := ctx.Err(); err != nil && len(failures) == 0 {
		failures = append(failures, fmt.Errorf("experiment: %w", models.ErrInterrupted))
	}
	return results, errors.Join(failures...)
}

// run makes (or finds) run i's final stage and evaluates it.
func (r *runner) run(ctx context.Context, i int, final *stage) (Result, error) {
	run := &r.cfg.Runs[i]
	if err := r.stage(ctx, i, final); err != nil {
		return Result{}, err
	}
	res := Result{Run: *run, Model: final.model, Path: final.path, Reused: r.reusedAll(final)}
	m, err := r.evaluate(ctx, run, final)
	if err != nil {
		return Result{}, err
	}
	res.Metrics = m
	r.mu.Lock()
	r.runsDone++
	r.mu.Unlock()
	return res, nil
}

func (r *runner) reusedAll(st *stage) bool {
	for ; st != nil; st = st.parent {
		if !st.reused {
			return false
		}
	}
	return true
}

// stage makes st once, waiting for another goroutine that is making it.
func (r *runner) stage(ctx context.Context, runIndex int, st *stage) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return st.err
	}
	if st.parent != nil {
		if err := r.stage(ctx, runIndex, st.parent); err != nil {
			return err
		}
	}
	st.err = r.train(ctx, runIndex, st)
	st.done = st.err == nil
	return st.err
}

// train makes stage st.
func (r *runner) train(ctx context.Context, runIndex int, st *stage) error {
	run := st.run
	spec, err := run.Spec(r.set.Train.Dim())
	if err != nil {
		return err
	}
	hidden := spec
	hidden.Layers = spec.Layers[1:]
	cfg := train.Config{Epochs: st.epochs, Batch: run.Batch, Adam: graph.Adam{LR: run.LR}, Seed: run.Seed}
	job := train.Job{Set: r.set, Config: cfg, TrainLimit: r.cfg.TrainLimit, Path: st.path, ConfigHash: st.hash,
		Progress: r.progress(runIndex, st)}
	r.logf("[run %d/%d] %s: %s %s %s\n", runIndex+1, r.runsTotal, r.cfg.Runs[runIndex].Name, st.kind, spec.Kind, spec)
	switch st.kind {
	case "train":
		st.model, err = train.NewModel(ctx, r.opts.Backend, hidden, job)
	case "pretrain":
		st.model, err = train.NewStack(ctx, r.opts.Backend, hidden, job)
	case "finetune":
		var m *models.Model
		if m, err = models.Load(st.parent.path); err != nil {
			return err
		}
		job.Config.Adam.LR = run.FinetuneLR
		err = train.Finetune(ctx, r.opts.Backend, m, models.ObjectiveReconstruct, m.AE.Spec.Noise, job)
		st.model = m
	}
	return err
}

// progress returns the hooks of a stage: the experiment's status line at the start of each
// epoch (run k of n, share done, time left), then the caller's bars or an epoch line.
func (r *runner) progress(runIndex int, st *stage) train.Progress {
	name := r.cfg.Runs[runIndex].Name
	return func(label string) train.Hooks {
		var inner train.Hooks
		if r.opts.Bars != nil && r.opts.Parallel == 1 {
			inner = r.opts.Bars(label)
		}
		h := inner
		unit := st.unit(label)
		h.EpochStart = func(epoch, epochs, steps int) {
			r.logf("%s\n", r.status(runIndex, name, label))
			if inner.EpochStart != nil {
				inner.EpochStart(epoch, epochs, steps)
			}
		}
		h.EpochEnd = func(es models.EpochStats) error {
			r.mu.Lock()
			r.done += unit
			r.mu.Unlock()
			if inner.EpochEnd != nil {
				return inner.EpochEnd(es)
			}
			r.logf("%s %s epoch %d  train %.5f  val %.5f  %.1fs\n", name, label, es.Epoch, es.TrainLoss, es.ValLoss, es.Seconds)
			return nil
		}
		return h
	}
}

// status is the experiment's progress line.
func (r *runner) status(runIndex int, name, label string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	left := "time left unknown yet"
	if r.done > 0 && r.total > 0 {
		elapsed := time.Since(r.start)
		rest := time.Duration(float64(elapsed) / r.done * max(0, r.total-r.done)).Round(time.Second)
		left = fmt.Sprintf("about %s left", rest)
	}
	share := 0.0
	if r.total > 0 {
		share = 100 * min(1, r.done/r.total)
	}
	return fmt.Sprintf("── experiment: run %d of %d (%s, %s) · %.0f%% of the training done · %s", runIndex+1, r.runsTotal, name, label, share, left)
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Log, format, args...)
}

// evaluate measures a run's model, reusing the figures saved beside its checkpoint when the
// model and the evaluation settings are the same.
func (r *runner) evaluate(ctx context.Context, run *Run, final *stage) (study.Metrics, error) {
	key := hashOf(map[string]any{"model": final.hash, "noise": r.noise.String(), "seed": r.cfg.Eval.Seed, "eval": evalVersion})
	path := filepath.Join(r.opts.Out, "checkpoints", run.Name+".metrics.json")
	var cached struct {
		Key     string        `json:"key"`
		Metrics study.Metrics `json:"metrics"`
	}
	if b, err := os.ReadFile(path); err == nil && !r.opts.Force && json.Unmarshal(b, &cached) == nil && cached.Key == key {
		return cached.Metrics, nil
	}
	r.logf("[run %s] evaluating on %d test images\n", run.Name, r.set.Test.Len())
	m, err := study.Evaluate(ctx, r.opts.Backend, final.model.AE, r.set, study.EvalOptions{Noise: r.noise, Seed: r.cfg.Eval.Seed})
	if err != nil {
		return m, err
	}
	cached.Key, cached.Metrics = key, m
	b, _ := json.MarshalIndent(cached, "", "  ")
	if err := renameio.WriteFile(path, b, 0o644); err != nil {
		return m, err
	}
	return m, nil
}

// evalVersion changes when what Evaluate measures changes, so cached figures are redone.
const evalVersion = 1
