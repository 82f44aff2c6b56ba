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
