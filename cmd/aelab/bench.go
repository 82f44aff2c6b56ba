package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/graph/sgemm"
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
			gemmFlag(),
			&cli.BoolFlag{Name: "no-replay", Usage: "CUDA: queue every operation of every step from the host instead of replaying the captured step"},
			&cli.BoolFlag{Name: "profile", Usage: "after the epochs, time each operation of the training step alone and set their sum beside the step's time"},
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
	GEMM         string  `json:"gemm,omitempty"` // CUDA: cublas, lt or tuned
	Epoch        int     `json:"epoch"`
	EpochSeconds float64 `json:"epoch_seconds"`
	ImagesPerSec float64 `json:"images_per_second"`
	GFLOPS       float64 `json:"gflops"` // of the matrix products (models.Spec.TrainingFLOPs)
	// PeakGFLOPS is the processor's measured FMA peak (sgemm.PeakGFLOPS), on the CPU only.
	PeakGFLOPS float64 `json:"peak_gflops,omitempty"`
	// Kernel is what multiplies the matrices on the CPU (plan.BLASName).
	Kernel   string  `json:"kernel,omitempty"`
	TrainMSE float64 `json:"train_mse"`
	TestMSE  float64 `json:"test_mse"`
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
	onCUDA := strings.HasPrefix(backend.Name(), "cuda")
	peak, kernel := 0.0, ""
	if strings.HasPrefix(backend.Name(), "cpu") {
		peak, kernel = sgemm.PeakGFLOPS(sgemm.Auto), plan.BLASName()
	}
	if !c.Bool("json") {
		fmt.Fprintf(s.Out, "%s %s (%d parameters), batch %d, %d images per epoch, %s\n", kind, spec, ae.NumParams(), cfg.Batch, images, backend.Name())
		if peak > 0 {
			fmt.Fprintf(s.Out, "this processor's FMA peak: %.0f GFLOP/s (%s, %d threads)\n", peak, sgemm.Best(), runtime.GOMAXPROCS(0))
		}
	}
	gemm := ""
	if onCUDA {
		g, _ := parseGEMM(c) // openBackend has read it
		gemm = g.String()
	}
	hooks := train.Hooks{EpochEnd: func(st models.EpochStats) error {
		e := benchEpoch{Impl: "aelab " + models.Version, Arch: c.String("arch"), Kind: string(kind), Batch: cfg.Batch, Device: backend.Name(),
			Replay: !c.Bool("no-replay") && onCUDA, Fusion: !c.Bool("no-fusion"),
			TF32: c.Bool("tf32") && onCUDA, GEMM: gemm,
			Epoch: st.Epoch, EpochSeconds: st.Seconds, ImagesPerSec: float64(images) / st.Seconds, TrainMSE: st.TrainLoss, TestMSE: st.ValLoss,
			GFLOPS: float64(images) * spec.TrainingFLOPs() / st.Seconds / 1e9, PeakGFLOPS: peak, Kernel: kernel}
		if c.Bool("json") {
			return json.NewEncoder(s.Out).Encode(e)
		}
		share := ""
		if peak > 0 {
			share = fmt.Sprintf(" (%.0f%% of peak)", 100*e.GFLOPS/peak)
		}
		_, err := fmt.Fprintf(s.Out, "epoch %d  %.3fs  %.0f images/s  %.1f GFLOP/s%s  train mse %.5f  test mse %.5f\n", st.Epoch, st.Seconds, e.ImagesPerSec, e.GFLOPS, share, st.TrainLoss, st.ValLoss)
		return err
	}}
	hist, err := train.Autoencoder(c.Context, backend, ae.Graph(), ae.Spec.Cost(), train.Run{Train: trainSet, Val: set.Test, Noise: ae.Spec.Noise, Config: cfg, Hooks: hooks})
	if err != nil || !c.Bool("profile") {
		return err
	}
	step := time.Duration(0)
	if n := len(hist); n > 0 {
		step = time.Duration(hist[n-1].Seconds / float64(images/cfg.Batch) * float64(time.Second))
	}
	return benchProfile(c, s, backend, ae, cfg, trainSet, step)
}

// profileRuns is how many times --profile runs each operation of the step.
const profileRuns = 200

// opProfile is one line of `aelab bench --profile --json`.
type opProfile struct {
	Op          string  `json:"op"`
	Microsecond float64 `json:"microseconds"`
	Share       float64 `json:"share"`
}

// benchProfile times each operation of the training step alone (plan.Profiler) after the
// timed epochs, and sets their sum beside the step's time in the last epoch: the difference
// is what running them one after another costs beyond their own time.
func benchProfile(c *cli.Context, s streams, backend graph.Backend, ae *models.Autoencoder, cfg train.Config, images *datasets.Images, step time.Duration) error {
	prog, err := graph.NewTrainingProgram(ae.Graph(), ae.Spec.Cost(), cfg.Batch)
	if err != nil {
		return err
	}
	ex, err := backend.Compile(prog, cfg.Adam)
	if err != nil {
		return err
	}
	defer ex.Close()
	p, ok := ex.(plan.Profiler)
	if !ok {
		return usagef("--profile: the %s executor does not time its operations; use --device cpu or cuda", backend.Name())
	}
	if images.Len() < cfg.Batch {
		return usagef("--profile: %d training images do not make a batch of %d", images.Len(), cfg.Batch)
	}
	batch := images.Pixels[:cfg.Batch*images.Dim()]
	if _, err := ex.Step(batch, batch); err != nil { // the first run prepares what later runs reuse
		return err
	}
	ops, err := p.Profile(profileRuns)
	if err != nil {
		return err
	}
	var sum time.Duration
	for _, o := range ops {
		sum += o.Time
	}
	lines := make([]opProfile, len(ops))
	for i, o := range ops {
		lines[i] = opProfile{Op: o.Op, Microsecond: float64(o.Time) / 1e3, Share: float64(o.Time) / float64(max(sum, 1))}
	}
	if c.Bool("json") {
		return json.NewEncoder(s.Out).Encode(struct {
			Ops       []opProfile `json:"profile"`
			SumMicros float64     `json:"sum_microseconds"`
			StepMicro float64     `json:"step_microseconds"`
		}{lines, float64(sum) / 1e3, float64(step) / 1e3})
	}
	fmt.Fprintf(s.Out, "\nthe training step's operations, each run %d times alone:\n", profileRuns)
	for _, l := range lines {
		fmt.Fprintf(s.Out, "  %9.1f µs  %4.1f%%  %s\n", l.Microsecond, 100*l.Share, l.Op)
	}
	fmt.Fprintf(s.Out, "  %9.1f µs  in all; a step of the last epoch took %.1f µs\n", float64(sum)/1e3, float64(step)/1e3)
	return nil
}
