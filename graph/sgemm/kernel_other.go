//go:build !amd64

package sgemm

// useKernel is false: only amd64 has the assembly kernel; gonum does the work.
func useKernel() bool { return false }

func kernel(kc int, a, b, c *float32, ldc int, acc bool) {}
