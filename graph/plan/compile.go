package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/aelab/aelab/graph"
)

// value is what pass one knows of a node: a leaf buffer, an alias of another node's
// storage, or the output of a step.
type value struct {
	node  *G.Node
	shape []int // as rows, cols (vectors are 1×N, scalars 1×1)
	size  int
	alias *value // storage shared with this value (reshape)
	leaf  *Buffer
	step  *Step // the step that computes it; Out is filled in pass two
	ins   []*value
	buf   int    // pass two: buffer index
	group *group // the fused step that computes it, if any
}

func (v *value) root() *value {
	for v.alias != nil {
		v = v.alias
	}
	return v
}

// matrix returns the shape of n as rows × cols.
func matrix(s tensor.Shape) []int {
	switch len(s) {
	case 0:
		return []int{1, 1}
	case 1:
		return []int{1, s[0]}
	case 2:
		return []int{s[0], s[1]}
	}
	rows := 1
	for _, d := range s[:len(s)-1] {
		rows *= d
	}
	return []int{rows, s[len(s)-1]}
}

// Options change how Compile plans.
type Options struct {
	// NoFusion keeps every elementwise kernel a step of its own (see Fusion).
	NoFusion bool
}

// Compile turns p into a plan.
func Compile(p *graph.Program) (*Plan, error) { return CompileWith(p, Options{}) }

// CompileWith is Compile with options.
func CompileWith(p *graph.Program, opt Options) (*Plan, error) {
	sorted, err := G.Sort(p.Graph)
	if err != nil {
		return nil, fmt.Errorf("plan: sort graph: %w", err)
	}
	children := func(n *G.Node) []*G.Node {
		var out []*G.Node
		it := p.Graph.From(n.ID())
		for it.Next() {
			out = append(out, it.Node().(*G.Node))
		}
		return out
	}
	var roots []*G.Node
	roots = append(roots, p.Outputs...)
	if p.Loss != nil {
		roots = append(roots, p.Loss)
		roots = append(roots, p.Grads...)
	}
	roots = append(roots, p.Inputs...)
	roots = append(roots, p.Nodes...)

	// Mark what the roots need.
	needed := map[*G.Node]bool{}
	var mark func(n *G.Node)
	mark = func(n *G.Node) {
		if needed[n] {
			return
		}
		needed[n] = true
		for _, c := range children(n) {
			mark(c)
		}
	}
	for _, r := range roots {
		mark(r)
	}

	isInput := map[*G.Node]int{}
	for i, n := range p.Inputs {
		isInput[n] = i
	}
	paramOf := map[*G.Node]*graph.Param{}
	for i, n := range p.Nodes {
		paramOf[n] = p.Params[i]
	}

	// Pass one: a value per needed node, in topological order (children first).
	values := map[*G.Node]*value{}
	var order []*value
	for i := len(sorted) - 1; i >= 0; i-- {
		n := sorted[i]
		if !needed[n] {
			continue
		}
		v := &value{node: n, shape: matrix(n.Shape())}
		v.size = v.shape[0] * v.shape[1]
		for _, c := range children(n) {
			cv, ok := values[c]
			if !ok {
				return nil, fmt.Errorf("plan: node %s is used before it is computed", c.Name())
			}
			v.ins = append(v.ins, cv)
		}
		if err := describe(v, isInput, paramOf); err != nil {
			return nil, err
		}
		values[n] = v
		order = append(order, v)
	}
	for _, v := range order {
		simplify(v)
	}
	order = live(order, roots, values)
	foldConstants(order)
	order = live(order, roots, values)
	var groups []*group
	if !opt.NoFusion {
		groups = fuse(order)
	}
	return allocate(p, values, order, groups)
}

// live returns the values of order that the roots still need after simplify has bypassed
// some steps, in the same order.
func live(order []*value, roots []*G.Node, values map[*G.Node]*value) []*value {
	keep := map[*value]bool{}
	var mark func(v *value)
	mark = func(v *value) {
		if keep[v] {
			return
		}
		keep[v] = true
		if v.alias != nil {
			mark(v.alias)
		}
		for _, in := range v.ins {
			mark(in)
		}
	}
	for _, r := range roots {
		mark(values[r])
	}
	var out []*value
	for _, v := range order {
		if keep[v] {
			out = append(out, v)
		}
	}
	return out
}

