package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
)

func infoCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "print a checkpoint's spec, training settings and history",
		Flags: []cli.Flag{modelFlag(), jsonFlag()},
		Action: func(c *cli.Context) error {
			m, err := loadModel(c)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				rec := m.Record
				rec.Spec = m.AE.Spec
				return json.NewEncoder(s.Out).Encode(rec)
			}
			sp, tr := m.AE.Spec, m.Record.Training
			fmt.Fprintf(s.Out, "model      %s %s, %d parameters\n", sp.Kind, sp, m.AE.NumParams())
			fmt.Fprintf(s.Out, "units      hidden %s, code %s, output %s; loss %s\n", sp.Activation, sp.Code, sp.Output, sp.Loss)
			if !sp.Noise.IsNone() {
				fmt.Fprintf(s.Out, "noise      %s\n", sp.Noise)
			}
			if sp.Lambda > 0 {
				fmt.Fprintf(s.Out, "lambda     %g\n", sp.Lambda)
			}
			if !sp.LevelNoise.IsNone() {
				fmt.Fprintf(s.Out, "level noise %s\n", sp.LevelNoise)
			}
			per := ""
			if tr.Procedure == "pretrain" {
				per = " per level"
			}
			decay := optimiserNote(tr.Optimizer, tr.Momentum, tr.WeightDecay, tr.LRSchedule, tr.Warmup)
			fmt.Fprintf(s.Out, "training   %s: %s%s, batch %d, lr %g%s, seed %d, %s, %.1fs\n",
				tr.Procedure, plural(tr.Epochs, "epoch"), per, tr.Batch, tr.LR, decay, tr.Seed, tr.Device, tr.Seconds)
			if ft := m.Record.Finetune; ft != nil {
				extra := optimiserNote(ft.Optimizer, ft.Momentum, ft.WeightDecay, ft.LRSchedule, ft.Warmup)
				if ft.Dropout > 0 {
					extra = fmt.Sprintf(", dropout %g", ft.Dropout) + extra
				}
				if ft.Refit {
					extra += ", refit on the training and validation images"
				}
				fmt.Fprintf(s.Out, "finetune   %s: %s, noise %s%s, batch %d, lr %g, seed %d, %s, %.1fs\n",
					ft.Objective, plural(ft.Epochs, "epoch"), ft.Noise, extra, ft.Batch, ft.LR, ft.Seed, ft.Device, ft.Seconds)
			}
			fmt.Fprintf(s.Out, "data       %s, %d training images, checksum %s\n", m.Record.Data.Name, m.Record.Data.TrainImages, m.Record.Data.Checksum)
			fmt.Fprintf(s.Out, "aelab      %s\n", m.Record.Aelab)
			printHistory := func(stage string, hist []models.EpochStats) {
				for _, h := range hist {
					lr := ""
					if h.LR > 0 {
						lr = fmt.Sprintf("  lr %.3g", h.LR)
					}
					fmt.Fprintf(s.Out, "%sepoch %3d  train %.5f%s%s  %.1fs\n", stage, h.Epoch, h.TrainLoss, h.Validation(), lr, h.Seconds)
				}
			}
			printHistory("", m.Record.History)
			for _, l := range m.Record.Levels {
				fmt.Fprintf(s.Out, "level %d    %d→%d, noise %s, loss %s\n", l.Level, l.Layers[0], l.Layers[1], l.Noise, l.Loss)
				printHistory(fmt.Sprintf("level %d ", l.Level), l.History)
			}
			if ft := m.Record.Finetune; ft != nil {
				printHistory("finetune ", ft.History)
			}
			return nil
		},
	}
}

// optimiserNote describes the optimiser settings beyond Adam's rate, when there are any.
func optimiserNote(optimizer string, momentum, weightDecay float64, schedule string, warmup int) string {
	note := ""
	if optimizer != "" {
		note += ", " + optimizer
		if momentum > 0 {
			note += fmt.Sprintf(" with momentum %g", momentum)
		}
	}
	if weightDecay > 0 {
		note += fmt.Sprintf(", weight decay %g", weightDecay)
	}
	if schedule != "" {
		note += ", lr schedule " + schedule
	}
	if warmup > 0 {
		note += ", warm-up " + plural(warmup, "epoch")
	}
	return note
}
