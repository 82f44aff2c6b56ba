// The device code that aelab's kernels (kernels.cu) and the kernels generated for fused
// steps (fusedgen.go) share: the op codes of the unary and binary kernels, the elementwise
// operations, and a block-wide sum. Compiled by NVRTC in front of either.

// Unary and binary op codes, in the order of cuda/kernels.go.
#define OP_NEG 0
#define OP_SQUARE 1
#define OP_SQRT 2
#define OP_EXP 3
#define OP_LOG 4
#define OP_SIGMOID 5
#define OP_TANH 6
#define OP_SOFTPLUS 7
#define OP_ABS 8
#define OP_SIGN 9
#define OP_INV 10
#define OP_CUBE 11
#define OP_LOG1P 12
#define OP_EXPM1 13
#define OP_INVSQRT 14
#define OP_SIGMOIDGRAD 15

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3
#define OP_POW 4
#define OP_LT 5
#define OP_GT 6
#define OP_LE 7
#define OP_GE 8
#define OP_EQ 9
#define OP_NE 10

// Operand modes of binary kernels (graph/plan: modeFull, modeScalar, modeRow, modeCol).
#define MODE_FULL 0
#define MODE_SCALAR 1
#define MODE_ROW 2
#define MODE_COL 3

__device__ __forceinline__ float sigmoidf_(float x) {
    return x >= 0.f ? 1.f / (1.f + expf(-x)) : expf(x) / (1.f + expf(x));
}

__device__ __forceinline__ float unary_op(int op, float v) {
    switch (op) {
    case OP_NEG: return -v;
    case OP_SQUARE: return v * v;
    case OP_SQRT: return sqrtf(v);
    case OP_EXP: return expf(v);
    case OP_LOG: return logf(v);
    case OP_SIGMOID: return sigmoidf_(v);
    case OP_TANH: return tanhf(v);
    case OP_SOFTPLUS: return fmaxf(v, 0.f) + log1pf(expf(-fabsf(v)));
    case OP_ABS: return fabsf(v);
    case OP_SIGN: return v > 0.f ? 1.f : (v < 0.f ? -1.f : 0.f);
    case OP_INV: return 1.f / v;
    case OP_CUBE: return v * v * v;
    case OP_LOG1P: return log1pf(v);
    case OP_EXPM1: return expm1f(v);
    case OP_INVSQRT: return rsqrtf(v);
    case OP_SIGMOIDGRAD: return v * (1.f - v);
    }
    return 0.f;
}

__device__ __forceinline__ float binary_op(int op, float a, float b) {
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_POW: return powf(a, b);
    case OP_LT: return a < b ? 1.f : 0.f;
    case OP_GT: return a > b ? 1.f : 0.f;
    case OP_LE: return a <= b ? 1.f : 0.f;
    case OP_GE: return a >= b ? 1.f : 0.f;
    case OP_EQ: return a == b ? 1.f : 0.f;
    case OP_NE: return a != b ? 1.f : 0.f;
    }
    return 0.f;
}

// block_sum reduces v over a block of 256 threads; every thread gets the total.
__device__ float block_sum(float v) {
    __shared__ float part[256];
    __syncthreads(); // an earlier call's readers are done with part
    part[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
        __syncthreads();
    }
    return part[0];
}

// finish_sum ends a sum over many blocks, from every thread of every block: each block leaves
// its share s in partial[blockIdx.x]; the last block to finish (counted in *done) adds the
// partials in block order into *out and sets *done back to 0, so the result does not depend
// on which block finishes when.
__device__ void finish_sum(float s, float* partial, unsigned int* done, float* out) {
    __shared__ bool last;
    s = block_sum(s);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = s;
        __threadfence();
        last = atomicAdd(done, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (!last) return;
    float t = 0.f;
    for (int b = threadIdx.x; b < gridDim.x; b += blockDim.x) t += ((volatile float*)partial)[b];
    t = block_sum(t);
    if (threadIdx.x == 0) {
        *out = t;
        *done = 0;
    }
}