// Operand modes of binary kernels: how an operand of a rows×cols result is laid out.
const (
	modeFull   = 0 // rows×cols values
	modeScalar = 1 // one value for all
	modeRow    = 2 // cols values, the same for every row
	modeCol    = 3 // rows values, each the same along its row
)

// broadcastSource follows broadcast steps back to what they repeat and says how it is
// laid out in a result of v's shape, or returns v itself in full.
func broadcastSource(v *value) (*value, int) {
	src := v
	for src.step != nil && src.step.Kernel == "broadcast" {
		src = src.ins[0].root()
	}
	switch {
	case src == v:
		return v, modeFull
	case src.size == 1:
		return src, modeScalar
	case src.shape[0] == 1 && src.shape[1] == v.shape[1]:
		return src, modeRow
	case src.shape[1] == 1 && src.shape[0] == v.shape[0]:
		return src, modeCol
	}
	return v, modeFull
}

// simplify rewrites v's step where a cheaper form computes the same values:
//   - a binary op reads a broadcast's source directly (as a scalar, a row or a column)
//     instead of the materialised broadcast;
//   - σ(x) ⊙ σ(−x), the form in which gorgonia differentiates the sigmoid, becomes
//     y ⊙ (1 − y) from the sigmoid's output y.
func simplify(v *value) {
	s := v.step
	if s == nil {
		return
	}
	if s.Kernel == "mul" && len(v.ins) == 2 {
		for i := range 2 {
			y, sn := v.ins[i].root(), v.ins[1-i].root()
			if isStep(y, "sigmoid") && isStep(sn, "sigmoid") && isStep(sn.ins[0].root(), "neg") &&
				sn.ins[0].root().ins[0].root() == y.ins[0].root() && y.size == v.size {
				v.ins = []*value{y}
				s.Kernel, s.Dims = "sigmoidgrad", []int{v.size}
				return
			}
		}
	}
	if len(s.Dims) == 3 && isBinary(s.Kernel) {
		rows, cols := v.shape[0], v.shape[1]
		modes := []int{modeFull, modeFull}
		for i := range 2 {
			if s.Dims[1+i] == 1 {
				modes[i] = modeScalar
				continue
			}
			src, mode := broadcastSource(v.ins[i].root())
			if mode != modeFull {
				v.ins[i], modes[i] = src, mode
			}
		}
		s.Dims = []int{v.size, modes[0], modes[1], rows, cols}
	}
}

func isStep(v *value, kernel string) bool { return v.step != nil && v.step.Kernel == kernel }

func isBinary(kernel string) bool {
	for _, k := range binaryKernels() {
		if k == kernel {
			return true
		}
	}
	return false
}

