package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models/study"
)

func samplesCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "samples",
		Usage: "judge generated images against the data, by figures that cannot be fooled one at a time",
		Subcommands: []*cli.Command{{
			Name:  "score",
			Usage: "score images from an IDX file (aelab's or any tool's): Parzen log-likelihood, class coverage, plausible digits, near-copies, Fréchet distance",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "idx", Usage: "IDX image `FILE` of the samples, gzipped or not (aelab walk --samples-idx writes one)"},
				classifierFlag(),
				jsonFlag(),
				deviceFlag(),
				tf32Flag(),
				gemmFlag(),
				dataDirFlag(),
			},
			Action: func(c *cli.Context) error { return samplesScoreAction(c, s) },
		}},
	}
}

func samplesScoreAction(c *cli.Context, s streams) error {
	path, err := required(c, "idx")
	if err != nil {
		return err
	}
	samples, err := datasets.ReadImages(path)
	if err != nil {
		return err
	}
	set, err := loadData(c)
	if err != nil {
		return err
	}
	if samples.Rows != set.Test.Rows || samples.Cols != set.Test.Cols {
		return fmt.Errorf("%s: images of %d×%d, the data's are %d×%d", path, samples.Rows, samples.Cols, set.Test.Rows, set.Test.Cols)
	}
	backend, judge, err := openJudged(c, s, set)
	if err != nil {
		return err
	}
	defer backend.Close()
	if judge == nil {
		return usagef("judging samples needs a digit classifier: the data has no labels to train one, so give --classifier FILE")
	}
	score, err := study.SampleJudge{Classifier: judge, Set: set}.Score(c.Context, backend, samples.Pixels)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return json.NewEncoder(s.Out).Encode(score)
	}
	fmt.Fprintf(s.Out, "samples            %d from %s\n", score.N, path)
	fmt.Fprintf(s.Out, "parzen_ll          %.1f ± %.1f nats (σ %.2f, chosen on validation images)\n", score.ParzenLL, score.ParzenSE, score.ParzenSigma)
	fmt.Fprintf(s.Out, "classes_covered    %d of 10, class_entropy %.3f (1: every digit as often)\n", score.ClassesCovered, score.ClassEntropy)
	fmt.Fprintf(s.Out, "class_counts       %v (0 to 9, then no digit)\n", score.ClassCounts)
	fmt.Fprintf(s.Out, "plausible_share    %.3f (a digit with p ≥ 0.9, as near to a training image as 99%% of test digits)\n", score.PlausibleShare)
	fmt.Fprintf(s.Out, "near_copy_share    %.3f (nearer to a training image than 99%% of test digits)\n", score.NearCopyShare)
	fmt.Fprintf(s.Out, "fd                 %.2f (Fréchet distance to the test images; training images: %.2f)\n", score.FD, score.FDFloor)
	return nil
}
