package plan

import (
	"math"

	"github.com/aelab/aelab/graph/vec"
)

// The CPU kernels. Each works on equally long slices (a scalar operand is passed as a value),
// so a caller can split the work into chunks.

// unary returns the loop of a unary kernel, or nil.
func unary(kernel string) func(o, a []float32) {
	each := func(f func(float32) float32) func(o, a []float32) {
		return func(o, a []float32) {
			a = a[:len(o)]
			for i, v := range a {
				o[i] = f(v)
			}
		}
	}
	if op, ok := vecUnary(kernel); ok {
		return func(o, a []float32) { vec.Map(op, o, a) }
	}
	switch kernel {
	case "sigmoid":
		return func(o, a []float32) { vec.Sigmoid(o, a[:len(o)]) }
	case "exp":
		return each(vec.Expf)
	case "log":
		return each(func(v float32) float32 { return float32(math.Log(float64(v))) })
	case "tanh":
		return each(func(v float32) float32 { return float32(math.Tanh(float64(v))) })
	case "softplus":
		// log(1 + e^x) = max(x, 0) + log(1 + e^−|x|)
		return each(func(v float32) float32 {
			return max(v, 0) + float32(math.Log1p(float64(vec.Expf(-abs32(v)))))
		})
	case "sign":
		return each(func(v float32) float32 {
			switch {
			case v > 0:
				return 1
			case v < 0:
				return -1
			}
			return 0
		})
	case "invsqrt":
		return each(func(v float32) float32 { return float32(1 / math.Sqrt(float64(v))) })
	case "log1p":
		return each(func(v float32) float32 { return float32(math.Log1p(float64(v))) })
	case "expm1":
		return each(func(v float32) float32 { return float32(math.Expm1(float64(v))) })
	}
	return nil
}

// vecUnary returns the vec operation of a unary kernel that has one.
func vecUnary(kernel string) (vec.UnaryOp, bool) {
	switch kernel {
	case "neg":
		return vec.Neg, true
	case "abs":
		return vec.Abs, true
	case "square":
		return vec.Square, true
	case "cube":
		return vec.Cube, true
	case "inv":
		return vec.Inv, true
	case "sqrt":
		return vec.Sqrt, true
	}
	return 0, false
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// binaryLoops are a binary kernel's loops for vector∘vector, vector∘scalar,
// scalar∘vector and scalar∘scalar operands.
type binaryLoops struct {
	vv func(o, a, b []float32)
	vs func(o, a []float32, b float32)
	sv func(o []float32, a float32, b []float32)
	ss func(o []float32, a, b float32)
}

// loops builds the four loops from the scalar operation.
func loops(f func(a, b float32) float32) *binaryLoops {
	return &binaryLoops{
		vv: func(o, a, b []float32) {
			a, b = a[:len(o)], b[:len(o)]
			for i := range o {
				o[i] = f(a[i], b[i])
			}
		},
		vs: func(o, a []float32, b float32) {
			a = a[:len(o)]
			for i := range o {
				o[i] = f(a[i], b)
			}
		},
		sv: func(o []float32, a float32, b []float32) {
			b = b[:len(o)]
			for i := range o {
				o[i] = f(a, b[i])
			}
		},
		ss: func(o []float32, a, b float32) {
			v := f(a, b)
			for i := range o {
				o[i] = v
			}
		},
	}
}

// vecBinary returns the vec operation of a binary kernel that has one.
func vecBinary(kernel string) (vec.Op, bool) {
	switch kernel {
	case "add":
		return vec.Add, true
	case "sub":
		return vec.Sub, true
	case "mul":
		return vec.Mul, true
	case "div":
		return vec.Div, true
	case "lt":
		return vec.Less, true
	case "le":
		return vec.LessEq, true
	case "gt":
		return vec.Greater, true
	case "ge":
		return vec.GreaterEq, true
	case "eq":
		return vec.Equal, true
	case "ne":
		return vec.NotEqual, true
	}
	return 0, false
}

// binary returns the loops of a binary kernel, or nil: vec's loops (vector ones where the
// processor has them) for the arithmetic and the comparisons.
func binary(kernel string) *binaryLoops {
	if kernel == "pow" {
		return loops(func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) })
	}
	op, ok := vecBinary(kernel)
	if !ok {
		return nil
	}
	l := loops(op.Apply) // for ss
	l.vv = func(o, a, b []float32) { vec.VV(op, o, a, b) }
	l.vs = func(o, a []float32, b float32) { vec.VS(op, o, a, b) }
	l.sv = func(o []float32, a float32, b []float32) { vec.SV(op, o, a, b) }
	if op == vec.Div {
		// Division by one value multiplies by its inverse, as it always has: the results
		// are the ones the tests and the committed runs were made with.
		l.vs = func(o, a []float32, b float32) { vec.VS(vec.Mul, o, a, 1/b) }
	}
	return l
}