// describe fills v's leaf, alias or step.
func describe(v *value, isInput map[*G.Node]int, paramOf map[*G.Node]*graph.Param) error {
	n := v.node
	if _, ok := isInput[n]; ok {
		v.leaf = &Buffer{Len: v.size, Input: true}
		return nil
	}
	if par, ok := paramOf[n]; ok {
		v.leaf = &Buffer{Len: v.size, Param: par}
		return nil
	}
	op := n.Op()
	if op == nil || strings.HasPrefix(fmt.Sprint(op), "const ") {
		vals, err := constant(n)
		if err != nil {
			return err
		}
		v.leaf = &Buffer{Len: len(vals), Const: vals}
		return nil
	}
	if n.Dtype() != tensor.Float32 && !isSizeOp(op) {
		return fmt.Errorf("plan: node %s is %v; aelab's executor computes float32 only", n.Name(), n.Dtype())
	}
	name := fmt.Sprint(op)
	unsupported := &UnsupportedOpError{Op: name, Node: n.Name()}
	step := &Step{Node: n.Name()}
	switch typ := fmt.Sprintf("%T", op); {
	case strings.HasSuffix(typ, ".elemUnaryOp"):
		k, ok := unaryKernels()[name]
		if !ok || len(v.ins) != 1 {
			return unsupported
		}
		step.Kernel, step.Dims = k, []int{v.size}
	case strings.HasSuffix(typ, ".elemBinOp"):
		sym, retSame, _ := strings.Cut(name, " ")
		k, ok := binaryKernels()[sym]
		if !ok || len(v.ins) != 2 {
			return unsupported
		}
		if isComparison(k) && retSame != "true" {
			return unsupported // a comparison that returns booleans
		}
		a, b := v.ins[0], v.ins[1]
		aScalar, bScalar := a.size == 1 && v.size != 1, b.size == 1 && v.size != 1
		if (!aScalar && a.size != v.size) || (!bScalar && b.size != v.size) {
			return fmt.Errorf("plan: node %s: operands of %d and %d values for a result of %d", n.Name(), a.size, b.size, v.size)
		}
		step.Kernel, step.Dims = k, []int{v.size, flag(aScalar), flag(bScalar)} // simplify adds modes and the shape
	case strings.HasSuffix(typ, ".linAlgBinOp"):
		return describeLinAlg(v, step, name)
	case strings.HasSuffix(typ, ".repeatOp"):
		in := v.ins[0]
		v.ins = v.ins[:1] // the other inputs are the repeat counts, known from the shapes
		if (in.shape[0] != 1 && in.shape[0] != v.shape[0]) || (in.shape[1] != 1 && in.shape[1] != v.shape[1]) {
			return fmt.Errorf("plan: node %s repeats %v into %v", n.Name(), in.shape, v.shape)
		}
		step.Kernel, step.Dims = "broadcast", []int{v.shape[0], v.shape[1], in.shape[0], in.shape[1]}
	case strings.HasSuffix(typ, ".sumOp"):
		return describeSum(v, step, name, n)
	case strings.HasSuffix(typ, ".reshapeOp"):
		if v.ins[0].size != v.size {
			return fmt.Errorf("plan: node %s reshapes %d values into %d", n.Name(), v.ins[0].size, v.size)
		}
		v.alias = v.ins[0]
		return nil
	case strings.HasSuffix(typ, ".sizeOp"):
		size, err := sizeOf(name, v.ins[0].node)
		if err != nil {
			return err
		}
		v.ins = nil
		v.leaf = &Buffer{Len: 1, Const: []float32{float32(size)}}
		return nil
	case typ == "*gorgonia.softmaxOp":
		return describeSoftmax(v, step, name, "softmax", 1)
	case typ == "*gorgonia.softmaxDiffOp":
		// Inputs: x, y, dy; the derivative needs only y and dy.
		return describeSoftmax(v, step, name, "softmaxgrad", 3)
	default:
		return unsupported
	}
	v.step = step
	return nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isSizeOp(op G.Op) bool { return strings.HasSuffix(fmt.Sprintf("%T", op), ".sizeOp") }

// constant returns the values of a constant node.
func constant(n *G.Node) ([]float32, error) {
	switch v := n.Value().(type) {
	case *G.F32:
		return []float32{float32(*v)}, nil
	case *G.F64:
		return []float32{float32(*v)}, nil
	case *tensor.Dense:
		if data, ok := v.Data().([]float32); ok {
			return append([]float32(nil), data...), nil
		}
	}
	return nil, fmt.Errorf("plan: constant %s holds %T, not float32", n.Name(), n.Value())
}

// sizeOf reads a sizeOp: "SizeOf=N" or "SizeOf(axis)" of the node it measures.
func sizeOf(name string, of *G.Node) (int, error) {
	if s, ok := strings.CutPrefix(name, "SizeOf="); ok {
		return strconv.Atoi(s)
	}
	if s, ok := strings.CutPrefix(name, "SizeOf("); ok {
		axis, err := strconv.Atoi(strings.TrimSuffix(s, ")"))
		if err == nil && axis >= 0 && axis < len(of.Shape()) {
			return of.Shape()[axis], nil
		}
	}
	return 0, &UnsupportedOpError{Op: name, Node: of.Name()}
}

func unaryKernels() map[string]string {
	return map[string]string{
		"neg": "neg", "square": "square", "sqrt": "sqrt", "exp": "exp", "ln": "log", "sigmoid": "sigmoid",
		"tanh": "tanh", "softplus": "softplus", "abs": "abs", "sign": "sign", "inv": "inv", "cube": "cube",
		"log1p": "log1p", "expm1": "expm1", "invSqrt": "invsqrt",
	}
}

func binaryKernels() map[string]string {
	return map[string]string{
		"+": "add", "-": "sub", "⊙": "mul", "÷": "div", "^": "pow",
		"<": "lt", ">": "gt", "<=": "le", ">=": "ge", "==": "eq", "!=": "ne",
	}
}

func isComparison(k string) bool {
	switch k {
	case "lt", "gt", "le", "ge", "eq", "ne":
		return true
	}
	return false
}

// describeLinAlg maps gorgonia's matrix products onto GEMM: "A × B", "A × Bᵀ", "Aᵀ × B",
// "Aᵀ × Bᵀ", the matrix-vector forms "A × b", "Aᵀ × b", and the outer product "a ⊗ b".
func describeLinAlg(v *value, step *Step, name string) error {
	a, b := v.ins[0], v.ins[1]
	aShape, bShape := a.node.Shape(), b.node.Shape()
	var m, n, k int
	var tA, tB bool
	switch name {
	case "A × B", "A × Bᵀ", "Aᵀ × B", "Aᵀ × Bᵀ":
		tA, tB = strings.HasPrefix(name, "Aᵀ"), strings.HasSuffix(name, "Bᵀ")
		if len(aShape) != 2 || len(bShape) != 2 {
			return &UnsupportedOpError{Op: name, Node: v.node.Name()}
		}
		m, k = aShape[0], aShape[1]
		if tA {
			m, k = k, m
		}
		n = bShape[1]
		if tB {
			n = bShape[0]
		}
	case "A × b", "Aᵀ × b":
		tA = name == "Aᵀ × b"
		if len(aShape) != 2 || len(bShape) != 1 {
			return &UnsupportedOpError{Op: name, Node: v.node.Name()}
		}
		m, k, n = aShape[0], aShape[1], 1
		if tA {
			m, k = k, m
		}
	default:
		if strings.Contains(name, "⊗") && len(aShape) == 1 && len(bShape) == 1 {
			m, k, n = aShape[0], 1, bShape[0] // a (m×1) · b (1×n)
			break
		}
		return &UnsupportedOpError{Op: name, Node: v.node.Name()}
	}
	if m*n != v.size {
		return fmt.Errorf("plan: node %s: %s of %v and %v gives %d values, not %d", v.node.Name(), name, aShape, bShape, m*n, v.size)
	}
	step.Kernel, step.Dims = "gemm", []int{m, n, k, flag(tA), flag(tB)}
	v.step = step
	return nil
}

// describeSum maps "Σ[axes]" onto the sum kernel.
func describeSum(v *value, step *Step, name string, n *G.Node) error {
	in := v.ins[0]
	inShape := in.node.Shape()
	axes := strings.Fields(strings.Trim(strings.TrimPrefix(name, "Σ"), "[]"))
	rows, cols := in.shape[0], in.shape[1]
	mode := -1
	switch {
	case v.size == 1:
		mode = 2
	case len(inShape) == 2 && len(axes) == 1 && axes[0] == "0":
		mode = 0
	case len(inShape) == 2 && len(axes) == 1 && axes[0] == "1":
		mode = 1
	}
	if mode < 0 {
		return &UnsupportedOpError{Op: name, Node: n.Name()}
	}
	step.Kernel, step.Dims = "sum", []int{rows, cols, mode}
	v.step = step
	return nil
}

// describeSoftmax maps gorgonia's softmax ops (along the last axis) onto kernels; arity is
// the op's number of inputs.
func describeSoftmax(v *value, step *Step, name, kernel string, arity int) error {
	if len(v.ins) != arity || len(v.node.Shape()) != 2 {
		return &UnsupportedOpError{Op: name, Node: v.node.Name()}
	}
	axis, isLog, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(name, "SoftmaxDiff{"), "Softmax{"), "}()"), ", ")
	if !ok || (axis != "1" && axis != "-1") {
		return &UnsupportedOpError{Op: name, Node: v.node.Name()}
	}
	if isLog == "true" {
		kernel = "log" + kernel
	}
	if arity == 3 {
		v.ins = v.ins[1:] // y and dy
	}
	step.Kernel, step.Dims = kernel, []int{v.shape[0], v.shape[1]}
	v.step = step
	return nil
}

