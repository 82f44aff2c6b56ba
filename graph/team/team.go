// Package team runs the parts of a parallel loop on goroutines that stay ready between
// loops, so that the many short parallel regions of a training step do not each wait for
// the operating system to wake a sleeping thread.
//
// Why: a training step of a small autoencoder is a dozen parallel regions of 20 to 300 µs
// (matrix products, elementwise kernels, the optimiser). Starting goroutines for each one
// leaves the other cores parked between regions, and waking a parked thread goes through
// the kernel (a futex), which on a virtual machine takes tens of microseconds: on two
// cores, a quarter of the step's time was idle. A Team's helpers spin for a short while
// after each region (Spin), as OpenMP's runtimes do, and sleep only when no work follows.
//
// Correctness never depends on the helpers: the caller of Run claims parts too, and does
// all of them if no helper comes, so a Team that is busy with another caller's loop, or
// whose helpers have gone to sleep or exited, only makes a loop slower, never wrong.
package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Spin is how long a helper of New keeps looking for the next loop before it sleeps.
const Spin = 200 * time.Microsecond

// idleExit is how long a sleeping helper waits for work before its goroutine ends, so that
// a Team nobody closes holds no goroutines once it is no longer used.
const idleExit = time.Second

// Team runs loops on up to Size goroutines: the caller and Size−1 helpers. The zero value
// and nil run each loop's parts on fresh goroutines, a Team of size 1 on the caller one after
// another; use New for a Team with helpers. A
// Team may be shared: a Run that finds it busy with another goroutine's loop runs its parts
// on fresh goroutines instead.
type Team struct {
	size    int
	spin    time.Duration       // how long a helper looks for the next loop before it sleeps
	busy    sync.Mutex          // held by the Run whose job the helpers see
	job     atomic.Pointer[job] // the latest loop; helpers look for a new pointer
	running []atomic.Bool       // whether helper i (1…size−1) has a goroutine
	asleep  atomic.Int32        // helpers blocked on wake
	wake    chan struct{}       // one token per sleeping helper to wake
	stopped atomic.Bool         // Close was called
}

// job is one loop: each part is claimed once, done counts the finished ones.
type job struct {
	fn      func(part int)
	claimed []atomic.Bool
	done    atomic.Int64
}

// New returns a Team of size goroutines (the caller included) whose helpers spin for Spin;
// size ≤ 0 means GOMAXPROCS. Helpers start with the first loop that needs them.
func New(size int) *Team { return NewSpinning(size, Spin) }

// NewSpinning is New with helpers that spin for spin, 0 to sleep at once: for a program whose
// other work keeps every core busy between loops (OpenBLAS's own threads, which spin too).
func NewSpinning(size int, spin time.Duration) *Team {
	if size <= 0 {
		size = runtime.GOMAXPROCS(0)
	}
	return &Team{size: size, spin: spin, wake: make(chan struct{}, size), running: make([]atomic.Bool, size)}
}

// Size returns how many goroutines run a loop at most, the caller included: 1 for nil.
func (t *Team) Size() int {
	if t == nil || t.size < 1 {
		return 1
	}
	return t.size
}

// Run calls fn(part) once for every part in [0, parts) and returns when all have returned.
// Parts run at once on up to Size goroutines, in no set order; fn must not call Run on the
// same Team.
func (t *Team) Run(parts int, fn func(part int)) {
	switch {
	case parts <= 0:
		return
	case parts == 1:
		fn(0)
		return
	case t != nil && t.size == 1:
		for p := range parts {
			fn(p)
		}
		return
	case t == nil || t.size < 2 || t.stopped.Load() || !t.busy.TryLock():
		spawn(parts, fn)
		return
	}
	defer t.busy.Unlock()
	j := &job{fn: fn, claimed: make([]atomic.Bool, parts)}
	t.job.Store(j)
	for id := 1; id < min(parts, t.size); id++ {
		if t.running[id].CompareAndSwap(false, true) {
			go t.help(id)
		}
	}
	for n := t.asleep.Load(); n > 0; n-- {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	j.work(0)
	for i := 0; j.done.Load() < int64(parts); i++ {
		// A helper is finishing the part it claimed: about one part's time while it runs.
		pause(i)
	}
	j.fn = nil // what the loop's closure holds (a plan's buffers) need not outlive it
}

// work runs part own of j, then any part nobody has claimed yet. Part i goes to goroutine i
// (the caller is 0) whenever that one comes in time, so that a goroutine (and the core it
// runs on) takes the same slice of every loop of a step: the rows a product wrote are in
// that core's cache when the next loop reads them. Moving them between cores cost more than
// the work on the slowest step kernels of a 2-core virtual machine.
func (j *job) work(own int) {
	parts := len(j.claimed)
	if own < parts {
		j.run(own)
	}
	for p := range parts {
		j.run(p)
	}
}

// run runs part p unless another goroutine has claimed it.
func (j *job) run(p int) {
	if j.claimed[p].Load() || !j.claimed[p].CompareAndSwap(false, true) {
		return
	}
	j.fn(p)
	j.done.Add(1)
}

// pause is one round of a spinning loop: a call to a function that itself calls one (so it
// keeps its stack check, where the garbage collector stops a goroutine without sending it a
// signal; a leaf this small would lose it), and every 1024 rounds a yield, in case the
// goroutine waited for shares this goroutine's thread.
//
//go:noinline
func pause(round int) {
	if round%1024 == 1023 {
		runtime.Gosched()
	}
}

// help is helper id's life: run every new job's parts, spin for the next, then sleep, and
// end after idleExit without work or when the Team is closed.
func (t *Team) help(id int) {
	defer t.running[id].Store(false)
	var last *job
	for {
		j := t.next(last)
		if j == nil {
			return
		}
		j.work(id)
		last = j
	}
}

// next waits for a job other than last and returns it, or nil when the helper should end.
func (t *Team) next(last *job) *job {
	start := time.Now()
	for i := 0; ; i++ {
		if t.stopped.Load() {
			return nil
		}
		if j := t.job.Load(); j != last {
			return j
		}
		if i%64 == 63 && time.Since(start) > t.spin {
			break
		}
		pause(i)
	}
	idle := time.NewTimer(idleExit)
	defer idle.Stop()
	for {
		t.asleep.Add(1)
		// Run stores its job before it reads asleep, and this reads the job after adding
		// to asleep: one of the two sees the other, so a job is never slept through.
		if j := t.job.Load(); j != last || t.stopped.Load() {
			t.asleep.Add(-1)
			if t.stopped.Load() {
				return nil
			}
			return j
		}
		select {
		case <-t.wake:
			t.asleep.Add(-1)
		case <-idle.C:
			t.asleep.Add(-1)
			if j := t.job.Load(); j != last && !t.stopped.Load() {
				return j
			}
			return nil
		}
	}
}

// Close ends the helpers; later loops run on fresh goroutines. It does not wait for them.
func (t *Team) Close() {
	if t == nil {
		return
	}
	t.stopped.Store(true)
	for range t.size {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// spawn runs fn's parts on fresh goroutines, one a part, and waits for them.
func spawn(parts int, fn func(part int)) {
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(p)
		}()
	}
	wg.Wait()
}
