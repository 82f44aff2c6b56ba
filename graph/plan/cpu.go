package plan

import (
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/sgemm"
	"github.com/aelab/aelab/graph/team"
	"github.com/aelab/aelab/graph/vec"
)

// CPU is the pure-Go backend: buffers are Go slices, parameters are their Param.Data
// itself (so every plan and the host share them), GEMM goes to the build's BLAS and the
// kernels are graph/vec's loops (AVX2 where the processor has it, with the plain loops'
// bits) or plain loops, split across the cores for large tensors. Plans of one CPU may
// run on several goroutines at once (experiment --parallel): a prepared step writes only
// its plan's buffers and its own scratch.
type CPU struct {
	workers    int
	team       *team.Team   // runs the parallel parts of kernels and matrix products
	gemmKernel sgemm.Kernel // the SGEMM kernel; sgemm.Auto, the fastest, unless a test forces one
	unaries    map[string]func(o, a []float32)
	binaries   map[string]*binaryLoops
}

var _ Device = (*CPU)(nil)

// NewCPU returns the CPU backend using up to GOMAXPROCS goroutines per kernel and the
// fastest SGEMM kernel this processor runs.
func NewCPU() *CPU { return NewCPUWithKernel(sgemm.Auto) }

// NewCPUWithKernel is NewCPU with the matrix products forced onto one SGEMM kernel, for the
// tests that check the plan with each; a kernel this processor lacks means sgemm.Best(), and
// with the openblas tag OpenBLAS does every product whatever k is. The assembly kernels all
// give the same bits, so aelab itself has no reason to choose.
func NewCPUWithKernel(k sgemm.Kernel) *CPU {
	workers := runtime.GOMAXPROCS(0)
	c := &CPU{workers: workers, team: team.NewSpinning(workers, teamSpin), gemmKernel: k, unaries: map[string]func(o, a []float32){}, binaries: map[string]*binaryLoops{}}
	for _, k := range unaryKernels() {
		c.unaries[k] = unary(k)
	}
	for _, k := range binaryKernels() {
		c.binaries[k] = binary(k)
	}
	return c
}

// Name implements Device.
func (c *CPU) Name() string { return "cpu" }

// Alloc implements Device.
func (c *CPU) Alloc(n int) (Memory, error) { return make([]float32, n), nil }

// Free implements Device: the garbage collector takes the slice.
func (c *CPU) Free(Memory) error { return nil }

// Param implements Device: the parameter's own slice.
func (c *CPU) Param(p *graph.Param) (Memory, bool, error) { return p.Data, true, nil }

// ReleaseParam implements Device: the slice is the parameter's.
func (c *CPU) ReleaseParam(*graph.Param) error { return nil }

func (c *CPU) slice(s Slice) []float32 { return s.Mem.([]float32)[s.Off : s.Off+s.Len] }

// Adopt implements HostMemory: the values are the buffer.
func (c *CPU) Adopt(values []float32) Memory { return values }

// Write implements Device.
func (c *CPU) Write(dst Slice, src []float32) error {
	d := c.slice(dst)
	if len(src) != len(d) {
		return fmt.Errorf("plan: write of %d values into %d", len(src), len(d))
	}
	if len(d) > 0 && &d[0] == &src[0] {
		return nil
	}
	copy(d, src)
	return nil
}

// Read implements Device.
func (c *CPU) Read(dst []float32, src Slice) error {
	s := c.slice(src)
	if len(dst) != len(s) {
		return fmt.Errorf("plan: read of %d values into %d", len(s), len(dst))
	}
	if len(s) > 0 && &s[0] == &dst[0] {
		return nil
	}
	copy(dst, s)
	return nil
}

// AllocIndices implements Device.
func (c *CPU) AllocIndices(n int) (Memory, error) { return make([]int32, n), nil }

// WriteIndices implements Device.
func (c *CPU) WriteIndices(dst Memory, idx []int32) error {
	d, ok := dst.([]int32)
	if !ok || len(d) < len(idx) {
		return fmt.Errorf("plan: index buffer of %d for %d indices", len(d), len(idx))
	}
	copy(d, idx)
	return nil
}

// NewCounters implements Device.
func (c *CPU) NewCounters() (Memory, error) { return new(Counters), nil }

