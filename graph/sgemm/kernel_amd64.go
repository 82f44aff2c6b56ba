package sgemm

import "golang.org/x/sys/cpu"

// useKernel reports whether this processor runs the AVX2/FMA micro-kernel.
func useKernel() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// kernel6x16 computes the 6×16 tile c (ldc values per row) = (or += when acc) the product
// of a packed A panel (kc×6) and a packed B panel (kc×16).
//
//go:noescape
func kernel6x16(kc int, a, b, c *float32, ldc int, acc bool)

func kernel(kc int, a, b, c *float32, ldc int, acc bool) { kernel6x16(kc, a, b, c, ldc, acc) }
