package experiment

import (
	"sync"
	"time"
)

// Progress is where a running experiment stands, for one progress line over the whole of it:
// training, evaluation, the digit classifier and the studies. Work is counted in estimated
// multiply-adds, so the share done tracks time even where stages differ in size.
type Progress struct {
	Phase   string        // what runs now, e.g. "run 3 of 9 (dae): train epoch 2/10"
	Done    float64       // estimated work done, 0 to Total
	Total   float64       // estimated work of everything still to do when the experiment started
	Elapsed time.Duration // since the experiment started
}

// Fraction returns the share of the work done, 0 to 1.
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		return 1
	}
	return min(1, p.Done/p.Total)
}

// Left estimates the time left from the pace so far; false until some work is done.
func (p Progress) Left() (time.Duration, bool) {
	f := p.Fraction()
	if p.Done <= 0 || f <= 0 {
		return 0, false
	}
	return time.Duration(float64(p.Elapsed) * (1 - f) / f), true
}

// trainingFactor is the cost of a training step relative to a forward pass of the same
// images: the forward pass and the backward pass's two products per layer.
const trainingFactor = 3

// meter adds up an experiment's work and reports it at every change of phase and, within a
// phase, as the work advances.
type meter struct {
	mu          sync.Mutex
	start       time.Time
	done, total float64
	phase       string
	report      func(Progress) // nil: nothing reported
}

func newMeter(report func(Progress)) *meter {
	return &meter{start: time.Now(), report: report}
}

// plan adds work to do.
func (m *meter) plan(work float64) {
	m.mu.Lock()
	m.total += work
	m.mu.Unlock()
}

// enter starts a phase.
func (m *meter) enter(phase string) {
	m.mu.Lock()
	m.phase = phase
	p := m.progress()
	m.mu.Unlock()
	m.send(p)
}

// advance counts work done.
func (m *meter) advance(work float64) {
	m.mu.Lock()
	m.done += work
	p := m.progress()
	m.mu.Unlock()
	m.send(p)
}

func (m *meter) progress() Progress {
	return Progress{Phase: m.phase, Done: m.done, Total: m.total, Elapsed: time.Since(m.start)}
}

func (m *meter) send(p Progress) {
	if m.report != nil {
		m.report(p)
	}
}
