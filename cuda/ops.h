/*
 * The host side of aelab's CUDA executor, included by backend_cuda.go: a prepared sequence
 * of kernel launches and SGEMMs (cuBLAS's or cuBLASLt's) queued on one stream in one call
 * from Go, and its capture into a CUDA graph that replays it with one launch.
 *
 * gorgonia.org/cu wraps the driver API one call at a time (and its Launch allocates the
 * argument arrays on every call); it has no stream capture, no graph instantiation or
 * launch, and its cuBLAS wrapper hides its handle, so it cannot be bound to a stream. These
 * few functions are what aelab needs beyond it.
 */
#ifndef AELAB_OPS_H
#define AELAB_OPS_H

#include <stdint.h>
#include <cuda.h>
#include <cublas_v2.h>
#include <cublasLt.h>

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
    /* SGEMM: C = op(A)·op(B), m×n, column-major, by cublasSgemm with these arguments */
    int transA, transB, m, n, k, lda, ldb, ldc;
    const float *a, *b;
    float *c;
    /* The same SGEMM by cublasLtMatmul with algo when lt is set. aelab_lt_describe makes the
     * descriptors from the fields above; aelab_lt_free destroys them (NULL: none made). */
    int lt;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t layoutA, layoutB, layoutC; /* C's is also D's: D = C in place */
    cublasLtMatmulAlgo_t algo;
} aelab_op;

/* The SGEMMs' handles, and the workspace both use (ops run one after another on one stream,
 * so never at the same time; cuBLAS's is set on its handle, cuBLASLt takes it in each call). */
typedef struct {
    cublasHandle_t blas;
    cublasLtHandle_t lt;
    CUdeviceptr workspace;
    size_t workspaceBytes;
} aelab_blas;

/* Where a run stopped: the op's index and, for an SGEMM, the cuBLAS status (and whether it
 * was cuBLASLt's). */
typedef struct {
    int index;
    int blas;
    int lt;
} aelab_failure;

/* aelab_sgemm queues o's SGEMM on stream. */
static cublasStatus_t aelab_sgemm(const aelab_op *o, CUstream stream, aelab_blas b) {
    static const float one = 1.f, zero = 0.f;
    if (o->lt)
        return cublasLtMatmul(b.lt, o->desc, &one, o->a, o->layoutA, o->b, o->layoutB, &zero, o->c, o->layoutC,
                              o->c, o->layoutC, &o->algo, (void *)(uintptr_t)b.workspace, b.workspaceBytes, stream);
    /* cublasSgemm runs on the stream set on b.blas, which is stream (set when the backend opens). */
    return cublasSgemm(b.blas, o->transA ? CUBLAS_OP_T : CUBLAS_OP_N, o->transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                       o->m, o->n, o->k, &one, o->a, o->lda, o->b, o->ldb, &zero, o->c, o->ldc);
}

