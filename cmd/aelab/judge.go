package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/study"
)

func classifierFlag() cli.Flag {
	return &cli.StringFlag{Name: "classifier", Usage: "digit classifier `FILE` that scores the images (default: trained once, then kept in the user cache folder)"}
}

// loadJudge returns the digit classifier, training and caching it on first use; nil, said
// once, when the data has no labels to train it and --classifier gives none.
func loadJudge(c *cli.Context, s streams, backend graph.Backend, set *datasets.Set) (*models.Classifier, error) {
	path := c.String("classifier")
	if path == "" && set.Train.Labels == nil {
		fmt.Fprintf(s.Err, "note: %s has no labels, so no digit classifier judges the images (give one with --classifier FILE)\n", set.Name)
		return nil, nil
	}
	if path == "" {
		path = study.ClassifierCachePath(set)
	}
	show, bar := progress(s, 128)
	hooks := show("train")
	if _, err := models.LoadClassifier(path); err != nil {
		fmt.Fprintf(s.Err, "training the digit classifier that scores the images (once; kept in %s)\n", path)
	}
	judge, trained, err := study.DigitClassifier(c.Context, backend, set, path, hooks)
	if err != nil {
		bar.abandon()
		return nil, err
	}
	if trained {
		fmt.Fprintf(s.Err, "digit classifier: test accuracy %.2f%%\n", 100*judge.Record.TestAccuracy)
	}
	return judge, nil
}

// openJudged opens the --device backend and the digit classifier that scores on it; the
// caller closes the backend.
func openJudged(c *cli.Context, s streams, set *datasets.Set) (graph.Backend, *models.Classifier, error) {
	backend, err := openBackend(c, s)
	if err != nil {
		return nil, nil, err
	}
	judge, err := loadJudge(c, s, backend, set)
	if err != nil {
		backend.Close()
		return nil, nil, err
	}
	return backend, judge, nil
}
