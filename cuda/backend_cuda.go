//go:build aelabcuda

package cuda

// #include <cuda.h>
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"
	"gorgonia.org/cu/nvrtc"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
)

// Built reports whether this aelab was built with CUDA support.
const Built = true

// threads is the block size of every kernel launch (sum_cols and sum_all rely on it).
const threads = 256

// backend runs plans on one CUDA device. A goroutine locked to its OS thread owns the
// context and makes every CUDA call; the executor hands it whole runs (plan.Runner), so a
// training step costs one hand-over, not one per call.
type backend struct {
	name  string
	work  chan func()
	stop  chan struct{}
	err   error // of opening, set by the owner before the first hand-over
	owner owned
}

// owned is the state only the owner goroutine touches.
type owned struct {
	ctx    cu.CUContext
	blas   *cublas.Standard
	fns    map[string]cu.Function
	params map[*graph.Param]cu.DevicePtr
	adam   map[string]adamTable
	pinned unsafe.Pointer // page-locked host floats for reads that must not stall
	npin   int
	half   int // which half of pinned the next deferred read uses
}

// adamTable is the device-side list of one set of parameters for the fused Adam kernel.
type adamTable struct {
	w, g, m, v, sizes cu.DevicePtr
	count, largest    int
}

var (
	_ plan.Backend  = (*backend)(nil)
	_ plan.Runner   = (*backend)(nil)
	_ plan.Gatherer = (*backend)(nil)
)

// Open starts a backend on device ordinal: a context, the kernels compiled by NVRTC for
// the device's compute capability, and a cuBLAS handle.
func Open(ordinal int) (graph.Backend, error) {
	b := &backend{work: make(chan func()), stop: make(chan struct{})}
	ready := make(chan struct{})
	go b.loop(ordinal, ready)
	<-ready
	if b.err != nil {
		return nil, b.err
	}
	return plan.New(b), nil
}

// loop is the owner goroutine.
func (b *backend) loop(ordinal int, ready chan struct{}) {
	runtime.LockOSThread()
	b.err = b.start(ordinal)
	close(ready)
	if b.err != nil {
		return
	}
	for {
		select {
		case fn := <-b.work:
			fn()
		case <-b.stop:
			b.release()
			return
		}
	}
}

func (b *backend) start(ordinal int) error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: no CUDA driver answers: %w", err)
	}
	if ordinal < 0 || ordinal >= n {
		return fmt.Errorf("cuda: device %d does not exist (%d devices)", ordinal, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	name, _ := dev.Name()
	major, minor, err := dev.ComputeCapability()
	if err != nil {
		return fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	b.name = fmt.Sprintf("cuda:%d (%s)", ordinal, name)
	if b.owner.ctx, err = dev.MakeContext(cu.SchedAuto); err != nil {
		return fmt.Errorf("cuda: context on device %d: %w", ordinal, err)
	}
	if err := cu.SetCurrentContext(b.owner.ctx); err != nil {
		return fmt.Errorf("cuda: context on device %d: %w", ordinal, err)
	}
	ptx, err := compileKernels(major, minor)
	if err != nil {
		return err
	}
	mod, err := cu.LoadData(ptx)
	if err != nil {
		return fmt.Errorf("cuda: load kernels: %w", err)
	}
	b.owner.fns = map[string]cu.Function{}
	for _, k := range []string{"unary", "binary", "broadcast", "sum_rows", "sum_cols", "sum_all", "softmax", "softmax_grad", "copy", "adam", "gather_corrupt"} {
		if b.owner.fns[k], err = mod.Function(k); err != nil {
			return fmt.Errorf("cuda: kernel %s: %w", k, err)
		}
	}
	if b.owner.blas, err = newBLAS(); err != nil {
		return err
	}
	b.owner.params = map[*graph.Param]cu.DevicePtr{}
	b.owner.adam = map[string]adamTable{}
	b.owner.npin = 64
	var p unsafe.Pointer
	if r := C.cuMemAllocHost(&p, C.size_t(4*b.owner.npin)); r != C.CUDA_SUCCESS {
		return fmt.Errorf("cuda: page-locked memory: error %d", int(r))
	}
	b.owner.pinned = p
	return nil
}

// newBLAS makes the cuBLAS handle; cu/blas panics when cublasCreate fails, which becomes
// an error here.
func newBLAS() (h *cublas.Standard, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: cuBLAS: %v", r)
		}
	}()
	return cublas.New(), nil
}

