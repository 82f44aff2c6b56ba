//go:build aelabcuda

package cuda

/*
#cgo LDFLAGS: -lcublasLt -lcublas -lcuda -lnvrtc
#include <stdlib.h>
#include <nvrtc.h>
#include "ops.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"gorgonia.org/cu"
	"gorgonia.org/cu/nvrtc"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
)

// Built reports whether this aelab was built with CUDA support.
const Built = true

// gather_corrupt's codes of the noise kinds.
const (
	noiseNone = iota
	noiseGaussian
	noiseMask
	noiseSaltPepper
)

// workspaceBytes is the SGEMMs' workspace, allocated once so that no SGEMM allocates memory
// while a step is being captured (32 MiB is what NVIDIA advises for Hopper). cuBLAS and
// cuBLASLt share it: every SGEMM runs on the backend's one stream, one after another.
const workspaceBytes = 32 << 20

// ltCandidates is how many of cuBLASLt's heuristic algorithms are asked for a product:
// GEMMLt takes the first of them, GEMMTuned times them all.
const ltCandidates = 8

// GEMMTuned times each candidate tuneRounds times, each time tuneRuns products captured into
// one graph and launched once (aelab_time, as Profile times), and keeps each one's fastest.
const tuneRounds, tuneRuns = 3, 10

// backend runs plans on one CUDA device. A goroutine locked to its OS thread owns the
// context and makes every CUDA call; the executor hands it whole runs (plan.Runner). All
// work goes to one stream of the backend's own, in order, so nothing waits for the host
// unless the host reads.
type backend struct {
	name      string
	replay    bool
	tf32      bool
	gemm      GEMM
	fold      bool // Adam and the counters' advance in one launch (not with the plan's NoFusion)
	work      chan func()
	stop      chan struct{}
	stopped   chan struct{} // closed when the owner has released everything
	closeOnce sync.Once
	err       error // of opening, set by the owner before the first hand-over
	owner     owned
}

// owned is the state only the owner goroutine touches.
type owned struct {
	ctx       cu.CUContext
	stream    C.CUstream
	blas      C.cublasHandle_t
	lt        C.cublasLtHandle_t
	workspace cu.DevicePtr
	fns       map[string]C.CUfunction
	params    map[*graph.Param]*paramBuffer
	seqs      map[*sequence]bool
	generated map[string]cu.Module     // fused kernels by their source
	tuned     map[gemmShape]gemmChoice // GEMMTuned's choices, by product
	major     int                      // the device's compute capability
	minor     int
}

// paramBuffer is a parameter's device buffer and how many plans hold it.
type paramBuffer struct {
	mem   cu.DevicePtr
	holds int
}

var (
	_ plan.Device = (*backend)(nil)
	_ plan.Runner = (*backend)(nil)
)

// Open starts a backend on device ordinal: a context, the kernels compiled by NVRTC for the
// device's compute capability, a stream, a cuBLAS handle on it and a cuBLASLt handle.
// Training steps are captured into CUDA graphs and replayed.
func Open(ordinal int) (graph.Backend, error) { return OpenWith(ordinal, Options{}) }

// OpenWith is Open with options.
func OpenWith(ordinal int, opt Options) (graph.Backend, error) {
	if opt.GEMM > GEMMTuned {
		return nil, fmt.Errorf("cuda: unknown GEMM path %v", opt.GEMM)
	}
	b := &backend{replay: !opt.NoReplay, tf32: opt.TF32, gemm: opt.GEMM, fold: !opt.Plan.NoFusion,
		work: make(chan func()), stop: make(chan struct{}), stopped: make(chan struct{})}
	ready := make(chan struct{})
	go b.loop(ordinal, ready)
	<-ready
	if b.err != nil {
		return nil, b.err
	}
	return plan.NewWith(b, opt.Plan), nil
}

// loop is the owner goroutine.
func (b *backend) loop(ordinal int, ready chan struct{}) {
	runtime.LockOSThread()
	defer close(b.stopped)
	b.err = b.start(ordinal)
	close(ready)
	if b.err != nil {
		b.release()
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

// cuErr turns a driver result into an error that names it.
func cuErr(r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	var name *C.char
	if C.cuGetErrorName(r, &name) == C.CUDA_SUCCESS && name != nil {
		return fmt.Errorf("%s (%d)", C.GoString(name), int(r))
	}
	return fmt.Errorf("CUDA error %d", int(r))
}

// initDriver initialises the driver (see compat/cuda.h: cu's own cuInit does nothing).
func initDriver() error {
	if err := cuErr(C.aelab_cuInit(0)); err != nil {
		return fmt.Errorf("cuda: no CUDA driver answers: %w", err)
	}
	return nil
}

func (b *backend) start(ordinal int) error {
	if err := initDriver(); err != nil {
		return err
	}
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
	notes := []string{name}
	if b.tf32 {
		notes = append(notes, "TF32 products")
	}
	if b.gemm != GEMMCublas {
		notes = append(notes, "GEMM "+b.gemm.String())
	}
	b.name = fmt.Sprintf("cuda:%d (%s)", ordinal, strings.Join(notes, ", "))
	o := &b.owner
	o.params, o.seqs, o.fns = map[*graph.Param]*paramBuffer{}, map[*sequence]bool{}, map[string]C.CUfunction{}
	o.tuned = map[gemmShape]gemmChoice{}
	o.generated, o.major, o.minor = map[string]cu.Module{}, major, minor
	if o.ctx, err = dev.MakeContext(cu.SchedAuto); err != nil {
		return fmt.Errorf("cuda: context on device %d: %w", ordinal, err)
	}
	if err := cu.SetCurrentContext(o.ctx); err != nil {
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
	for _, k := range kernelNames() {
		f, err := mod.Function(k)
		if err != nil {
			return fmt.Errorf("cuda: kernel %s: %w", k, err)
		}
		o.fns[k] = *(*C.CUfunction)(unsafe.Pointer(&f))
	}
	if err := cuErr(C.cuStreamCreate(&o.stream, C.CU_STREAM_NON_BLOCKING)); err != nil {
		return fmt.Errorf("cuda: stream: %w", err)
	}
	if s := C.cublasCreate(&o.blas); s != C.CUBLAS_STATUS_SUCCESS {
		o.blas = nil
		return fmt.Errorf("cuda: cuBLAS handle: %s", blasStatus(s))
	}
	if b.gemm != GEMMCublas { // only the paths that use it: the default does not depend on cuBLASLt starting
		if s := C.cublasLtCreate(&o.lt); s != C.CUBLAS_STATUS_SUCCESS {
			o.lt = nil
			return fmt.Errorf("cuda: cuBLASLt handle: %s", blasStatus(s))
		}
	}
	if o.workspace, err = cu.MemAlloc(workspaceBytes); err != nil {
		return fmt.Errorf("cuda: cuBLAS workspace: %w", err)
	}
	if s := C.cublasSetStream(o.blas, o.stream); s != C.CUBLAS_STATUS_SUCCESS {
		return fmt.Errorf("cuda: cuBLAS stream: %s", blasStatus(s))
	}
	if s := C.cublasSetWorkspace(o.blas, devicePointer(C.CUdeviceptr(o.workspace)), workspaceBytes); s != C.CUBLAS_STATUS_SUCCESS {
		return fmt.Errorf("cuda: cuBLAS workspace: %s", blasStatus(s))
	}
	if b.tf32 {
		if s := C.cublasSetMathMode(o.blas, C.CUBLAS_TF32_TENSOR_OP_MATH); s != C.CUBLAS_STATUS_SUCCESS {
			return fmt.Errorf("cuda: cuBLAS TF32 math: %s", blasStatus(s))
		}
	}
	return nil
}

// blasStatus names a cuBLAS or cuBLASLt status.
func blasStatus(s C.cublasStatus_t) string {
	if name := C.cublasGetStatusName(s); name != nil {
		return fmt.Sprintf("%s (%d)", C.GoString(name), int(s))
	}
	return fmt.Sprintf("status %d", int(s))
}

// blas is what the SGEMMs of ops.h run with: both handles and the workspace.
func (b *backend) blas() C.aelab_blas {
	o := &b.owner
	return C.aelab_blas{blas: o.blas, lt: o.lt, workspace: C.CUdeviceptr(o.workspace), workspaceBytes: workspaceBytes}
}

// compileKernels turns aelab's kernels into PTX for the device's compute capability.
func compileKernels(major, minor int) (string, error) {
	return compilePTX(kernelSource(), "aelab_kernels.cu", major, minor)
}

// compilePTX compiles CUDA C into PTX with NVRTC for compute capability major.minor (at least
// 7.5, the oldest nvcc 13 targets), or for the newest this NVRTC knows when the device is
// newer still: the driver compiles PTX for the device it runs on.
func compilePTX(source, name string, major, minor int) (string, error) {
	if major < 7 || (major == 7 && minor < 5) {
		return "", fmt.Errorf("cuda: compute capability %d.%d is older than 7.5", major, minor)
	}
	arch := major*10 + minor
	var n C.int
	if C.nvrtcGetNumSupportedArchs(&n) == C.NVRTC_SUCCESS && n > 0 {
		archs := make([]C.int, n)
		if C.nvrtcGetSupportedArchs(&archs[0]) == C.NVRTC_SUCCESS {
			best := 0
			for _, a := range archs {
				if int(a) <= arch {
					best = max(best, int(a))
				}
			}
			if best == 0 {
				return "", fmt.Errorf("cuda: this NVRTC cannot compile for compute capability %d.%d", major, minor)
			}
			arch = best
		}
	}
	prog, err := nvrtc.CreateProgram(source, name)
	if err != nil {
		return "", fmt.Errorf("cuda: NVRTC: %w", err)
	}
	defer prog.Destroy()
	if err := prog.Compile(fmt.Sprintf("--gpu-architecture=compute_%d", arch), "--std=c++14"); err != nil {
		log, _ := prog.GetLog()
		first := strings.TrimSpace(log)
		if i := strings.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		return "", fmt.Errorf("cuda: compile %s for compute_%d: %w: %s", name, arch, err, first)
	}
	return prog.GetPTX()
}

// release frees everything the backend holds; the owner calls it last.
func (b *backend) release() {
	o := &b.owner
	if o.stream != nil {
		C.cuStreamSynchronize(o.stream)
	}
	for s := range o.seqs {
		s.free()
	}
	for _, p := range o.params {
		cu.MemFree(p.mem)
	}
	for _, m := range o.generated {
		m.Unload()
	}
	if o.lt != nil {
		C.cublasLtDestroy(o.lt)
	}
	if o.blas != nil {
		C.cublasDestroy(o.blas)
	}
	if o.workspace != 0 {
		cu.MemFree(o.workspace)
	}
	if o.stream != nil {
		C.cuStreamDestroy(o.stream)
	}
	if o.ctx != (cu.CUContext{}) {
		o.ctx.Destroy()
	}
}

// Run implements plan.Runner: fn runs on the owner goroutine.
func (b *backend) Run(fn func() error) error {
	var err error
	done := make(chan struct{})
	select {
	case b.work <- func() {
		defer close(done)
		err = fn()
	}:
	case <-b.stopped:
		return plan.ErrBackendClosed
	}
	<-done
	return err
}

// Name implements plan.Device.
func (b *backend) Name() string { return b.name }

// Close implements plan.Device; closing twice does nothing.
func (b *backend) Close() error {
	b.closeOnce.Do(func() { close(b.stop) })
	<-b.stopped
	return nil
}

func (b *backend) stream() C.CUstream { return b.owner.stream }

func devptr(m plan.Memory) C.CUdeviceptr { return C.CUdeviceptr(m.(cu.DevicePtr)) }

func ptr(s plan.Slice) C.CUdeviceptr { return devptr(s.Mem) + C.CUdeviceptr(4*s.Off) }

// devicePointer views a device address as a pointer for cuBLAS, which takes device memory
// as float*; Go never dereferences it.
func devicePointer(p C.CUdeviceptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// alloc returns n zeroed bytes of device memory.
func (b *backend) alloc(n int) (cu.DevicePtr, error) {
	n = (max(n, 4) + 3) &^ 3
	p, err := cu.MemAlloc(int64(n))
	if err != nil {
		return 0, fmt.Errorf("cuda: allocate %d bytes: %w", n, err)
	}
	if err := cuErr(C.cuMemsetD32Async(C.CUdeviceptr(p), 0, C.size_t(n/4), b.stream())); err != nil {
		cu.MemFree(p)
		return 0, fmt.Errorf("cuda: zero %d bytes: %w", n, err)
	}
	return p, nil
}

// Alloc implements plan.Device.
func (b *backend) Alloc(n int) (plan.Memory, error) { return b.alloc(4 * n) }

// AllocIndices implements plan.Device.
func (b *backend) AllocIndices(n int) (plan.Memory, error) { return b.alloc(4 * n) }

// Free implements plan.Device.
func (b *backend) Free(m plan.Memory) error { return cu.MemFree(m.(cu.DevicePtr)) }

// Param implements plan.Device: one device buffer per parameter, for every plan that
// holds it.
func (b *backend) Param(p *graph.Param) (plan.Memory, bool, error) {
	if pb, ok := b.owner.params[p]; ok {
		pb.holds++
		return pb.mem, false, nil
	}
	m, err := b.alloc(4 * len(p.Data))
	if err != nil {
		return nil, false, err
	}
	if err := b.Write(plan.Slice{Mem: m, Len: len(p.Data)}, p.Data); err != nil {
		cu.MemFree(m)
		return nil, false, err
	}
	b.owner.params[p] = &paramBuffer{mem: m, holds: 1}
	return m, true, nil
}

// ReleaseParam implements plan.Device: the buffer goes when no plan holds it.
func (b *backend) ReleaseParam(p *graph.Param) error {
	pb, ok := b.owner.params[p]
	if !ok {
		return fmt.Errorf("cuda: release of parameter %s, which no plan holds", p.Name)
	}
	if pb.holds--; pb.holds > 0 {
		return nil
	}
	delete(b.owner.params, p)
	if err := b.Sync(); err != nil {
		return err
	}
	return cu.MemFree(pb.mem)
}

// copyIn copies n bytes from the host; a copy from pageable memory is staged before the call
// returns, so src may change afterwards.
func (b *backend) copyIn(dst C.CUdeviceptr, src unsafe.Pointer, n int) error {
	if n == 0 {
		return nil
	}
	if err := cuErr(C.cuMemcpyHtoDAsync(dst, src, C.size_t(n), b.stream())); err != nil {
		return fmt.Errorf("cuda: copy %d bytes to the device: %w", n, err)
	}
	return nil
}

// copyOut copies n bytes to the host after the queued work.
func (b *backend) copyOut(dst unsafe.Pointer, src C.CUdeviceptr, n int) error {
	if n == 0 {
		return nil
	}
	if err := cuErr(C.cuMemcpyDtoHAsync(dst, src, C.size_t(n), b.stream())); err != nil {
		return fmt.Errorf("cuda: copy %d bytes from the device: %w", n, err)
	}
	return b.Sync()
}

// Write implements plan.Device.
func (b *backend) Write(dst plan.Slice, src []float32) error {
	if len(src) != dst.Len {
		return fmt.Errorf("cuda: write of %d values into %d", len(src), dst.Len)
	}
	if len(src) == 0 {
		return nil
	}
	return b.copyIn(ptr(dst), unsafe.Pointer(&src[0]), 4*len(src))
}

// Read implements plan.Device.
func (b *backend) Read(dst []float32, src plan.Slice) error {
	if len(dst) != src.Len {
		return fmt.Errorf("cuda: read of %d values into %d", src.Len, len(dst))
	}
	if len(dst) == 0 {
		return nil
	}
	return b.copyOut(unsafe.Pointer(&dst[0]), ptr(src), 4*len(dst))
}

// WriteIndices implements plan.Device. It waits for the copy (once an epoch), so idx may
// change as soon as it returns.
func (b *backend) WriteIndices(dst plan.Memory, idx []int32) error {
	if len(idx) == 0 {
		return nil
	}
	if err := b.copyIn(devptr(dst), unsafe.Pointer(&idx[0]), 4*len(idx)); err != nil {
		return err
	}
	return b.Sync()
}

// NewCounters implements plan.Device.
func (b *backend) NewCounters() (plan.Memory, error) {
	return b.alloc(int(unsafe.Sizeof(C.struct_counters{})))
}

// SetCounters implements plan.Device.
func (b *backend) SetCounters(m plan.Memory, c plan.Counters) error {
	v := C.struct_counters{
		steps: C.uint(c.Steps), batch: C.uint(c.Batch), noise: C.uint(c.Noise), scale: C.float(c.Adam.Scale),
		stepSize: C.float(c.Adam.StepSize), beta1: C.float(c.Adam.Beta1), beta2: C.float(c.Adam.Beta2),
		eps: C.float(c.Adam.Eps), invSqrtC2: C.float(c.Adam.InvSqrtC2),
	}
	if err := b.copyIn(devptr(m), unsafe.Pointer(&v), int(unsafe.Sizeof(v))); err != nil {
		return err
	}
	return b.Sync() // v is gone when SetCounters returns
}

// ReadCounters implements plan.Device.
func (b *backend) ReadCounters(m plan.Memory) (plan.Counters, error) {
	var v C.struct_counters
	if err := b.copyOut(unsafe.Pointer(&v), devptr(m), int(unsafe.Sizeof(v))); err != nil {
		return plan.Counters{}, err
	}
	return plan.Counters{Steps: uint32(v.steps), Batch: uint32(v.batch), Noise: uint32(v.noise), Adam: plan.AdamStep{
		StepSize: float32(v.stepSize), Beta1: float32(v.beta1), Beta2: float32(v.beta2), Eps: float32(v.eps), InvSqrtC2: float32(v.invSqrtC2),
		Scale: float32(v.scale),
	}}, nil
}

// Sync implements plan.Device.
func (b *backend) Sync() error {
	if err := cuErr(C.cuStreamSynchronize(b.stream())); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return nil
}

// sequence is a prepared list of operations in C memory, and, once it has run, its capture
// as a CUDA graph.
type sequence struct {
	b        *backend
	ops      *C.aelab_op
	n        int
	names    []string         // what each op computes, for errors
	mallocs  []unsafe.Pointer // argument blocks and the op array
	device   []cu.DevicePtr   // Adam's tables, sum_all's partial sums
	exec     C.CUgraphExec    // one run, captured
	execMany C.CUgraphExec    // unrolled runs, captured
	runs     int
}

// Prepare implements plan.Device: every op's function, grid and arguments are resolved
// now, so a run is one cgo call that queues them all (or replays their graph).
func (b *backend) Prepare(ops []plan.Op) (_ plan.Sequence, err error) {
	s := &sequence{b: b, n: len(ops)}
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	gen, err := b.generate(ops)
	if err != nil {
		return nil, err
	}
	arr := C.malloc(C.size_t(max(len(ops), 1)) * C.size_t(unsafe.Sizeof(C.aelab_op{})))
	s.mallocs = append(s.mallocs, arr)
	s.ops = (*C.aelab_op)(arr)
	all := unsafe.Slice(s.ops, len(ops))
	s.n = 0
	for i := 0; i < len(ops); i++ {
		o := &all[s.n]
		*o = C.aelab_op{}
		s.n++
		if adam, adv, ok := foldable(ops, i); ok && b.fold {
			if err := s.adamAdvance(o, adam, adv); err != nil {
				return nil, err
			}
			i++
			continue
		}
		if err := s.resolve(o, ops[i], gen[i]); err != nil {
			return nil, err
		}
	}
	b.owner.seqs[s] = true
	return s, nil
}

// generated is the kernel generated for a fused step, and its launch.
type generated struct {
	fn     C.CUfunction
	launch fusedLaunch
}

// generate compiles the kernels of ops' fused steps (one NVRTC program for all of them,
// compiled once per backend for the same source) and returns them by op index.
func (b *backend) generate(ops []plan.Op) ([]generated, error) {
	gen := make([]generated, len(ops))
	var src strings.Builder
	var names []string
	var at []int
	for i, op := range ops {
		k, ok := op.(plan.KernelOp)
		if !ok || k.Kernel != "fused" {
			continue
		}
		name := fmt.Sprintf("fused_%d", len(names))
		code, l, err := fusedKernel(name, k.Fusion, len(k.In))
		if err != nil {
			return nil, err
		}
		src.WriteString(code)
		gen[i].launch = l
		names, at = append(names, name), append(at, i)
	}
	if len(names) == 0 {
		return gen, nil
	}
	source := deviceCommon + src.String()
	o := &b.owner
	mod, ok := o.generated[source]
	if !ok {
		ptx, err := compilePTX(source, "aelab_fused.cu", o.major, o.minor)
		if err != nil {
			return nil, err
		}
		if mod, err = cu.LoadData(ptx); err != nil {
			return nil, fmt.Errorf("cuda: load fused kernels: %w", err)
		}
		o.generated[source] = mod
	}
	for j, name := range names {
		f, err := mod.Function(name)
		if err != nil {
			return nil, fmt.Errorf("cuda: fused kernel %s: %w", name, err)
		}
		gen[at[j]].fn = *(*C.CUfunction)(unsafe.Pointer(&f))
	}
	return gen, nil
}

// kernelArgs packs a kernel's arguments into C memory: each value in an 8-byte slot (the
// kernel reads the low bytes of its int and float slots), with the pointer array cuLaunchKernel
// takes in front.
type kernelArgs struct{ slots []uint64 }

func (a *kernelArgs) ptr(p C.CUdeviceptr) { a.slots = append(a.slots, uint64(p)) }
func (a *kernelArgs) int(v int)           { a.slots = append(a.slots, uint64(uint32(int32(v)))) }
func (a *kernelArgs) float(v float32)     { a.slots = append(a.slots, uint64(math.Float32bits(v))) }
func (a *kernelArgs) double(v float64)    { a.slots = append(a.slots, math.Float64bits(v)) }
func (a *kernelArgs) u64(v uint64)        { a.slots = append(a.slots, v) }

// kernel fills o with a launch of aelab's kernel fn over grid×gridY blocks of block threads.
func (s *sequence) kernel(o *C.aelab_op, fn string, grid, gridY, block int, a *kernelArgs) {
	s.kernelFn(o, s.b.owner.fns[fn], grid, gridY, block, a)
}

// kernelFn fills o with a launch of fn.
func (s *sequence) kernelFn(o *C.aelab_op, fn C.CUfunction, grid, gridY, block int, a *kernelArgs) {
	n := len(a.slots)
	mem := C.malloc(C.size_t(16 * max(n, 1)))
	s.mallocs = append(s.mallocs, mem)
	ptrs := unsafe.Slice((*unsafe.Pointer)(mem), n)
	vals := unsafe.Slice((*uint64)(unsafe.Add(mem, 8*n)), n)
	for i, v := range a.slots {
		vals[i] = v
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	o.fn = fn
	o.gridX, o.gridY, o.block = C.uint(grid), C.uint(gridY), C.uint(block)
	o.params = (*unsafe.Pointer)(mem)
}

// deviceTable copies values to new device memory the sequence owns, and waits for the copy:
// values may go as soon as it returns.
func (s *sequence) deviceTable(values unsafe.Pointer, bytes int) (C.CUdeviceptr, error) {
	p, err := s.b.alloc(bytes)
	if err != nil {
		return 0, err
	}
	s.device = append(s.device, p)
	if err := s.b.copyIn(C.CUdeviceptr(p), values, bytes); err != nil {
		return 0, err
	}
	return C.CUdeviceptr(p), s.b.Sync()
}

func (s *sequence) resolve(o *C.aelab_op, op plan.Op, gen generated) error {
	var a kernelArgs
	switch op := op.(type) {
	case plan.KernelOp:
		s.names = append(s.names, plan.Describe(op))
		switch op.Kernel {
		case "gemm":
			return s.gemm(o, op)
		case "fused":
			return s.fused(o, op, gen.fn, gen.launch)
		}
		l, err := dispatch(op.Kernel, op.Dims)
		if err != nil {
			return err
		}
		a.ptr(ptr(op.Out))
		for _, in := range op.In {
			a.ptr(ptr(in))
		}
		for _, v := range l.args {
			a.int(v)
		}
		if l.scratch > 0 {
			// l.scratch partial sums, then the count of finished blocks.
			p, err := s.b.alloc(4 * (l.scratch + 1))
			if err != nil {
				return err
			}
			s.device = append(s.device, p)
			a.ptr(C.CUdeviceptr(p))
			a.ptr(C.CUdeviceptr(p) + C.CUdeviceptr(4*l.scratch))
		}
		s.kernel(o, l.fn, l.grid, 1, threads, &a)
	case plan.GatherOp:
		s.names = append(s.names, plan.Describe(op))
		kind := map[datasets.NoiseKind]int{datasets.Gaussian: noiseGaussian, datasets.Mask: noiseMask, datasets.SaltPepper: noiseSaltPepper}[op.Noise.Kind]
		if op.Noise.IsNone() {
			kind = noiseNone
		}
		a.ptr(ptr(op.Noisy))
		a.ptr(ptr(op.Clean))
		a.ptr(devptr(op.Data))
		a.ptr(devptr(op.Order))
		a.ptr(devptr(op.Counters))
		a.int(op.B)
		a.int(op.D)
		a.int(kind)
		a.float(float32(op.Noise.Level))
		levelMax := float32(op.Noise.Level) // not above the level: no range, whatever the sign
		if op.Noise.IsRange() {
			levelMax = float32(op.Noise.Max)
		}
		a.float(levelMax)
		a.u64(op.Seed)
		s.kernel(o, "gather_corrupt", blocks(op.B*op.D), 1, threads, &a)
	case plan.AdamOp:
		s.names = append(s.names, plan.Describe(op))
		if op.SGD {
			grid, err := s.sgdArgs(op, &a)
			if err != nil {
				return err
			}
			s.kernel(o, "sgd", grid, len(op.Params), threads, &a)
			return nil
		}
		grid, err := s.adamArgs(op, &a)
		if err != nil {
			return err
		}
		s.kernel(o, "adam", grid, len(op.Params), threads, &a)
	case plan.AdvanceOp:
		s.names = append(s.names, plan.Describe(op))
		a.ptr(devptr(op.Counters))
		advanceArgs(op, &a)
		s.kernel(o, "advance", 1, 1, 1, &a)
	default:
		return fmt.Errorf("cuda: no operation %T", op)
	}
	return nil
}

// adamArgs appends the adam kernel's arguments (the parameters', gradients' and moments'
// tables, the sizes, the counters, the weight decay rate) and returns its grid along x.
func (s *sequence) adamArgs(op plan.AdamOp, a *kernelArgs) (grid int, err error) {
	if !(op.DecayRate >= 0 && op.DecayRate < 1) {
		return 0, fmt.Errorf("cuda: Adam's weight decay rate %g is not in [0, 1)", op.DecayRate)
	}
	grid, err = s.updateTables(op, [][]plan.Slice{op.Params, op.Grads, op.M, op.V}, a)
	a.float(op.DecayRate)
	return grid, err
}

// sgdArgs appends the sgd kernel's arguments (the parameters', gradients' and velocities'
// tables, the sizes, the counters, the momentum, the L2 penalty) and returns its grid.
func (s *sequence) sgdArgs(op plan.AdamOp, a *kernelArgs) (grid int, err error) {
	grid, err = s.updateTables(op, [][]plan.Slice{op.Params, op.Grads, op.M}, a)
	a.float(op.Momentum)
	a.float(op.L2)
	return grid, err
}

// updateTables appends the device tables of an update's lists of slices, the sizes and the
// counters, and returns the grid along x that covers the largest parameter.
func (s *sequence) updateTables(op plan.AdamOp, lists [][]plan.Slice, a *kernelArgs) (grid int, err error) {
	if len(op.Params) == 0 || len(op.Grads) != len(op.Params) || len(op.M) != len(op.Params) || len(op.V) != len(op.Params) {
		return 0, fmt.Errorf("cuda: an update of %d parameters with %d gradients and %d, %d moments", len(op.Params), len(op.Grads), len(op.M), len(op.V))
	}
	largest := 0
	sizes := make([]int32, len(op.Params))
	for i, p := range op.Params {
		sizes[i] = int32(p.Len)
		largest = max(largest, p.Len)
	}
	for _, list := range lists {
		table := make([]uint64, len(list))
		for i, sl := range list {
			table[i] = uint64(ptr(sl))
		}
		p, err := s.deviceTable(unsafe.Pointer(&table[0]), 8*len(table))
		if err != nil {
			return 0, err
		}
		a.ptr(p)
	}
	p, err := s.deviceTable(unsafe.Pointer(&sizes[0]), 4*len(sizes))
	if err != nil {
		return 0, err
	}
	a.ptr(p)
	a.ptr(devptr(op.Counters))
	return min(max((largest+adamPer*threads-1)/(adamPer*threads), 1), 4096), nil
}

// advanceArgs appends the advance kernel's arguments after its counters: Adam's settings,
// and where the step's loss goes.
func advanceArgs(op plan.AdvanceOp, a *kernelArgs) {
	cfg := op.Adam.WithDefaults()
	beta1 := cfg.Beta1
	if cfg.SGD {
		beta1 = 0 // the step size is then the learning rate itself, as plan.AdamAt has it
	}
	a.double(cfg.LR)
	a.double(beta1)
	a.double(cfg.Beta2)
	a.double(cfg.Eps)
	if op.Losses.Mem != nil {
		a.ptr(ptr(op.Losses))
		a.ptr(ptr(op.Loss))
	} else {
		a.ptr(0)
		a.ptr(0)
	}
}

// adamAdvance fills o with one launch that makes Adam's update and then advances the
// counters (adam_advance), in place of the two ops.
func (s *sequence) adamAdvance(o *C.aelab_op, adam plan.AdamOp, adv plan.AdvanceOp) error {
	s.names = append(s.names, plan.Describe(adam)+" + advance")
	var a kernelArgs
	grid, err := s.adamArgs(adam, &a)
	if err != nil {
		return err
	}
	done, err := s.b.alloc(4) // blocks finished, back to 0 after every launch
	if err != nil {
		return err
	}
	s.device = append(s.device, done)
	a.ptr(C.CUdeviceptr(done))
	advanceArgs(adv, &a)
	s.kernel(o, "adam_advance", grid, len(adam.Params), threads, &a)
	return nil
}

// foldable reports whether ops[i] and ops[i+1] are an Adam update and the advance of the
// same counters, which one launch can do (adamAdvance).
func foldable(ops []plan.Op, i int) (plan.AdamOp, plan.AdvanceOp, bool) {
	if i+1 >= len(ops) {
		return plan.AdamOp{}, plan.AdvanceOp{}, false
	}
	adam, ok := ops[i].(plan.AdamOp)
	adv, ok2 := ops[i+1].(plan.AdvanceOp)
	if !ok || !ok2 || adam.SGD || adam.Counters != adv.Counters {
		return plan.AdamOp{}, plan.AdvanceOp{}, false
	}
	return adam, adv, true
}

// fused fills o with a launch of a fused step's generated kernel fn.
func (s *sequence) fused(o *C.aelab_op, op plan.KernelOp, fn C.CUfunction, l fusedLaunch) error {
	f := op.Fusion
	if len(op.Outs) != len(f.Stores)+boolInt(f.Reduce != nil) {
		return fmt.Errorf("cuda: fused step %s has %d outputs for %d", op.Node, len(op.Outs), len(f.Stores)+boolInt(f.Reduce != nil))
	}
	var a kernelArgs
	for _, in := range op.In {
		a.ptr(ptr(in))
	}
	for _, out := range op.Outs {
		a.ptr(ptr(out))
	}
	if l.scratch > 0 {
		scratch, err := s.b.alloc(4 * (l.scratch + 1)) // partial sums, then the count of finished blocks
		if err != nil {
			return err
		}
		s.device = append(s.device, scratch)
		a.ptr(C.CUdeviceptr(scratch))
		a.ptr(C.CUdeviceptr(scratch) + C.CUdeviceptr(4*l.scratch))
	}
	s.kernelFn(o, fn, l.grid, 1, threads, &a)
	return nil
}

// gemm fills o with an SGEMM. cuBLAS is column-major, and a row-major matrix is its
// transpose: C = op(A)·op(B) row-major is Cᵀ = op(B)ᵀ·op(A)ᵀ column-major. The fields are
// cublasSgemm's arguments; with GEMMLt and GEMMTuned, aelab_lt_describe derives cuBLASLt's
// descriptors from them, so both calls compute the same product. The op's name says which
// call runs it.
func (s *sequence) gemm(o *C.aelab_op, op plan.KernelOp) error {
	m, n, k, transA, transB := op.Dims[0], op.Dims[1], op.Dims[2], op.Dims[3] == 1, op.Dims[4] == 1
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	o.gemm = 1
	o.transA, o.transB = C.int(boolInt(transB)), C.int(boolInt(transA))
	o.m, o.n, o.k = C.int(n), C.int(m), C.int(k)
	o.a, o.lda = (*C.float)(devicePointer(ptr(op.In[1]))), C.int(ldb)
	o.b, o.ldb = (*C.float)(devicePointer(ptr(op.In[0]))), C.int(lda)
	o.c, o.ldc = (*C.float)(devicePointer(ptr(op.Out))), C.int(n)

	at := len(s.names) - 1 // resolve named the op
	if s.b.gemm == GEMMCublas {
		s.names[at] += " (cublas)"
		return nil
	}
	// GEMMLt takes the first that cuBLASLt says can run; asking for a few more is cheap.
	algos, err := s.b.ltAlgos(o, ltCandidates)
	if err != nil {
		return fmt.Errorf("cuda: %s: %w", s.names[at], err)
	}
	switch {
	case len(algos) == 0:
		C.aelab_lt_free(o)
		s.names[at] += " (cublas: cuBLASLt has no algorithm for it)"
	case s.b.gemm == GEMMLt:
		o.lt, o.algo = 1, algos[0].algo
		s.names[at] += " (lt)"
	default:
		c, err := s.b.tune(o, algos)
		if err != nil {
			return fmt.Errorf("cuda: tune %s: %w", s.names[at], err)
		}
		if !c.lt {
			C.aelab_lt_free(o)
		}
		o.lt, o.algo = C.int(boolInt(c.lt)), c.algo
		s.names[at] += " (" + c.label + ")"
	}
	return nil
}

// ltAlgos makes o's cuBLASLt descriptors (the sequence frees them with o) and returns up to
// want of the algorithms cuBLASLt's heuristic offers for its product, best first; none where
// it offers none.
func (b *backend) ltAlgos(o *C.aelab_op, want int) ([]C.cublasLtMatmulHeuristicResult_t, error) {
	var call *C.char // a static string of ops.h
	if st := C.aelab_lt_describe(o, C.int(boolInt(b.tf32)), &call); st != C.CUBLAS_STATUS_SUCCESS {
		return nil, fmt.Errorf("%s: %s", C.GoString(call), blasStatus(st))
	}
	res := make([]C.cublasLtMatmulHeuristicResult_t, want) // no Go pointers in it: cgo may take it
	var found C.int
	if st := C.aelab_lt_algos(o, b.owner.lt, workspaceBytes, &res[0], C.int(want), &found, &call); st != C.CUBLAS_STATUS_SUCCESS {
		return nil, fmt.Errorf("%s: %s", C.GoString(call), blasStatus(st))
	}
	return res[:int(found)], nil
}

// gemmShape is what a product's timing depends on: its sizes, transposes, leading
// dimensions and its matrices' alignments (cuBLASLt's algorithms ask for some).
type gemmShape struct {
	transA, transB, m, n, k, lda, ldb, ldc int
	alignA, alignB, alignC                 uint32
}

// gemmChoice is GEMMTuned's choice for a product: cublasSgemm, or cublasLtMatmul with algo.
type gemmChoice struct {
	lt    bool
	algo  C.cublasLtMatmulAlgo_t
	label string // for the op's name
}

// tune returns the fastest way to compute o's product: cublasSgemm or cublasLtMatmul with
// one of algos (cuBLASLt's heuristic's, best first), each timed on zeroed scratch matrices
// of o's sizes and alignments, so that no buffer of a plan is touched. A product of the
// same shape is timed once per backend.
func (b *backend) tune(o *C.aelab_op, algos []C.cublasLtMatmulHeuristicResult_t) (gemmChoice, error) {
	shape := gemmShape{transA: int(o.transA), transB: int(o.transB), m: int(o.m), n: int(o.n), k: int(o.k),
		lda: int(o.lda), ldb: int(o.ldb), ldc: int(o.ldc),
		alignA: uint32(C.aelab_alignment(unsafe.Pointer(o.a))), alignB: uint32(C.aelab_alignment(unsafe.Pointer(o.b))),
		alignC: uint32(C.aelab_alignment(unsafe.Pointer(o.c)))}
	if c, ok := b.owner.tuned[shape]; ok {
		return c, nil
	}
	// The trial op is o pointing at scratch matrices, in C memory, as every op cgo is given.
	trial := (*C.aelab_op)(C.malloc(C.size_t(unsafe.Sizeof(C.aelab_op{}))))
	defer C.free(unsafe.Pointer(trial))
	*trial = *o
	// A stored matrix of rows×cols with leading dimension ld spans ld·cols floats.
	colsA, colsB := shape.k, shape.n
	if shape.transA == 1 {
		colsA = shape.m
	}
	if shape.transB == 1 {
		colsB = shape.k
	}
	var scratch []cu.DevicePtr
	defer func() {
		b.Sync()
		for _, p := range scratch {
			cu.MemFree(p)
		}
	}()
	place := func(like unsafe.Pointer, floats int) (unsafe.Pointer, error) {
		p, err := b.alloc(4*floats + 256) // 256-byte aligned, and room to shift to like's alignment
		if err != nil {
			return nil, err
		}
		scratch = append(scratch, p)
		return devicePointer(C.CUdeviceptr(p) + C.CUdeviceptr(uintptr(like)%256)), nil
	}
	a, err := place(unsafe.Pointer(o.a), shape.lda*colsA)
	if err != nil {
		return gemmChoice{}, err
	}
	bm, err := place(unsafe.Pointer(o.b), shape.ldb*colsB)
	if err != nil {
		return gemmChoice{}, err
	}
	c, err := place(unsafe.Pointer(o.c), shape.ldc*shape.n)
	if err != nil {
		return gemmChoice{}, err
	}
	trial.a, trial.b, trial.c = (*C.float)(a), (*C.float)(bm), (*C.float)(c)

	// Candidate 0 is cublasSgemm, candidate i > 0 algos[i-1].
	choose := func(i int) {
		trial.lt = C.int(boolInt(i > 0))
		if i > 0 {
			trial.algo = algos[i-1].algo
		}
	}
	best := make([]float32, len(algos)+1)
	for i := range best {
		best[i] = float32(math.Inf(1))
		choose(i)
		f := C.aelab_failure{index: -1}
		// Uncaptured first: the first call loads what capturing must not.
		if r := C.aelab_run(trial, 1, 1, b.stream(), b.blas(), &f); r != C.CUDA_SUCCESS {
			return gemmChoice{}, tuneFailed(i, r, f)
		}
	}
	for range tuneRounds {
		for i := range best {
			choose(i)
			var ms C.float
			f := C.aelab_failure{index: -1}
			if r := C.aelab_time(trial, tuneRuns, b.stream(), b.blas(), &ms, &f); r != C.CUDA_SUCCESS {
				return gemmChoice{}, tuneFailed(i, r, f)
			}
			best[i] = min(best[i], float32(ms))
		}
	}
	fastest := 0
	for i, t := range best {
		if t < best[fastest] {
			fastest = i
		}
	}
	choice := gemmChoice{label: fmt.Sprintf("cublas, tuned against %d cuBLASLt algorithms", len(algos))}
	if fastest > 0 {
		choice = gemmChoice{lt: true, algo: algos[fastest-1].algo, label: fmt.Sprintf("lt, tuned: heuristic's #%d of %d", fastest, len(algos))}
	}
	b.owner.tuned[shape] = choice
	return choice, nil
}

// tuneFailed describes a failure to run or time tune's candidate i.
func tuneFailed(i int, r C.CUresult, f C.aelab_failure) error {
	what := "cublasSgemm"
	if i > 0 {
		what = fmt.Sprintf("cublasLtMatmul with the heuristic's algorithm #%d", i)
	}
	if f.blas != 0 {
		return fmt.Errorf("%s: %s", what, blasStatus(C.cublasStatus_t(f.blas)))
	}
	return fmt.Errorf("%s: %w", what, cuErr(r))
}

// failed describes where a run stopped.
func (s *sequence) failed(r C.CUresult, f C.aelab_failure) error {
	where := "the sequence"
	if i := int(f.index); i >= 0 && i < len(s.names) {
		where = s.names[i]
	}
	if f.blas != 0 {
		call := "cuBLAS SGEMM"
		if f.lt != 0 {
			call = "cuBLASLt matmul"
		}
		return fmt.Errorf("cuda: %s in %s: %s", call, where, blasStatus(C.cublasStatus_t(f.blas)))
	}
	return fmt.Errorf("cuda: %s: %w", where, cuErr(r))
}

// unrolled is how many runs one captured graph holds: a long run replays it, so the device
// goes from step to step inside one graph instead of between graph launches.
const unrolled = 16

// Run implements plan.Sequence. The first run queues the operations one by one (which also
// loads every kernel and cuBLAS's own); later runs replay CUDA graphs captured from them,
// one launch for every unrolled runs and one for each run left over, unless the backend
// was opened without replay.
func (s *sequence) Run(n int) error {
	if n <= 0 {
		return nil
	}
	first := s.runs == 0
	s.runs += n
	if first || !s.b.replay {
		f := C.aelab_failure{index: -1}
		if r := C.aelab_run(s.ops, C.int(s.n), C.int(n), s.b.stream(), s.b.blas(), &f); r != C.CUDA_SUCCESS {
			return s.failed(r, f)
		}
		return nil
	}
	if err := s.replay(&s.execMany, unrolled, n/unrolled); err != nil {
		return err
	}
	return s.replay(&s.exec, 1, n%unrolled)
}

// replay launches the graph of runs runs times, capturing it first if need be.
func (s *sequence) replay(exec *C.CUgraphExec, runs, times int) error {
	if times == 0 {
		return nil
	}
	if *exec == nil {
		// Captured into a local: cgo refuses a pointer into s, which holds Go pointers.
		var captured C.CUgraphExec
		f := C.aelab_failure{index: -1}
		if r := C.aelab_capture(s.ops, C.int(s.n), C.int(runs), s.b.stream(), s.b.blas(), &captured, &f); r != C.CUDA_SUCCESS {
			return fmt.Errorf("capture: %w", s.failed(r, f))
		}
		*exec = captured
	}
	if err := cuErr(C.aelab_replay(*exec, C.int(times), s.b.stream())); err != nil {
		return fmt.Errorf("cuda: replay: %w", err)
	}
	return nil
}

// Profile implements plan.Profiler: each operation is captured times times over into a
// graph of its own, so that it is timed as a replayed step runs it, node after node.
func (s *sequence) Profile(times int) ([]plan.OpTime, error) {
	if times <= 0 {
		return nil, fmt.Errorf("cuda: profile %d times", times)
	}
	if s.runs == 0 { // the first run loads what capturing must not
		if err := s.Run(1); err != nil {
			return nil, err
		}
	}
	all := unsafe.Slice(s.ops, s.n)
	out := make([]plan.OpTime, s.n)
	for i := range all {
		var ms C.float
		f := C.aelab_failure{index: -1}
		if r := C.aelab_time(&all[i], C.int(times), s.b.stream(), s.b.blas(), &ms, &f); r != C.CUDA_SUCCESS {
			if f.index >= 0 {
				f.index = C.int(i)
			}
			return nil, fmt.Errorf("profile: %w", s.failed(r, f))
		}
		out[i] = plan.OpTime{Op: s.names[i], Time: time.Duration(float64(ms) * 1e6 / float64(times))}
	}
	return out, nil
}

// Close implements plan.Sequence.
func (s *sequence) Close() error {
	delete(s.b.owner.seqs, s)
	return s.free()
}

func (s *sequence) free() error {
	var errs []error
	for _, exec := range []*C.CUgraphExec{&s.exec, &s.execMany} {
		if *exec != nil {
			errs = append(errs, cuErr(C.cuGraphExecDestroy(*exec)))
			*exec = nil
		}
	}
	for _, p := range s.device {
		errs = append(errs, cu.MemFree(p))
	}
	if s.ops != nil {
		ops := unsafe.Slice(s.ops, s.n) // ops[s.n:] were never filled
		for i := range ops {
			C.aelab_lt_free(&ops[i]) // before the op array goes with mallocs
		}
	}
	for _, m := range s.mallocs {
		C.free(m)
	}
	s.device, s.mallocs, s.ops = nil, nil, nil
	return errors.Join(errs...)
}

// Devices lists the CUDA devices that answer.
func Devices() ([]Device, error) {
	var out []Device
	err := onThread(func() error {
		if err := initDriver(); err != nil {
			return err
		}
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
