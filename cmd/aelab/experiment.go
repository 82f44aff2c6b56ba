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
			tf32Flag(),
			gemmFlag(),
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "runs trained at once"},
			&cli.BoolFlag{Name: "force", Usage: "retrain every run, even those whose checkpoint is on disk"},
			&cli.BoolFlag{Name: "print-config", Usage: "print the configuration in use, and the runs it expands into, and exit"},
			&cli.IntFlag{Name: "seeds", DefaultText: "the config's seeds, else one run each", Usage: "run every configuration once for each seed 1 to `N`; tables show mean ± sd"},
			&cli.StringFlag{Name: "shard", Usage: "make only share `K/N` of the runs (K from 0), into the shared output folder; N processes or machines with K = 0…N−1 make them all"},
			&cli.BoolFlag{Name: "report-only", Usage: "train nothing: build the report from the runs finished in the output folder, and say which are missing"},
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
	if c.IsSet("seeds") {
		if err := cfg.UseSeeds(c.Int("seeds")); err != nil {
			return usageError{fmt.Errorf("--seeds: %w", err)}
		}
		text = append(text, fmt.Sprintf("# --seeds %d\nseeds: %v\n", c.Int("seeds"), seedList(cfg.Seeds))...)
	}
	var shard experiment.Shard
	if c.IsSet("shard") {
		if shard, err = experiment.ParseShard(c.String("shard")); err != nil {
			return usageError{err}
		}
		if c.Bool("report-only") {
			return usagef("--shard and --report-only exclude each other: shards make runs, --report-only reads them")
		}
	}
	if c.Bool("report-only") && c.Bool("force") {
		return usagef("--report-only and --force exclude each other: --report-only trains nothing")
	}
	if c.Bool("print-config") {
		_, err := fmt.Fprintf(s.Out, "%s%s", text, cfg.Expansion())
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
		Parallel: c.Int("parallel"), Backend: backend, Log: progress, Progress: progress.update, Classifier: c.String("classifier"),
		Shard: shard, ReportOnly: c.Bool("report-only")})
	progress.finish()
	if err != nil {
		return err
	}
	if shard.N > 1 {
		fmt.Fprintf(s.Out, "shard %d/%d: %d of the %d runs made in %s; once every shard is done, aelab experiment --report-only with the same config and --out builds the report\n",
			shard.K, shard.N, len(outputs.Rows), len(cfg.Runs), out)
		return nil
	}
	fmt.Fprintln(s.Out)
	printRows(s.Out, outputs.Rows)
	if len(outputs.Missing) > 0 {
		fmt.Fprintf(s.Out, "\nnot finished yet, so not in the report: %s\n", strings.Join(outputs.Missing, ", "))
	}
	fmt.Fprintf(s.Out, "\nevery column: %s · report: %s\n", filepath.Join(out, "metrics.md"), filepath.Join(out, "report.html"))
	return nil
}

// seedList writes seeds as YAML: [1, 2, 3].
func seedList(seeds []uint64) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = fmt.Sprint(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// printRows prints the main figures of each model as a table that fits 100 columns; the
// whole table is in metrics.md. With seeds, a line per configuration: means ± sd.
func printRows(w io.Writer, rows []experiment.Row) {
	if sums := experiment.Summaries(rows); len(sums) < len(rows) {
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "model\tn\ttest_mse\ttest_mse_noisy\tprobe\t")
		for _, s := range sums {
			probe := "n/a"
			if s.ProbeAccuracy.N > 0 {
				probe = s.ProbeAccuracy.Text(4)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", s.Name, s.N, s.TestMSE.Text(5), s.TestMSENoisy.Text(5), probe)
		}
		tw.Flush()
		return
	}
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