// compileKernels turns kernels.cu into PTX for the device's compute capability (at least
// 7.5, the oldest nvcc 13 targets).
func compileKernels(major, minor int) (string, error) {
	prog, err := nvrtc.CreateProgram(kernelSource, "aelab_kernels.cu")
	if err != nil {
		return "", fmt.Errorf("cuda: NVRTC: %w", err)
	}
	defer prog.Destroy()
	arch := fmt.Sprintf("--gpu-architecture=compute_%d%d", major, minor)
	if major < 7 || (major == 7 && minor < 5) {
		return "", fmt.Errorf("cuda: compute capability %d.%d is older than 7.5", major, minor)
	}
	if err := prog.Compile(arch, "--std=c++14"); err != nil {
		log, _ := prog.GetLog()
		return "", fmt.Errorf("cuda: compile kernels: %w: %s", err, strings.TrimSpace(log))
	}
	return prog.GetPTX()
}

func (b *backend) release() {
	o := &b.owner
	for _, t := range o.adam {
		for _, p := range []cu.DevicePtr{t.w, t.g, t.m, t.v, t.sizes} {
			cu.MemFree(p)
		}
	}
	for _, p := range o.params {
		cu.MemFree(p)
	}
	if o.pinned != nil {
		C.cuMemFreeHost(o.pinned)
	}
	o.ctx.Destroy()
}

// Run implements plan.Runner: fn runs on the owner goroutine.
func (b *backend) Run(fn func() error) error {
	var err error
	done := make(chan struct{})
	b.work <- func() {
		defer close(done)
		err = fn()
	}
	<-done
	return err
}

// Name implements plan.Backend.
func (b *backend) Name() string { return b.name }

// Close implements plan.Backend.
func (b *backend) Close() error {
	close(b.stop)
	return nil
}

func ptr(s plan.Slice) cu.DevicePtr { return s.Mem.(cu.DevicePtr) + cu.DevicePtr(4*s.Off) }

// Alloc implements plan.Backend.
func (b *backend) Alloc(n int) (plan.Memory, error) {
	p, err := cu.MemAlloc(int64(4 * max(n, 1)))
	if err != nil {
		return nil, fmt.Errorf("cuda: allocate %d floats: %w", n, err)
	}
	if err := cu.MemsetD32(p, 0, int64(max(n, 1))); err != nil {
		return nil, fmt.Errorf("cuda: zero %d floats: %w", n, err)
	}
	return p, nil
}

// Free implements plan.Backend.
func (b *backend) Free(m plan.Memory) error { return cu.MemFree(m.(cu.DevicePtr)) }

// Param implements plan.Backend: one device buffer per parameter, for every plan.
func (b *backend) Param(p *graph.Param) (plan.Memory, bool, error) {
	if m, ok := b.owner.params[p]; ok {
		return m, false, nil
	}
	m, err := b.Alloc(len(p.Data))
	if err != nil {
		return nil, false, err
	}
	if err := b.Write(plan.Slice{Mem: m, Len: len(p.Data)}, p.Data); err != nil {
		return nil, false, err
	}
	b.owner.params[p] = m.(cu.DevicePtr)
	return m, true, nil
}

// Write implements plan.Backend.
func (b *backend) Write(dst plan.Slice, src []float32) error {
	if len(src) != dst.Len {
		return fmt.Errorf("cuda: write of %d values into %d", len(src), dst.Len)
	}
	if len(src) == 0 {
		return nil
	}
	return cu.MemcpyHtoD(ptr(dst), unsafe.Pointer(&src[0]), int64(4*len(src)))
}

// Read implements plan.Backend.
func (b *backend) Read(dst []float32, src plan.Slice) error {
	if len(dst) != src.Len {
		return fmt.Errorf("cuda: read of %d values into %d", src.Len, len(dst))
	}
	if len(dst) == 0 {
		return nil
	}
	return cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), ptr(src), int64(4*len(dst)))
}

// Sync implements plan.Backend.
func (b *backend) Sync() error { return cu.Synchronize() }

// deviceFloats views device memory as a []float32 for cu/blas, which passes &x[0] to
// cuBLAS; the slice is never read or written from Go.
func deviceFloats(p cu.DevicePtr, n int) []float32 {
	return unsafe.Slice((*float32)(*(*unsafe.Pointer)(unsafe.Pointer(&p))), max(n, 1))
}

