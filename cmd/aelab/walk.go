package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/google/renameio/v2"
	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models/report"
	"github.com/aelab/aelab/models/study"
)

func walkCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "walk",
		Usage: "walk from random noise to the data manifold by the model's reconstruction (score, energy gradient or denoising chain)",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "start", Value: study.DefaultWalkStart, Usage: "starting images: noise (standard normal pixels), uniform (pixels in [0,1]) or image:I (test image I)"},
			&cli.StringFlag{Name: "method", Value: study.DefaultWalkMethod, Usage: "score: x += η(r(x) − x); energy: x −= η∇‖r(x) − x‖² (gorgonia's gradient); chain: x = r(corrupt(x)); annealed: the chain, its corruption falling from --anneal times the chain noise to the chain noise; langevin: x += η(r(x) − x) + T·σ√(2η)·z, annealed Langevin along the DAE's score estimate, σ the chain noise's level, the temperature T falling from --anneal to 0; diffusion: --burn-in Langevin steps at the top of the chain noise's levels, then ancestral denoising steps down a ladder of levels to its bottom (DDPM's sampler with the DAE as a blind denoiser), ending on r(x)"},
			&cli.Float64Flag{Name: "anneal", Value: study.DefaultAnneal, Usage: "annealed: the corruption's level at the first step, times the chain noise's; langevin: the temperature at the first step"},
			&cli.IntFlag{Name: "steps", Value: study.DefaultWalkSteps, Usage: "steps of the walk"},
			&cli.IntFlag{Name: "burn-in", Usage: "diffusion: the first steps, Langevin steps at the top level", DefaultText: "a sixth of --steps"},
			&cli.Float64Flag{Name: "eta", Value: study.DefaultWalkEta, Usage: "step size η of score and energy; the share of r(x) − x a Langevin step takes (langevin, diffusion: at most 1)"},
			&cli.StringFlag{Name: "chain-noise", Usage: "corruption of the chain (default: the model's training noise, else gaussian:0.4)"},
			&cli.BoolFlag{Name: "clip", Usage: "keep pixels in [0,1] after every step"},
			&cli.IntFlag{Name: "chains", Value: study.DefaultChains, Usage: "walks side by side, from different starting points (the picture shows 16, the table measures 64; all go to --samples-idx)"},
			&cli.StringFlag{Name: "snapshots", Usage: "steps to draw and measure, e.g. 0,10,100 (default: 0, 1, 2, 5, 10, 20, 50, … up to --steps)"},
			seedFlag(),
			&cli.StringFlag{Name: "out", Value: "walk.png", Usage: "PNG `FILE` to write"},
			&cli.StringFlag{Name: "samples-idx", Usage: "also write every chain's last image to the IDX `FILE`, for aelab samples score or other tools"},
			jsonFlag(),
			classifierFlag(),
			deviceFlag(),
			tf32Flag(),
			gemmFlag(),
			dataDirFlag(),
		},
		Action: func(c *cli.Context) error { return walkAction(c, s) },
	}
}

// measuredChains is how many chains the walk's table measures; more make samples (for
// --samples-idx and aelab samples score), not rows.
const measuredChains = 64

// firstChains keeps the first n chains of every snapshot.
func firstChains(snaps []study.Snapshot, n int) []study.Snapshot {
	out := make([]study.Snapshot, len(snaps))
	for i, s := range snaps {
		k := min(n, len(s.Images))
		out[i] = study.Snapshot{Step: s.Step, Images: s.Images[:k], Energy: s.Energy[:k]}
	}
	return out
}

