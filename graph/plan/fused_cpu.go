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

// fusedStep is a fused step resolved for the CPU: its program, operands and each worker's
// registers.
type fusedStep struct {
	c          *CPU
	f          *Fusion
	rows, cols int
	ins, outs  [][]float32
	code       []cpuInstr
	full       [][]float32 // registers kept in full: the stored ones, and a summed one
	perRow     bool        // an operand is a row or a column: segments stay within a row
	reduced    []float32   // the summed register, in full, unless blockSums
	rowSums    []float32
	blockSums  bool
	segLen     int
	tiled      map[int][]float32
	scratch    [][][]float32 // each worker's registers
}

// fused returns the closure of a fused step. The program runs over segments of at most
// fusedSegment values (within one row when an operand is a row or a column), each
// instruction with the loop its own kernel uses, so a fused plan computes the same floats
// as the unfused one; a reduction then sums its register with the sum kernel. A sum of
// everything over rows of at most sumBlockMax/sumBlockRows values runs over segments of
// sumBlockRows whole rows instead and sums each segment's rows as it goes.
func (c *CPU) fused(op KernelOp) (func() error, error) {
	fs, err := c.newFused(op, false)
	if err != nil {
		return nil, err
	}
	workers := c.workersFor(fs.rows * fs.cols)
	unit := 1 // chunks of the work split at multiples of unit values
	switch {
	case fs.blockSums:
		unit = fs.segLen
	case fs.perRow:
		unit = fs.cols
	}
	return func() error {
		fs.refresh()
		c.parallelChunks(fs.rows*fs.cols, unit, workers, fs.run)
		fs.sum()
		return nil
	}, nil
}

// newFused resolves op. A step that runs in pieces decided elsewhere (afterGemm: the blocks
// of the product it follows) keeps every summed register in full, so its sums run after.
func (c *CPU) newFused(op KernelOp, afterGemm bool) (*fusedStep, error) {
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
	fs := &fusedStep{c: c, f: f, rows: rows, cols: cols, ins: ins, outs: outs, code: make([]cpuInstr, len(f.Code)), segLen: fusedSegment}
	colOperand := false
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
			fs.perRow = fs.perRow || o.Reg < 0 && (o.Mode == modeRow || o.Mode == modeCol)
			colOperand = colOperand || o.Reg < 0 && o.Mode == modeCol
		}
		fs.code[k] = ci
	}
	// A stored register is computed straight into its output.
	fs.full = make([][]float32, len(fs.code))
	for i, reg := range f.Stores {
		fs.full[reg] = outs[i]
	}
	if r := f.Reduce; r != nil {
		fs.rowSums = make([]float32, rows)
		fs.blockSums = !afterGemm && r.Axis == 2 && !colOperand && sumBlockRows*cols <= sumBlockMax
		if fs.blockSums {
			fs.segLen = sumBlockRows * cols
		} else if fs.reduced = fs.full[r.Reg]; fs.reduced == nil {
			fs.reduced = make([]float32, n)
			fs.full[r.Reg] = fs.reduced
		}
	}
	// With blocks of rows, an operand that is one row is read from a copy repeated down the
	// block, refreshed at each run.
	fs.tiled = map[int][]float32{}
	if fs.blockSums {
		for _, ci := range fs.code {
			for _, o := range []Operand{ci.a, ci.b} {
				if o.Reg < 0 && o.Mode == modeRow && fs.tiled[o.In] == nil {
					fs.tiled[o.In] = make([]float32, fs.segLen)
				}
			}
		}
	}
	workers := c.workersFor(n)
	if afterGemm {
		workers = c.workers // one a part of the product
	}
	fs.ensureWorkers(workers)
	return fs, nil
}

// ensureWorkers gives workers 0 to n−1 their registers, keeping those they have.
func (fs *fusedStep) ensureWorkers(n int) {
	for w := len(fs.scratch); w < n; w++ {
		regs := make([][]float32, len(fs.code))
		for k := range fs.code {
			if fs.full[k] == nil {
				regs[k] = make([]float32, min(fs.segLen, fs.rows*fs.cols))
			}
		}
		fs.scratch = append(fs.scratch, regs)
	}
}

// segment computes values [s, e) with worker w's registers: part of one row (whole rows
// with blockSums; any range without per-row operands).
func (fs *fusedStep) segment(w, s, e int) {
	r := s / fs.cols
	c0 := s - r*fs.cols
	regs := fs.scratch[w]
	reg := func(k int) []float32 {
		if fs.full[k] != nil {
			return fs.full[k][s:e]
		}
		return regs[k][:e-s]
	}
	// value returns an operand as a slice, or as one value when it is the same for the
	// whole segment.
	value := func(o Operand) ([]float32, float32) {
		if o.Reg >= 0 {
			return reg(o.Reg), 0
		}
		x := fs.ins[o.In]
		switch o.Mode {
		case modeScalar:
			return nil, x[0]
		case modeRow:
			if t := fs.tiled[o.In]; t != nil {
				return t[:e-s], 0 // e−s whole rows from a row's start
			}
			return x[c0 : c0+e-s], 0
		case modeCol:
			return nil, x[r]
		}
		return x[s:e], 0
	}
	for k, ci := range fs.code {
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
	if fs.blockSums {
		vec.SumRows(fs.rowSums[r:r+(e-s)/fs.cols], reg(fs.f.Reduce.Reg), fs.cols, fs.cols)
	}
}

// run computes values [lo, hi) with worker w's registers, segment by segment.
func (fs *fusedStep) run(w, lo, hi int) {
	for s := lo; s < hi; {
		e := min(hi, s+fs.segLen)
		if fs.perRow && !fs.blockSums {
			e = min(e, (s/fs.cols+1)*fs.cols)
		}
		fs.segment(w, s, e)
		s = e
	}
}

// block computes rows [i0, i1), columns [j0, j1), with worker w's registers.
func (fs *fusedStep) block(w, i0, i1, j0, j1 int) {
	if j0 == 0 && j1 == fs.cols {
		fs.run(w, i0*fs.cols, i1*fs.cols)
		return
	}
	for r := i0; r < i1; r++ {
		fs.run(w, r*fs.cols+j0, r*fs.cols+j1)
	}
}

// refresh copies the row operands down their tiles, before a run.
func (fs *fusedStep) refresh() {
	for in, t := range fs.tiled {
		for r := 0; r < len(t); r += fs.cols {
			copy(t[r:r+fs.cols], fs.ins[in][:fs.cols])
		}
	}
}

// sum writes the step's sum, after a run.
func (fs *fusedStep) sum() {
	switch r := fs.f.Reduce; {
	case r == nil:
	case fs.blockSums:
		fs.outs[len(fs.outs)-1][0] = totalOfRows(fs.rowSums)
	default:
		fs.c.sum(fs.outs[len(fs.outs)-1], fs.reduced, fs.rowSums, fs.rows, fs.cols, r.Axis)
	}
}