/* aelab_run queues ops[0..n) on stream, times times over. */
static CUresult aelab_run(const aelab_op *ops, int n, int times, CUstream stream, aelab_blas b, aelab_failure *f) {
    for (int t = 0; t < times; t++) {
        for (int i = 0; i < n; i++) {
            const aelab_op *o = &ops[i];
            if (o->gemm) {
                cublasStatus_t s = aelab_sgemm(o, stream, b);
                if (s != CUBLAS_STATUS_SUCCESS) {
                    f->index = i;
                    f->blas = (int)s;
                    f->lt = o->lt;
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
static CUresult aelab_capture(const aelab_op *ops, int n, int times, CUstream stream, aelab_blas b, CUgraphExec *exec, aelab_failure *f) {
    CUgraph g = NULL;
    CUresult r = cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    if (r != CUDA_SUCCESS) {
        f->index = -1;
        return r;
    }
    CUresult queued = aelab_run(ops, n, times, stream, b, f);
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
static CUresult aelab_time(const aelab_op *op, int times, CUstream stream, aelab_blas b, float *ms, aelab_failure *f) {
    CUgraphExec exec = NULL;
    CUevent start = NULL, stop = NULL;
    CUresult r = aelab_capture(op, 1, times, stream, b, &exec, f);
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

/* aelab_lt_describe makes o's cuBLASLt descriptors for the SGEMM its cublasSgemm arguments
 * describe: FP32 matrices, column-major, the same transposes, sizes and leading dimensions;
 * an FP32 scale, and FP32 products (TF32 inputs where tf32 is set). Each layout is the matrix
 * as stored, before its transpose: op(A) is m×k, so A is k×m when transposed; op(B) is k×n.
 * Where a call fails, *call names it; aelab_lt_free destroys whatever was made. */
static cublasStatus_t aelab_lt_describe(aelab_op *o, int tf32, const char **call) {
    int32_t ta = o->transA ? CUBLAS_OP_T : CUBLAS_OP_N, tb = o->transB ? CUBLAS_OP_T : CUBLAS_OP_N; /* the attributes' type */
    cublasStatus_t s;
    *call = "cublasLtMatmulDescCreate";
    if ((s = cublasLtMatmulDescCreate(&o->desc, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F)) != CUBLAS_STATUS_SUCCESS)
        return s;
    *call = "cublasLtMatmulDescSetAttribute(TRANSA)";
    if ((s = cublasLtMatmulDescSetAttribute(o->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta)) != CUBLAS_STATUS_SUCCESS)
        return s;
    *call = "cublasLtMatmulDescSetAttribute(TRANSB)";
    if ((s = cublasLtMatmulDescSetAttribute(o->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb)) != CUBLAS_STATUS_SUCCESS)
        return s;
    *call = "cublasLtMatrixLayoutCreate(A)";
    if ((s = cublasLtMatrixLayoutCreate(&o->layoutA, CUDA_R_32F, o->transA ? o->k : o->m, o->transA ? o->m : o->k, o->lda)) != CUBLAS_STATUS_SUCCESS)
        return s;
    *call = "cublasLtMatrixLayoutCreate(B)";
    if ((s = cublasLtMatrixLayoutCreate(&o->layoutB, CUDA_R_32F, o->transB ? o->n : o->k, o->transB ? o->k : o->n, o->ldb)) != CUBLAS_STATUS_SUCCESS)
        return s;
    *call = "cublasLtMatrixLayoutCreate(C)";
    return cublasLtMatrixLayoutCreate(&o->layoutC, CUDA_R_32F, o->m, o->n, o->ldc);
}

/* aelab_lt_free destroys o's cuBLASLt descriptors, and o goes back to cublasSgemm. */
static void aelab_lt_free(aelab_op *o) {
    if (o->layoutC != NULL) cublasLtMatrixLayoutDestroy(o->layoutC);
    if (o->layoutB != NULL) cublasLtMatrixLayoutDestroy(o->layoutB);
    if (o->layoutA != NULL) cublasLtMatrixLayoutDestroy(o->layoutA);
    if (o->desc != NULL) cublasLtMatmulDescDestroy(o->desc);
    o->layoutA = o->layoutB = o->layoutC = NULL;
    o->desc = NULL;
    o->lt = 0;
}

/* aelab_alignment is the largest power of two up to 256 that divides p's address. */
static uint32_t aelab_alignment(const void *p) {
    uint32_t a = 256;
    while (a > 1 && (uintptr_t)p % a != 0) a /= 2;
    return a;
}

/* aelab_lt_algos asks cuBLASLt's heuristic for up to want algorithms for o's SGEMM (described
 * by aelab_lt_describe), for its pointers' alignments and at most workspaceBytes of workspace,
 * and keeps in res[0..*found) those it says can run, best first by its estimate. None is not
 * an error: *found is then 0. Where a call fails, *call names it. */
static cublasStatus_t aelab_lt_algos(const aelab_op *o, cublasLtHandle_t lt, size_t workspaceBytes, cublasLtMatmulHeuristicResult_t *res,
                                     int want, int *found, const char **call) {
    cublasLtMatmulPreference_t pref = NULL;
    uint64_t workspace = workspaceBytes;
    uint32_t alignA = aelab_alignment(o->a), alignB = aelab_alignment(o->b), alignC = aelab_alignment(o->c);
    cublasStatus_t s;
    *found = 0;
    *call = "cublasLtMatmulPreferenceCreate";
    if ((s = cublasLtMatmulPreferenceCreate(&pref)) != CUBLAS_STATUS_SUCCESS)
        return s;
    *call = "cublasLtMatmulPreferenceSetAttribute";
    if ((s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace)) == CUBLAS_STATUS_SUCCESS &&
        (s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alignA, sizeof alignA)) == CUBLAS_STATUS_SUCCESS &&
        (s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alignB, sizeof alignB)) == CUBLAS_STATUS_SUCCESS &&
        (s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignC, sizeof alignC)) == CUBLAS_STATUS_SUCCESS &&
        (s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignC, sizeof alignC)) == CUBLAS_STATUS_SUCCESS) {
        *call = "cublasLtMatmulAlgoGetHeuristic";
        s = cublasLtMatmulAlgoGetHeuristic(lt, o->desc, o->layoutA, o->layoutB, o->layoutC, o->layoutC, pref, want, res, found);
        if (s == CUBLAS_STATUS_NOT_SUPPORTED) { /* no algorithm for this configuration */
            s = CUBLAS_STATUS_SUCCESS;
            *found = 0;
        }
    }
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS) {
        *found = 0;
        return s;
    }
    int kept = 0;
    for (int i = 0; i < *found && i < want; i++)
        if (res[i].state == CUBLAS_STATUS_SUCCESS && res[i].workspaceSize <= workspaceBytes) res[kept++] = res[i];
    *found = kept;
    return CUBLAS_STATUS_SUCCESS;
}

#endif /* AELAB_OPS_H */
