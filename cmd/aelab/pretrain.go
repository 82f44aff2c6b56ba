package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

func pretrainCommand(s streams) *cli.Command {
	flags := append(specFlags("512,128"),
		&cli.StringFlag{Name: "level-noise", Usage: "corruption of the codes that levels 2… of a dae reconstruct (default gaussian:0.2)"})
	flags = append(flags, trainingFlags("epochs-per-layer", 5)...)
	flags = append(flags, &cli.StringFlag{Name: "out", Usage: "checkpoint `FILE` to write (default: KIND-HIDDEN.safetensors)"}, resumeFlag())
	return &cli.Command{
		Name:   "pretrain",
		Usage:  "pretrain a deep autoencoder greedily, one single-layer autoencoder per level",
		Flags:  flags,
		Action: func(c *cli.Context) error { return pretrainAction(c, s) },
	}
}

func pretrainAction(c *cli.Context, s streams) error {
	return makeModel(c, s, "epochs-per-layer", "pretraining %s %s level by level on %d %s images, batch %d, %s per level\n",
		train.NewStack, func(m *models.Model) string {
			if n := len(m.Record.Levels); n > 0 {
				return fmt.Sprintf("level %d, epoch %d", n, len(m.Record.Levels[n-1].History))
			}
			return ""
		})
}
