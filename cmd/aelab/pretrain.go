package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
)

func pretrainCommand(s streams) *cli.Command {
	flags := append(specFlags("512,128"),
		&cli.StringFlag{Name: "level-noise", Usage: "corruption of the codes that levels 2… of a dae reconstruct (default gaussian:0.2)"})
	flags = append(flags, trainingFlags("epochs-per-layer", 5)...)
	flags = append(flags, &cli.StringFlag{Name: "out", Usage: "checkpoint `FILE` to write (default: KIND-HIDDEN.safetensors)"})
	return &cli.Command{
		Name:   "pretrain",
		Usage:  "pretrain a deep autoencoder greedily, one single-layer autoencoder per level",
		Flags:  flags,
		Action: func(c *cli.Context) error { return pretrainAction(c, s) },
	}
}

func pretrainAction(c *cli.Context, s streams) error {
	run, err := startNewRun(c, s, "pretrain", "epochs-per-layer")
	if err != nil {
		return err
	}
	defer run.backend.Close()
	ae, rec := run.model.AE, &run.model.Record
	fmt.Fprintf(s.Err, "pretraining %s %s (%d parameters) level by level on %d %s images, batch %d, %d epochs per level\n",
		ae.Spec.Kind, ae.Spec, ae.NumParams(), run.set.Train.Len(), run.set.Name, run.cfg.Batch, run.cfg.Epochs)

	progress := newTrainProgress(s.Err, run.cfg.Batch)
	hooks := models.PretrainHooks{
		Level: func(level, levels int) models.Hooks {
			progress.prefix = fmt.Sprintf("level %d/%d ", level, levels)
			return progress.hooks(func(st models.EpochStats) error {
				rec.Training.Seconds += st.Seconds
				return nil
			})
		},
		EpochEnd: func(levels []models.LevelRecord) error {
			rec.Levels = levels
			return models.Save(run.out, run.model)
		},
	}
	_, err = models.Pretrain(c.Context, run.backend, ae, run.set.Train, run.set.Validation, run.cfg, hooks)
	if err != nil {
		progress.abandon()
		what := ""
		if n := len(rec.Levels); n > 0 {
			what = fmt.Sprintf("level %d, epoch %d", n, len(rec.Levels[n-1].History))
		}
		return trainingError(err, run.out, what, what != "")
	}
	fmt.Fprintf(s.Out, "wrote %s (%d levels × %d epochs, %.1fs of training)\n", run.out, ae.Spec.Depth(), run.cfg.Epochs, rec.Training.Seconds)
	return nil
}