// Gemm implements plan.Backend with cuBLAS. cuBLAS is column-major, and a row-major
// matrix is its transpose: C = op(A)·op(B) row-major is Cᵀ = op(B)ᵀ·op(A)ᵀ column-major.
func (b *backend) Gemm(transA, transB bool, m, n, k int, a, bm, c plan.Slice) error {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	tr := func(t bool) blas.Transpose {
		if t {
			return blas.Trans
		}
		return blas.NoTrans
	}
	b.owner.blas.Sgemm(tr(transB), tr(transA), n, m, k, 1,
		deviceFloats(ptr(bm), bm.Len), ldb, deviceFloats(ptr(a), a.Len), lda, 0, deviceFloats(ptr(c), c.Len), n)
	if err := b.owner.blas.Err(); err != nil {
		return fmt.Errorf("cuda: cuBLAS SGEMM %dx%dx%d: %w", m, n, k, err)
	}
	return nil
}

// args packs kernel arguments: each in an 8-byte slot, since cu's Launch copies 8 bytes
// from every argument pointer (the kernel reads the low bytes of its int and float slots).
type args struct{ slots []uint64 }

func (a *args) ptr(p cu.DevicePtr) { a.slots = append(a.slots, uint64(p)) }
func (a *args) int(v int)          { a.slots = append(a.slots, uint64(uint32(int32(v)))) }
func (a *args) float(v float32)    { a.slots = append(a.slots, uint64(math.Float32bits(v))) }
func (a *args) u64(v uint64)       { a.slots = append(a.slots, v) }

func (a *args) pointers() []unsafe.Pointer {
	ps := make([]unsafe.Pointer, len(a.slots))
	for i := range a.slots {
		ps[i] = unsafe.Pointer(&a.slots[i])
	}
	return ps
}

// launch runs kernel fn over units parallel units.
func (b *backend) launch(fn string, units, blocksY int, a *args) error {
	grid := min(max((units+threads-1)/threads, 1), 65535)
	switch fn {
	case "sum_cols":
		grid = min(max(units, 1), 65535) // a block per row
	case "sum_all":
		grid = 1
	}
	if err := b.owner.fns[fn].Launch(grid, blocksY, 1, threads, 1, 1, 0, cu.Stream{}, a.pointers()); err != nil {
		return fmt.Errorf("cuda: kernel %s: %w", fn, err)
	}
	return nil
}

// Launch implements plan.Backend.
func (b *backend) Launch(kernel string, dims []int, out plan.Slice, in []plan.Slice) error {
	l, err := dispatch(kernel, dims)
	if err != nil {
		return err
	}
	var a args
	a.ptr(ptr(out))
	for _, s := range in {
		a.ptr(ptr(s))
	}
	for _, v := range l.args {
		a.int(v)
	}
	return b.launch(l.fn, l.rows, 1, &a)
}

// Adam implements plan.Backend: one launch updates every parameter.
func (b *backend) Adam(s plan.AdamStep, ws, gs, ms, vs []plan.Slice) error {
	key := fmt.Sprint(ptr(ws[0]), ptr(gs[0]), len(ws))
	t, ok := b.owner.adam[key]
	if !ok {
		var err error
		if t, err = b.adamTable(ws, gs, ms, vs); err != nil {
			return err
		}
		b.owner.adam[key] = t
	}
	var a args
	for _, p := range []cu.DevicePtr{t.w, t.g, t.m, t.v, t.sizes} {
		a.ptr(p)
	}
	for _, v := range []float32{s.StepSize, s.Beta1, s.Beta2, s.Eps, s.InvSqrtC2} {
		a.float(v)
	}
	return b.launch("adam", min(t.largest, 1<<20), t.count, &a)
}

// adamTable copies the parameters' device pointers and sizes to the device.
func (b *backend) adamTable(ws, gs, ms, vs []plan.Slice) (adamTable, error) {
	t := adamTable{count: len(ws)}
	table := func(ss []plan.Slice) (cu.DevicePtr, error) {
		host := make([]uint64, len(ss))
		for i, s := range ss {
			host[i] = uint64(ptr(s))
		}
		p, err := cu.MemAlloc(int64(8 * len(host)))
		if err != nil {
			return 0, err
		}
		return p, cu.MemcpyHtoD(p, unsafe.Pointer(&host[0]), int64(8*len(host)))
	}
	var err error
	if t.w, err = table(ws); err != nil {
		return t, err
	}
	if t.g, err = table(gs); err != nil {
		return t, err
	}
	if t.m, err = table(ms); err != nil {
		return t, err
	}
	if t.v, err = table(vs); err != nil {
		return t, err
	}
	sizes := make([]int32, len(ws))
	for i, s := range ws {
		sizes[i] = int32(s.Len)
		t.largest = max(t.largest, s.Len)
	}
	if t.sizes, err = cu.MemAlloc(int64(4 * len(sizes))); err != nil {
		return t, err
	}
	return t, cu.MemcpyHtoD(t.sizes, unsafe.Pointer(&sizes[0]), int64(4*len(sizes)))
}

