/*
 * aelab's compatibility header for building gorgonia.org/cu against CUDA 13.
 *
 * CUDA 13 changed five driver functions that gorgonia.org/cu v0.9.6 calls: cuCtxCreate is
 * now a macro for cuCtxCreate_v4 (with a parameters struct), cuMemAdvise and
 * cuMemPrefetchAsync take a CUmemLocation, and cuGraphAddDependencies and cuGraphGetEdges
 * take edge data. The driver still exports the older entry points, so this header includes
 * the real cuda.h and points the five names back at them. Put its folder first on the
 * include path (scripts/build-cuda.sh does); with CUDA 12 or older it changes nothing.
 */
#ifndef AELAB_CUDA_COMPAT_H
#define AELAB_CUDA_COMPAT_H

#include_next <cuda.h>

#if defined(CUDA_VERSION) && CUDA_VERSION >= 13000

#undef cuCtxCreate
#define cuCtxCreate cuCtxCreate_v2

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
