package vec

import "golang.org/x/sys/cpu"

// hasAVX2 reports whether the vector loops run here (the test the sigmoid and Adam loops
// make too).
func hasAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// The vector loops of elementwise_amd64.s, each over n values, a multiple of 8.

//go:noescape
func addVV(o, a, b *float32, n int)

//go:noescape
func addVS(o, a *float32, b float32, n int)

//go:noescape
func addSV(o *float32, a float32, b *float32, n int)

//go:noescape
func subVV(o, a, b *float32, n int)

//go:noescape
func subVS(o, a *float32, b float32, n int)

//go:noescape
func subSV(o *float32, a float32, b *float32, n int)

//go:noescape
func mulVV(o, a, b *float32, n int)

//go:noescape
func mulVS(o, a *float32, b float32, n int)

//go:noescape
func mulSV(o *float32, a float32, b *float32, n int)

//go:noescape
func divVV(o, a, b *float32, n int)

//go:noescape
func divVS(o, a *float32, b float32, n int)

//go:noescape
func divSV(o *float32, a float32, b *float32, n int)

//go:noescape
func ltVV(o, a, b *float32, n int)

//go:noescape
func ltVS(o, a *float32, b float32, n int)

//go:noescape
func ltSV(o *float32, a float32, b *float32, n int)

//go:noescape
func leVV(o, a, b *float32, n int)

//go:noescape
func leVS(o, a *float32, b float32, n int)

//go:noescape
func leSV(o *float32, a float32, b *float32, n int)

//go:noescape
func gtVV(o, a, b *float32, n int)

//go:noescape
func gtVS(o, a *float32, b float32, n int)

//go:noescape
func gtSV(o *float32, a float32, b *float32, n int)

//go:noescape
func geVV(o, a, b *float32, n int)

//go:noescape
func geVS(o, a *float32, b float32, n int)

//go:noescape
func geSV(o *float32, a float32, b *float32, n int)

//go:noescape
func eqVV(o, a, b *float32, n int)

//go:noescape
func eqVS(o, a *float32, b float32, n int)

//go:noescape
func eqSV(o *float32, a float32, b *float32, n int)

//go:noescape
func neVV(o, a, b *float32, n int)

//go:noescape
func neVS(o, a *float32, b float32, n int)

//go:noescape
func neSV(o *float32, a float32, b *float32, n int)

//go:noescape
func negV(o, a *float32, n int)

//go:noescape
func absV(o, a *float32, n int)

//go:noescape
func squareV(o, a *float32, n int)

//go:noescape
func cubeV(o, a *float32, n int)

//go:noescape
func invV(o, a *float32, n int)

//go:noescape
func sqrtV(o, a *float32, n int)

//go:noescape
func sigmoidGradV(o, a *float32, n int)

func vvKernel(op Op) func(o, a, b *float32, n int) {
	switch op {
	case Add:
		return addVV
	case Sub:
		return subVV
	case Mul:
		return mulVV
	case Div:
		return divVV
	case Less:
		return ltVV
	case LessEq:
		return leVV
	case Greater:
		return gtVV
	case GreaterEq:
		return geVV
	case Equal:
		return eqVV
	case NotEqual:
		return neVV
	}
	return nil
}

func vsKernel(op Op) func(o, a *float32, b float32, n int) {
	switch op {
	case Add:
		return addVS
	case Sub:
		return subVS
	case Mul:
		return mulVS
	case Div:
		return divVS
	case Less:
		return ltVS
	case LessEq:
		return leVS
	case Greater:
		return gtVS
	case GreaterEq:
		return geVS
	case Equal:
		return eqVS
	case NotEqual:
		return neVS
	}
	return nil
}

func svKernel(op Op) func(o *float32, a float32, b *float32, n int) {
	switch op {
	case Add:
		return addSV
	case Sub:
		return subSV
	case Mul:
		return mulSV
	case Div:
		return divSV
	case Less:
		return ltSV
	case LessEq:
		return leSV
	case Greater:
		return gtSV
	case GreaterEq:
		return geSV
	case Equal:
		return eqSV
	case NotEqual:
		return neSV
	}
	return nil
}

func unaryKernel(op UnaryOp) func(o, a *float32, n int) {
	switch op {
	case Neg:
		return negV
	case Abs:
		return absV
	case Square:
		return squareV
	case Cube:
		return cubeV
	case Inv:
		return invV
	case Sqrt:
		return sqrtV
	case SigmoidGrad:
		return sigmoidGradV
	}
	return nil
}

// VV writes o[i] = a[i] ∘ b[i] for i < len(o).
func VV(op Op, o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	n := 0
	if k := vvKernel(op); k != nil && hasAVX2() {
		if n = len(o) &^ 7; n > 0 {
			k(&o[0], &a[0], &b[0], n)
		}
	}
	vvGo(op, o[n:], a[n:], b[n:])
}

// VS writes o[i] = a[i] ∘ b for i < len(o).
func VS(op Op, o, a []float32, b float32) {
	a = a[:len(o)]
	n := 0
	if k := vsKernel(op); k != nil && hasAVX2() {
		if n = len(o) &^ 7; n > 0 {
			k(&o[0], &a[0], b, n)
		}
	}
	vsGo(op, o[n:], a[n:], b)
}

// SV writes o[i] = a ∘ b[i] for i < len(o).
func SV(op Op, o []float32, a float32, b []float32) {
	b = b[:len(o)]
	n := 0
	if k := svKernel(op); k != nil && hasAVX2() {
		if n = len(o) &^ 7; n > 0 {
			k(&o[0], a, &b[0], n)
		}
	}
	svGo(op, o[n:], a, b[n:])
}

// Map writes o[i] = f(a[i]) for i < len(o).
func Map(op UnaryOp, o, a []float32) {
	a = a[:len(o)]
	n := 0
	if k := unaryKernel(op); k != nil && hasAVX2() {
		if n = len(o) &^ 7; n > 0 {
			k(&o[0], &a[0], n)
		}
	}
	unaryGo(op, o[n:], a[n:])
}

// sumColumnsAVX2 writes the sums of cols columns (a multiple of 8) over rows ≥ 1 rows.
//
//go:noescape
func sumColumnsAVX2(o, a *float32, rows, cols, stride int)

// sumRowsAVX2 writes the sums of the first cols values (a multiple of 8) of rows rows (a
// multiple of 8).
//
//go:noescape
func sumRowsAVX2(o, a *float32, rows, cols, stride int)

// sumColumnsVec sums the first columns of o with the vector loop and returns how many.
func sumColumnsVec(o, a []float32, rows, stride int) int {
	n := len(o) &^ 7
	if n == 0 || !hasAVX2() {
		return 0
	}
	sumColumnsAVX2(&o[0], &a[0], rows, n, stride)
	return n
}

// sumRowsVec sums the first columns of the first rows of o with the vector loop and
// returns how many of each.
func sumRowsVec(o, a []float32, cols, stride int) (rows, c int) {
	rows, c = len(o)&^7, cols&^7
	if rows == 0 || c == 0 || !hasAVX2() {
		return 0, 0
	}
	sumRowsAVX2(&o[0], &a[0], rows, c, stride)
	return rows, c
}
