// aelab's CUDA kernels: the named kernels of a plan (see graph/plan's Step), and the
// operations around a training step — the batch gathered and corrupted, its loss kept, Adam
// over all parameters at once, the step counters advanced — which read what changes from
// step to step from the counters in device memory, so a captured step replays unchanged.
// Compiled by NVRTC when the cuda backend opens; every kernel is extern "C" so it keeps its
// name.
//
// Sizes are ints: an MNIST batch is far from 2^31 values. common.cuh comes first.

// ADAM_PER is how many values of a parameter each thread of adam and adam_advance updates
// (cuda/backend_cuda.go's adamPer).
#define ADAM_PER 4

// counters is graph/plan's Counters; ops.h declares the same struct for the host.
struct counters {
    unsigned int steps, batch, noise;
    float scale; // the learning rate's factor (ScaleLR); advance keeps it
    float stepSize, beta1, beta2, eps, invSqrtC2;
};

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

// sum_cols: out[r] = Σ_c in[r, c]; one block of 256 threads per row.
extern "C" __global__ void sum_cols(float* out, const float* in, int rows, int cols) {
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        float s = 0.f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) s += in[(long long)r * cols + c];
        s = block_sum(s);
        if (threadIdx.x == 0) out[r] = s;
    }
}

// sum_all: out[0] = Σ in, over many blocks (finish_sum).
extern "C" __global__ void sum_all(float* out, const float* in, int n, float* partial, unsigned int* done) {
    float s = 0.f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) s += in[i];
    finish_sum(s, partial, done, out);
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

// adam_update is one block's share of Adam over every parameter, with the update the
// counters hold, each weight first multiplied by 1 − decayRate·scale (AdamW's weight decay at
// the update's learning rate; decayRate 0: none, rounded as graph.DecayFactor rounds it):
// blockIdx.y picks the parameter, whose pointers and size are in the tables.
__device__ void adam_update(float** w, float** g, float** m, float** v, const int* sizes, const counters* c, float decayRate) {
    int p = blockIdx.y, n = sizes[p];
    float stepSize = c->stepSize * c->scale, beta1 = c->beta1, beta2 = c->beta2, eps = c->eps, invSqrtC2 = c->invSqrtC2;
    float decay = decayRate != 0.f ? __fsub_rn(1.f, __fmul_rn(decayRate, c->scale)) : 1.f;
    float *wp = w[p], *gp = g[p], *mp = m[p], *vp = v[p];
    // ADAM_PER values a thread, all loaded before any is stored: the compiler cannot move a
    // load above a store through pointers that might alias, and one value at a time left
    // each thread waiting on memory in turn.
    for (int base = blockIdx.x * blockDim.x * ADAM_PER + threadIdx.x; base < n; base += gridDim.x * blockDim.x * ADAM_PER) {
        float gi[ADAM_PER], mi[ADAM_PER], vi[ADAM_PER], wi[ADAM_PER];
#pragma unroll
        for (int k = 0; k < ADAM_PER; k++) {
            int i = base + k * blockDim.x;
            if (i < n) {
                gi[k] = gp[i];
                mi[k] = mp[i];
                vi[k] = vp[i];
                wi[k] = wp[i];
            }
        }
#pragma unroll
        for (int k = 0; k < ADAM_PER; k++) {
            int i = base + k * blockDim.x;
            if (i < n) {
                float mk = beta1 * mi[k] + (1.f - beta1) * gi[k];
                float vk = beta2 * vi[k] + (1.f - beta2) * gi[k] * gi[k];
                mp[i] = mk;
                vp[i] = vk;
                float wk = wi[k];
                if (decayRate != 0.f) wk = __fmul_rn(wk, decay);
                wp[i] = wk - stepSize * mk / (sqrtf(vk) * invSqrtC2 + eps);
            }
        }
    }
}

