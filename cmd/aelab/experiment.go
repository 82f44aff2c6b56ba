package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models/experiment"
	"github.com/aelab/aelab/models/train"
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

	bars := newTrainProgress(s.Err, 1)
	opts := experiment.Options{Out: out, Force: c.Bool("force"), Parallel: c.Int("parallel"), Backend: backend, Log: s.Err,
		Bars: func(stage string) train.Hooks {
			bars.prefix = stage + " "
			return bars.hooks(nil)
		}}
	results, err := experiment.Execute(c.Context, cfg, set, opts)
	if err != nil {
		bars.abandon()
		return fmt.Errorf("%w (what finished is kept in %s; run the same command again to go on)", err, out)
	}
	var studies *experiment.Studies
	if cfg.Interpolations != nil || cfg.Walks != nil {
		judge, err := loadJudge(c, s, backend, set)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.Err, "interpolating and walking")
		if studies, err = experiment.RunStudies(c.Context, backend, cfg, set, results, judge); err != nil {
			return err
		}
	}
	outputs, err := experiment.WriteOutputs(c.Context, out, cfg, text, set, results, backend, studies)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.Out)
	fmt.Fprint(s.Out, experiment.Markdown(outputs.Rows))
	fmt.Fprintf(s.Out, "\nreport: %s\n", filepath.Join(out, "report.html"))
	return nil
}
