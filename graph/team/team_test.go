package team

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runOnce runs parts parts on t and fails unless each ran exactly once.
func runOnce(t *testing.T, tm *Team, parts int) {
	t.Helper()
	counts := make([]atomic.Int32, max(parts, 0))
	tm.Run(parts, func(p int) { counts[p].Add(1) })
	for p := range counts {
		if n := counts[p].Load(); n != 1 {
			t.Fatalf("part %d of %d ran %d times", p, parts, n)
		}
	}
}

// TestRunRunsEveryPartOnce checks teams of several sizes, nil and the zero value, on loops
// of no, one and many parts, repeated so that helpers spin, sleep and wake between loops.
func TestRunRunsEveryPartOnce(t *testing.T) {
	for _, c := range []struct {
		name string
		team *Team
	}{
		{"nil", nil},
		{"zero", &Team{}},
		{"size 1", New(1)},
		{"size 2", New(2)},
		{"size 4", New(4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer c.team.Close()
			for round := range 20 {
				for _, parts := range []int{0, 1, 2, 3, 7, 64} {
					runOnce(t, c.team, parts)
				}
				if round%5 == 4 {
					time.Sleep(2 * Spin) // the helpers go to sleep; the next loop wakes them
				}
			}
		})
	}
}

// TestSharedTeam has several goroutines run loops on one Team at once: the loops that find
// it busy run on fresh goroutines, and every loop still runs each part once.
func TestSharedTeam(t *testing.T) {
	tm := New(2)
	defer tm.Close()
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				parts := 2 + g
				counts := make([]atomic.Int32, parts)
				tm.Run(parts, func(p int) { counts[p].Add(1) })
				for p := range counts {
					if n := counts[p].Load(); n != 1 {
						errs <- fmt.Sprintf("goroutine %d: part %d ran %d times", g, p, n)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestHelpersEnd checks that Close ends the helpers and that a closed Team still runs
// loops (on fresh goroutines).
func TestHelpersEnd(t *testing.T) {
	tm := New(3)
	runOnce(t, tm, 8)
	if n := tm.helpers(); n != 2 {
		t.Fatalf("%d helpers after a loop, want 2", n)
	}
	tm.Close()
	deadline := time.Now().Add(5 * time.Second)
	for tm.helpers() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := tm.helpers(); n != 0 {
		t.Fatalf("%d helpers still running after Close", n)
	}
	runOnce(t, tm, 8)
	if n := tm.helpers(); n != 0 {
		t.Fatalf("a closed team started %d helpers", n)
	}
}

// TestSize checks what Size reports, nil included.
func TestSize(t *testing.T) {
	for _, c := range []struct {
		team *Team
		want int
	}{{nil, 1}, {&Team{}, 1}, {New(1), 1}, {New(3), 3}} {
		if got := c.team.Size(); got != c.want {
			t.Errorf("Size() = %d, want %d", got, c.want)
		}
	}
}

// helpers counts the helper goroutines running.
func (t *Team) helpers() int {
	n := 0
	for i := range t.running {
		if t.running[i].Load() {
			n++
		}
	}
	return n
}

// TestSizeOneRunsOnTheCaller checks that a Team of one runs a loop's parts on the caller, one
// after another, in order (the race detector would see parts run at once).
func TestSizeOneRunsOnTheCaller(t *testing.T) {
	var order []int
	New(1).Run(5, func(p int) { order = append(order, p) })
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(order, want) {
		t.Errorf("parts ran in the order %v, want %v", order, want)
	}
}
