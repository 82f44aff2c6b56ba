package plan

import (
	"fmt"

	"github.com/aelab/aelab/graph/vec"
)

// fusedSegment is how many values of a fused step the CPU computes an instruction over at
// once: small enough that a segment's registers stay in the L1 cache.
const fusedSegment = 1024

// sumBlockRows is how many whole rows a segment of a fused step that sums everything holds,
// when they fit in sumBlockMax values: the sum kernel adds the rows' sums eight rows at a
// time (a row a vector lane), and the segment's are added while they are in the cache
// instead of in a pass over a stored copy of the register afterwards.
const (
	sumBlockRows = 8
	sumBlockMax  = 8192
)

// cpuInstr is a Fusion instruction resolved to its CPU loop.
type cpuInstr struct {
	unary  func(o, a []float32)
	binary *binaryLoops
	a, b   Operand
}

// fused returns the closure of a fused step. The program runs over segments of at most
// fusedSegment values (within one row when an operand is a row or a column), each
// instruction with the loop its own kernel uses, so a fused plan computes the same floats
// as the unfused one; a reduction then sums its register with the sum kernel. A sum of
// everything over rows of at most sumBlockMax/sumBlockRows values runs over segments of
// sumBlockRows whole rows instead and sums each segment's rows as it goes.
func (c *CPU) fused(op KernelOp) (func() error, error) {
	f := op.Fusion
	rows, cols := f.Rows, f.Cols
	n := rows * cols
	ins, outs := c.slices(op.In), c.slices(op.Outs)
	want := len(f.Stores)
	if f.Reduce != nil {
		want++
	}
	if len(outs) != want {
		return nil, fmt.Errorf("plan: fused step %s has %d outputs for %d", op.Node, len(outs), want)
	}
	perRow, colOperand := false, false
	code := make([]cpuInstr, len(f.Code))
	for k, in := range f.Code {
		ci := cpuInstr{a: in.A, b: in.B}
		switch {
		case in.Kernel == "sigmoidgrad":
			ci.unary = sigmoidGrad
		case c.unaries[in.Kernel] != nil:
			ci.unary = c.unaries[in.Kernel]
		case c.binaries[in.Kernel] != nil:
			ci.binary = c.binaries[in.Kernel]
		default:
			return nil, fmt.Errorf("plan: the cpu backend has no kernel %q (in %s)", in.Kernel, op.Node)
		}
		for _, o := range []Operand{in.A, in.B} {
			perRow = perRow || o.Reg < 0 && (o.Mode == modeRow || o.Mode == modeCol)
			colOperand = colOperand || o.Reg < 0 && o.Mode == modeCol
		}
		code[k] = ci
	}
	// A stored register is computed straight into its output.
	full := make([][]float32, len(code))
	for i, reg := range f.Stores {
		full[reg] = outs[i]
	}
	var reduced, rowSums []float32
	segLen := fusedSegment
	blockSums := false // segments of sumBlockRows rows, summed as they are computed
	if r := f.Reduce; r != nil {
		rowSums = make([]float32, rows)
		blockSums = r.Axis == 2 && !colOperand && sumBlockRows*cols <= sumBlockMax
		if blockSums {
			segLen = sumBlockRows * cols
		} else if reduced = full[r.Reg]; reduced == nil {
			reduced = make([]float32, n)
			full[r.Reg] = reduced
		}
	}
	// With blocks of rows, an operand that is one row is read from a copy repeated down the
	// block, refreshed at each run.
	tiled := map[int][]float32{}
	if blockSums {
		for _, ci := range code {
			for _, o := range []Operand{ci.a, ci.b} {
				if o.Reg < 0 && o.Mode == modeRow && tiled[o.In] == nil {
					tiled[o.In] = make([]float32, segLen)
				}
			}
		}
	}
	workers := c.workersFor(n)
	scratch := make([][][]float32, workers)
	for w := range scratch {
		scratch[w] = make([][]float32, len(code))
		for k := range code {
			if full[k] == nil {
				scratch[w][k] = make([]float32, min(segLen, n))
			}
		}
	}
	// segment computes values [s, e) with worker w's registers: part of row r (whole rows
	// from r with blockSums; any range without per-row operands).
	segment := func(w, s, e int) {
		r := s / cols
		c0 := s - r*cols
		regs := scratch[w]
		reg := func(k int) []float32 {
			if full[k] != nil {
				return full[k][s:e]
			}
			return regs[k][:e-s]
		}
		// value returns an operand as a slice, or as one value when it is the same for the
		// whole segment.
		value := func(o Operand) ([]float32, float32) {
			if o.Reg >= 0 {
				return reg(o.Reg), 0
			}
			x := ins[o.In]
			switch o.Mode {
			case modeScalar:
				return nil, x[0]
			case modeRow:
				if t := tiled[o.In]; t != nil {
					return t[:e-s], 0 // e−s whole rows from a row's start
				}
				return x[c0 : c0+e-s], 0
			case modeCol:
				return nil, x[r]
			}
			return x[s:e], 0
		}
		for k, ci := range code {
			dst := reg(k)
			a, av := value(ci.a)
			if ci.unary != nil {
				ci.unary(dst, a)
				continue
			}
			b, bv := value(ci.b)
			switch {
			case a != nil && b != nil:
				ci.binary.vv(dst, a, b)
			case a != nil:
				ci.binary.vs(dst, a, bv)
			case b != nil:
				ci.binary.sv(dst, av, b)
			default:
				ci.binary.ss(dst, av, bv)
			}
		}
		if blockSums {
			vec.SumRows(rowSums[r:r+(e-s)/cols], reg(f.Reduce.Reg), cols, cols)
		}
	}
	unit := 1 // chunks of the work split at multiples of unit values
	switch {
	case blockSums:
		unit = segLen
	case perRow:
		unit = cols
	}
	run := func(w, lo, hi int) {
		for s := lo; s < hi; {
			e := min(hi, s+segLen)
			if perRow && !blockSums {
				e = min(e, (s/cols+1)*cols)
			}
			segment(w, s, e)
			s = e
		}
	}
	return func() error {
		for in, t := range tiled {
			for r := 0; r < len(t); r += cols {
				copy(t[r:r+cols], ins[in][:cols])
			}
		}
		c.parallelChunks(n, unit, workers, run)
		switch r := f.Reduce; {
		case r == nil:
		case blockSums:
			outs[len(outs)-1][0] = totalOfRows(rowSums)
		default:
			c.sum(outs[len(outs)-1], reduced, rowSums, rows, cols, r.Axis)
		}
		return nil
	}, nil
}
