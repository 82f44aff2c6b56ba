/*
 * aelab's compatibility header for gorgonia.org/cu. Put its folder first on the include
 * path (scripts/build-cuda.sh does): it includes the real cuda.h and then
 *
 * 1. defers the driver's initialisation. gorgonia.org/cu calls cuInit in its package init
 *    and, when that fails, prints to stdout and exits the process — before main, so a
 *    CUDA-enabled aelab could neither fall back to the CPU nor run its GPU-free tests on a
 *    machine without a GPU. Here cu's cuInit succeeds without doing anything, and aelab
 *    calls the driver's own cuInit (aelab_cuInit) before anything else it asks of CUDA,
 *    turning a failure into an error.
 *
 * 2. lets cu v0.9.6 build against CUDA 13, which changed five driver functions it calls:
 *    cuCtxCreate is now a macro for cuCtxCreate_v4 (with a parameters struct), cuMemAdvise
 *    and cuMemPrefetchAsync take a CUmemLocation, and cuGraphAddDependencies and
 *    cuGraphGetEdges take edge data. The driver still exports the older entry points, so
 *    the five names are pointed back at them, each declared here with its CUDA 12
 *    signature: CUDA 13's cuda.h no longer declares cuCtxCreate_v2 at all, and cgo must
 *    see a declaration to call a function.
 */
#ifndef AELAB_CUDA_COMPAT_H
#define AELAB_CUDA_COMPAT_H

#include_next <cuda.h>

CUresult CUDAAPI aelab_cuInit(unsigned int flags) __asm__("cuInit");
static inline CUresult aelab_cuInit_deferred(unsigned int flags) {
    (void)flags;
    return CUDA_SUCCESS;
}
#undef cuInit
#define cuInit aelab_cuInit_deferred

#if defined(CUDA_VERSION) && CUDA_VERSION >= 13000

CUresult CUDAAPI cuCtxCreate_aelab_v2(CUcontext *pctx, unsigned int flags, CUdevice dev) __asm__("cuCtxCreate_v2");
#undef cuCtxCreate
#define cuCtxCreate cuCtxCreate_aelab_v2

CUresult CUDAAPI cuMemAdvise_aelab_v1(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUdevice device) __asm__("cuMemAdvise");
#undef cuMemAdvise
#define cuMemAdvise cuMemAdvise_aelab_v1

CUresult CUDAAPI cuMemPrefetchAsync_aelab_v1(CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream) __asm__("cuMemPrefetchAsync");
#undef cuMemPrefetchAsync
#define cuMemPrefetchAsync cuMemPrefetchAsync_aelab_v1

CUresult CUDAAPI cuGraphAddDependencies_aelab_v1(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to, size_t numDependencies) __asm__("cuGraphAddDependencies");
#undef cuGraphAddDependencies
#define cuGraphAddDependencies cuGraphAddDependencies_aelab_v1

CUresult CUDAAPI cuGraphGetEdges_aelab_v1(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, size_t *numEdges) __asm__("cuGraphGetEdges");
#undef cuGraphGetEdges
#define cuGraphGetEdges cuGraphGetEdges_aelab_v1

#endif /* CUDA_VERSION >= 13000 */
#endif /* AELAB_CUDA_COMPAT_H */
