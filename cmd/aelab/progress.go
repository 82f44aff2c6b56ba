package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

// trainProgress shows a bar while an epoch runs (steps, running loss, images per second,
// time left) and one summary line per epoch. The bar is drawn only on a terminal.
type trainProgress struct {
	w      io.Writer
	prefix string // e.g. "level 1/2 " during pretraining
	batch  int
	bar    *progressbar.ProgressBar
	epoch  string
	steps  int
}

func newTrainProgress(w io.Writer, batch int) *trainProgress {
	return &trainProgress{w: w, batch: batch}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// hooks returns the training hooks; save, when not nil, runs after each epoch's line.
func (p *trainProgress) hooks(save func(models.EpochStats) error) train.Hooks {
	return train.Hooks{
		EpochStart: func(epoch, epochs, steps int) {
			p.epoch, p.steps = fmt.Sprintf("%sepoch %d/%d", p.prefix, epoch, epochs), steps
			if !isTerminal(p.w) {
				return
			}
			p.bar = progressbar.NewOptions(steps*p.batch,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(p.epoch),
				progressbar.OptionSetItsString("img"),
				progressbar.OptionShowIts(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(24),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		},
		Step: func(step int, loss float64) {
			if p.bar == nil {
				return
			}
			if step%20 == 0 || step == p.steps {
				p.bar.Describe(fmt.Sprintf("%s step %d/%d loss %.5f", p.epoch, step, p.steps, loss))
			}
			p.bar.Add(p.batch)
		},
		EpochEnd: func(st models.EpochStats) error {
			if p.bar != nil {
				p.bar.Finish()
				p.bar = nil
			}
			acc := ""
			if st.ValAccuracy > 0 {
				acc = fmt.Sprintf("  val accuracy %.4f", st.ValAccuracy)
			}
			fmt.Fprintf(p.w, "%s  train %.5f  val %.5f%s  %.1fs\n", p.epoch, st.TrainLoss, st.ValLoss, acc, st.Seconds)
			if save != nil {
				return save(st)
			}
			return nil
		},
	}
}

// abandon clears a bar left by an interrupted epoch.
func (p *trainProgress) abandon() {
	if p.bar != nil {
		p.bar.Clear()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}
