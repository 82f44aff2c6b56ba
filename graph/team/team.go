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

// Spin is how long a helper keeps looking for the next loop before it sleeps.
const Spin = 200 * time.Microsecond

// idleExit is how long a sleeping helper waits for work before its goroutine ends, so that
// a Team nobody closes holds no goroutines once it is no longer used.
const idleExit = time.Second

// Team runs loops on up to Size goroutines: the caller and Size−1 helpers. The zero value
// and nil run each loop's parts on fresh goroutines; use New for a Team with helpers. A
// Team may be shared: a Run that finds it busy with another goroutine's loop runs its parts
// on fresh goroutines instead.
type Team struct {
	size    int
	busy    sync.Mutex          // held by the Run whose job the helpers see
	job     atomic.Pointer[job] // the latest loop; helpers look for a new pointer
	live    atomic.Int32        // helper goroutines running
	asleep  atomic.Int32        // helpers blocked on wake
	wake    chan struct{}       // one token per sleeping helper to wake
	stopped atomic.Bool         // Close was called
}

// job is one loop: parts claimed in order from next, done counts the finished ones.
type job struct {
	fn    func(part int)
	parts int64
	next  atomic.Int64
	done  atomic.Int64
}

// New returns a Team of size goroutines (the caller included); size ≤ 0 means GOMAXPROCS.
// Helpers start with the first loop that needs them.
func New(size int) *Team {
	if size <= 0 {
		size = runtime.GOMAXPROCS(0)
	}
	return &Team{size: size, wake: make(chan struct{}, size)}
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
	case t == nil || t.size < 2 || t.stopped.Load() || !t.busy.TryLock():
		spawn(parts, fn)
		return
	}
	defer t.busy.Unlock()
	j := &job{fn: fn, parts: int64(parts)}
	t.job.Store(j)
	for want := int32(min(parts, t.size) - 1); t.live.Load() < want; {
		t.live.Add(1)
		go t.help()
	}
	for n := t.asleep.Load(); n > 0; n-- {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	j.work()
	for j.done.Load() < j.parts {
		runtime.Gosched() // a helper is finishing the part it claimed
	}
}

// work runs parts of j until none is left to claim.
func (j *job) work() {
	for {
		p := j.next.Add(1) - 1
		if p >= j.parts {
			return
		}
		j.fn(int(p))
		j.done.Add(1)
	}
}

// help is a helper's life: run every new job's parts, spin for the next, then sleep, and
// end after idleExit without work or when the Team is closed.
func (t *Team) help() {
	defer t.live.Add(-1)
	var last *job
	for {
		j := t.next(last)
		if j == nil {
			return
		}
		j.work()
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
		if i%64 == 63 {
			if time.Since(start) > Spin {
				break
			}
			// A loop without calls can be stopped only by a signal: the garbage collector,
			// which must stop every goroutine, would wait for one.
			runtime.Gosched()
		}
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