// allocate is pass two: it gives every value that is stored a buffer, reusing a scratch
// buffer once the last step that reads it has run, and fills in the steps' views. A fused
// group becomes one step where its last value was; its members live in registers unless
// something outside the group reads them.
func allocate(p *graph.Program, values map[*G.Node]*value, order []*value, groups []*group) (*Plan, error) {
	pl := &Plan{Batch: p.Batch}
	pinned := map[*value]bool{}
	pin := func(n *G.Node) { pinned[values[n].root()] = true }
	for _, n := range p.Outputs {
		pin(n)
	}
	if p.Loss != nil {
		pin(p.Loss)
		for _, g := range p.Grads {
			pin(g)
		}
	}
	readers := map[*value][]*value{}
	for _, v := range order {
		for _, in := range v.ins {
			readers[in] = append(readers[in], v)
		}
	}
	// A group that would store more than a fused step holds runs as plain steps.
	for _, g := range groups {
		if len(g.stored(pinned, readers)) > FusionMaxOutputs {
			g.dissolve()
		}
	}
	// reads is what the step emitted at v reads: a group's inputs at its last value, nothing
	// at its other values.
	reads := func(v *value) []*value {
		if g := v.group; g != nil {
			if g.last() == v {
				return g.inputs
			}
			return nil
		}
		return v.ins
	}
	// lastUse[r] is the index in order of the last step that reads storage r.
	lastUse := map[*value]int{}
	for i, v := range order {
		for _, in := range reads(v) {
			lastUse[in.root()] = i
		}
	}
	free := map[int][]int{} // buffer length → released scratch buffers
	newBuffer := func(b Buffer) int {
		pl.Buffers = append(pl.Buffers, b)
		return len(pl.Buffers) - 1
	}
	take := func(v *value) {
		if list := free[v.size]; len(list) > 0 && !pinned[v] {
			v.buf, free[v.size] = list[len(list)-1], list[:len(list)-1]
		} else {
			v.buf = newBuffer(Buffer{Len: v.size})
		}
	}
	view := func(v *value) View { return View{Buf: v.root().buf, Len: v.size} }
	for i, v := range order {
		switch g := v.group; {
		case g != nil && g.last() != v:
			continue // computed by the group's step
		case g != nil:
			stored := g.stored(pinned, readers)
			_, step := g.program(stored)
			if g.reduce != nil {
				stored = append(stored, g.reduce)
			}
			for _, m := range stored {
				take(m)
				step.Outs = append(step.Outs, view(m))
			}
			step.Out = step.Outs[0]
			for _, in := range g.inputs {
				step.In = append(step.In, view(in))
			}
			pl.Steps = append(pl.Steps, *step)
		case v.leaf != nil:
			v.buf = newBuffer(*v.leaf)
		case v.alias != nil:
			// shares its root's buffer
		default:
			take(v)
			v.step.Out = view(v)
			for _, in := range v.ins {
				v.step.In = append(v.step.In, view(in))
			}
			pl.Steps = append(pl.Steps, *v.step)
		}
		// Release the scratch storage this step read for the last time.
		for _, in := range reads(v) {
			r := in.root()
			if lastUse[r] == i && r.step != nil && !pinned[r] {
				free[r.size] = append(free[r.size], r.buf)
				lastUse[r] = -1
			}
		}
	}
	for _, n := range p.Inputs {
		pl.Inputs = append(pl.Inputs, view(values[n]))
	}
	for _, n := range p.Outputs {
		pl.Outputs = append(pl.Outputs, view(values[n]))
	}
	for _, n := range p.Nodes {
		pl.Params = append(pl.Params, view(values[n]))
	}
	if p.Loss != nil {
		l := view(values[p.Loss])
		pl.Loss = &l
		for _, g := range p.Grads {
			pl.Grads = append(pl.Grads, view(values[g]))
		}
	}
	for _, s := range pl.Steps {
		for _, d := range s.Dims {
			if d < 0 || d > math.MaxInt32 {
				return nil, fmt.Errorf("plan: step %s has size %d", s.Node, d)
			}
		}
	}
	return pl, nil
}
