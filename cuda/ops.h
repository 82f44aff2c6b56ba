/*
 * The host side of aelab's CUDA executor, included by driver_cuda.go: a prepared sequence
 * of kernel launches and cuBLAS SGEMMs queued on one stream in one call from Go, and its
 * capture into a CUDA graph that replays it with one launch.
 *
 * gorgonia.org/cu wraps the driver API one call at a time (and its Launch allocates the
 * argument arrays on every call); it has no stream capture, no graph instantiation or
 * launch, and its cuBLAS wrapper hides its handle, so it cannot be bound to a stream. These
 * few functions are what aelab needs beyond it.
 */
#ifndef AELAB_OPS_H
#define AELAB_OPS_H

#include <cuda.h>
#include <cublas_v2.h>

/* counters is graph/plan's Counters; kernels.cu declares the same struct for the device. */
struct counters {
    unsigned int steps, batch, noise;
    float scale; // the learning rate's factor (ScaleLR); advance keeps it
    float stepSize, beta1, beta2, eps, invSqrtC2;
};

/* One operation: a kernel launch, or an SGEMM in cuBLAS's column-major terms. */
typedef struct {
    int gemm;
    /* kernel */
    CUfunction fn;
    unsigned int gridX, gridY, block;
    void **params; /* the kernel's argument pointers */
    /* SGEMM: C = op(A)·op(B), m×n, column-major */
    int transA, transB, m, n, k, lda, ldb, ldc;
    const float *a, *b;
    float *c;
} aelab_op;

/* Where a run stopped: the op's index and, for an SGEMM, cuBLAS's status. */
typedef struct {
    int index;
    int blas;
} aelab_failure;

/* aelab_run queues ops[0..n) on stream, times times over. */
static CUresult aelab_run(const aelab_op *ops, int n, int times, CUstream stream, cublasHandle_t h, aelab_failure *f) {
    static const float one = 1.f, zero = 0.f;
    for (int t = 0; t < times; t++) {
        for (int i = 0; i < n; i++) {
            const aelab_op *o = &ops[i];
            if (o->gemm) {
                cublasStatus_t s = cublasSgemm(h, o->transA ? CUBLAS_OP_T : CUBLAS_OP_N, o->transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                                               o->m, o->n, o->k, &one, o->a, o->lda, o->b, o->ldb, &zero, o->c, o->ldc);
                if (s != CUBLAS_STATUS_SUCCESS) {
                    f->index = i;
                    f->blas = (int)s;
                    return CUDA_ERROR_UNKNOWN;
                }
                continue;
            }
            CUresult r = cuLaunchKernel(o->fn, o->gridX, o->gridY, 1, o->block, 1, 1, 0, stream, o->params, NULL);
            if (r != CUDA_SUCCESS) {
                f->index = i;
                return r;
            }
        }
    }
    return CUDA_SUCCESS;
}

/* aelab_capture records ops[0..n), times times over, on stream into a graph, ready to replay;
 * nothing runs. */
static CUresult aelab_capture(const aelab_op *ops, int n, int times, CUstream stream, cublasHandle_t h, CUgraphExec *exec, aelab_failure *f) {
    CUgraph g = NULL;
    CUresult r = cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    if (r != CUDA_SUCCESS) {
        f->index = -1;
        return r;
    }
    CUresult queued = aelab_run(ops, n, times, stream, h, f);
    r = cuStreamEndCapture(stream, &g);
    if (queued != CUDA_SUCCESS || r != CUDA_SUCCESS) {
        if (g != NULL) cuGraphDestroy(g);
        if (queued == CUDA_SUCCESS) f->index = -1;
        return queued != CUDA_SUCCESS ? queued : r;
    }
    r = cuGraphInstantiateWithFlags(exec, g, 0);
    cuGraphDestroy(g);
    if (r != CUDA_SUCCESS) f->index = -1;
    return r;
}

/* aelab_replay launches a captured graph times times. */
static CUresult aelab_replay(CUgraphExec exec, int times, CUstream stream) {
    for (int t = 0; t < times; t++) {
        CUresult r = cuGraphLaunch(exec, stream);
        if (r != CUDA_SUCCESS) return r;
    }
    return CUDA_SUCCESS;
}

/* aelab_time times one op alone: captured times times over into a graph, launched once to
 * warm up, then once between two events; *ms is that launch's time. */
static CUresult aelab_time(const aelab_op *op, int times, CUstream stream, cublasHandle_t h, float *ms, aelab_failure *f) {
    CUgraphExec exec = NULL;
    CUevent start = NULL, stop = NULL;
    CUresult r = aelab_capture(op, 1, times, stream, h, &exec, f);
    if (r != CUDA_SUCCESS) return r;
    if ((r = cuEventCreate(&start, CU_EVENT_DEFAULT)) == CUDA_SUCCESS &&
        (r = cuEventCreate(&stop, CU_EVENT_DEFAULT)) == CUDA_SUCCESS &&
        (r = cuGraphLaunch(exec, stream)) == CUDA_SUCCESS &&
        (r = cuEventRecord(start, stream)) == CUDA_SUCCESS &&
        (r = cuGraphLaunch(exec, stream)) == CUDA_SUCCESS &&
        (r = cuEventRecord(stop, stream)) == CUDA_SUCCESS &&
        (r = cuEventSynchronize(stop)) == CUDA_SUCCESS)
        r = cuEventElapsedTime(ms, start, stop);
    if (start != NULL) cuEventDestroy(start);
    if (stop != NULL) cuEventDestroy(stop);
    cuGraphExecDestroy(exec);
    return r;
}

#endif /* AELAB_OPS_H */
