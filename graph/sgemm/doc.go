// Package sgemm multiplies float32 matrices for aelab's pure-Go CPU backend.
//
// On amd64 processors with AVX2 and FMA it packs the operands into panels and runs a 6×16
// register-blocked micro-kernel written in Go assembly (no cgo), splitting the work across
// the cores; elsewhere it calls gonum's pure-Go Sgemm. Either way the result is
// C = op(A)·op(B), row-major, with op the identity or the transpose.
//
// Why not gonum alone: its Sgemm is written for SSE, and a training step of an MNIST
// autoencoder is mostly matrix products; the AVX2 kernel is what lets the default pure-Go
// build keep up with PyTorch on the same CPU (README, Performance).
package sgemm
