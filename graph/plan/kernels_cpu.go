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
	switch kernel {
	case "neg":
		return func(o, a []float32) {
			a = a[:len(o)]
			for i, v := range a {
				o[i] = -v
			}
		}
	case "square":
		return func(o, a []float32) {
			a = a[:len(o)]
			for i, v := range a {
				o[i] = v * v
			}
		}
	case "sigmoid":
		return func(o, a []float32) { vec.Sigmoid(o, a[:len(o)]) }
	case "exp":
		return each(vec.Expf)
	case "sqrt":
		return each(func(v float32) float32 { return float32(math.Sqrt(float64(v))) })
	case "log":
		return each(func(v float32) float32 { return float32(math.Log(float64(v))) })
	case "tanh":
		return each(func(v float32) float32 { return float32(math.Tanh(float64(v))) })
	case "softplus":
		// log(1 + e^x) = max(x, 0) + log(1 + e^−|x|)
		return each(func(v float32) float32 {
			return max(v, 0) + float32(math.Log1p(float64(vec.Expf(-abs32(v)))))
		})
	case "abs":
		return each(abs32)
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
	case "inv":
		return each(func(v float32) float32 { return 1 / v })
	case "invsqrt":
		return each(func(v float32) float32 { return float32(1 / math.Sqrt(float64(v))) })
	case "cube":
		return each(func(v float32) float32 { return v * v * v })
	case "log1p":
		return each(func(v float32) float32 { return float32(math.Log1p(float64(v))) })
	case "expm1":
		return each(func(v float32) float32 { return float32(math.Expm1(float64(v))) })
	}
	return nil
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

func truth(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// binary returns the loops of a binary kernel, or nil. The arithmetic ones the graphs run
// most are written out so the compiler inlines the operation.
func binary(kernel string) *binaryLoops {
	switch kernel {
	case "add":
		l := loops(func(a, b float32) float32 { return a + b })
		l.vv = func(o, a, b []float32) {
			a, b = a[:len(o)], b[:len(o)]
			for i := range o {
				o[i] = a[i] + b[i]
			}
		}
		return l
	case "sub":
		l := loops(func(a, b float32) float32 { return a - b })
		l.vv = func(o, a, b []float32) {
			a, b = a[:len(o)], b[:len(o)]
			for i := range o {
				o[i] = a[i] - b[i]
			}
		}
		return l
	case "mul":
		l := loops(func(a, b float32) float32 { return a * b })
		l.vv = func(o, a, b []float32) {
			a, b = a[:len(o)], b[:len(o)]
			for i := range o {
				o[i] = a[i] * b[i]
			}
		}
		l.vs = func(o, a []float32, b float32) {
			a = a[:len(o)]
			for i := range o {
				o[i] = a[i] * b
			}
		}
		return l
	case "div":
		l := loops(func(a, b float32) float32 { return a / b })
		l.vs = func(o, a []float32, b float32) {
			a = a[:len(o)]
			inv := 1 / b
			for i := range o {
				o[i] = a[i] * inv
			}
		}
		return l
	case "pow":
		return loops(func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) })
	case "lt":
		return loops(func(a, b float32) float32 { return truth(a < b) })
	case "gt":
		l := loops(func(a, b float32) float32 { return truth(a > b) })
		l.vs = func(o, a []float32, b float32) {
			a = a[:len(o)]
			for i, v := range a {
				o[i] = truth(v > b)
			}
		}
		return l
	case "le":
		return loops(func(a, b float32) float32 { return truth(a <= b) })
	case "ge":
		l := loops(func(a, b float32) float32 { return truth(a >= b) })
		l.vs = func(o, a []float32, b float32) {
			a = a[:len(o)]
			for i, v := range a {
				o[i] = truth(v >= b)
			}
		}
		return l
	case "eq":
		return loops(func(a, b float32) float32 { return truth(a == b) })
	case "ne":
		return loops(func(a, b float32) float32 { return truth(a != b) })
	}
	return nil
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

// sum reduces a (rows × cols): axis 0 sums the rows, 1 the columns, 2 everything.
func sum(o, a []float32, rows, cols, axis int) {
	switch axis {
	case 0:
		clear(o[:cols])
		for r := range rows {
			row := a[r*cols : (r+1)*cols]
			out := o[:len(row)]
			for c, v := range row {
				out[c] += v
			}
		}
	case 1:
		for r := range rows {
			var s float32
			for _, v := range a[r*cols : (r+1)*cols] {
				s += v
			}
			o[r] = s
		}
	default:
		// Pairwise by rows keeps the float32 rounding error small for large tensors.
		var s float64
		for r := range rows {
			var rs float32
			for _, v := range a[r*cols : (r+1)*cols] {
				rs += v
			}
			s += float64(rs)
		}
		o[0] = float32(s)
	}
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
func sigmoidGrad(o, y []float32) {
	y = y[:len(o)]
	for i, v := range y {
		o[i] = v * (1 - v)
	}
}
