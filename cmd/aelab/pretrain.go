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
	run, err := startNewRun(c, s, "epochs-per-layer")
	if err != nil {
		return err
	}
	defer run.backend.Close()
	fmt.Fprintf(s.Err, "pretraining %s %s level by level on %d %s images, batch %d, %d epochs per level\n",
		run.spec.Kind, joinInts(run.spec.Layers), run.set.Train.Len(), run.set.Name, run.cfg.Batch, run.cfg.Epochs)
	show, bar := progress(s, run.cfg.Batch)
	m, err := models.PretrainModel(c.Context, run.backend, run.spec, run.job(c, show))
	if err != nil {
		bar.abandon()
		if m == nil {
			return err
		}
		what := ""
		if n := len(m.Record.Levels); n > 0 {
			what = fmt.Sprintf("level %d, epoch %d", n, len(m.Record.Levels[n-1].History))
		}
		return trainingError(err, run.out, what, what != "")
	}
	fmt.Fprintf(s.Out, "wrote %s (%s %s, %d parameters, %d levels × %d epochs, %.1fs of training)\n",
		run.out, m.AE.Spec.Kind, m.AE.Spec, m.AE.NumParams(), m.AE.Spec.Depth(), run.cfg.Epochs, m.Record.Training.Seconds)
	return nil
}