// SetCounters implements Device.
func (c *CPU) SetCounters(m Memory, v Counters) error {
	*m.(*Counters) = v
	return nil
}

// ReadCounters implements Device.
func (c *CPU) ReadCounters(m Memory) (Counters, error) { return *m.(*Counters), nil }

// Sync implements Device: CPU work is done when its call returns.
func (c *CPU) Sync() error { return nil }

// Close implements Device.
func (c *CPU) Close() error {
	c.team.Close()
	return nil
}

// parallelMin is the number of values below which a kernel runs on one goroutine: 4096
// where the team's helpers spin between kernels (handing them a part costs about a
// microsecond), 32768 where they sleep (waking one costs tens).
func parallelMin() int {
	if teamSpin > 0 {
		return 1 << 12
	}
	return 1 << 15
}

// parallel calls fn over [0, n) in contiguous chunks, one per worker when n is large.
func (c *CPU) parallel(n int, fn func(lo, hi int)) {
	workers := c.workersFor(n)
	if workers == 1 {
		fn(0, n) // the common case, without the wrapper's allocation
		return
	}
	c.parallelChunks(n, 1, workers, func(_, lo, hi int) { fn(lo, hi) })
}

// workersFor is how many goroutines a kernel over n values uses.
func (c *CPU) workersFor(n int) int { return max(1, min(c.workers, n/parallelMin())) }

// parallelChunks calls fn(w, lo, hi) for at most workers contiguous chunks of [0, n), each a
// multiple of unit values long (but the last), at once; with one worker, directly.
func (c *CPU) parallelChunks(n, unit, workers int, fn func(w, lo, hi int)) {
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	units := (n + unit - 1) / unit
	per := (units + workers - 1) / workers * unit
	c.team.Run((n+per-1)/per, func(w int) {
		lo := w * per
		fn(w, lo, min(lo+per, n))
	})
}

// Prepare implements Device: each op becomes a closure over its slices, resolved once. A
// fused step that works on a matrix product's result value by value (afterGemm) runs inside
// the product, on each block of the result once it is final, while the block is in the
// cache.
func (c *CPU) Prepare(ops []Op) (Sequence, error) {
	seq := &cpuSequence{steps: make([]func() error, 0, len(ops))}
	for i := 0; i < len(ops); i++ {
		if g, ok := ops[i].(KernelOp); ok && i+1 < len(ops) {
			if f, ok := ops[i+1].(KernelOp); ok && c.afterGemm(g, f) {
				fn, err := c.gemmThenFused(g, f)
				if err != nil {
					return nil, err
				}
				seq.steps = append(seq.steps, fn)
				seq.names = append(seq.names, Describe(g)+" + "+Describe(f))
				i++
				continue
			}
		}
		fn, err := c.prepare(ops[i])
		if err != nil {
			return nil, err
		}
		seq.steps = append(seq.steps, fn)
		seq.names = append(seq.names, Describe(ops[i]))
	}
	return seq, nil
}

// afterGemm reports whether fused step f can run on the blocks of matrix product g's
// result as they are finished: f has the result's shape and reads the result only value by
// value (where each block is final), and neither writes what g reads or writes nor reads
// anything else g writes.
func (c *CPU) afterGemm(g, f KernelOp) bool {
	if !gemmSplitsThen || g.Kernel != "gemm" || f.Kernel != "fused" || f.Fusion == nil || f.Fusion.Rows != g.Dims[0] || f.Fusion.Cols != g.Dims[1] {
		return false
	}
	reads := false
	for i, in := range f.In {
		switch {
		case c.same(in, g.Out):
			reads = true
			for _, ins := range f.Fusion.Code {
				for _, o := range []Operand{ins.A, ins.B} {
					if o.Reg < 0 && o.In == i && o.Mode != modeFull {
						return false
					}
				}
			}
		case c.overlap(in, g.Out):
			return false
		}
	}
	for _, out := range f.Outs {
		for _, s := range append([]Slice{g.Out}, g.In...) {
			if c.overlap(out, s) {
				return false
			}
		}
	}
	return reads
}

// same reports whether a and b are the same values.
func (c *CPU) same(a, b Slice) bool {
	x, y := c.slice(a), c.slice(b)
	return len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
}

