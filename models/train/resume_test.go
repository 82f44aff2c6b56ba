package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/modeltest"
)

// smallSet is a data set of a few hundred images, for whole procedures in a test.
func smallSet(t *testing.T) *datasets.Set {
	t.Helper()
	full := modeltest.MNIST(t)
	return &datasets.Set{Name: full.Name, Files: full.Files, TrainFile: full.TrainFile,
		Train: full.Train.Slice(0, 400), Validation: full.Validation.Slice(0, 100), Test: full.Test.Slice(0, 100)}
}

// stopAfter returns progress hooks that cancel ctx at the end of the given epoch of stage.
func stopAfter(cancel context.CancelFunc, stage string, epoch int) Progress {
	return func(label string) Hooks {
		return Hooks{EpochEnd: func(st models.EpochStats) error {
			if label == stage && st.Epoch == epoch {
				cancel()
			}
			return nil
		}}
	}
}

// TestStoppedTrainingGoesOnExactly stops each procedure after 2 of its 4 epochs, goes on with
// Continue, and gets the weights of the same procedure run without stopping, bit for bit.
func TestStoppedTrainingGoesOnExactly(t *testing.T) {
	set := smallSet(t)
	backend := graph.Tape{}
	cfg := Config{Epochs: 4, Batch: 50, Seed: 3}
	dae := models.Spec{Kind: models.DAE, Layers: []int{16}}
	deep := models.Spec{Kind: models.DAE, Layers: []int{24, 8}}
	pretrained := func(t *testing.T, dir string) *models.Model { // a stack to fine-tune
		m, err := NewStack(context.Background(), backend, deep, Job{Set: set, Config: Config{Epochs: 1, Batch: 50, Seed: 3}, Path: filepath.Join(dir, "stack.safetensors")})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		stage string // the progress label of the stage stopped
		make  func(ctx context.Context, dir, path string, progress Progress) (*models.Model, error)
	}{
		{"train", "train", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			return NewModel(ctx, backend, dae, Job{Set: set, Config: cfg, Path: path, Progress: p})
		}},
		{"pretrain, in level 2", "level 2/2", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			return NewStack(ctx, backend, deep, Job{Set: set, Config: cfg, Path: path, Progress: p})
		}},
		{"fine-tune", "finetune", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			m := pretrained(t, dir)
			return m, Finetune(ctx, backend, m, models.ObjectiveReconstruct, m.AE.Spec.Noise, Job{Set: set, Config: cfg, Path: path, Progress: p})
		}},
		{"fine-tune to classify", "finetune", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			m := pretrained(t, dir)
			return m, Finetune(ctx, backend, m, models.ObjectiveClassify, datasets.Noise{}, Job{Set: set, Config: cfg, Path: path, Progress: p})
		}},
		{"train with a schedule after a warm-up, and weight decay", "train", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			c := cfg
			c.Schedule, c.Adam.WeightDecay = Schedule{Kind: ScheduleStep, Every: 1, Gamma: 0.5, Warmup: 1}, 0.1
			return NewModel(ctx, backend, dae, Job{Set: set, Config: c, Path: path, Progress: p})
		}},
		{"train by SGD with momentum and L2", "train", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			c := cfg
			c.Adam = graph.Adam{LR: 0.05, SGD: true, Momentum: 0.9, WeightDecay: 0.001}
			return NewModel(ctx, backend, dae, Job{Set: set, Config: c, Path: path, Progress: p})
		}},
		{"train with walkback", "train", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			c := cfg
			c.Walkback = 2
			return NewModel(ctx, backend, dae, Job{Set: set, Config: c, Path: path, Progress: p})
		}},
		{"classify with dropout and a plateau schedule", "finetune", func(ctx context.Context, dir, path string, p Progress) (*models.Model, error) {
			m := pretrained(t, dir)
			c := cfg
			c.Schedule, c.Dropout = Schedule{Kind: SchedulePlateau, Every: 1, Gamma: 0.5}, 0.3
			return m, Finetune(ctx, backend, m, models.ObjectiveClassify, datasets.Noise{}, Job{Set: set, Config: c, Path: path, Progress: p})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			whole, err := tc.make(context.Background(), dir, filepath.Join(dir, "whole.safetensors"), nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "stopped.safetensors")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := tc.make(ctx, dir, path, stopAfter(cancel, tc.stage, 2)); !errors.Is(err, models.ErrInterrupted) {
				t.Fatalf("stopping: %v, want ErrInterrupted", err)
			}
			stopped, err := models.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := Continue(context.Background(), backend, stopped, Job{Set: set, Path: path}); err != nil {
				t.Fatalf("going on: %v", err)
			}
			again, err := models.Load(path) // what is on disk
			if err != nil {
				t.Fatal(err)
			}
			wantParams, gotParams := whole.AE.Graph().Params(), again.AE.Graph().Params()
			if whole.AE.Head != nil {
				wantParams, gotParams = graph.StackParams(whole.AE.Classifier()), graph.StackParams(again.AE.Classifier())
			}
			for i, p := range wantParams {
				if !slices.Equal(p.Data, gotParams[i].Data) {
					t.Errorf("%s differs from the run that never stopped", p.Name)
				}
			}
			if got, want := again.Record.Epochs(), whole.Record.Epochs(); got != want {
				t.Errorf("%d epochs recorded, want %d", got, want)
			}
		})
	}
}

// Going on needs the optimiser's state of the very epoch the checkpoint stopped at. The state
// is written before the checkpoint, so a run stopped between the two writes has the newest
// state one epoch ahead: the state of the epoch before is kept for it.
func TestContinueFindsTheCheckpointsState(t *testing.T) {
	set := smallSet(t)
	dir := t.TempDir()
	spec := models.Spec{Kind: models.AE, Layers: []int{16}}
	train := func(path string, epochs int) {
		t.Helper()
		if _, err := NewModel(context.Background(), graph.Tape{}, spec, Job{Set: set, Config: Config{Epochs: epochs, Batch: 50, Seed: 1}, Path: path}); err != nil {
			t.Fatal(err)
		}
	}
	whole, path, one := filepath.Join(dir, "whole.safetensors"), filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "one.safetensors")
	train(whole, 3)
	train(path, 2) // the state of epoch 2, and of epoch 1 before it
	train(one, 1)  // the checkpoint of epoch 1, as if the run stopped before writing epoch 2's
	b, err := os.ReadFile(one)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := models.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Continue(context.Background(), graph.Tape{}, m, Job{Set: set, Path: path, Config: Config{Epochs: 3}}); err != nil {
		t.Fatalf("a checkpoint one epoch behind its newest state: %v", err)
	}
	want, err := models.Load(whole)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range want.AE.Graph().Params() {
		if !slices.Equal(p.Data, m.AE.Graph().Params()[i].Data) {
			t.Errorf("%s differs from the run that never stopped", p.Name)
		}
	}
	// Without the state of the checkpoint's epoch, it does not go on.
	m2, err := models.Load(one)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(models.PreviousOptimizerPath(one))
	if err := os.Rename(models.OptimizerPath(path), models.OptimizerPath(one)); err != nil {
		t.Fatal(err)
	}
	if err := Continue(context.Background(), graph.Tape{}, m2, Job{Set: set, Path: one, Config: Config{Epochs: 3}}); err == nil {
		t.Error("a checkpoint of epoch 1 went on with the optimiser's state of epoch 3")
	}
}
