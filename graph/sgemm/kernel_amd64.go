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
		return tiling{mr: 8, nr: 32, kernel: kernel8x32, rows: true}
	}
	return tiling{mr: 6, nr: 16, kernel: kernel6x16, rows: true}
}

// kernel6x16 computes the 6×16 tile c (ldc values per row) = (or += when acc) the product
// of an A panel (kc×6: 6 rows ars values apart, a step of k aks apart) and a B panel (kc×16:
// 16 values a step, bk apart), with AVX2 and FMA.
//
//go:noescape
func kernel6x16(kc int, a *float32, ars, aks int, b *float32, bk int, c *float32, ldc int, acc bool)

// kernel8x32 computes the 8×32 tile c (ldc values per row) = (or += when acc) the product
// of an A panel (kc×8: 8 rows ars values apart, a step of k aks apart) and a B panel (kc×32:
// 32 values a step, bk apart), with AVX-512F.
//
//go:noescape
func kernel8x32(kc int, a *float32, ars, aks int, b *float32, bk int, c *float32, ldc int, acc bool)