// overlap reports whether a and b share a value: they are views of one buffer (each
// buffer is a slice of its own) whose ranges meet.
func (c *CPU) overlap(a, b Slice) bool {
	x, y := a.Mem.([]float32), b.Mem.([]float32)
	if a.Len == 0 || b.Len == 0 || len(x) == 0 || len(y) == 0 || &x[0] != &y[0] {
		return false
	}
	return a.Off < b.Off+b.Len && b.Off < a.Off+a.Len
}

// gemmThenFused returns the closure of matrix product g with fused step f run on each block
// of its result as it is finished (see afterGemm).
func (c *CPU) gemmThenFused(g, f KernelOp) (func() error, error) {
	fs, err := c.newFused(f, true)
	if err != nil {
		return nil, err
	}
	product := c.product(g)
	return func() error {
		fs.refresh()
		// The product's parts are below GOMAXPROCS (sgemm.Then), which may have grown since.
		fs.ensureWorkers(runtime.GOMAXPROCS(0))
		product(fs.block)
		fs.sum()
		return nil
	}, nil
}

// product resolves matrix product g: the function computes it, calling then (when not nil)
// on each block of the result once it is final.
func (c *CPU) product(g KernelOp) func(then sgemm.Then) {
	m, n, k, tA, tB := g.Dims[0], g.Dims[1], g.Dims[2], g.Dims[3] == 1, g.Dims[4] == 1
	a, b, o := c.slice(g.In[0]), c.slice(g.In[1]), c.slice(g.Out)
	mul := &sgemm.Multiplier{Kernel: c.gemmKernel, Team: c.team}
	return func(then sgemm.Then) { gemm(mul, tA, tB, m, n, k, a, b, o, then) }
}

// cpuSequence runs its closures in order.
type cpuSequence struct {
	steps []func() error
	names []string // Describe of each
}

