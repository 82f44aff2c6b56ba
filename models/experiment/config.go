package experiment

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/study"
	"github.com/aelab/aelab/models/train"
)

// Config is an experiment: a list of runs and what they share.
type Config struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	TrainLimit  int      `yaml:"train_limit"` // use only the first N training images; 0: all
	Eval        EvalSpec `yaml:"eval"`
	Defaults    Run      `yaml:"defaults"` // fields every run takes unless it sets them
	Runs        []Run    `yaml:"runs"`

	Interpolations *InterpolationSpec `yaml:"interpolations"` // nil: none
	Walks          []WalkSpec         `yaml:"walks"`

	// Seeds runs every configuration once per seed (each run's seed set to it); none: each
	// run's own seed, once.
	Seeds []uint64 `yaml:"seeds"`
	// Grid sweeps run keys over lists of values: every run is made once for every
	// combination, e.g. {noise: [gaussian:0.2, gaussian:0.4], hidden: [[32], [128]]}.
	Grid yaml.Node `yaml:"grid"`
}

// InterpolationSpec asks for same-class and different-class interpolations by every model,
// with the pixel blends beside them.
type InterpolationSpec struct {
	Pairs int `yaml:"pairs"` // pairs of each sort scored; default 3
	Shown int `yaml:"shown"` // pairs of each sort drawn; default (and at most) Pairs
	Steps int `yaml:"steps"` // points per path; default 11
}

// WalkSpec asks for walks to the data manifold by some of the models.
type WalkSpec struct {
	Models []string `yaml:"models"`  // run names
	Method string   `yaml:"method"`  // score, energy, chain, annealed, langevin or diffusion; default score
	Start  string   `yaml:"start"`   // noise, uniform or image:I; default uniform
	Steps  int      `yaml:"steps"`   // default 100
	Eta    float64  `yaml:"eta"`     // default 1
	Chains int      `yaml:"chains"`  // default 8
	Anneal float64  `yaml:"anneal"`  // annealed: the corruption's level at the start, times the chain noise's; langevin: the temperature at the start; default 2.5
	BurnIn int      `yaml:"burn_in"` // diffusion: Langevin steps at the top level before the descent; default a sixth of the steps
	// Score judges the chains' last images as samples (aelab samples score: Parzen
	// estimate, classes, plausible digits, near-copies, Fréchet distance); the judge's
	// figures need hundreds of chains or more.
	Score bool `yaml:"score"`
}

// EvalSpec is how every model is measured.
type EvalSpec struct {
	Noise string `yaml:"noise"` // corruption for test_mse_noisy; default gaussian:0.4
	Seed  uint64 `yaml:"seed"`  // seeds that corruption and the digits drawn; default 1
}

// Run is one model to make: an autoencoder spec, a procedure and its settings.
type Run struct {
	Name             string  `yaml:"name"`
	Kind             string  `yaml:"kind"`
	Hidden           []int   `yaml:"hidden"`
	Activation       string  `yaml:"activation"`
	CodeActivation   string  `yaml:"code_activation"`
	OutputActivation string  `yaml:"output_activation"`
	Loss             string  `yaml:"loss"`
	Noise            string  `yaml:"noise"`
	LevelNoise       string  `yaml:"level_noise"`
	Lambda           float64 `yaml:"lambda"`
	Procedure        string  `yaml:"procedure"`
	Epochs           int     `yaml:"epochs"`           // train
	EpochsPerLayer   int     `yaml:"epochs_per_layer"` // pretrain
	FinetuneEpochs   int     `yaml:"finetune_epochs"`  // pretrain+finetune
	FinetuneLR       float64 `yaml:"finetune_lr"`
	Batch            int     `yaml:"batch"`
	LR               float64 `yaml:"lr"`
	Seed             uint64  `yaml:"seed"`
	Patience         int     `yaml:"patience"`     // early stopping of every stage; 0: none
	Keep             string  `yaml:"keep"`         // best or last; default best with a patience
	WeightDecay      float64 `yaml:"weight_decay"` // AdamW's decoupled weight decay of every stage; 0: none
	LRSchedule       string  `yaml:"lr_schedule"`  // the learning rate over each stage's epochs (train.ParseSchedule); "": constant
	Warmup           int     `yaml:"warmup"`       // epochs of each stage rising to the learning rate
	Walkback         int     `yaml:"walkback"`     // rounds of walkback training of a dae; 0: none
	Optimizer        string  `yaml:"optimizer"`    // adam (default) or sgd
	Momentum         float64 `yaml:"momentum"`     // sgd's momentum

	// Set by the expansion of a grid and seeds: the configuration the run is one seed of
	// (its name without the seed) and the values the grid gave it.
	Config   string    `yaml:"-"`
	Settings []Setting `yaml:"-"`
	Base     string    `yaml:"-"` // the name the run has in the config, before the expansion
}

