package sgemm

// hasKernel reports whether this processor runs the assembly kernel k. Advanced SIMD (NEON)
// is part of every arm64 processor, so the NEON kernel always runs; amd64's never do.
func hasKernel(k Kernel) bool { return k == NEON }

// tilingOf returns the micro-kernel of an assembly kernel k: the NEON one, the only kind here.
//
// Why 8×12: the tile's 24 accumulators, 3 vectors of B and 2 of A take 29 of the 32 128-bit
// V registers. Each step of k does 24 FMAs for 5 vector loads, and the 24 independent sums
// keep a core's FMA pipes busy through their latency (4 pipes × 4 cycles need 16 in flight).
// The next smaller tile, 8×8, has 16 sums and does 16 FMAs for 4 loads. Eight rows, as on
// AVX-512, leave no edge on batches of 8, 32 or 256, and 72 (mc) is a multiple of 8; 12×8
// fits too but would leave edges on every batch. BLIS's armv8a SGEMM kernel has this shape.
func tilingOf(Kernel) tiling { return tiling{mr: 8, nr: 12, kernel: neonKernel} }

// neonKernel is kernel8x12 as a tiling's kernel: its A panel's rows are always adjacent
// (ars 1; the tiling has no rows), loaded 8 at a time.
func neonKernel(kc int, a *float32, _, aks int, b *float32, bk int, c *float32, ldc int, acc bool) {
	kernel8x12(kc, a, aks, b, bk, c, ldc, acc)
}

// kernel8x12 computes the 8×12 tile c (ldc values per row) = (or += when acc) the product
// of an A panel (kc×8: 8 values a step of k, ak apart) and a B panel (kc×12: 12 values a
// step, bk apart), with NEON.
//
//go:noescape
func kernel8x12(kc int, a *float32, ak int, b *float32, bk int, c *float32, ldc int, acc bool)
