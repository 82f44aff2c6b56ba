package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models/report"
	"github.com/aelab/aelab/models/study"
)

func reconstructCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "reconstruct",
		Usage: "draw test digits, their corrupted versions and the model's reconstructions as a PNG grid",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.IntFlag{Name: "n", Value: 10, Usage: "how many test digits (cycling through the classes 0-9)"},
			noiseFlag("corruption of the inputs (default: the model's training noise; none for clean only)"),
			seedFlag(),
			&cli.StringFlag{Name: "out", Value: "reconstructions.png", Usage: "PNG `FILE` to write"},
			deviceFlag(),
			tf32Flag(),
			gemmFlag(),
			dataDirFlag(),
		},
		Action: func(c *cli.Context) error { return reconstructAction(c, s) },
	}
}

func reconstructAction(c *cli.Context, s streams) error {
	n := c.Int("n")
	if n <= 0 || n > 100 {
		return usagef("--n must be between 1 and 100, got %d", n)
	}
	noise, err := parseNoise(c)
	if err != nil {
		return err
	}
	out := c.String("out")
	if err := checkOutput("out", out); err != nil {
		return err
	}
	model, err := loadModel(c)
	if err != nil {
		return err
	}
	if !c.IsSet("noise") {
		noise = model.AE.Spec.Noise
	}
	set, err := loadData(c)
	if err != nil {
		return err
	}
	backend, err := openBackend(c, s)
	if err != nil {
		return err
	}
	defer backend.Close()

	digits := study.PickDigits(set.Test, n, noise, c.Uint64("seed"))
	recon, err := digits.Reconstruct(c.Context, backend, "reconstructed", model.AE.Graph())
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s %s, noise %s", model.AE.Spec.Kind, model.AE.Spec, noise)
	grid := report.ReconstructionGrid(title, digits, []study.Reconstruction{recon}, false)
	if recon.FromNoisy != nil {
		recon.Name = "from noisy"
		grid.Rows = append(grid.Rows, report.ReconstructionGrid("", digits, []study.Reconstruction{recon}, true).Rows...)
	}
	img, err := grid.Render()
	if err != nil {
		return err
	}
	if err := report.WritePNG(out, img); err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "wrote %s\n", out)
	return nil
}
