//go:build !amd64

package vec

// The elementwise loops and sums in Go (the vector forms are written for amd64 only).

// VV writes o[i] = a[i] ∘ b[i] for i < len(o).
func VV(op Op, o, a, b []float32) { vvGo(op, o, a, b) }

// VS writes o[i] = a[i] ∘ b for i < len(o).
func VS(op Op, o, a []float32, b float32) { vsGo(op, o, a, b) }

// SV writes o[i] = a ∘ b[i] for i < len(o).
func SV(op Op, o []float32, a float32, b []float32) { svGo(op, o, a, b) }

// Map writes o[i] = f(a[i]) for i < len(o).
func Map(op UnaryOp, o, a []float32) { unaryGo(op, o, a) }

func sumColumnsVec(o, a []float32, rows, stride int) int     { return 0 }
func sumRowsVec(o, a []float32, cols, stride int) (int, int) { return 0, 0 }
