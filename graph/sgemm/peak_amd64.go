package sgemm

// fmaLoop8 and fmaLoop16 run n rounds of 12 independent fused multiply-adds of 8 (AVX2) or
// 16 (AVX-512) floats each.
//
//go:noescape
func fmaLoop8(n int)

//go:noescape
func fmaLoop16(n int)

// fmaRound returns the loop that measures kernel k's peak and the floating-point operations
// of one of its rounds, or nil where k has none.
func fmaRound(k Kernel) (func(n int), float64) {
	switch {
	case k == AVX512 && hasKernel(AVX512):
		return fmaLoop16, 12 * 16 * 2
	case k == AVX2 && hasKernel(AVX2):
		return fmaLoop8, 12 * 8 * 2
	}
	return nil, 0
}
