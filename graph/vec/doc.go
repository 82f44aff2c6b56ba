// Package vec holds float32 loops that aelab's CPU backend runs on every training step,
// with AVX2/FMA versions in Go assembly on amd64 (no cgo) and plain Go elsewhere.
//
// The elementwise operations (Op, UnaryOp) and the sums (SumColumns, SumRows) give the bits
// of their Go definitions on every processor: each lane does the same IEEE operations in the
// same order, without fused multiply-adds, and a sum adds each output's values in the order
// the plain loop does (vectors run across columns, or across rows after a transpose, never
// along a sum). Sigmoid and Adam use FMA and agree with their Go forms only to rounding.
package vec
