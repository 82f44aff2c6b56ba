package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/experiment"
	"github.com/aelab/aelab/models/train"
)

// trainProgress shows a bar while an epoch runs (steps, running loss, images per second,
// time left) and one summary line per epoch. The bar is drawn only on a terminal.
type trainProgress struct {
	w      io.Writer
	tty    bool   // w is a terminal: draw bars
	prefix string // e.g. "level 1/2 " during pretraining
	batch  int
	bar    *progressbar.ProgressBar
	epoch  string
	steps  int
}

func newTrainProgress(w io.Writer, batch int) *trainProgress {
	return &trainProgress{w: w, batch: batch, tty: isTerminal(w)}
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
			if !p.tty {
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
			// Drawn empty now, the bar next shows after the throttle: a rate measured over
			// the first step alone would be absurd.
			p.bar.RenderBlank()
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
			fmt.Fprintf(p.w, "%s  train %.5f%s  %.1fs\n", p.epoch, st.TrainLoss, st.Validation(), st.Seconds)
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

// experimentProgress shows a whole experiment's progress on one line: on a terminal a bar
// with the phase and the time left, the log's lines printed above it; elsewhere a line at
// each new phase. It is the experiment's log writer too.
type experimentProgress struct {
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar // nil when w is no terminal
	phase string
}

// barSteps is the bar's resolution.
const barSteps = 1000

func newExperimentProgress(w io.Writer) *experimentProgress {
	p := &experimentProgress{w: w}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions(barSteps,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// update shows p.
func (e *experimentProgress) update(p experiment.Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bar != nil {
		if p.Phase != e.phase {
			e.bar.Describe(p.Phase)
		}
		e.bar.Set(int(barSteps * p.Fraction()))
	} else if p.Phase != e.phase {
		left := "time left not known yet"
		if d, ok := p.Left(); ok {
			left = "about " + d.Round(time.Second).String() + " left"
		}
		fmt.Fprintf(e.w, "── %3.0f%% · %s · %s\n", 100*p.Fraction(), p.Phase, left)
	}
	e.phase = p.Phase
}

// Write prints log lines above the bar.
func (e *experimentProgress) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bar != nil {
		e.bar.Clear()
		defer e.bar.RenderBlank()
	}
	return e.w.Write(b)
}

// finish takes the bar away.
func (e *experimentProgress) finish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bar != nil {
		e.bar.Clear()
		e.bar = nil
	}
}
