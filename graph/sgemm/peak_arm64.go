package sgemm

// fmaLoop4 runs n rounds of 24 independent fused multiply-adds of 4 floats each (NEON).
//
//go:noescape
func fmaLoop4(n int)

// fmaRound returns the loop that measures kernel k's peak and the floating-point operations
// of one of its rounds, or nil where k has none.
func fmaRound(k Kernel) (func(n int), float64) {
	if k == NEON {
		return fmaLoop4, 24 * 4 * 2
	}
	return nil, 0
}
