package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models/experiment"
)

func experimentCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "experiment",
		Usage: "train and compare every configuration of a preset or a config file, and write tables, figures and report.html",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "preset", Value: "seed", Usage: "embedded configuration: " + strings.Join(experiment.Presets(), " or ") + " (quick: a few minutes on two cores)"},
			&cli.StringFlag{Name: "config", Usage: "YAML `FILE` with the runs to make (instead of a preset; see --print-config)"},
			&cli.StringFlag{Name: "out", Usage: "output `DIR` (default: runs/NAME, NAME the preset's or config's name)"},
			deviceFlag(),
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "runs trained at once"},
			&cli.BoolFlag{Name: "force", Usage: "retrain every run, even those whose checkpoint is on disk"},
			&cli.BoolFlag{Name: "print-config", Usage: "print the configuration in use and exit"},
			classifierFlag(),
			dataDirFlag(),
		},
		Action: func(c *cli.Context) error { return experimentAction(c, s) },
	}
}

func experimentAction(c *cli.Context, s streams) error {
	var cfg *experiment.Config
	var text []byte
	var err error
	if c.IsSet("config") {
		if c.IsSet("preset") {
			return usagef("--config and --preset exclude each other")
		}
		cfg, text, err = experiment.Load(c.String("config"))
	} else {
		cfg, text, err = experiment.Preset(c.String("preset"))
	}
	if err != nil {
		return usageError{err}
	}
	if c.Bool("print-config") {
		_, err := s.Out.Write(text)
		return err
	}
	if c.Int("parallel") < 1 {
		return usagef("--parallel must be 1 or more, got %d", c.Int("parallel"))
	}
	out := c.String("out")
	if out == "" {
		out = filepath.Join("runs", cfg.Name)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	set, err := datasets.Load(datasets.Options{Dir: c.String("data-dir"), TrainLimit: cfg.TrainLimit})
	if err != nil {
		return err
	}
	backend, err := openBackend(c, s)
	if err != nil {
		return err
	}
	defer backend.Close()
	fmt.Fprintf(s.Err, "experiment %s: %d runs on %d %s training images, output in %s\n", cfg.Name, len(cfg.Runs), set.Train.Len(), set.Name, out)

	progress := newExperimentProgress(s.Err)
	outputs, err := experiment.Execute(c.Context, cfg, text, set, experiment.Options{Out: out, Force: c.Bool("force"),
		Parallel: c.Int("parallel"), Backend: backend, Log: progress, Progress: progress.update, Classifier: c.String("classifier")})
	progress.finish()
	if err != nil {
		return err
	}
	fmt.Fprintln(s.Out)
	printRows(s.Out, outputs.Rows)
	fmt.Fprintf(s.Out, "\nevery column: %s · report: %s\n", filepath.Join(out, "metrics.md"), filepath.Join(out, "report.html"))
	return nil
}

// printRows prints the main figures of each model as a table that fits 100 columns; the
// whole table is in metrics.md.
func printRows(w io.Writer, rows []experiment.Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tprocedure\tepochs\ttrain s\ttest_mse\tnoisy\tPSNR dB\tprobe\t‖J‖²\t")
	for _, r := range rows {
		probe := "n/a"
		if r.ProbeAccuracy != nil {
			probe = fmt.Sprintf("%.4f", *r.ProbeAccuracy)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.5f\t%.5f\t%.2f\t%s\t%.1f\t\n", r.Name, r.Procedure, r.Epochs, r.TrainSeconds,
			r.TestMSE, r.TestMSENoisy, r.PSNR, probe, r.JacobianFro2)
	}
	tw.Flush()
}
