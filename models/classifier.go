package models

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// classifierFormat names the classifier files' format.
const classifierFormat = "aelab-classifier"

// ClassifierRecord is what a classifier file holds besides the weights.
type ClassifierRecord struct {
	Format       string       `json:"format"`
	Version      int          `json:"format_version"`
	Aelab        string       `json:"aelab_version"`
	Layers       []int        `json:"layers"`
	Recipe       string       `json:"recipe"`
	TestAccuracy float64      `json:"test_accuracy"`
	Seconds      float64      `json:"seconds"`
	History      []EpochStats `json:"history"`
	Data         DataInfo     `json:"data"`
}

// Classifier is the MLP that judges whether images look like digits: it scores
// interpolations and walks.
type Classifier struct {
	Layers []*graph.Dense
	Record ClassifierRecord
}

// NewClassifier returns an MLP of the given layer sizes with ReLU hidden units and logits
// out, its weights drawn from seed.
func NewClassifier(sizes []int, seed uint64) *Classifier {
	rng := InitRand(seed)
	c := &Classifier{Record: ClassifierRecord{Layers: sizes}}
	for i := 1; i < len(sizes); i++ {
		act := graph.ReLU
		if i == len(sizes)-1 {
			act = graph.Linear // logits
		}
		c.Layers = append(c.Layers, graph.NewDense(fmt.Sprintf("layers.%d", 2*(i-1)), sizes[i-1], sizes[i], act, rng))
	}
	return c
}

// SaveClassifier writes c to path atomically.
func SaveClassifier(path string, c *Classifier) error {
	rec := c.Record
	rec.Format, rec.Version, rec.Aelab = classifierFormat, formatVersion, Version
	return saveLayers(path, classifierFormat, rec, c.Layers)
}

// LoadClassifier reads a classifier written by SaveClassifier.
func LoadClassifier(path string) (*Classifier, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes))
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", path, err)
	}
	var rec ClassifierRecord
	if err := readHeader(path, buf, classifierFormat, &rec); err != nil {
		return nil, err
	}
	if len(rec.Layers) < 2 || rec.Layers[len(rec.Layers)-1] != datasets.NumClasses && rec.Layers[len(rec.Layers)-1] != datasets.NumClasses+1 {
		return nil, &CheckpointError{File: path, Problem: fmt.Sprintf("layers %v are not a digit classifier's", rec.Layers)}
	}
	n := 0
	for i := 1; i < len(rec.Layers); i++ {
		if rec.Layers[i-1] <= 0 || rec.Layers[i] <= 0 || rec.Layers[i] > 1<<16 {
			return nil, &CheckpointError{File: path, Problem: fmt.Sprintf("impossible layer sizes %v", rec.Layers)}
		}
		n += rec.Layers[i-1]*rec.Layers[i] + rec.Layers[i]
	}
	if 4*n > len(buf) {
		return nil, &CheckpointError{File: path, Problem: "the layers need more weights than the file holds"}
	}
	c := NewClassifier(rec.Layers, 0)
	if err := readLayers(path, buf, c.Layers); err != nil {
		return nil, err
	}
	c.Record = rec
	return c, nil
}

// NotADigit is the class of a Judgement on an image a classifier with a not-a-digit output
// finds to be no digit at all.
const NotADigit = -1

// Judgement is the classifier's verdict on one image.
type Judgement struct {
	// Class is the most likely digit, or NotADigit when the classifier's not-a-digit output
	// (an eleventh, if it has one) outweighs every digit.
	Class int `json:"class"`
	// Confidence is the softmax probability of the most likely digit, the not-a-digit output
	// included in the softmax: how sure the classifier is that the image is that digit.
	Confidence float64 `json:"confidence"`
}

// Judge classifies images (N×D).
func (c *Classifier) Judge(ctx context.Context, backend graph.Backend, images []float32) ([]Judgement, error) {
	d := c.Layers[0].In()
	if len(images)%d != 0 {
		return nil, fmt.Errorf("models: %d values are not whole images of %d pixels", len(images), d)
	}
	fwd, err := NewForward(backend, c.Layers)
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	set := &datasets.Images{Rows: 1, Cols: d, Pixels: images}
	out := make([]Judgement, 0, set.Len())
	outputs := c.Layers[len(c.Layers)-1].Out()
	err = fwd.Run(ctx, set, datasets.Noise{}, nil, func(o Outputs) error {
		logits := o.Last()
		for i := range o.N {
			z := logits[i*outputs : (i+1)*outputs]
			_, lse := ArgmaxLogSumExp(z)
			digit, _ := ArgmaxLogSumExp(z[:datasets.NumClasses])
			j := Judgement{Class: digit, Confidence: math.Exp(float64(z[digit]) - lse)}
			if outputs > datasets.NumClasses && z[datasets.NumClasses] > z[digit] {
				j.Class = NotADigit
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}
