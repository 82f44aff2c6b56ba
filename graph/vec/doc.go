// Package vec holds float32 loops that aelab's CPU backend runs on every training step,
// with AVX2/FMA versions in Go assembly on amd64 (no cgo) and plain Go elsewhere.
package vec
