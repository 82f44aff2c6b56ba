package vec

import "math"

// Op is a binary elementwise operation. Its vector loops give, for every value, the bits
// that Apply gives: the same single IEEE operation, no fused multiply-add.
type Op uint8

// The binary operations; a comparison gives 1 where it holds and 0 where not (NaN compares
// unequal to everything, itself included, as in Go).
const (
	Add Op = iota
	Sub
	Mul
	Div
	Less
	LessEq
	Greater
	GreaterEq
	Equal
	NotEqual
)

// Apply is the operation on one pair of values: its definition.
func (op Op) Apply(a, b float32) float32 {
	switch op {
	case Add:
		return a + b
	case Sub:
		return a - b
	case Mul:
		return a * b
	case Div:
		return a / b
	case Less:
		return truth(a < b)
	case LessEq:
		return truth(a <= b)
	case Greater:
		return truth(a > b)
	case GreaterEq:
		return truth(a >= b)
	case Equal:
		return truth(a == b)
	case NotEqual:
		return truth(a != b)
	}
	return float32(math.NaN())
}

func truth(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// fn is Apply as a closure over op, for the Go loops.
func (op Op) fn() func(a, b float32) float32 {
	switch op {
	case Add:
		return func(a, b float32) float32 { return a + b }
	case Sub:
		return func(a, b float32) float32 { return a - b }
	case Mul:
		return func(a, b float32) float32 { return a * b }
	}
	return op.Apply
}

// UnaryOp is a unary elementwise operation, with the same guarantee as Op.
type UnaryOp uint8

// The unary operations.
const (
	Neg         UnaryOp = iota
	Abs                 // the value without its sign bit
	Square              // x·x
	Cube                // (x·x)·x
	Inv                 // 1/x
	Sqrt                // √x, correctly rounded (as float32(math.Sqrt(float64(x))) is)
	SigmoidGrad         // y·(1 − y), the logistic function's derivative from its value y
)

// Apply is the operation on one value: its definition.
func (op UnaryOp) Apply(x float32) float32 {
	switch op {
	case Neg:
		return -x
	case Abs:
		return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	case Square:
		return x * x
	case Cube:
		return x * x * x
	case Inv:
		return 1 / x
	case Sqrt:
		return float32(math.Sqrt(float64(x)))
	case SigmoidGrad:
		return x * (1 - x)
	}
	return float32(math.NaN())
}

// The Go loops, for processors without AVX2 and the last few values of the vector loops.

func vvGo(op Op, o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	switch op {
	case Add:
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case Sub:
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case Mul:
		for i := range o {
			o[i] = a[i] * b[i]
		}
	default:
		f := op.fn()
		for i := range o {
			o[i] = f(a[i], b[i])
		}
	}
}

func vsGo(op Op, o, a []float32, b float32) {
	a = a[:len(o)]
	if op == Mul {
		for i := range o {
			o[i] = a[i] * b
		}
		return
	}
	f := op.fn()
	for i := range o {
		o[i] = f(a[i], b)
	}
}

func svGo(op Op, o []float32, a float32, b []float32) {
	b = b[:len(o)]
	f := op.fn()
	for i := range o {
		o[i] = f(a, b[i])
	}
}

func unaryGo(op UnaryOp, o, a []float32) {
	a = a[:len(o)]
	switch op {
	case Square:
		for i, v := range a {
			o[i] = v * v
		}
	case SigmoidGrad:
		for i, v := range a {
			o[i] = v * (1 - v)
		}
	default:
		for i, v := range a {
			o[i] = op.Apply(v)
		}
	}
}

// SumColumns writes to each o[c] the sum over rows r < rows of a[r·stride + c], added in
// row order starting from 0: the column sums of a rows × len(o) block of a matrix whose
// rows are stride apart.
func SumColumns(o, a []float32, rows, stride int) {
	if rows <= 0 || len(o) == 0 {
		clear(o)
		return
	}
	a = a[:(rows-1)*stride+len(o)]
	c0 := sumColumnsVec(o, a, rows, stride)
	for c := c0; c < len(o); c++ {
		var s float32
		for r := range rows {
			s += a[r*stride+c]
		}
		o[c] = s
	}
}

// SumRows writes to each o[r] the sum of a[r·stride : r·stride+cols], added in column order
// starting from 0: the row sums of a len(o) × cols block of a matrix whose rows are stride
// apart.
func SumRows(o, a []float32, cols, stride int) {
	if len(o) == 0 {
		return
	}
	if cols <= 0 {
		clear(o)
		return
	}
	a = a[:(len(o)-1)*stride+cols]
	r0, c0 := sumRowsVec(o, a, cols, stride)
	// The vector loop summed columns [0, c0) of rows [0, r0); the rest goes on in order.
	for r := range o {
		var s float32
		first := 0
		if r < r0 {
			s, first = o[r], c0
		}
		for _, v := range a[r*stride+first : r*stride+cols] {
			s += v
		}
		o[r] = s
	}
}