func walkAction(c *cli.Context, s streams) error {
	var snapshots []int // nil: the default, following --steps
	if c.IsSet("snapshots") {
		var err error
		if snapshots, err = study.ParseSnapshots(c.String("snapshots")); err != nil {
			return usageError{err}
		}
	}
	chainNoise, err := datasets.ParseNoise(c.String("chain-noise"))
	if err != nil {
		return usageError{fmt.Errorf("--chain-noise: %w", err)}
	}
	cfg := study.WalkConfig{Method: c.String("method"), Steps: c.Int("steps"), Eta: c.Float64("eta"), ChainNoise: chainNoise,
		Clip: c.Bool("clip"), Snapshots: snapshots, Seed: c.Uint64("seed"), Anneal: c.Float64("anneal"), BurnIn: c.Int("burn-in")}
	if err := cfg.Validate(); err != nil {
		return settingError(err, nil)
	}
	chains := c.Int("chains")
	if err := study.CheckWalkStart(c.String("start"), chains); err != nil {
		return settingError(err, nil)
	}
	out := c.String("out")
	if err := checkOutput("out", out); err != nil {
		return err
	}
	if c.IsSet("samples-idx") {
		if err := checkOutput("samples-idx", c.String("samples-idx")); err != nil {
			return err
		}
	}
	model, err := loadModel(c)
	if err != nil {
		return err
	}
	set, err := loadData(c)
	if err != nil {
		return err
	}
	if err := model.AE.CheckImages(set.Test); err != nil {
		return fmt.Errorf("%s: %w", c.String("model"), err)
	}
	start, err := study.WalkStart(c.String("start"), chains, set.Test, cfg.Seed)
	if err != nil {
		return settingError(err, nil)
	}
	backend, judge, err := openJudged(c, s, set)
	if err != nil {
		return err
	}
	defer backend.Close()
	snaps, err := study.Walk(c.Context, backend, model.AE, start, cfg)
	if err != nil {
		return settingError(err, nil)
	}
	points, err := study.MeasureWalk(c.Context, backend, judge, study.NewReference(backend.MatMul(), set.Train, set.Test), firstChains(snaps, measuredChains))
	if err != nil {
		return err
	}
	step := fmt.Sprintf("η %g", cfg.Eta) // what sets the size of a step
	if cfg.Method == study.WalkLangevin {
		step += fmt.Sprintf(", temperature %g to 0", cfg.Anneal)
	}
	if cfg.Method == study.WalkDiffusion {
		step += ", levels of " + chainNoise.String()
		if chainNoise.IsNone() {
			step = fmt.Sprintf("η %g, the model's levels", cfg.Eta)
		}
	}
	if cfg.Method == study.WalkChain || cfg.Method == study.WalkAnnealed {
		step = "noise " + chainNoise.String()
		if chainNoise.IsNone() {
			step = "the model's noise"
		}
	}
	title := fmt.Sprintf("%s walk of %s from %s, %s, %d steps", cfg.Method, fileBase(c.String("model")), c.String("start"), step, cfg.Steps)
	img, err := report.WalkGrid(title, snaps, set.Test.Rows, set.Test.Cols).Render()
	if err != nil {
		return err
	}
	if err := report.WritePNG(out, img); err != nil {
		return err
	}
	if path := c.String("samples-idx"); path != "" {
		last := snaps[len(snaps)-1]
		images := &datasets.Images{Rows: set.Test.Rows, Cols: set.Test.Cols}
		for _, im := range last.Images {
			images.Pixels = append(images.Pixels, im...)
		}
		var buf bytes.Buffer
		if err := datasets.WriteImages(&buf, images); err != nil {
			return err
		}
		if err := renameio.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--samples-idx %s: %w", path, err)
		}
	}
	if c.Bool("json") {
		return json.NewEncoder(s.Out).Encode(map[string]any{"image": out, "method": cfg.Method, "start": c.String("start"),
			"eta": cfg.Eta, "steps": cfg.Steps, "points": points, "summary": study.SummarizeWalk(points)})
	}
	fmt.Fprintf(s.Out, "%6s %14s %12s %6s %10s %10s\n", "step", "mean ‖r(x)−x‖²", "mean nearest", "near", "mean p", "plausible")
	for _, sm := range study.SummarizeWalk(points) {
		p, plausible := "n/a", "n/a"
		if sm.MeanConfidence != nil {
			p, plausible = fmt.Sprintf("%.3f", *sm.MeanConfidence), fmt.Sprintf("%.0f%%", 100**sm.PlausibleFraction)
		}
		fmt.Fprintf(s.Out, "%6d %14.4f %12.3f %5.0f%% %10s %10s\n", sm.Step, sm.MeanEnergy, sm.MeanNearestDistance, 100*sm.NearFraction, p, plausible)
	}
	fmt.Fprintln(s.Out, "near: as close to a training image as 99% of test digits are; plausible: near, and a digit to the classifier with p ≥ 0.9")
	fmt.Fprintf(s.Out, "wrote %s\n", out)
	return nil
}
