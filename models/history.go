package models

import (
	"fmt"

	"github.com/aelab/aelab/graph"
)

// EpochStats is one epoch's summary.
type EpochStats struct {
	Epoch     int     `json:"epoch"`      // 1-based
	TrainLoss float64 `json:"train_loss"` // mean objective over the epoch's steps (noise and penalty included)
	ValLoss   float64 `json:"val_loss"`   // reconstruction loss on the clean validation images (cross-entropy for a classifier)
	// ValAccuracy is a classifier's accuracy on the validation images.
	ValAccuracy float64 `json:"val_accuracy,omitempty"`
	Seconds     float64 `json:"seconds"` // wall time of the epoch's steps
	// LR is the epoch's learning rate, when a schedule varied it.
	LR float64 `json:"lr,omitempty"`
	// NoValidation says that no validation images were held out (a refit): ValLoss and
	// ValAccuracy measure nothing.
	NoValidation bool `json:"no_validation,omitempty"`
}

// Validation returns the epoch's validation figures as the command line shows them after
// the training loss ("  val 0.01234", with "  val accuracy 0.9876" for a classifier), or ""
// without validation images.
func (s EpochStats) Validation() string {
	if s.NoValidation {
		return ""
	}
	out := fmt.Sprintf("  val %.5f", s.ValLoss)
	if s.ValAccuracy > 0 {
		out += fmt.Sprintf("  val accuracy %.4f", s.ValAccuracy)
	}
	return out
}

// LevelRecord is the training record of one level of a stack pretrained greedily.
type LevelRecord struct {
	Level   int          `json:"level"`  // 1-based
	Layers  [2]int       `json:"layers"` // the level's input and code sizes
	Noise   string       `json:"noise"`  // corruption of the level's input
	Loss    graph.Loss   `json:"loss"`
	History []EpochStats `json:"history"`
	// KeptEpoch is the epoch whose weights the level kept, when not its last (the best by
	// validation loss); 0: the last.
	KeptEpoch    int  `json:"kept_epoch,omitempty"`
	StoppedEarly bool `json:"stopped_early,omitempty"` // the patience ran out before the epochs asked for
}
