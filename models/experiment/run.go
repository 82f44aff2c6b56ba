package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
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
	Log      io.Writer     // a line per epoch and per step of the experiment (nil: io.Discard)
	// Progress, when not nil, is told where the whole experiment stands as it advances.
	Progress func(Progress)
	// Hooks, when not nil, adds hooks to each training stage (label: "train", "level 1/2", …).
	Hooks func(label string) train.Hooks
	// Classifier is the digit classifier checkpoint that judges the studies' images; ""
	// means the one kept in the user's cache folder, trained there first when the data has
	// labels. Without labels and without a classifier the images are not judged.
	Classifier string
	// Shard, when its N is above 1, makes only this shard's share of the runs (see
	// Shard.Has), into the shared output folder, and writes no report.
	Shard Shard
	// ReportOnly trains nothing: the report is made of the runs that are finished on disk,
	// and says which are missing.
	ReportOnly bool
}

// Shard is share K (0 to N−1) of N of an experiment's runs.
type Shard struct{ K, N int }

// ParseShard reads "K/N".
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.K, &sh.N); err != nil || sh.N < 1 || sh.K < 0 || sh.K >= sh.N || fmt.Sprintf("%d/%d", sh.K, sh.N) != s {
		return Shard{}, fmt.Errorf("experiment: shard %q: want K/N with 0 ≤ K < N, e.g. 0/3", s)
	}
	return sh, nil
}

// Has reports whether the shard makes the run whose first stage has the given hash: runs
// are dealt out by the hash of the stage they start from, so runs that share a pretrained
// stack share a shard (no two shards write one file), and a rerun lands where it did.
func (sh Shard) Has(rootHash string) bool {
	if sh.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(rootHash))
	return int(h.Sum32()%uint32(sh.N)) == sh.K
}

