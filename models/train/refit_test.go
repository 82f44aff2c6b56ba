package train

import (
	"context"
	"errors"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// TestRefitTrainsOnValidationToo fine-tunes a small stack's classifier with and without
// Refit: a refit epoch takes the steps of the training and validation images together and
// reports no validation figures, and the record says it was a refit.
func TestRefitTrainsOnValidationToo(t *testing.T) {
	set := smallSet(t) // 400 training, 100 validation images
	cases := []struct {
		refit     bool
		wantSteps int // in the first epoch, of 20 images
	}{
		{false, 400 / 20},
		{true, 500 / 20},
	}
	for _, tc := range cases {
		path := t.TempDir() + "/m.safetensors"
		cfg := Config{Epochs: 1, Batch: 20, Seed: 1}
		m, err := NewStack(context.Background(), graph.Tape{}, models.Spec{Kind: models.AE, Layers: []int{16}}, Job{Set: set, Config: cfg, Path: path})
		if err != nil {
			t.Fatal(err)
		}
		steps := 0
		count := func(stage string) Hooks {
			return Hooks{Step: func(step int, _ float64) { steps = max(steps, step) }}
		}
		cfg.Refit = tc.refit
		if err := Finetune(context.Background(), graph.Tape{}, m, models.ObjectiveClassify, datasets.Noise{}, Job{Set: set, Config: cfg, Path: path, Progress: count}); err != nil {
			t.Fatal(err)
		}
		ft := m.Record.Finetune
		if steps != tc.wantSteps || ft.Refit != tc.refit || ft.History[0].NoValidation != tc.refit {
			t.Errorf("refit %v: %d steps an epoch (want %d), record refit %v, no validation %v", tc.refit, steps, tc.wantSteps, ft.Refit, ft.History[0].NoValidation)
		}
	}
}

// A refit watches no validation images, so it takes no setting that does.
func TestRefitRefusesWhatWatchesValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"patience", Config{Patience: 3}},
		{"keep best", Config{Keep: KeepBest}},
		{"plateau", Config{Schedule: Schedule{Kind: SchedulePlateau, Every: 2, Gamma: 0.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Epochs, cfg.Batch, cfg.Adam.LR, cfg.Refit = 2, 10, 0.001, true
			var se *models.SettingError
			if err := cfg.Validate(); !errors.As(err, &se) || se.Setting != "refit" {
				t.Errorf("Validate() = %v, want a refit setting error", err)
			}
			cfg.Refit = false
			if err := cfg.Validate(); err != nil {
				t.Errorf("without refit: %v", err)
			}
		})
	}
}