//go:embed presets/*.yaml
var presetFiles embed.FS

// Presets lists the embedded configs by name.
func Presets() []string {
	entries, _ := presetFiles.ReadDir("presets")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// Preset returns an embedded config and its YAML text.
func Preset(name string) (*Config, []byte, error) {
	data, err := presetFiles.ReadFile("presets/" + name + ".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("experiment: unknown preset %q (want %s)", name, strings.Join(Presets(), " or "))
	}
	cfg, err := Parse("preset "+name, data)
	return cfg, data, err
}

// Load reads a config file.
func Load(path string) (*Config, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("experiment: %w", err)
	}
	cfg, err := Parse(path, data)
	return cfg, data, err
}

// ConfigError reports a mistake in a config: where, which key, what is wrong.
type ConfigError struct {
	File    string
	Line    int
	Key     string // the path to the key, e.g. runs[2].hidden
	Problem string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Problem)
}

// Parse reads a config from YAML; file names it in errors. Every run gets the defaults it
// does not set, and is checked.
func Parse(file string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{File: file, Line: yamlErrorLine(err), Problem: "not valid YAML: " + yamlErrorText(err)}
	}
	if len(doc.Content) == 0 {
		return nil, &ConfigError{File: file, Line: 1, Problem: "the config is empty"}
	}
	cfg := &Config{}
	lines := map[string]int{}
	if err := decode(file, "", doc.Content[0], reflect.ValueOf(cfg).Elem(), lines); err != nil {
		return nil, err
	}
	if len(cfg.Runs) == 0 {
		return nil, &ConfigError{File: file, Line: lineOf(lines, "runs", 1), Key: "runs", Problem: "no runs"}
	}
	if cfg.TrainLimit < 0 {
		return nil, &ConfigError{File: file, Line: lineOf(lines, "train_limit", 1), Key: "train_limit", Problem: fmt.Sprintf("%d is negative", cfg.TrainLimit)}
	}
	if cfg.Eval.Noise != "" {
		if _, err := datasets.ParseNoise(cfg.Eval.Noise); err != nil {
			return nil, &ConfigError{File: file, Line: lineOf(lines, "eval.noise", 1), Key: "eval.noise", Problem: err.Error()}
		}
	}
	if err := cfg.checkStudies(file, lines); err != nil {
		return nil, err
	}
	axes, err := readGrid(file, &cfg.Grid, lines)
	if err != nil {
		return nil, err
	}
	for i, s := range cfg.Seeds {
		if s == 0 {
			key := fmt.Sprintf("seeds[%d]", i)
			return nil, &ConfigError{File: file, Line: lineOf(lines, key, 1), Key: key, Problem: "seeds start at 1"}
		}
	}
	// Runs are checked as written, then once more as the grid and seeds expand them; an
	// expanded run's mistake is reported at the grid's key.
	for i := range cfg.Runs {
		cfg.Runs[i].inherit(cfg.Defaults)
	}
	if cfg.Runs, err = expand(file, cfg.Runs, axes, cfg.Seeds, lines); err != nil {
		return nil, err
	}
	names := map[string]int{}
	for i := range cfg.Runs {
		r := &cfg.Runs[i]
		key := fmt.Sprintf("runs[%d]", i)
		if len(axes) > 0 || len(cfg.Seeds) > 0 {
			key = "run " + r.Name
		}
		if field, problem := r.check(); problem != "" {
			k := key
			if field != "" {
				k += "." + field
				if _, swept := lines["grid."+field]; swept {
					k = "grid." + field
				}
			}
			return nil, &ConfigError{File: file, Line: lineOf(lines, k, lineOf(lines, key, 1)), Key: k, Problem: problem}
		}
		if j, dup := names[r.Name]; dup {
			return nil, &ConfigError{File: file, Line: lineOf(lines, key+".name", 1), Key: key + ".name",
				Problem: fmt.Sprintf("%q is also the name of runs[%d]", r.Name, j)}
		}
		names[r.Name] = i
	}
	// A run's checkpoint is checkpoints/NAME.safetensors, a stage shared by runs
	// NAME-pretrain.safetensors, its optimiser's state NAME.optimizer.safetensors: no run
	// may be named so that its files are another's.
	for i, r := range cfg.Runs {
		clash := ""
		for _, suffix := range []string{"-train", "-pretrain", "-finetune"} {
			if _, ok := names[strings.TrimSuffix(r.Name, suffix)]; ok && strings.HasSuffix(r.Name, suffix) {
				clash = fmt.Sprintf("%q would share files with the %s stage of run %q", r.Name, strings.TrimPrefix(suffix, "-"), strings.TrimSuffix(r.Name, suffix))
			}
		}
		if strings.HasSuffix(r.Name, ".optimizer") || strings.ContainsAny(r.Name, `/\`) {
			clash = fmt.Sprintf("%q cannot name a checkpoint file (no .optimizer at the end, no slashes)", r.Name)
		}
		if clash != "" {
			key := fmt.Sprintf("runs[%d].name", i)
			return nil, &ConfigError{File: file, Line: lineOf(lines, key, lineOf(lines, "runs", 1)), Key: key, Problem: clash}
		}
	}
	return cfg, nil
}

// checkStudies fills the studies' defaults and checks them against the runs.
func (cfg *Config) checkStudies(file string, lines map[string]int) error {
	bad := func(key, problem string) error {
		return &ConfigError{File: file, Line: lineOf(lines, key, 1), Key: key, Problem: problem}
	}
	setting := func(prefix string, err error) error {
		var se *models.SettingError
		if errors.As(err, &se) {
			return bad(prefix+"."+se.Setting, se.Problem)
		}
		return bad(prefix, strings.TrimPrefix(err.Error(), "models: "))
	}
	if in := cfg.Interpolations; in != nil {
		if in.Pairs == 0 {
			in.Pairs = study.DefaultPairs
		}
		if in.Steps == 0 {
			in.Steps = study.DefaultPathSteps
		}
		if in.Shown == 0 || in.Shown > in.Pairs {
			in.Shown = in.Pairs
		}
		if err := study.CheckInterpolation(in.Pairs, in.Steps); err != nil {
			return setting("interpolations", err)
		}
	}
	for i := range cfg.Walks {
		w, key := &cfg.Walks[i], fmt.Sprintf("walks[%d]", i)
		if w.Method == "" {
			w.Method = study.DefaultWalkMethod
		}
		if w.Start == "" {
			w.Start = study.DefaultWalkStart
		}
		if w.Steps == 0 {
			w.Steps = study.DefaultWalkSteps
		}
		if w.Eta == 0 {
			w.Eta = study.DefaultWalkEta
		}
		if w.Chains == 0 {
			w.Chains = study.DefaultChains
		}
		if w.Anneal == 0 {
			w.Anneal = study.DefaultAnneal
		}
		if err := (study.WalkConfig{Method: w.Method, Steps: w.Steps, Eta: w.Eta, Anneal: w.Anneal, BurnIn: w.BurnIn}).Validate(); err != nil {
			return setting(key, err)
		}
		if err := study.CheckWalkStart(w.Start, w.Chains); err != nil {
			return setting(key, err)
		}
		if len(w.Models) == 0 {
			return bad(key+".models", "no models to walk with")
		}
		for j, name := range w.Models {
			if !slices.ContainsFunc(cfg.Runs, func(r Run) bool { return r.Name == name }) {
				return bad(fmt.Sprintf("%s.models[%d]", key, j), fmt.Sprintf("%q is not the name of a run", name))
			}
		}
	}
	return nil
}

func lineOf(lines map[string]int, key string, fallback int) int {
	if l, ok := lines[key]; ok {
		return l
	}
	return fallback
}

// decode fills v from node, key by key, recording each key's line; unknown keys and values
// of the wrong type are errors.
func decode(file, path string, node *yaml.Node, v reflect.Value, lines map[string]int) error {
	bad := func(n *yaml.Node, key, problem string) error {
		return &ConfigError{File: file, Line: n.Line, Key: key, Problem: problem}
	}
	if v.Type() == reflect.TypeOf(yaml.Node{}) { // read later (a grid keeps its keys' order)
		v.Set(reflect.ValueOf(*node))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return decode(file, path, node, v.Elem(), lines)
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return bad(node, path, "want a mapping of keys to values")
		}
		fields := map[string]int{}
		var known []string
		for i := range v.NumField() {
			tag := v.Type().Field(i).Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			fields[tag] = i
			known = append(known, tag)
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, val := node.Content[i], node.Content[i+1]
			key := k.Value
			if path != "" {
				key = path + "." + k.Value
			}
			f, ok := fields[k.Value]
			if !ok {
				return bad(k, key, fmt.Sprintf("unknown key (known: %s)", strings.Join(known, ", ")))
			}
			lines[key] = k.Line
			if err := decode(file, key, val, v.Field(f), lines); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			if v.Type().Elem().Kind() == reflect.Int && node.Kind == yaml.ScalarNode {
				// hidden: 128 means a one-element list
				node = &yaml.Node{Kind: yaml.SequenceNode, Line: node.Line, Content: []*yaml.Node{node}}
			} else {
				return bad(node, path, "want a list")
			}
		}
		s := reflect.MakeSlice(v.Type(), len(node.Content), len(node.Content))
		for i, item := range node.Content {
			key := fmt.Sprintf("%s[%d]", path, i)
			lines[key] = item.Line
			if err := decode(file, key, item, s.Index(i), lines); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if node.Kind != yaml.ScalarNode {
		return bad(node, path, "want a single value")
	}
	if err := node.Decode(v.Addr().Interface()); err != nil {
		return bad(node, path, fmt.Sprintf("%q is not %s", node.Value, typeName(v.Kind())))
	}
	return nil
}

func typeName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Uint64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return "text"
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrorLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	return 1
}

func yamlErrorText(err error) string { return strings.TrimPrefix(err.Error(), "yaml: ") }

// inherit fills the fields r leaves zero from d.
func (r *Run) inherit(d Run) {
	rv, dv := reflect.ValueOf(r).Elem(), reflect.ValueOf(d)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() && rv.Type().Field(i).Name != "Name" {
			rv.Field(i).Set(dv.Field(i))
		}
	}
	if r.Procedure == "" {
		r.Procedure = models.ProcedureTrain
	}
	if r.Batch == 0 {
		r.Batch = train.DefaultBatch
	}
	if r.LR == 0 {
		r.LR = train.DefaultLR
	}
	if r.FinetuneLR == 0 {
		r.FinetuneLR = train.DefaultFinetuneLR
	}
	if r.Seed == 0 {
		r.Seed = 1
	}
}

// check returns the field of the first problem with r and the problem, or "" when r can run.
func (r *Run) check() (field, problem string) {
	if r.Name == "" {
		return "name", "every run needs a name"
	}
	if strings.ContainsAny(r.Name, `/\ `) {
		return "name", fmt.Sprintf("%q: a name becomes a file name; use letters, digits, '-' and '_'", r.Name)
	}
	if _, err := models.ParseKind(r.Kind); err != nil {
		return "kind", err.Error()
	}
	if len(r.Hidden) == 0 {
		return "hidden", "no hidden layer sizes"
	}
	for _, h := range r.Hidden {
		if h <= 0 || h > 1<<16 {
			return "hidden", fmt.Sprintf("layer size %d is impossible (want 1 to 65536)", h)
		}
	}
	for _, f := range []struct{ name, value string }{{"activation", r.Activation}, {"code_activation", r.CodeActivation}, {"output_activation", r.OutputActivation}} {
		if f.value != "" {
			if _, err := graph.ParseActivation(f.value); err != nil {
				return f.name, err.Error()
			}
		}
	}
	if _, err := graph.ParseLoss(r.Loss); err != nil {
		return "loss", err.Error()
	}
	for _, f := range []struct{ name, value string }{{"noise", r.Noise}, {"level_noise", r.LevelNoise}} {
		if _, err := datasets.ParseNoise(f.value); err != nil {
			return f.name, err.Error()
		}
	}
	if !slices.Contains([]string{models.ProcedureTrain, models.ProcedurePretrain, models.ProcedureFinetune}, r.Procedure) {
		return "procedure", fmt.Sprintf("%q: want %s, %s or %s", r.Procedure, models.ProcedureTrain, models.ProcedurePretrain, models.ProcedureFinetune)
	}
	switch {
	case r.Procedure == models.ProcedureTrain && r.Epochs <= 0:
		return "epochs", fmt.Sprintf("a train run needs epochs > 0, got %d", r.Epochs)
	case r.Procedure != models.ProcedureTrain && r.EpochsPerLayer <= 0:
		return "epochs_per_layer", fmt.Sprintf("a %s run needs epochs_per_layer > 0, got %d", r.Procedure, r.EpochsPerLayer)
	case r.Procedure == models.ProcedureFinetune && r.FinetuneEpochs <= 0:
		return "finetune_epochs", fmt.Sprintf("a %s run needs finetune_epochs > 0, got %d", r.Procedure, r.FinetuneEpochs)
	case r.Lambda < 0:
		return "lambda", fmt.Sprintf("%g is negative", r.Lambda)
	}
	sched, err := r.Schedule()
	adam, errOpt := r.Optimiser(r.LR)
	for _, err := range []error{
		err,
		errOpt,
		train.Config{Epochs: 1, Batch: r.Batch, Adam: adam, Patience: r.Patience, Keep: r.Keep, Schedule: sched, Walkback: r.Walkback}.Validate(),
		train.CheckLR("finetune_lr", r.FinetuneLR),
	} {
		var se *models.SettingError
		if errors.As(err, &se) {
			return se.Setting, se.Problem
		}
	}
	spec, err := r.Spec(784)
	if err != nil {
		return "", err.Error()
	}
	if err := spec.Validate(); err != nil {
		return "", strings.TrimPrefix(err.Error(), "models: ")
	}
	return "", ""
}

// Optimiser returns the run's optimiser settings at learning rate lr.
func (r *Run) Optimiser(lr float64) (graph.Adam, error) {
	adam := graph.Adam{LR: lr, WeightDecay: r.WeightDecay, Momentum: r.Momentum}
	return adam, train.ParseOptimizer(r.Optimizer, &adam)
}

// Schedule returns the run's learning-rate schedule, its warm-up included.
func (r *Run) Schedule() (train.Schedule, error) {
	s, err := train.ParseSchedule(r.LRSchedule)
	s.Warmup = r.Warmup
	return s, err
}

// Spec returns the run's autoencoder spec for inputs of d values, defaults filled in.
func (r *Run) Spec(d int) (models.Spec, error) {
	kind, err := models.ParseKind(r.Kind)
	if err != nil {
		return models.Spec{}, err
	}
	noise, err := datasets.ParseNoise(r.Noise)
	if err != nil {
		return models.Spec{}, err
	}
	levelNoise, err := datasets.ParseNoise(r.LevelNoise)
	if err != nil {
		return models.Spec{}, err
	}
	spec := models.Spec{Kind: kind, Layers: append([]int{d}, r.Hidden...), Activation: graph.Activation(r.Activation),
		Code: graph.Activation(r.CodeActivation), Output: graph.Activation(r.OutputActivation), Loss: graph.Loss(r.Loss),
		Noise: noise, LevelNoise: levelNoise, Lambda: r.Lambda}
	return spec.WithDefaults(), nil
}
