package sgemm

import "golang.org/x/sys/cpu"

// hasKernel reports whether this processor runs the assembly kernel k. x/sys/cpu reports
// AVX-512F only where the operating system also saves the 512-bit registers.
func hasKernel(k Kernel) bool {
	switch k {
	case AVX512:
		return cpu.X86.HasAVX512F
	case AVX2:
		return cpu.X86.HasAVX2 && cpu.X86.HasFMA
	}
	return false
}

// tilingOf returns the micro-kernel of an assembly kernel k.
func tilingOf(k Kernel) tiling {
	if k == AVX512 {
		return tiling{mr: 8, nr: 32, kernel: kernel8x32, rows: kernel8x32rows}
	}
	return tiling{mr: 6, nr: 16, kernel: kernel6x16, rows: kernel6x16rows}
}

// kernel6x16 computes the 6×16 tile c (ldc values per row) = (or += when acc) the product
// of an A panel (kc×6: 6 values a step of k, ak apart) and a B panel (kc×16: 16 values a
// step, bk apart), with AVX2 and FMA.
//
//go:noescape
func kernel6x16(kc int, a *float32, ak int, b *float32, bk int, c *float32, ldc int, acc bool)

// kernel8x32 computes the 8×32 tile c (ldc values per row) = (or += when acc) the product
// of an A panel (kc×8: 8 values a step of k, ak apart) and a B panel (kc×32: 32 values a
// step, bk apart), with AVX-512F.
//
//go:noescape
func kernel8x32(kc int, a *float32, ak int, b *float32, bk int, c *float32, ldc int, acc bool)

// kernel8x32rows is kernel8x32 for an A panel stored as 8 rows of lda values, read in place.
//
//go:noescape
func kernel8x32rows(kc int, a *float32, lda int, b *float32, bk int, c *float32, ldc int, acc bool)

// kernel6x16rows is kernel6x16 for an A panel stored as 6 rows of lda values, read in place.
//
//go:noescape
func kernel6x16rows(kc int, a *float32, lda int, b *float32, bk int, c *float32, ldc int, acc bool)