func (s *cpuSequence) Run(n int) error {
	for range n {
		for _, fn := range s.steps {
			if err := fn(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Profile implements Profiler.
func (s *cpuSequence) Profile(times int) ([]OpTime, error) {
	if times <= 0 {
		return nil, fmt.Errorf("plan: Profile %d times", times)
	}
	out := make([]OpTime, len(s.steps))
	for i, fn := range s.steps {
		start := time.Now()
		for range times {
			if err := fn(); err != nil {
				return nil, err
			}
		}
		out[i] = OpTime{Op: s.names[i], Time: time.Since(start) / time.Duration(times)}
	}
	return out, nil
}

func (*cpuSequence) Close() error { return nil }

// gatherPrefetchRows is how many rows ahead of the one it converts a gather asks for the
// image it will reach: enough to overlap a few rows' loads from memory, few enough that
// they arrive before the cache they land in is needed for something else.
const gatherPrefetchRows = 4

func (c *CPU) prepare(op Op) (func() error, error) {
	switch op := op.(type) {
	case KernelOp:
		return c.kernel(op)
	case GatherOp:
		data, order, ctr := op.Data.([]float32), op.Order.([]int32), op.Counters.(*Counters)
		noisy, clean := c.slice(op.Noisy), c.slice(op.Clean)
		// The batch's rows are scattered over the training set, so the copies wait on memory
		// more than they move bytes: they are split across the workers, and a batch without
		// noise is written to both buffers from the one read. Each worker corrupts its own
		// rows (the noise of a value depends on its place in the batch alone).
		none := op.Noise.IsNone()
		same := len(noisy) > 0 && &noisy[0] == &clean[0] // the executor's plan without noise reads one buffer
		// Images that are bytes over 255 (MNIST's pixels) are read as those bytes: a quarter
		// of the memory a batch's scattered rows cost, converted back to the same floats.
		pixels := pixelBytes(data)
		image := func(dst []float32, i int) {
			if pixels != nil {
				vec.Pixels(dst, pixels[i*op.D:(i+1)*op.D])
				return
			}
			copy(dst, data[i*op.D:(i+1)*op.D])
		}
		return func() error {
			first := int(ctr.Batch) * op.B
			if first+op.B > len(order) {
				return fmt.Errorf("plan: batch %d runs past the epoch's %d images", ctr.Batch, len(order))
			}
			batch := order[first : first+op.B]
			c.parallelChunks(len(batch), 1, c.workersFor(len(batch)*op.D), func(_, lo, hi int) {
				prefetch := func(k int) { // row k's image, on its way while earlier rows convert
					if pixels != nil && k < hi {
						i := int(batch[k])
						vec.Prefetch(pixels[i*op.D : (i+1)*op.D])
					}
				}
				for k := lo; k < lo+gatherPrefetchRows; k++ {
					prefetch(k)
				}
				for k := lo; k < hi; k++ {
					prefetch(k + gatherPrefetchRows)
					row := clean[k*op.D : (k+1)*op.D]
					image(row, int(batch[k]))
					if none && !same {
						copy(noisy[k*op.D:(k+1)*op.D], row)
					}
				}
				if !none {
					op.Noise.ApplyImagesFrom(noisy[lo*op.D:hi*op.D], clean[lo*op.D:hi*op.D], op.D, op.Seed, ctr.Noise, lo*op.D)
				}
			})
			return nil
		}, nil
	case AdamOp:
		if !(op.DecayRate >= 0 && op.DecayRate < 1) {
			return nil, fmt.Errorf("plan: Adam's weight decay rate %g is not in [0, 1)", op.DecayRate)
		}
		ctr := op.Counters.(*Counters)
		ws, gs, ms, vs := c.slices(op.Params), c.slices(op.Grads), c.slices(op.M), c.slices(op.V)
		if op.SGD {
			return func() error {
				step := ctr.Adam.StepSize * ctr.Adam.Scale
				for i, w := range ws {
					g, m := gs[i], ms[i]
					c.parallel(len(w), func(lo, hi int) { vec.SGD(step, op.Momentum, op.L2, w[lo:hi], g[lo:hi], m[lo:hi]) })
				}
				return nil
			}, nil
		}
		return func() error {
			a := ctr.Adam
			step := vec.AdamStep{StepSize: a.StepSize * a.Scale, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, InvSqrtC2: a.InvSqrtC2}
			decay := graph.DecayFactor(op.DecayRate, a.Scale)
			for i, w := range ws {
				g, m, v := gs[i], ms[i], vs[i]
				c.parallel(len(w), func(lo, hi int) {
					if op.DecayRate != 0 {
						for j := range w[lo:hi] {
							w[lo+j] *= decay
						}
					}
					vec.Adam(step, w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi])
				})
			}
			return nil
		}, nil
	case AdvanceOp:
		ctr := op.Counters.(*Counters)
		var loss, losses []float32
		if op.Losses.Mem != nil {
			loss, losses = c.slice(op.Loss), c.slice(op.Losses)
		}
		return func() error {
			if losses != nil {
				if int(ctr.Batch) >= len(losses) {
					return fmt.Errorf("plan: loss of batch %d past the %d kept", ctr.Batch, len(losses))
				}
				losses[ctr.Batch] = loss[0]
			}
			*ctr = ctr.Advance(op.Adam)
			return nil
		}, nil
	}
	return nil, fmt.Errorf("plan: the cpu backend has no operation %T", op)
}

// pixelBytes returns data as bytes when every value is one, b/255 bit for bit as an IDX
// file's byte b becomes (not −0, say), and the conversion back runs a vector loop;
// otherwise nil. Data of other values costs one pass and no allocation.
func pixelBytes(data []float32) []byte {
	if !vec.FastPixels() {
		return nil
	}
	pixel := func(v float32) (byte, bool) {
		if !(v >= 0 && v <= 1) {
			return 0, false
		}
		b := byte(v*255 + 0.5)
		return b, math.Float32bits(float32(b)/255) == math.Float32bits(v)
	}
	for _, v := range data {
		if _, ok := pixel(v); !ok {
			return nil
		}
	}
	out := make([]byte, len(data))
	for i, v := range data {
		out[i], _ = pixel(v)
	}
	return out
}

func (c *CPU) slices(ss []Slice) [][]float32 {
	out := make([][]float32, len(ss))
	for i, s := range ss {
		out[i] = c.slice(s)
	}
	return out
}

// kernel resolves a plan step to a closure.
func (c *CPU) kernel(op KernelOp) (func() error, error) {
	dims, o := op.Dims, c.slice(op.Out)
	in := c.slices(op.In)
	switch op.Kernel {
	case "fused":
		return c.fused(op)
	case "gemm":
		product := c.product(op)
		return func() error { product(nil); return nil }, nil
	case "broadcast":
		return func() error { broadcast(o, in[0], dims[0], dims[1], dims[2], dims[3]); return nil }, nil
	case "sum":
		rowSums := make([]float32, dims[0])
		return func() error { c.sum(o, in[0], rowSums, dims[0], dims[1], dims[2]); return nil }, nil
	case "softmax", "logsoftmax":
		log := op.Kernel == "logsoftmax"
		return func() error { softmax(o, in[0], dims[0], dims[1], log); return nil }, nil
	case "softmaxgrad", "logsoftmaxgrad":
		log := op.Kernel == "logsoftmaxgrad"
		return func() error { softmaxGrad(o, in[0], in[1], dims[0], dims[1], log); return nil }, nil
	case "copy":
		return func() error { copy(o, in[0]); return nil }, nil
	case "sigmoidgrad":
		a := in[0]
		return func() error { c.parallel(len(o), func(lo, hi int) { sigmoidGrad(o[lo:hi], a[lo:hi]) }); return nil }, nil
	}
	if f := c.unaries[op.Kernel]; f != nil {
		a := in[0]
		return func() error { c.parallel(len(o), func(lo, hi int) { f(o[lo:hi], a[lo:hi]) }); return nil }, nil
	}
	if f := c.binaries[op.Kernel]; f != nil {
		a, b := in[0], in[1]
		return func() error { return c.binary(f, dims, o, a, b) }, nil
	}
	return nil, fmt.Errorf("plan: the cpu backend has no kernel %q (node %s)", op.Kernel, op.Node)
}

// binary runs a binary kernel over operands in the modes of dims (see Step).
func (c *CPU) binary(f *binaryLoops, dims []int, o, a, b []float32) error {
	modeA, modeB, rows, cols := dims[1], dims[2], dims[3], dims[4]
	switch {
	case modeA == modeFull && modeB == modeFull:
		c.parallel(len(o), func(lo, hi int) { f.vv(o[lo:hi], a[lo:hi], b[lo:hi]) })
	case modeA == modeFull && modeB == modeScalar:
		c.parallel(len(o), func(lo, hi int) { f.vs(o[lo:hi], a[lo:hi], b[0]) })
	case modeA == modeScalar && modeB == modeFull:
		c.parallel(len(o), func(lo, hi int) { f.sv(o[lo:hi], a[0], b[lo:hi]) })
	case modeA == modeScalar && modeB == modeScalar:
		f.ss(o, a[0], b[0])
	default:
		// A row or column operand: work row by row.
		c.parallel(len(o), func(lo, hi int) {
			for r := lo / cols; r < (hi+cols-1)/cols && r < rows; r++ {
				s, e := max(r*cols, lo), min((r+1)*cols, hi)
				c0, c1 := s-r*cols, e-r*cols
				oa, ob := operand(a, modeA, r, c0, c1, s, e), operand(b, modeB, r, c0, c1, s, e)
				switch {
				case ob == nil && oa == nil:
					f.ss(o[s:e], pick(a, modeA, r), pick(b, modeB, r))
				case ob == nil:
					f.vs(o[s:e], oa, pick(b, modeB, r))
				case oa == nil:
					f.sv(o[s:e], pick(a, modeA, r), ob)
				default:
					f.vv(o[s:e], oa, ob)
				}
			}
		})
	}
	return nil
}

// operand returns the slice an operand contributes to row r, columns [c0, c1) (values
// [s, e) of the result), or nil when it contributes one value (see pick).
func operand(x []float32, mode, r, c0, c1, s, e int) []float32 {
	switch mode {
	case modeFull:
		return x[s:e]
	case modeRow:
		return x[c0:c1]
	}
	return nil
}

// pick returns the single value a scalar or column operand contributes to row r.
func pick(x []float32, mode, r int) float32 {
	if mode == modeCol {
		return x[r]
	}
	return x[0]
}
