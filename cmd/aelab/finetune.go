package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

func finetuneCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "finetune",
		Usage: "fine-tune a pretrained stack end to end, on reconstruction or on the labels (a softmax on the top code)",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "objective", Value: models.ObjectiveReconstruct, Usage: "reconstruct (the whole stack) or classify (encoder + softmax on the labels)"},
			&cli.IntFlag{Name: "epochs", Value: 5, Usage: "passes over the training set"},
			noiseFlag("input corruption (default: level 1's pretraining noise for reconstruct, none for classify)"),
			&cli.IntFlag{Name: "batch", DefaultText: "the pretraining batch", Usage: "images per training step"},
			&cli.Float64Flag{Name: "lr", DefaultText: "0.0001 for reconstruct, a tenth of pretraining's so the first steps keep what the levels learned; 0.001 for classify", Usage: "Adam's learning rate"},
			optimizerFlag(),
			momentumFlag(),
			weightDecayFlag(),
			scheduleFlag(),
			warmupFlag(),
			walkbackFlag(),
			patienceFlag(),
			keepFlag(),
			&cli.Float64Flag{Name: "dropout", DefaultText: "none", Usage: "with --objective classify: the share `p` of hidden units each training step drops (a fresh mask a step; evaluation drops none)"},
			&cli.BoolFlag{Name: "refit", Usage: "train on the training and the validation images together, without validation (no --patience, --keep best or plateau): the final run of settings chosen on a run that held the validation images out"},
			seedFlag(),
			&cli.StringFlag{Name: "hidden", Usage: "the hidden sizes the checkpoint must have, e.g. 512,128 (a check; default: no check)"},
			deviceFlag(),
			tf32Flag(),
			gemmFlag(),
			trainLimitFlag(),
			dataDirFlag(),
			&cli.StringFlag{Name: "out", Usage: "checkpoint `FILE` to write (default: the model's name with -finetuned or -classify)"},
			resumeFlag(),
		},
		Action: func(c *cli.Context) error { return finetuneAction(c, s) },
	}
}

func finetuneAction(c *cli.Context, s streams) error {
	if c.IsSet("resume") {
		return resumeAction(c, s, "epochs")
	}
	objective := c.String("objective")
	if objective != models.ObjectiveReconstruct && objective != models.ObjectiveClassify {
		return usagef("--objective %q: want reconstruct or classify", objective)
	}
	noise, err := parseNoise(c)
	if err != nil {
		return err
	}
	model, err := loadModel(c)
	if err != nil {
		return err
	}
	path, ae, rec := c.String("model"), model.AE, &model.Record
	if len(rec.Levels) == 0 {
		return fmt.Errorf("%s is not a pretrained stack (it was made by %q); fine-tune a checkpoint written by aelab pretrain", path, rec.Procedure())
	}
	if rec.Finetune != nil {
		return fmt.Errorf("%s is already fine-tuned (%s); fine-tune the pretrained checkpoint instead", path, rec.Procedure())
	}
	if c.IsSet("hidden") {
		want, err := models.ParseLayers(c.String("hidden"))
		if err != nil {
			return usageError{fmt.Errorf("--hidden: %w", err)}
		}
		if have := ae.Spec.Layers[1:]; !slices.Equal(want, have) {
			return usagef("--hidden %s does not match %s, whose hidden layers are %s", c.String("hidden"), path, joinInts(have))
		}
	}
	if !c.IsSet("noise") && objective == models.ObjectiveReconstruct {
		noise = ae.Spec.Noise
	}
	cfg, err := trainConfigFromFlags(c, "epochs", rec.Training.Batch, train.FinetuneLR(objective))
	if err != nil {
		return err
	}
	cfg.Refit = c.Bool("refit")
	if c.IsSet("dropout") {
		if objective != models.ObjectiveClassify {
			return usagef("--dropout is for --objective classify, not %s", objective)
		}
		cfg.Dropout = c.Float64("dropout")
	}
	if err := cfg.Validate(); err != nil { // the settings added to those of the shared flags
		return settingError(err, nil)
	}
	set, err := loadData(c)
	if err != nil {
		return err
	}
	if err := ae.CheckImages(set.Train); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if objective == models.ObjectiveClassify && set.Train.Labels == nil {
		return usagef("--objective classify needs labels, and %s has none", set.Source)
	}
	out := c.String("out")
	if out == "" {
		suffix := map[string]string{models.ObjectiveReconstruct: "-finetuned", models.ObjectiveClassify: "-classify"}[objective]
		out = strings.TrimSuffix(path, ".safetensors") + suffix + ".safetensors"
	}
	if err := checkOutput("out", out); err != nil {
		return err
	}
	backend, err := openBackend(c, s)
	if err != nil {
		return err
	}
	defer backend.Close()

	images := set.Train.Len()
	if cfg.Refit {
		images += set.Validation.Len()
	}
	fmt.Fprintf(s.Err, "fine-tuning %s %s (%s, noise %s) on %d %s images, batch %d, lr %g, %s\n",
		ae.Spec.Kind, ae.Spec, objective, noise, images, set.Name, cfg.Batch, cfg.Adam.LR, plural(cfg.Epochs, "epoch"))
	show, bar := progress(s, cfg.Batch)
	job := train.Job{Set: set, Config: cfg, TrainLimit: c.Int("train-limit"), Path: out, Progress: show}
	if err := train.Finetune(c.Context, backend, model, objective, noise, job); err != nil {
		bar.abandon()
		n := 0
		if rec.Finetune != nil {
			n = len(rec.Finetune.History)
		}
		return trainingError(err, out, fmt.Sprintf("fine-tuning epoch %d", n), n > 0)
	}
	fmt.Fprintf(s.Out, "wrote %s (%s, %.1fs of fine-tuning)\n", out, plural(cfg.Epochs, "epoch"), rec.Finetune.Seconds)
	return nil
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ",")
}
