// Package sgemm multiplies float32 matrices for aelab's pure-Go CPU backend.
//
// The result is C = op(A)·op(B), row-major, with op the identity or the transpose. On amd64
// and arm64 it runs a register-blocked micro-kernel written in Go assembly (no cgo) over
// panels of the operands, splitting the work across the cores (on a team of goroutines when
// the caller gives one); elsewhere it calls gonum's pure-Go Sgemm. A panel is read where it is
// stored when its layout allows (op(B) untransposed, op(A) transposed, and op(A)
// untransposed on amd64, whose kernels have a variant that reads A row by row), and packed
// into a contiguous buffer otherwise. Which kernel runs (Best, Kernel.String) is chosen once per product
// from what the processor has:
//
//   - AVX512: an 8×32 tile in 16 of the 32 ZMM registers, on amd64 processors with AVX-512F.
//   - AVX2: a 6×16 tile in 12 of the 16 YMM registers, on amd64 processors with AVX2 and FMA.
//   - NEON: an 8×12 tile in 24 of the 32 128-bit V registers, on every arm64 processor
//     (Advanced SIMD is part of the architecture).
//   - Gonum: gonum's Sgemm, on every other processor (and wherever a test asks for it).
//
// Multiplier.Kernel forces one, so that tests can check each kernel in the same process.
//
// The three assembly kernels give the same bits. Each element of C is the sum of its k
// products in k order, by fused multiply-adds starting from zero, within each block of
// kc = 256 values of k; the blocks' sums are then added to C in order. Only the tile shape
// differs, and it decides which elements are computed together, not how. aelab's matrix
// products are therefore the same, byte for byte, on any of these processors, and a CPU run
// repeats exactly on either kind of amd64 processor. (An arm64 run need not repeat an amd64
// one: Go compiles x·y + z in plain Go to a fused multiply-add on arm64, not on amd64, and
// graph/vec's sigmoid, Adam and SGD are such loops there.) gonum's Sgemm adds in another
// order and agrees only to rounding.
//
// Why not gonum alone: its Sgemm is written for SSE, and a training step of an MNIST
// autoencoder is mostly matrix products; the AVX2 kernel is what lets the default pure-Go
// build keep up with PyTorch on the same CPU (README, Performance). Why AVX-512 as well: on a
// 2-core AMD EPYC of family 1Ah (Zen 5, whose FMA units are 512 bits wide) the 8×32 kernel
// multiplies the plan's products 1.3 to 1.8 times as fast as the 6×16 one (BenchmarkKernels
// times both in one run). Each k step loads B once for 16 FMAs instead of 12, each FMA does
// 16 multiply-adds instead of 8, and the tile of 8 rows leaves no edge on batches of 8, 32 or
// 256. A processor that splits 512-bit operations into two 256-bit halves (Zen 4) gains less;
// it has not been measured. Why NEON: on arm64 gonum's Sgemm is plain Go, one multiply-add
// at a time; the 8×12 kernel does 24 four-wide FMAs for each 5 vector loads. Its speed is an
// estimate (README, Performance) until an arm64 machine runs BenchmarkKernels or aelab bench.
package sgemm
