package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

func benchCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "time training epochs over the 60,000 MNIST training images (images per second, seconds per epoch)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "arch", Value: "784-128", Usage: "architecture: " + strings.Join(benchArchs(), ", ") + " (784-1000-500-250-30, logistic units, linear code)"},
			&cli.StringFlag{Name: "kind", Value: "ae", Usage: "ae or dae (gaussian:0.4 noise)"},
			&cli.IntFlag{Name: "batch", Value: 256, Usage: "images per training step"},
			&cli.IntFlag{Name: "epochs", Value: 3, Usage: "epochs to time"},
			&cli.Float64Flag{Name: "lr", Value: 0.001, Usage: "Adam's learning rate"},
			seedFlag(),
			deviceFlag(),
			tf32Flag(),
			&cli.BoolFlag{Name: "no-replay", Usage: "CUDA: queue every operation of every step from the host instead of replaying the captured step"},
			&cli.BoolFlag{Name: "no-fusion", Usage: "run every elementwise kernel as a step of its own instead of fusing chains of them"},
			jsonFlag(),
			dataDirFlag(),
		},
		Action: func(c *cli.Context) error { return benchAction(c, s) },
	}
}

// benchEpoch is one line of `aelab bench --json`.
type benchEpoch struct {
	Impl         string  `json:"impl"`
	Arch         string  `json:"arch"`
	Kind         string  `json:"kind"`
	Batch        int     `json:"batch"`
	Device       string  `json:"device"`
	Replay       bool    `json:"replay"`
	Fusion       bool    `json:"fusion"`
	TF32         bool    `json:"tf32"`
	Epoch        int     `json:"epoch"`
	EpochSeconds float64 `json:"epoch_seconds"`
	ImagesPerSec float64 `json:"images_per_second"`
	TrainMSE     float64 `json:"train_mse"`
	TestMSE      float64 `json:"test_mse"`
}

func benchAction(c *cli.Context, s streams) error {
	kind, err := models.ParseKind(c.String("kind"))
	if err != nil || kind == models.CAE {
		return usagef("--kind %q: want ae or dae", c.String("kind"))
	}
	spec, err := benchSpec(c.String("arch"), kind)
	if err != nil {
		return usageError{err}
	}
	cfg, err := trainConfigFromFlags(c, "epochs", 0, 0)
	if err != nil {
		return err
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
	ae, err := models.New(spec, models.InitRand(cfg.Seed))
	if err != nil {
		return err
	}
	trainSet := set.TrainFile
	images := (trainSet.Len() / cfg.Batch) * cfg.Batch
	if !c.Bool("json") {
		fmt.Fprintf(s.Out, "%s %s (%d parameters), batch %d, %d images per epoch, %s\n", kind, spec, ae.NumParams(), cfg.Batch, images, backend.Name())
	}
	hooks := train.Hooks{EpochEnd: func(st models.EpochStats) error {
		e := benchEpoch{Impl: "aelab " + models.Version, Arch: c.String("arch"), Kind: string(kind), Batch: cfg.Batch, Device: backend.Name(),
			Replay: !c.Bool("no-replay") && strings.HasPrefix(backend.Name(), "cuda"), Fusion: !c.Bool("no-fusion"),
			TF32:  c.Bool("tf32") && strings.HasPrefix(backend.Name(), "cuda"),
			Epoch: st.Epoch, EpochSeconds: st.Seconds, ImagesPerSec: float64(images) / st.Seconds, TrainMSE: st.TrainLoss, TestMSE: st.ValLoss}
		if c.Bool("json") {
			return json.NewEncoder(s.Out).Encode(e)
		}
		_, err := fmt.Fprintf(s.Out, "epoch %d  %.3fs  %.0f images/s  train mse %.5f  test mse %.5f\n", st.Epoch, st.Seconds, e.ImagesPerSec, st.TrainLoss, st.ValLoss)
		return err
	}}
	_, err = train.Autoencoder(c.Context, backend, ae.Graph(), ae.Spec.Cost(), train.Run{Train: trainSet, Val: set.Test, Noise: ae.Spec.Noise, Config: cfg, Hooks: hooks})
	return err
}
