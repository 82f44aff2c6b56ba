package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/report"
	"github.com/aelab/aelab/models/study"
)

func interpolateCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "interpolate",
		Usage: "decode straight lines between the codes of two test digits, and score how digit-like the images are",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "model", Usage: "checkpoint `FILE` (repeat for several models)"},
			&cli.IntFlag{Name: "same-class", DefaultText: "none", Usage: "interpolate between two test digits of this class (0-9)"},
			&cli.StringFlag{Name: "classes", Usage: "interpolate from a digit of class A to one of class B: A,B"},
			&cli.StringFlag{Name: "indices", Usage: "interpolate between test images I and J: I,J"},
			&cli.IntFlag{Name: "pairs", Value: study.DefaultPairs, Usage: "how many pairs of digits (not with --indices); of different classes unless --same-class or --classes says otherwise"},
			&cli.IntFlag{Name: "steps", Value: study.DefaultPathSteps, Usage: "points on each path, a = 0 to 1 evenly spaced"},
			seedFlag(),
			&cli.BoolFlag{Name: "pixel-baseline", Usage: "add each pair's pixel blends a·x1 + (1−a)·x2"},
			&cli.StringFlag{Name: "out", Value: "interpolation.png", Usage: "PNG `FILE` to write"},
			jsonFlag(),
			classifierFlag(),
			deviceFlag(),
			tf32Flag(),
			gemmFlag(),
			dataDirFlag(),
		},
		Action: func(c *cli.Context) error { return interpolateAction(c, s) },
	}
}

// pairOf reads "A,B" into two non-negative whole numbers.
func pairOf(flag, v string) ([2]int, error) {
	a, b, ok := strings.Cut(v, ",")
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || x < 0 || y < 0 {
		return [2]int{}, usagef("--%s %q: want two whole numbers, 0 or more: A,B", flag, v)
	}
	return [2]int{x, y}, nil
}

// pairChoiceFromFlags reads --same-class, --classes, --indices and --pairs.
func pairChoiceFromFlags(c *cli.Context) (study.PairChoice, error) {
	choice := study.PairChoice{SameClass: -1, Classes: [2]int{-1, -1}, Indices: [2]int{-1, -1}, Pairs: c.Int("pairs")}
	ways := 0
	if c.IsSet("same-class") {
		ways++
		if choice.SameClass = c.Int("same-class"); choice.SameClass < 0 || choice.SameClass > 9 {
			return choice, usagef("--same-class %d: a class is a digit 0-9", choice.SameClass)
		}
	}
	if c.IsSet("classes") {
		ways++
		cl, err := pairOf("classes", c.String("classes"))
		if err != nil {
			return choice, err
		}
		for _, k := range cl {
			if k > 9 {
				return choice, usagef("--classes %s: class %d is not a digit 0-9", c.String("classes"), k)
			}
		}
		choice.Classes = cl
	}
	if c.IsSet("indices") {
		ways++
		ix, err := pairOf("indices", c.String("indices"))
		if err != nil {
			return choice, err
		}
		choice.Indices = ix
	}
	if ways > 1 {
		return choice, usagef("give one of --same-class, --classes and --indices")
	}
	return choice, nil
}

// loadModels reads the checkpoints --model names, each named after its file.
func loadModels(c *cli.Context) (names []string, aes []*models.Autoencoder, err error) {
	paths := c.StringSlice("model")
	if len(paths) == 0 {
		return nil, nil, usagef("--model is required (see aelab interpolate --help)")
	}
	for _, p := range paths {
		m, err := models.Load(p)
		if err != nil {
			return nil, nil, err
		}
		names = append(names, strings.TrimSuffix(fileBase(p), ".safetensors"))
		aes = append(aes, m.AE)
	}
	return names, aes, nil
}

func interpolateAction(c *cli.Context, s streams) error {
	choice, err := pairChoiceFromFlags(c)
	if err != nil {
		return err
	}
	steps := c.Int("steps")
	if err := study.CheckInterpolation(choice.Pairs, steps); err != nil {
		return settingError(err, nil)
	}
	out := c.String("out")
	if err := checkOutput("out", out); err != nil {
		return err
	}
	names, aes, err := loadModels(c)
	if err != nil {
		return err
	}
	set, err := loadData(c)
	if err != nil {
		return err
	}
	for i, ae := range aes {
		if err := ae.CheckImages(set.Test); err != nil {
			return fmt.Errorf("%s: %w", c.StringSlice("model")[i], err)
		}
	}
	pairs, err := study.ChoosePairs(set.Test, choice, models.NewRand(c.Uint64("seed"), 0))
	if err != nil {
		return usageError{err}
	}
	backend, judge, err := openJudged(c, s, set)
	if err != nil {
		return err
	}
	defer backend.Close()
	alphas := study.Alphas(steps)
	studied, err := study.InterpolationStudy(c.Context, backend, study.Interpolations{Names: names, Models: aes, Test: set.Test,
		Pairs: pairs, Alphas: alphas, Judge: judge, PixelBaseline: c.Bool("pixel-baseline")})
	if err != nil {
		return err
	}
	img, err := report.InterpolationGrid("decoded paths a·z1 + (1−a)·z2 from x2 (a = 0) to x1 (a = 1)", studied, alphas, set.Test).Render()
	if err != nil {
		return err
	}
	if err := report.WritePNG(out, img); err != nil {
		return err
	}
	summary := study.SummarizePaths(studied)
	if c.Bool("json") {
		record := map[string]any{"image": out, "paths": studied, "summary": summary}
		if judge != nil {
			record["classifier_test_accuracy"] = judge.Record.TestAccuracy
		}
		return json.NewEncoder(s.Out).Encode(record)
	}
	if judge == nil {
		fmt.Fprintf(s.Out, "wrote %s (not classified: no digit classifier)\n", out)
		return nil
	}
	fmt.Fprintf(s.Out, "%-24s %8s %14s %14s %6s\n", "path", "pairs", "mean p(top)", "end class≥0.9", "switch a")
	for _, sm := range summary {
		fmt.Fprintf(s.Out, "%-24s %8d %14.3f %14.3f %6s\n", sm.Name, sm.Paths, sm.MeanConfidence, sm.EndClassFraction, fmtAlpha(sm.MeanSwitchAlpha))
	}
	fmt.Fprintf(s.Out, "wrote %s\n", out)
	return nil
}

func fmtAlpha(a *float64) string {
	if a == nil {
		return "–"
	}
	return strconv.FormatFloat(*a, 'f', 2, 64)
}

func fileBase(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}
