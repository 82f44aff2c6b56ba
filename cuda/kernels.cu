// aelab's CUDA kernels: the named kernels of a plan (see graph/plan's Step), and the
// operations around a training step — the batch gathered and corrupted, its loss kept, Adam
// over all parameters at once, the step counters advanced — which read what changes from
// step to step from the counters in device memory, so a captured step replays unchanged.
// Compiled by NVRTC when the cuda backend opens; every kernel is extern "C" so it keeps its
// name.
//
// Sizes are ints: an MNIST batch is far from 2^31 values.

// counters is graph/plan's Counters; ops.h declares the same struct for the host.
struct counters {
    unsigned int steps, batch, noise, pad;
    float stepSize, beta1, beta2, eps, invSqrtC2;
};

// fused_program is a fused step of a plan (graph/plan's Fusion): instruction k computes
// register k by unary op op[k] (or binary op op[k] − 100) of its operands, each a register
// (≥ 0) or input −1 − i read in its mode; registers outReg[o] are stored to out[o], and
// register reduceReg (when ≥ 0) is summed over the rows (reduceAxis 0) or everything (2)
// into reduceOut. ops.h declares the same struct for the host.
#define FUSED_MAX_CODE 32
#define FUSED_MAX_IN 12
#define FUSED_MAX_OUT 6
struct fused_program {
    int rows, cols, ncode, nout, reduceReg, reduceAxis;
    int op[FUSED_MAX_CODE], a[FUSED_MAX_CODE], b[FUSED_MAX_CODE], amode[FUSED_MAX_CODE], bmode[FUSED_MAX_CODE];
    int outReg[FUSED_MAX_OUT];
    const float* in[FUSED_MAX_IN];
    float* out[FUSED_MAX_OUT];
    float* reduceOut;
};

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

__device__ __forceinline__ int operand(int mode, int i, int cols) {
    switch (mode) {
    case MODE_SCALAR: return 0;
    case MODE_ROW: return i % cols;
    case MODE_COL: return i / cols;
    }
    return i;
}

extern "C" __global__ void unary(float* out, const float* a, int n, int op) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        out[i] = unary_op(op, a[i]);
}

extern "C" __global__ void binary(float* out, const float* a, const float* b, int n, int op, int modeA, int modeB, int cols) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        out[i] = binary_op(op, a[operand(modeA, i, cols)], b[operand(modeB, i, cols)]);
}

// broadcast: out (rows × cols) from in (inRows × inCols, each 1 or full).
extern "C" __global__ void broadcast(float* out, const float* in, int rows, int cols, int inRows, int inCols) {
    int n = rows * cols;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int r = i / cols, c = i % cols;
        out[i] = in[(inRows == 1 ? 0 : r) * inCols + (inCols == 1 ? 0 : c)];
    }
}

// sum_rows: out[c] = Σ_r in[r, c]. A block of 256 threads takes 32 columns: 8 lanes of
// threads sum every 8th row of their column (reads stay coalesced along a row), then the
// lanes' sums are added in lane order.
extern "C" __global__ void sum_rows(float* out, const float* in, int rows, int cols) {
    __shared__ float part[8][33];
    int col = blockIdx.x * 32 + threadIdx.x % 32, lane = threadIdx.x / 32;
    float s = 0.f;
    if (col < cols)
        for (int r = lane; r < rows; r += 8) s += in[(long long)r * cols + col];
    part[lane][threadIdx.x % 32] = s;
    __syncthreads();
    if (lane == 0 && col < cols) {
        float t = part[0][threadIdx.x];
        for (int l = 1; l < 8; l++) t += part[l][threadIdx.x];
        out[col] = t;
    }
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

// sum_cols: out[r] = Σ_c in[r, c]; one block of 256 threads per row.
extern "C" __global__ void sum_cols(float* out, const float* in, int rows, int cols) {
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        float s = 0.f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) s += in[(long long)r * cols + c];
        s = block_sum(s);
        if (threadIdx.x == 0) out[r] = s;
    }
}

