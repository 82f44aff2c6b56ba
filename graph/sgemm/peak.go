package sgemm

import (
	"runtime"
	"sync"
	"time"
)

// peakRounds is how many rounds each goroutine runs: about 20 ms on a 3 GHz core.
const peakRounds = 5_000_000

// PeakGFLOPS measures the processor's peak for kernel k's instructions: GOMAXPROCS
// goroutines at once each run a loop of independent fused multiply-adds, as wide as k's
// registers, and the operations done are divided by the wall time; the best of three tries
// (about 60 ms in all) is the peak. Cores that share their FMA units (SMT siblings) count
// once, as they should. It returns 0 where k is not an assembly kernel this processor runs
// (gonum's, or another architecture).
func PeakGFLOPS(k Kernel) float64 { return peakGFLOPS(k, peakRounds) }

// peakGFLOPS is PeakGFLOPS with rounds rounds a goroutine: tests under -short run fewer, which
// matters under an emulator, where each round takes a thousand times as long.
func peakGFLOPS(k Kernel, rounds int) float64 {
	if k == Auto {
		k = Best()
	}
	loop, flops := fmaRound(k)
	if loop == nil {
		return 0
	}
	loop(rounds / 10) // wake the units and the clock
	workers := runtime.GOMAXPROCS(0)
	best := 0.0
	for range 3 {
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				loop(rounds)
			}()
		}
		wg.Wait()
		best = max(best, float64(workers*rounds)*flops/time.Since(start).Seconds()/1e9)
	}
	return best
}