// AllocIndices implements plan.Gatherer.
func (b *backend) AllocIndices(n int) (plan.Memory, error) {
	p, err := cu.MemAlloc(int64(4 * max(n, 1)))
	if err != nil {
		return nil, fmt.Errorf("cuda: allocate %d indices: %w", n, err)
	}
	return p, nil
}

// WriteIndices implements plan.Gatherer.
func (b *backend) WriteIndices(dst plan.Memory, idx []int32) error {
	if len(idx) == 0 {
		return nil
	}
	return cu.MemcpyHtoD(dst.(cu.DevicePtr), unsafe.Pointer(&idx[0]), int64(4*len(idx)))
}

// Gather implements plan.Gatherer with the kernel gather_corrupt.
func (b *backend) Gather(noisy, clean plan.Slice, data, idx plan.Memory, batch, d int, noise datasets.Noise, seed uint64, step uint32) error {
	kind := 0
	if !noise.IsNone() {
		kind = map[datasets.NoiseKind]int{datasets.Gaussian: 1, datasets.Mask: 2, datasets.SaltPepper: 3}[noise.Kind]
	}
	var a args
	a.ptr(ptr(noisy))
	a.ptr(ptr(clean))
	a.ptr(data.(cu.DevicePtr))
	a.ptr(idx.(cu.DevicePtr))
	a.int(batch)
	a.int(d)
	a.int(kind)
	a.float(float32(noise.Level))
	a.u64(seed)
	a.int(int(step))
	return b.launch("gather_corrupt", batch*d, 1, &a)
}

// ReadLater implements plan.Gatherer: the copy goes into page-locked memory behind the
// queued work, and wait blocks only on that copy.
func (b *backend) ReadLater(dst []float32, src plan.Slice) (func() error, error) {
	if len(dst) != src.Len || len(dst) > b.owner.npin/2 {
		return nil, fmt.Errorf("cuda: deferred read of %d values", len(dst))
	}
	// Alternate halves of the page-locked buffer, so a read is not overwritten by the next.
	half := unsafe.Add(b.owner.pinned, 4*(b.owner.npin/2)*b.owner.half)
	b.owner.half = 1 - b.owner.half
	if err := cu.MemcpyDtoHAsync(half, ptr(src), int64(4*len(dst)), cu.Stream{}); err != nil {
		return nil, fmt.Errorf("cuda: deferred read: %w", err)
	}
	ev, err := cu.MakeEvent(cu.DisableTiming)
	if err != nil {
		return nil, fmt.Errorf("cuda: event: %w", err)
	}
	if err := ev.Record(cu.Stream{}); err != nil {
		return nil, fmt.Errorf("cuda: event: %w", err)
	}
	return func() error {
		defer cu.DestroyEvent(&ev)
		if err := ev.Synchronize(); err != nil {
			return fmt.Errorf("cuda: deferred read: %w", err)
		}
		copy(dst, unsafe.Slice((*float32)(half), len(dst)))
		return nil
	}, nil
}

// Devices lists the CUDA devices that answer.
func Devices() ([]Device, error) {
	var out []Device
	err := onThread(func() error {
		n, err := cu.NumDevices()
		if err != nil {
			return fmt.Errorf("cuda: no CUDA driver answers: %w", err)
		}
		for i := range n {
			dev, err := cu.GetDevice(i)
			if err != nil {
				return err
			}
			name, _ := dev.Name()
			major, minor, _ := dev.ComputeCapability()
			mem, _ := dev.TotalMem()
			out = append(out, Device{Ordinal: i, Name: name, Memory: mem, Compute: fmt.Sprintf("%d.%d", major, minor)})
		}
		return nil
	})
	return out, err
}

// onThread runs fn on a goroutine locked to its OS thread.
func onThread(fn func() error) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- fn()
	}()
	return <-done
}
