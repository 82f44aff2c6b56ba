package plan

import (
	"slices"
	"strings"
)

// Fusion is the program of a "fused" step: a chain of elementwise kernels over Rows×Cols
// values evaluated in one pass. Instruction k computes register k from inputs (the step's
// In) and earlier registers; the registers in Stores are written to the step's Outs; Reduce,
// when set, sums one register over the rows (Axis 0: Cols values) or over everything (Axis
// 2: one value) into the last of Outs, exactly as the sum kernel would.
type Fusion struct {
	Rows, Cols int
	Code       []Instr
	Stores     []int
	Reduce     *Reduce
}

// Reduce is a Fusion's sum.
type Reduce struct{ Reg, Axis int }

// Instr is one instruction of a Fusion: a unary kernel (sigmoidgrad included) of A, or a
// binary kernel of A and B.
type Instr struct {
	Kernel string
	A, B   Operand
}

// Operand is a register (Reg ≥ 0), or input In of the step (Reg < 0) read in Mode (modeFull,
// modeScalar, modeRow or modeCol).
type Operand struct {
	Reg, In, Mode int
}

// Limits of a Fusion, which the CUDA kernel's fixed-size description holds.
const (
	FusionMaxCode    = 32
	FusionMaxInputs  = 12
	FusionMaxOutputs = 6
)

// group is a set of elementwise values of one shape that fuse into one step, in order,
// with possibly a sum of one of them.
type group struct {
	rows, cols int
	members    []*value
	reduce     *value
	closed     bool // something outside has read a member: the group must run by then
	inputs     []*value
}

func isElementwise(v *value) bool {
	if v.step == nil {
		return false
	}
	if v.step.Kernel == "sigmoidgrad" || isUnary(v.step.Kernel) {
		return true
	}
	return isBinary(v.step.Kernel) && len(v.step.Dims) == 5
}

func isUnary(kernel string) bool {
	for _, k := range unaryKernels() {
		if k == kernel {
			return true
		}
	}
	return false
}

// externalInputs returns v's inputs that are not members of g, with what g already reads.
func (g *group) externalInputs(v *value) []*value {
	ins := slices.Clone(g.inputs)
	for _, in := range v.ins {
		if in.group != g && !slices.Contains(ins, in) {
			ins = append(ins, in)
		}
	}
	return ins
}

// fuse groups the elementwise values of order (topologically sorted, live) into fused
// steps. A value joins the group of one of its inputs when it has that group's shape, the
// group is open and stays within the limits; failing that, the latest open group of its
// shape (its inputs are computed by then: a group closes as soon as a value outside it reads
// a member, so a value that depends on a member of an open group is in it). A sum over rows
// or everything of a member closes its group as the group's reduction. Each group runs, as
// one step, where its last value was.
func fuse(order []*value) []*group {
	var groups []*group
	fits := func(g *group, v *value) bool {
		return !g.closed && g.rows == v.shape[0] && g.cols == v.shape[1] &&
			len(g.members) < FusionMaxCode && len(g.externalInputs(v)) <= FusionMaxInputs
	}
	for _, v := range order {
		var joined *group
		switch {
		case isElementwise(v):
			for _, in := range v.ins {
				if g := in.group; g != nil && g.reduce != in && fits(g, v) {
					joined = g
					break
				}
			}
			for i := len(groups) - 1; i >= 0 && joined == nil; i-- {
				if fits(groups[i], v) {
					joined = groups[i]
				}
			}
			if joined == nil {
				joined = &group{rows: v.shape[0], cols: v.shape[1]}
				groups = append(groups, joined)
			}
			joined.inputs = joined.externalInputs(v)
			joined.members = append(joined.members, v)
			v.group = joined
		case v.step != nil && v.step.Kernel == "sum" && (v.step.Dims[2] == 0 || v.step.Dims[2] == 2):
			in := v.ins[0]
			if g := in.group; g != nil && !g.closed && in.alias == nil && g.reduce == nil &&
				g.rows == v.step.Dims[0] && g.cols == v.step.Dims[1] {
				g.reduce, g.closed, v.group = v, true, g
				joined = g
			}
		}
		for _, in := range v.ins {
			if g := in.group; g != nil && g != joined {
				g.closed = true
			}
		}
	}
	// A lone value stays a plain step.
	var out []*group
	for _, g := range groups {
		if len(g.members) > 1 || g.reduce != nil {
			out = append(out, g)
			continue
		}
		for _, m := range g.members {
			m.group = nil
		}
	}
	return out
}