// broadcast fills o (rows × cols) from a (inRows × inCols, each 1 or the full size).
func broadcast(o, a []float32, rows, cols, inRows, inCols int) {
	for r := range rows {
		row := o[r*cols : (r+1)*cols]
		switch {
		case inRows == 1 && inCols == 1:
			v := a[0]
			for c := range row {
				row[c] = v
			}
		case inCols == 1:
			v := a[r]
			for c := range row {
				row[c] = v
			}
		case inRows == 1:
			copy(row, a[:cols])
		default:
			copy(row, a[r*cols:(r+1)*cols])
		}
	}
}

// sum reduces a (rows × cols): axis 0 sums the rows, 1 the columns, 2 everything; for axis
// 2, rowSums (rows values) is scratch. Each output's additions keep their order (a column in
// row order, a row in column order), so the work splits across the cores by columns or rows.
func (c *CPU) sum(o, a, rowSums []float32, rows, cols, axis int) {
	workers := c.workersFor(rows * cols)
	sumRows := func(o []float32) {
		c.parallelChunks(rows, 8, workers, func(_, lo, hi int) {
			vec.SumRows(o[lo:hi], a[lo*cols:], cols, cols)
		})
	}
	switch axis {
	case 0:
		c.parallelChunks(cols, 64, workers, func(_, lo, hi int) {
			vec.SumColumns(o[lo:hi], a[lo:], rows, cols)
		})
	case 1:
		sumRows(o[:rows])
	default:
		sumRows(rowSums[:rows])
		o[0] = totalOfRows(rowSums[:rows])
	}
}

// totalOfRows adds a tensor's row sums in float64: summing by rows first, then the rows,
// keeps the float32 rounding error small for large tensors.
func totalOfRows(rowSums []float32) float32 {
	var s float64
	for _, rs := range rowSums {
		s += float64(rs)
	}
	return float32(s)
}

// softmax computes a softmax (or its logarithm) along each row of a.
func softmax(o, a []float32, rows, cols int, log bool) {
	for r := range rows {
		in, out := a[r*cols:(r+1)*cols], o[r*cols:(r+1)*cols]
		m := in[0]
		for _, v := range in {
			m = max(m, v)
		}
		var s float32
		for c, v := range in {
			e := vec.Expf(v - m)
			out[c] = e
			s += e
		}
		if log {
			ls := float32(math.Log(float64(s)))
			for c, v := range in {
				out[c] = v - m - ls
			}
			continue
		}
		for c := range out {
			out[c] /= s
		}
	}
}

// softmaxGrad computes the derivative with respect to the input of a softmax (or
// log-softmax) whose output is y, given dy: for softmax y ⊙ (dy − Σ dy⊙y), for log-softmax
// dy − e^y Σ dy, along each row.
func softmaxGrad(o, y, dy []float32, rows, cols int, log bool) {
	for r := range rows {
		yr, dr, out := y[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], o[r*cols:(r+1)*cols]
		var s float32
		if log {
			for _, v := range dr {
				s += v
			}
			for c := range out {
				out[c] = dr[c] - vec.Expf(yr[c])*s
			}
			continue
		}
		for c := range yr {
			s += dr[c] * yr[c]
		}
		for c := range out {
			out[c] = yr[c] * (dr[c] - s)
		}
	}
}

// sigmoidGrad writes y(1 − y).
func sigmoidGrad(o, y []float32) { vec.Map(vec.SigmoidGrad, o, y) }
