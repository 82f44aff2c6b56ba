package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

func resumeFlag() cli.Flag {
	return &cli.StringFlag{Name: "resume", Usage: "go on with the checkpoint `FILE` of a run that stopped (Ctrl-C), up to the epochs asked for, with the settings it records and the optimiser's state kept beside it (FILE's .optimizer.safetensors); the result is what an uninterrupted run gives"}
}

// stageOf names the command that goes on with a checkpoint's training.
func stageOf(rec models.Record) string {
	switch {
	case rec.Finetune != nil:
		return "finetune"
	case rec.Training.Procedure == models.ProcedurePretrain:
		return "pretrain"
	}
	return "train"
}

// resumeAction goes on with the training of the checkpoint --resume names, up to the
// epochs flag's count (when given) in all.
func resumeAction(c *cli.Context, s streams, epochsFlag string) error {
	path := c.String("resume")
	for _, f := range c.Command.Flags { // all but these come from the checkpoint
		switch name := f.Names()[0]; {
		case !c.IsSet(name), name == "resume", name == "device", name == "data-dir", name == epochsFlag:
		default:
			return usagef("--%s comes from %s when resuming; leave it out", name, path)
		}
	}
	m, err := models.Load(path)
	if err != nil {
		return err
	}
	if stage := stageOf(m.Record); stage != c.Command.Name {
		return usagef("%s stopped in %s: go on with aelab %s --resume %s", path, stage, stage, path)
	}
	epochs := 0 // the number the checkpoint planned
	if c.IsSet(epochsFlag) {
		if epochs = c.Int(epochsFlag); epochs <= 0 {
			return usagef("--%s must be positive, got %d", epochsFlag, epochs)
		}
	}
	limit := m.Record.Training.TrainLimit
	set, err := datasets.Load(datasets.Options{Dir: c.String("data-dir"), TrainLimit: limit})
	if err != nil {
		return err
	}
	backend, err := openBackend(c, s)
	if err != nil {
		return err
	}
	defer backend.Close()
	before := m.Record.Epochs()
	fmt.Fprintf(s.Err, "going on with %s (%s %s) after %s\n", path, m.AE.Spec.Kind, m.AE.Spec, plural(before, "epoch"))
	show, bar := progress(s, m.Record.Training.Batch)
	job := train.Job{Set: set, Config: train.Config{Epochs: epochs}, TrainLimit: limit, Path: path, Progress: show}
	if err := train.Continue(c.Context, backend, m, job); err != nil {
		bar.abandon()
		return trainingError(err, path, plural(m.Record.Epochs(), "epoch"), true)
	}
	fmt.Fprintf(s.Out, "wrote %s (%s %s, %s after %d more)\n", path, m.AE.Spec.Kind, m.AE.Spec, plural(m.Record.Epochs(), "epoch"), m.Record.Epochs()-before)
	return nil
}

// plural says n things: "1 epoch", "4 epochs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