// sum_all: out[0] = Σ in. Every block sums its share into partial[blockIdx.x]; the last block
// to finish (counted in *done) adds the partials in block order and sets *done back to 0,
// so the result does not depend on which block finishes when.
extern "C" __global__ void sum_all(float* out, const float* in, int n, float* partial, unsigned int* done) {
    __shared__ bool last;
    float s = 0.f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) s += in[i];
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
        out[0] = t;
        *done = 0;
    }
}

// fused_operand reads operand x of value i (row, col) of a fused program.
__device__ __forceinline__ float fused_operand(const fused_program* p, const float* r, int x, int mode, int i, int row, int col) {
    if (x >= 0) return r[x];
    const float* in = p->in[-1 - x];
    switch (mode) {
    case MODE_SCALAR: return in[0];
    case MODE_ROW: return in[col];
    case MODE_COL: return in[row];
    }
    return in[i];
}

// fused_value runs a fused program for value i, stores its outputs and returns the register
// it reduces (0 without a reduction).
__device__ float fused_value(const fused_program* p, int i, int row, int col) {
    float r[FUSED_MAX_CODE];
    int n = p->ncode;
    for (int k = 0; k < n; k++) {
        int op = p->op[k];
        float a = fused_operand(p, r, p->a[k], p->amode[k], i, row, col);
        r[k] = op >= 100 ? binary_op(op - 100, a, fused_operand(p, r, p->b[k], p->bmode[k], i, row, col)) : unary_op(op, a);
    }
    for (int o = 0; o < p->nout; o++) p->out[o][i] = r[p->outReg[o]];
    return p->reduceReg >= 0 ? r[p->reduceReg] : 0.f;
}

// fused_flat runs a fused program over every value, one thread a value; with a sum of
// everything it finishes as sum_all does (partial sums per block, the last block adds them).
extern "C" __global__ void fused_flat(const fused_program* p, float* partial, unsigned int* done) {
    __shared__ bool last;
    int cols = p->cols, n = p->rows * cols;
    float s = 0.f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) s += fused_value(p, i, i / cols, i % cols);
    if (p->reduceReg < 0) return;
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
        p->reduceOut[0] = t;
        *done = 0;
    }
}

// fused_cols runs a fused program whose register is summed over the rows: as in sum_rows,
// a block takes 32 columns and 8 lanes of threads take every 8th row.
extern "C" __global__ void fused_cols(const fused_program* p) {
    __shared__ float part[8][33];
    int rows = p->rows, cols = p->cols;
    int col = blockIdx.x * 32 + threadIdx.x % 32, lane = threadIdx.x / 32;
    float s = 0.f;
    if (col < cols)
        for (int r = lane; r < rows; r += 8) s += fused_value(p, r * cols + col, r, col);
    part[lane][threadIdx.x % 32] = s;
    __syncthreads();
    if (lane == 0 && col < cols) {
        float t = part[0][threadIdx.x];
        for (int l = 1; l < 8; l++) t += part[l][threadIdx.x];
        p->reduceOut[col] = t;
    }
}

// softmax along each row (log_ != 0: its logarithm); one thread per row.
extern "C" __global__ void softmax(float* out, const float* in, int rows, int cols, int log_) {
    for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += gridDim.x * blockDim.x) {
        const float* x = in + r * cols;
        float* y = out + r * cols;
        float m = x[0];
        for (int c = 1; c < cols; c++) m = fmaxf(m, x[c]);
        float s = 0.f;
        for (int c = 0; c < cols; c++) s += expf(x[c] - m);
        float ls = logf(s);
        for (int c = 0; c < cols; c++) y[c] = log_ ? x[c] - m - ls : expf(x[c] - m) / s;
    }
}

// softmax_grad: the derivative with respect to the input of softmax (or log-softmax) with
// output y, given dy: y ⊙ (dy − Σ dy⊙y), or dy − e^y Σ dy.
extern "C" __global__ void softmax_grad(float* out, const float* y, const float* dy, int rows, int cols, int log_) {
    for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += gridDim.x * blockDim.x) {
        const float* yr = y + r * cols;
        const float* dr = dy + r * cols;
        float* o = out + r * cols;
        float s = 0.f;
        for (int c = 0; c < cols; c++) s += log_ ? dr[c] : dr[c] * yr[c];
        for (int c = 0; c < cols; c++) o[c] = log_ ? dr[c] - expf(yr[c]) * s : yr[c] * (dr[c] - s);
    }
}

