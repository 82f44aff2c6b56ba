package plan

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/sgemm"
	"github.com/aelab/aelab/graph/vec"
)

// CPU is the pure-Go backend: buffers are Go slices, parameters are their Param.Data
// itself (so every plan and the host share them), GEMM goes to the build's BLAS and the
// kernels are plain loops, split across the cores for large tensors.
type CPU struct {
	workers  int
	mul      sgemm.Multiplier // packing buffers of the pure-Go GEMM
	unaries  map[string]func(o, a []float32)
	binaries map[string]*binaryLoops
}

var _ Backend = (*CPU)(nil)

// NewCPU returns the CPU backend using up to GOMAXPROCS goroutines per kernel.
func NewCPU() *CPU {
	c := &CPU{workers: runtime.GOMAXPROCS(0), unaries: map[string]func(o, a []float32){}, binaries: map[string]*binaryLoops{}}
	for _, k := range unaryKernels() {
		c.unaries[k] = unary(k)
	}
	for _, k := range binaryKernels() {
		c.binaries[k] = binary(k)
	}
	return c
}

// Name implements Backend.
func (c *CPU) Name() string { return "cpu" }

// Alloc implements Backend.
func (c *CPU) Alloc(n int) (Memory, error) { return make([]float32, n), nil }

// Free implements Backend: the garbage collector takes the slice.
func (c *CPU) Free(Memory) error { return nil }

// Param implements Backend: the parameter's own slice.
func (c *CPU) Param(p *graph.Param) (Memory, bool, error) { return p.Data, true, nil }

func (c *CPU) slice(s Slice) []float32 { return s.Mem.([]float32)[s.Off : s.Off+s.Len] }

// Write implements Backend.
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

// Read implements Backend.
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

// Sync implements Backend: CPU work is done when its call returns.
func (c *CPU) Sync() error { return nil }

// Close implements Backend.
func (c *CPU) Close() error { return nil }

// Gemm implements Backend.
func (c *CPU) Gemm(transA, transB bool, m, n, k int, a, b, out Slice) error {
	c.gemm(transA, transB, m, n, k, c.slice(a), c.slice(b), c.slice(out))
	return nil
}

// parallelMin is the number of values below which a kernel runs on one goroutine.
const parallelMin = 1 << 15

// parallel calls fn over [0, n) in contiguous chunks, one per worker when n is large.
func (c *CPU) parallel(n int, fn func(lo, hi int)) {
	workers := min(c.workers, n/parallelMin)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// Launch implements Backend.
func (c *CPU) Launch(kernel string, dims []int, out Slice, in []Slice) error {
	o := c.slice(out)
	switch kernel {
	case "broadcast":
		broadcast(o, c.slice(in[0]), dims[0], dims[1], dims[2], dims[3])
	case "sum":
		sum(o, c.slice(in[0]), dims[0], dims[1], dims[2])
	case "softmax", "logsoftmax":
		softmax(o, c.slice(in[0]), dims[0], dims[1], kernel == "logsoftmax")
	case "softmaxgrad", "logsoftmaxgrad":
		softmaxGrad(o, c.slice(in[0]), c.slice(in[1]), dims[0], dims[1], kernel == "logsoftmaxgrad")
	case "copy":
		copy(o, c.slice(in[0]))
	case "sigmoidgrad":
		a := c.slice(in[0])
		c.parallel(len(o), func(lo, hi int) { sigmoidGrad(o[lo:hi], a[lo:hi]) })
	default:
		if f := c.unaries[kernel]; f != nil {
			a := c.slice(in[0])
			c.parallel(len(o), func(lo, hi int) { f(o[lo:hi], a[lo:hi]) })
			return nil
		}
		if f := c.binaries[kernel]; f != nil {
			return c.binary(f, dims, o, c.slice(in[0]), c.slice(in[1]))
		}
		return fmt.Errorf("plan: the cpu backend has no kernel %q", kernel)
	}
	return nil
}

// Adam implements Backend.
func (c *CPU) Adam(s AdamStep, ws, gs, ms, vs []Slice) error {
	step := vec.AdamStep(s)
	for i := range ws {
		w, g, m, v := c.slice(ws[i]), c.slice(gs[i]), c.slice(ms[i]), c.slice(vs[i])
		c.parallel(len(w), func(lo, hi int) { vec.Adam(step, w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]) })
	}
	return nil
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