// foldConstants computes now the small steps whose inputs are all constants (the scalars
// a mean and its gradient start from), so that they do not run on every step.
func foldConstants(order []*value) {
	cpu := NewCPU()
	for _, v := range order {
		if v.step == nil || v.size > 64 || len(v.ins) == 0 {
			continue
		}
		var in []Slice
		for _, x := range v.ins {
			if r := x.root(); r.leaf != nil && r.leaf.Const != nil {
				in = append(in, Slice{Mem: r.leaf.Const, Len: x.size})
			}
		}
		if len(in) != len(v.ins) {
			continue
		}
		out := make([]float32, v.size)
		fn, err := cpu.kernel(KernelOp{Kernel: v.step.Kernel, Dims: v.step.Dims, Out: Slice{Mem: out, Len: v.size}, In: in, Node: v.step.Node})
		if err != nil || fn() != nil {
			continue // left to run as a step, which reports the problem
		}
		v.leaf, v.step, v.ins = &Buffer{Len: v.size, Const: out}, nil, nil
	}
}

// dissolve makes g's values plain steps again.
func (g *group) dissolve() {
	for _, m := range g.members {
		m.group = nil
	}
	if g.reduce != nil {
		g.reduce.group = nil
	}
}

// last returns the value of g that runs last: its reduction, else its last member.
func (g *group) last() *value {
	if g.reduce != nil {
		return g.reduce
	}
	return g.members[len(g.members)-1]
}

// stored returns g's members that must be written out: pinned ones, and those read outside
// g (a reshape of a member is read outside).
func (g *group) stored(pinned map[*value]bool, readers map[*value][]*value) []*value {
	var out []*value
	for _, m := range g.members {
		keep := pinned[m]
		for _, r := range readers[m] {
			if r.group != g && r != g.reduce {
				keep = true
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
}

// program builds g's Fusion and its step (views are filled in by allocate).
func (g *group) program(stored []*value) (*Fusion, *Step) {
	f := &Fusion{Rows: g.rows, Cols: g.cols}
	reg := map[*value]int{}
	input := map[*value]int{}
	for i, in := range g.inputs {
		input[in] = i
	}
	operand := func(in *value, mode int) Operand {
		if r, ok := reg[in]; ok {
			return Operand{Reg: r}
		}
		return Operand{Reg: -1, In: input[in], Mode: mode}
	}
	var names []string
	for k, m := range g.members {
		s := m.step
		ins := Instr{Kernel: s.Kernel}
		switch {
		case len(s.Dims) == 5: // binary: Dims [n, modeA, modeB, rows, cols]
			ins.A, ins.B = operand(m.ins[0], s.Dims[1]), operand(m.ins[1], s.Dims[2])
		default:
			ins.A = operand(m.ins[0], modeFull)
		}
		f.Code = append(f.Code, ins)
		reg[m] = k
		names = append(names, s.Node)
	}
	for _, m := range stored {
		f.Stores = append(f.Stores, reg[m])
	}
	if g.reduce != nil {
		f.Reduce = &Reduce{Reg: reg[g.reduce.ins[0]], Axis: g.reduce.step.Dims[2]}
		names = append(names, g.reduce.step.Node)
	}
	return f, &Step{Kernel: "fused", Dims: []int{g.rows * g.cols, g.rows, g.cols}, Node: strings.Join(names, " → "), Fusion: f}
}
