//go:build !openblas

package graph

// BLASName names the BLAS that gorgonia's matrix products use in this build.
func BLASName() string { return "gonum (pure Go)" }
