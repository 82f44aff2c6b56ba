package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"
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
			fmt.Fprintf(s.Out, "training   %s: %d epochs, batch %d, lr %g, seed %d, %s, %.1fs\n",
				tr.Procedure, tr.Epochs, tr.Batch, tr.LR, tr.Seed, tr.Device, tr.Seconds)
			fmt.Fprintf(s.Out, "data       %s, %d training images, checksum %s\n", m.Record.Data.Name, m.Record.Data.TrainImages, m.Record.Data.Checksum)
			fmt.Fprintf(s.Out, "aelab      %s\n", m.Record.Aelab)
			for _, h := range m.Record.History {
				fmt.Fprintf(s.Out, "epoch %3d  train %.5f  val %.5f  %.1fs\n", h.Epoch, h.TrainLoss, h.ValLoss, h.Seconds)
			}
			return nil
		},
	}
}
