package experiment

import (
	"errors"
	"strings"
	"testing"

	"github.com/aelab/aelab/models"
)

func TestPresetsParse(t *testing.T) {
	for _, name := range Presets() {
		cfg, text, err := Preset(name)
		if err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
		if len(cfg.Runs) < 9 || len(text) == 0 {
			t.Errorf("preset %s has %d runs", name, len(cfg.Runs))
		}
	}
	if _, _, err := Preset("huge"); err == nil {
		t.Error("an unknown preset was accepted")
	}
}

func TestDefaultsApply(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(`
name: x
defaults: {batch: 64, lr: 0.01}
runs:
  - {name: a, kind: ae, hidden: 16, epochs: 1}
  - {name: b, kind: dae, hidden: [32, 8], procedure: pretrain+finetune, epochs_per_layer: 1, finetune_epochs: 2, batch: 16}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Runs[0], cfg.Runs[1]
	if a.Batch != 64 || a.LR != 0.01 || a.Procedure != models.ProcedureTrain || len(a.Hidden) != 1 || a.Seed != 1 {
		t.Errorf("run a: %+v", a)
	}
	if b.Batch != 16 || b.LR != 0.01 || b.FinetuneLR != 1e-4 {
		t.Errorf("run b: %+v", b)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line       int
		key, want  string
	}{
		{"unknown key", "name: x\nruns:\n  - name: a\n    kind: ae\n    hiden: [8]\n", 5, "runs[0].hiden", "unknown key"},
		{"unknown top key", "name: x\nrun: []\n", 2, "run", "unknown key"},
		{"wrong type", "name: x\nruns:\n  - {name: a, kind: ae, hidden: [8], epochs: many}\n", 3, "runs[0].epochs", `"many" is not a whole number`},
		{"list expected", "name: x\nruns: {name: a}\n", 2, "runs", "want a list"},
		{"impossible size", "name: x\nruns:\n  - name: a\n    kind: ae\n    hidden: [512, 0]\n    epochs: 1\n", 5, "runs[0].hidden", "layer size 0 is impossible"},
		{"no epochs", "name: x\nruns:\n  - {name: a, kind: ae, hidden: [8]}\n", 3, "runs[0].epochs", "needs epochs > 0"},
		{"bad kind", "name: x\nruns:\n  - name: a\n    kind: vae\n    hidden: [8]\n    epochs: 1\n", 4, "runs[0].kind", `unknown kind "vae"`},
		{"bad noise", "name: x\nruns:\n  - name: a\n    kind: dae\n    hidden: [8]\n    noise: gaussian:-1\n    epochs: 1\n", 6, "runs[0].noise", "σ must be"},
		{"bad procedure", "name: x\nruns:\n  - name: a\n    kind: ae\n    hidden: [8]\n    procedure: sgd\n    epochs: 1\n", 6, "runs[0].procedure", `"sgd"`},
		{"noise on ae", "name: x\nruns:\n  - name: a\n    kind: ae\n    hidden: [8]\n    noise: mask:0.2\n    epochs: 1\n", 3, "runs[0]", "for a dae"},
		{"duplicate", "name: x\nruns:\n  - {name: a, kind: ae, hidden: [8], epochs: 1}\n  - {name: a, kind: ae, hidden: [8], epochs: 2}\n", 4, "runs[1].name", "also the name of runs[0]"},
		{"no runs", "name: x\n", 1, "runs", "no runs"},
		{"not yaml", "name: [x\n", 1, "", "not valid YAML"},
		{"empty", "", 1, "", "empty"},
		{"bad eval noise", "name: x\neval: {noise: blur}\nruns:\n  - {name: a, kind: ae, hidden: [8], epochs: 1}\n", 2, "eval.noise", "unknown kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tc.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *ConfigError", err)
			}
			if ce.File != "cfg.yaml" || ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(ce.Problem, tc.want) {
				t.Errorf("got %q (line %d, key %q), want line %d, key %q, saying %q", err, ce.Line, ce.Key, tc.line, tc.key, tc.want)
			}
		})
	}
}

// A grid and seeds expand every run into one per combination and seed, with readable names,
// and a mistake in a swept value is reported at the grid's key.
func TestGridAndSeedsExpand(t *testing.T) {
	cfg, err := Parse("g.yaml", []byte(`
name: g
runs:
  - {name: dae, kind: dae, hidden: [8], noise: "gaussian:0.4", epochs: 1}
grid:
  noise: ["gaussian:0.2", "gaussian:0.8"]
  hidden: [[32], [512, 128]]
seeds: [1, 2]
`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range cfg.Runs {
		names = append(names, r.Name)
	}
	want := []string{
		"dae_noise-gaussian0.2_hidden-32_seed-1", "dae_noise-gaussian0.2_hidden-32_seed-2",
		"dae_noise-gaussian0.2_hidden-512x128_seed-1", "dae_noise-gaussian0.2_hidden-512x128_seed-2",
		"dae_noise-gaussian0.8_hidden-32_seed-1", "dae_noise-gaussian0.8_hidden-32_seed-2",
		"dae_noise-gaussian0.8_hidden-512x128_seed-1", "dae_noise-gaussian0.8_hidden-512x128_seed-2",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("runs %v, want %v", names, want)
	}
	r := cfg.Runs[3]
	if r.Noise != "gaussian:0.2" || len(r.Hidden) != 2 || r.Seed != 2 || r.Config != "dae_noise-gaussian0.2_hidden-512x128" || r.Base != "dae" {
		t.Errorf("run 3: %+v", r)
	}
	for _, tc := range []struct {
		name, yaml, key string
		line            int
	}{
		{"unknown key", "name: g\nruns: [{name: a, kind: ae, hidden: 8, epochs: 1}]\ngrid: {width: [1, 2]}\n", "grid.width", 3},
		{"not a list", "name: g\nruns: [{name: a, kind: ae, hidden: 8, epochs: 1}]\ngrid: {lr: 0.1}\n", "grid.lr", 3},
		{"bad value", "name: g\nruns: [{name: a, kind: dae, hidden: 8, epochs: 1}]\ngrid:\n  noise: [\"gaussian:0.2\", \"gaussian:-1\"]\n", "grid.noise", 4},
		{"seed 0", "name: g\nruns: [{name: a, kind: ae, hidden: 8, epochs: 1}]\nseeds: [0, 1]\n", "seeds[0]", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("g.yaml", []byte(tc.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.key || ce.Line != tc.line {
				t.Errorf("error %v, want one at g.yaml:%d: %s", err, tc.line, tc.key)
			}
		})
	}
}