extern "C" __global__ void copy(float* out, const float* in, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = in[i];
}

// adam updates every parameter in one launch, with the update the counters hold:
// blockIdx.y picks the parameter, whose pointers and size are in the tables.
extern "C" __global__ void adam(float** w, float** g, float** m, float** v, const int* sizes, const counters* c) {
    int p = blockIdx.y, n = sizes[p];
    float stepSize = c->stepSize, beta1 = c->beta1, beta2 = c->beta2, eps = c->eps, invSqrtC2 = c->invSqrtC2;
    float *wp = w[p], *gp = g[p], *mp = m[p], *vp = v[p];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float gi = gp[i];
        float mi = beta1 * mp[i] + (1.f - beta1) * gi;
        float vi = beta2 * vp[i] + (1.f - beta2) * gi * gi;
        mp[i] = mi;
        vp[i] = vi;
        wp[i] -= stepSize * mi / (sqrtf(vi) * invSqrtC2 + eps);
    }
}

// advance moves the counters on by one step and computes the next Adam update in double
// precision, as graph/plan's AdamAt does on the host (one thread); with losses, it first
// keeps the step's loss in losses[batch], so an epoch's losses are read at once.
extern "C" __global__ void advance(counters* c, double lr, double beta1, double beta2, double eps, float* losses, const float* loss) {
    if (losses) losses[c->batch] = loss[0];
    unsigned int t = c->steps + 1;
    c->steps = t;
    c->batch++;
    c->noise++;
    double next = (double)(t + 1);
    c->stepSize = (float)(lr / (1.0 - pow(beta1, next)));
    c->beta1 = (float)beta1;
    c->beta2 = (float)beta2;
    c->eps = (float)eps;
    c->invSqrtC2 = (float)(1.0 / sqrt(1.0 - pow(beta2, next)));
}

// hash32 is datasets' hashAt: a PCG output permutation of a counter mixed with the seed.
__device__ __forceinline__ unsigned int hash32(unsigned long long seed, unsigned int step, unsigned int i) {
    unsigned long long x = seed ^ (0x9E3779B97F4A7C15ull * (((unsigned long long)step << 32) | i));
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    unsigned int xorshifted = (unsigned int)(((x >> 18u) ^ x) >> 27u);
    unsigned int rot = (unsigned int)(x >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

__device__ __forceinline__ float uniform01(unsigned int h) { return (h >> 8) * (1.f / 16777216.f); }

// gather_corrupt builds a training batch on the device: clean[k] = data[order[batch·B + k]]
// with batch from the counters, and noisy its corruption (kind 0 none, 1 gaussian σ, 2 mask
// ν, 3 salt-and-pepper ν) drawn from seed and the counters' noise counter exactly as
// datasets.Noise.ApplyAt draws it: Gaussian values in pairs (2p, 2p+1) from one Box–Muller
// transform of the uniforms of counters 2p and 2p+1.
extern "C" __global__ void gather_corrupt(float* noisy, float* clean, const float* data, const int* order, const counters* c,
                                          int batch, int d, int kind, float level, unsigned long long seed) {
    const int* idx = order + (long long)c->batch * batch;
    unsigned int step = c->noise;
    int n = batch * d;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int k = i / d, j = i % d;
        float x = data[(long long)idx[k] * d + j];
        clean[i] = x;
        float y = x;
        if (kind == 1) {
            unsigned int p = (unsigned int)i >> 1;
            float u1 = ((hash32(seed, step, 2 * p) >> 8) + 1) * (1.f / 16777216.f);
            float u2 = uniform01(hash32(seed, step, 2 * p + 1));
            float r = sqrtf(-2.f * logf(u1)), sn, cs;
            sincospif(2.f * u2, &sn, &cs);
            y = x + level * (r * ((i & 1) ? sn : cs));
        } else if (kind == 2) {
            if (uniform01(hash32(seed, step, i)) < level) y = 0.f;
        } else if (kind == 3) {
            unsigned int h = hash32(seed, step, i);
            if (uniform01(h) < level) y = (float)(h & 1u);
        }
        noisy[i] = y;
    }
}