// root returns the stage a stage starts from.
func (st *stage) root() *stage {
	for st.parent != nil {
		st = st.parent
	}
	return st
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
	units  []float64 // estimated multiply-adds of one epoch of each level (one entry unless pretraining), for the time left

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
		if r.Patience > 0 || r.Keep != "" { // only then, so configurations without keep their hashes
			base["patience"], base["keep"] = r.Patience, r.Keep
		}
		if r.WeightDecay != 0 {
			base["weight_decay"] = r.WeightDecay
		}
		if r.Walkback != 0 {
			base["walkback"] = r.Walkback
		}
		if r.Optimizer != "" || r.Momentum != 0 {
			base["optimizer"], base["momentum"] = r.Optimizer, r.Momentum
		}
		if r.LRSchedule != "" || r.Warmup != 0 {
			base["lr_schedule"], base["warmup"] = r.LRSchedule, r.Warmup
		}
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

// cost estimates one training epoch's multiply-adds for an autoencoder of these sizes
// (encoder and mirrored decoder), the validation pass included.
func cost(layers []int, set *datasets.Set) float64 {
	fwd := models.Spec{Layers: layers}.ForwardMACs()
	return fwd * (trainingFactor*float64(set.Train.Len()) + float64(set.Validation.Len()))
}

// complete reports whether a checkpoint found on disk is the whole of stage st.
func (st *stage) complete(m *models.Model) bool {
	rec := m.Record
	if rec.ConfigHash != st.hash {
		return false
	}
	switch st.kind {
	case "train":
		return rec.Finetune == nil && (len(rec.History) == st.epochs || rec.Training.StoppedEarly)
	case "pretrain":
		if rec.Finetune != nil || len(rec.Levels) != m.AE.Spec.Depth() {
			return false
		}
		for _, l := range rec.Levels {
			if len(l.History) != st.epochs && !l.StoppedEarly {
				return false
			}
		}
		return true
	}
	return rec.Finetune != nil && (len(rec.Finetune.History) == st.epochs || rec.Finetune.StoppedEarly)
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
	cfg       *Config
	set       *datasets.Set
	opts      Options
	noise     datasets.Noise
	meter     *meter
	runsTotal int
	skip      []bool // runs another shard makes

	mu sync.Mutex // guards the log
}

// TrainAndEvaluate trains (or finds on disk) every run of cfg, evaluates each on set's test
// images and returns the results in the config's order: Execute without the studies and
// the report.
func TrainAndEvaluate(ctx context.Context, cfg *Config, set *datasets.Set, opts Options) ([]Result, error) {
	r, finals, err := newRunner(cfg, set, opts, newMeter(opts.Progress))
	if err != nil {
		return nil, err
	}
	return r.execute(ctx, finals)
}

// newRunner plans cfg's stages and counts the work of those not on disk.
func newRunner(cfg *Config, set *datasets.Set, opts Options, m *meter) (*runner, []*stage, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	opts.Parallel = max(1, opts.Parallel)
	if err := os.MkdirAll(filepath.Join(opts.Out, "checkpoints"), 0o755); err != nil {
		return nil, nil, fmt.Errorf("experiment: %w", err)
	}
	noise, _ := datasets.ParseNoise(cfg.Eval.Noise) // checked by Parse
	if noise.IsNone() {
		noise, _ = datasets.ParseNoise(models.DefaultNoise)
	}
	finals, all, err := planStages(cfg, set, opts.Out)
	if err != nil {
		return nil, nil, err
	}
	r := &runner{cfg: cfg, set: set, opts: opts, noise: noise, runsTotal: len(finals), meter: m, skip: make([]bool, len(finals))}
	mine := map[*stage]bool{} // the stages this shard makes
	for i, st := range finals {
		r.skip[i] = !opts.Shard.Has(st.root().hash)
		for s := st; s != nil && !r.skip[i]; s = s.parent {
			mine[s] = true
		}
	}
	for _, st := range all {
		if !mine[st] {
			continue
		}
		if !opts.Force {
			if m, err := models.Load(st.path); err == nil && st.complete(m) {
				st.done, st.reused, st.model = true, true, m
				r.logf("reusing %s (made before with the same settings; --force retrains)\n", st.path)
				continue
			}
		}
		if !opts.ReportOnly {
			r.meter.plan(st.work())
		}
	}
	for i, st := range finals {
		if r.skip[i] || opts.ReportOnly && !r.finished(st) {
			continue
		}
		if _, ok := r.cachedMetrics(&cfg.Runs[i], st); !ok {
			spec, _ := cfg.Runs[i].Spec(set.Train.Dim()) // checked by Parse
			r.meter.plan(study.EvaluationCost(spec, set, study.EvalOptions{}))
		}
	}
	return r, finals, nil
}

// execute makes every run's final stage and evaluates it.
func (r *runner) execute(ctx context.Context, finals []*stage) ([]Result, error) {
	cfg := r.cfg
	results := make([]Result, len(finals))
	jobs := make(chan int)
	errs := make(chan error, len(finals))
	var wg sync.WaitGroup
	for range r.opts.Parallel {
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
	if r.skip[i] || r.opts.ReportOnly && !r.finished(final) {
		return Result{Run: *run}, nil // another shard's, or not finished: no model
	}
	if err := r.stage(ctx, i, final); err != nil {
		return Result{}, err
	}
	res := Result{Run: *run, Model: final.model, Path: final.path, Reused: r.reusedAll(final)}
	m, err := r.evaluate(ctx, i, run, final)
	if err != nil {
		return Result{}, err
	}
	res.Metrics = m
	return res, nil
}

// finished reports whether st and every stage before it are on disk, complete.
func (r *runner) finished(st *stage) bool {
	for ; st != nil; st = st.parent {
		if !st.reused {
			return false
		}
	}
	return true
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
	sched, err := run.Schedule()
	if err != nil {
		return err
	}
	adam, err := run.Optimiser(run.LR)
	if err != nil {
		return err
	}
	cfg := train.Config{Epochs: st.epochs, Batch: run.Batch, Adam: adam, Seed: run.Seed,
		Patience: run.Patience, Keep: run.Keep, Schedule: sched, Walkback: run.Walkback}
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

// progress returns the hooks of a stage: the experiment's progress at every epoch and step,
// a line per epoch in the log, then the caller's hooks.
func (r *runner) progress(runIndex int, st *stage) train.Progress {
	name := r.cfg.Runs[runIndex].Name
	return func(label string) train.Hooks {
		var extra train.Hooks
		if r.opts.Hooks != nil {
			extra = r.opts.Hooks(label)
		}
		unit := st.unit(label)
		var steps, counted int // an epoch's steps, and those counted so far (hooks may skip some)
		return train.Hooks{
			EpochStart: func(epoch, epochs, n int) {
				steps, counted = n, 0
				r.meter.enter(fmt.Sprintf("run %d of %d (%s): %s epoch %d/%d", runIndex+1, r.runsTotal, name, label, epoch, epochs))
				if extra.EpochStart != nil {
					extra.EpochStart(epoch, epochs, n)
				}
			},
			Step: func(step int, loss float64) {
				r.meter.advance(unit * float64(step-counted) / float64(max(1, steps)))
				counted = step
				if extra.Step != nil {
					extra.Step(step, loss)
				}
			},
			EpochEnd: func(es models.EpochStats) error {
				r.logf("%s %s epoch %d  train %.5f%s  %.1fs\n", name, label, es.Epoch, es.TrainLoss, es.Validation(), es.Seconds)
				if extra.EpochEnd != nil {
					return extra.EpochEnd(es)
				}
				return nil
			},
		}
	}
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Log, format, args...)
}

// cachedMetrics returns the figures saved beside a run's checkpoint when they measured the
// same model with the same evaluation settings.
func (r *runner) cachedMetrics(run *Run, final *stage) (study.Metrics, bool) {
	var cached struct {
		Key     string        `json:"key"`
		Metrics study.Metrics `json:"metrics"`
	}
	if r.opts.Force {
		return study.Metrics{}, false
	}
	b, err := os.ReadFile(r.metricsPath(run))
	if err != nil || json.Unmarshal(b, &cached) != nil || cached.Key != r.metricsKey(final) {
		return study.Metrics{}, false
	}
	return cached.Metrics, true
}

func (r *runner) metricsPath(run *Run) string {
	return filepath.Join(r.opts.Out, "checkpoints", run.Name+".metrics.json")
}

func (r *runner) metricsKey(final *stage) string {
	return hashOf(map[string]any{"model": final.hash, "noise": r.noise.String(), "seed": r.cfg.Eval.Seed, "eval": evalVersion})
}

// evaluate measures a run's model, reusing the figures saved beside its checkpoint when the
// model and the evaluation settings are the same.
func (r *runner) evaluate(ctx context.Context, runIndex int, run *Run, final *stage) (study.Metrics, error) {
	if m, ok := r.cachedMetrics(run, final); ok {
		return m, nil
	}
	r.meter.enter(fmt.Sprintf("run %d of %d (%s): evaluating on %d test images", runIndex+1, r.runsTotal, run.Name, r.set.Test.Len()))
	m, err := study.Evaluate(ctx, r.opts.Backend, final.model.AE, r.set, study.EvalOptions{Noise: r.noise, Seed: r.cfg.Eval.Seed})
	if err != nil {
		return m, err
	}
	r.meter.advance(study.EvaluationCost(final.model.AE.Spec, r.set, study.EvalOptions{}))
	b, _ := json.MarshalIndent(map[string]any{"key": r.metricsKey(final), "metrics": m}, "", "  ")
	if err := renameio.WriteFile(r.metricsPath(run), b, 0o644); err != nil {
		return m, err
	}
	return m, nil
}

// evalVersion changes when what Evaluate measures changes, so cached figures are redone.
const evalVersion = 2

// Execute is the whole experiment: it trains (or finds on disk) every run of cfg, evaluates
// each, makes the interpolations and walks cfg asks for, judged by the digit classifier
// (opts.Classifier), and writes the tables, figures and report to opts.Out. configYAML is
// the config's text, shown in the report. One Progress covers all of it.
func Execute(ctx context.Context, cfg *Config, configYAML []byte, set *datasets.Set, opts Options) (*Outputs, error) {
	m := newMeter(opts.Progress)
	r, finals, err := newRunner(cfg, set, opts, m)
	if err != nil {
		return nil, err
	}
	if opts.Shard.N > 1 { // a shard makes its runs only: no studies, no report
		results, err := r.execute(ctx, finals)
		if err != nil {
			return nil, fmt.Errorf("%w (what finished is kept in %s; run the same command again to go on)", err, opts.Out)
		}
		return &Outputs{Rows: Rows(made(results))}, nil
	}
	plan, err := planStudies(cfg, set, r.opts)
	if err != nil {
		return nil, err
	}
	m.plan(plan.work)
	results, err := r.execute(ctx, finals)
	if err != nil {
		return nil, fmt.Errorf("%w (what finished is kept in %s; run the same command again to go on)", err, opts.Out)
	}
	var missing []string
	if opts.ReportOnly {
		for i, res := range results {
			if res.Model == nil {
				missing = append(missing, cfg.Runs[i].Name)
			}
		}
		if results = made(results); len(results) == 0 {
			return nil, fmt.Errorf("experiment: no run of %s is finished in %s yet", cfg.Name, opts.Out)
		}
	}
	var studies *Studies
	if plan.any {
		judge, err := r.judge(ctx, plan)
		if err != nil {
			return nil, err
		}
		if studies, err = runStudies(ctx, r.opts.Backend, cfg, set, firstSeeds(results), judge, m); err != nil {
			return nil, err
		}
	}
	m.enter("writing the report")
	out, err := WriteOutputs(ctx, opts.Out, r.opts.Backend, Report{Config: cfg, ConfigYAML: configYAML, Set: set, Results: results,
		Studies: studies, Took: time.Since(m.start), Missing: missing})
	if out != nil {
		out.Missing = missing
	}
	return out, err
}

// firstSeeds keeps each configuration's first run, named after the configuration: the
// figures and the studies show each configuration once.
func firstSeeds(results []Result) []Result {
	var out []Result
	for _, g := range groups(results) {
		first := g.Results[0]
		first.Run.Name = g.Name
		out = append(out, first)
	}
	return out
}

// made keeps the results of the runs that were made.
func made(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Model != nil {
			out = append(out, r)
		}
	}
	return out
}

// studyPlan is what the studies need: whether there are any, the digit classifier's path
// (none without labels unless given) and whether it must be trained, and their work.
type studyPlan struct {
	any        bool
	classifier string             // "" when nothing judges
	judge      *models.Classifier // read from classifier; nil when it must be trained first
	work       float64
}

func planStudies(cfg *Config, set *datasets.Set, opts Options) (studyPlan, error) {
	p := studyPlan{any: cfg.Interpolations != nil || len(cfg.Walks) > 0}
	if !p.any {
		return p, nil
	}
	switch {
	case opts.Classifier != "":
		judge, err := models.LoadClassifier(opts.Classifier)
		if err != nil {
			return p, err
		}
		p.classifier, p.judge = opts.Classifier, judge
	case set.Train.Labels != nil:
		p.classifier = study.ClassifierCachePath(set)
		if p.judge, _ = models.LoadClassifier(p.classifier); p.judge == nil {
			p.work += study.DigitClassifierCost(set)
		}
	}
	judged := p.classifier != ""
	specs := make(map[string]models.Spec, len(cfg.Runs))
	var all []models.Spec // each configuration's, once: the studies draw its first seed
	seen := map[string]bool{}
	for _, r := range cfg.Runs {
		spec, _ := r.Spec(set.Train.Dim()) // checked by Parse
		specs[r.Name] = spec
		if _, ok := specs[r.Base]; !ok && r.Base != "" { // walks name runs as the config does
			specs[r.Base] = spec
		}
		if r.Config == "" || !seen[r.Config] {
			seen[r.Config] = true
			all = append(all, spec)
		}
	}
	if in := cfg.Interpolations; in != nil {
		sorts := 2.0 // same class and different classes
		if set.Test.Labels == nil {
			sorts = 1 // any two images
		}
		p.work += sorts * study.InterpolationCost(all, in.Pairs, in.Steps, judged, true)
	}
	if len(cfg.Walks) > 0 {
		p.work += study.ReferenceCost(set.Train, set.Test)
	}
	for _, w := range cfg.Walks {
		for _, name := range w.Models {
			p.work += study.WalkCost(specs[name], study.WalkConfig{Method: w.Method, Steps: w.Steps}, w.Chains, set.Train, judged)
		}
	}
	return p, nil
}

// judge returns the digit classifier the plan names, training it first when needed; nil
// when nothing judges.
func (r *runner) judge(ctx context.Context, plan studyPlan) (*models.Classifier, error) {
	if plan.classifier == "" {
		return nil, nil
	}
	if plan.judge != nil {
		return plan.judge, nil
	}
	r.logf("training the digit classifier that judges the images (once; kept in %s)\n", plan.classifier)
	per := study.DigitClassifierCost(r.set) / float64(study.DigitClassifierEpochs)
	var steps, counted int
	hooks := train.Hooks{
		EpochStart: func(epoch, epochs, n int) {
			steps, counted = n, 0
			r.meter.enter(fmt.Sprintf("digit classifier: epoch %d/%d", epoch, epochs))
		},
		Step: func(step int, _ float64) {
			r.meter.advance(per * float64(step-counted) / float64(max(1, steps)))
			counted = step
		},
		EpochEnd: func(es models.EpochStats) error {
			r.logf("digit classifier epoch %d  train %.4f  val accuracy %.4f  %.1fs\n", es.Epoch, es.TrainLoss, es.ValAccuracy, es.Seconds)
			return nil
		},
	}
	c, _, err := study.DigitClassifier(ctx, r.opts.Backend, r.set, plan.classifier, hooks)
	if err != nil {
		return nil, err
	}
	r.logf("digit classifier: test accuracy %.2f%%\n", 100*c.Record.TestAccuracy)
	return c, nil
}