// advance_counters moves the counters on by one step and computes the next Adam update in
// double precision, as graph/plan's AdamAt does on the host; with losses, it first keeps
// the step's loss in losses[batch], so an epoch's losses are read at once.
__device__ void advance_counters(counters* c, double lr, double beta1, double beta2, double eps, float* losses, const float* loss) {
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

// adam updates every parameter in one launch.
extern "C" __global__ void adam(float** w, float** g, float** m, float** v, const int* sizes, const counters* c, float decayRate) {
    adam_update(w, g, m, v, sizes, c, decayRate);
}

// sgd is graph.Adam's SGD update of every parameter in one launch, as vec.SGD computes it:
// v ← μ·v + (g + λ·w), w ← w − stepSize·v, v kept in m; blockIdx.y picks the parameter.
extern "C" __global__ void sgd(float** w, float** g, float** m, const int* sizes, const counters* c, float momentum, float l2) {
    int p = blockIdx.y, n = sizes[p];
    float stepSize = c->stepSize * c->scale;
    float *wp = w[p], *gp = g[p], *mp = m[p];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float wi = wp[i];
        float vi = momentum * mp[i] + (gp[i] + l2 * wi);
        mp[i] = vi;
        wp[i] = wi - stepSize * vi;
    }
}

// advance moves the counters on (one thread).
extern "C" __global__ void advance(counters* c, double lr, double beta1, double beta2, double eps, float* losses, const float* loss) {
    advance_counters(c, lr, beta1, beta2, eps, losses, loss);
}

// adam_advance is adam then advance in one launch, one graph node fewer a step: the last
// block to finish its share of the update (counted in *done, which it sets back to 0) moves
// the counters on, when every block has read them.
extern "C" __global__ void adam_advance(float** w, float** g, float** m, float** v, const int* sizes, counters* c, float decayRate,
                                        unsigned int* done, double lr, double beta1, double beta2, double eps, float* losses, const float* loss) {
    adam_update(w, g, m, v, sizes, c, decayRate);
    __shared__ bool last;
    __syncthreads(); // every thread of the block has read the counters
    if (threadIdx.x == 0) {
        __threadfence();
        last = atomicAdd(done, 1u) == gridDim.x * gridDim.y - 1;
    }
    __syncthreads();
    if (last && threadIdx.x == 0) {
        __threadfence();
        advance_counters(c, lr, beta1, beta2, eps, losses, loss);
        *done = 0;
    }
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
// ν, 3 salt-and-pepper ν; with levelMax above level, each image's level drawn from that
// range) from seed and the counters' noise counter exactly as
// datasets.Noise.ApplyImagesAt draws it: Gaussian values in pairs (2p, 2p+1) from one Box–Muller
// transform of the uniforms of counters 2p and 2p+1.
extern "C" __global__ void gather_corrupt(float* noisy, float* clean, const float* data, const int* order, const counters* c,
                                          int batch, int d, int kind, float level, float levelMax, unsigned long long seed) {
    const int* idx = order + (long long)c->batch * batch;
    unsigned int step = c->noise;
    int n = batch * d;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int k = i / d, j = i % d;
        float x = data[(long long)idx[k] * d + j];
        clean[i] = x;
        float y = x;
        float lv = level;
        if (levelMax > level) // a range: image k's own level, as datasets.Noise.LevelAt draws it (no fused multiply-add)
            lv = __fadd_rn(level, __fmul_rn(levelMax - level, uniform01(hash32(seed ^ 0xD1B54A32D192ED03ull, step, (unsigned int)k))));
        if (kind == 1) {
            unsigned int p = (unsigned int)i >> 1;
            float u1 = ((hash32(seed, step, 2 * p) >> 8) + 1) * (1.f / 16777216.f);
            float u2 = uniform01(hash32(seed, step, 2 * p + 1));
            float r = sqrtf(-2.f * logf(u1)), sn, cs;
            sincospif(2.f * u2, &sn, &cs);
            y = x + lv * (r * ((i & 1) ? sn : cs));
        } else if (kind == 2) {
            if (uniform01(hash32(seed, step, i)) < lv) y = 0.f;
        } else if (kind == 3) {
            unsigned int h = hash32(seed, step, i);
            if (uniform01(h) < lv) y = (float)(h & 1u);
        }
        noisy[i] = y;
    }
}
