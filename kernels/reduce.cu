// Reductions of a buffer viewed as (outer, len, inner) over the middle axis.
// Three shapes of launch: one block per output (long rows, coalesced when inner == 1),
// one thread per output (many outputs, coalesced across inner), and, for a few very
// long rows (a full sum, a loss, a gradient norm), two passes: `*_partial` splits
// each row into chunks, one block per (output, chunk), and writes each chunk's
// result in the compute type; `*_finish` reduces each output's partials with one
// block. The split depends only on the shape and no atomics are used, so results
// are deterministic. Max and Min propagate NaN; ArgMax and ArgMin return the first
// extreme index, NaN winning, exactly as the CPU backend does. 16-bit inputs
// accumulate in f32, and their partials stay f32, so they are rounded once.

enum ReduceCode { R_SUM = 0, R_MAX = 1, R_MIN = 2 };
enum ArgCode { A_MAX = 0, A_MIN = 1 };

#define REDUCE_THREADS 256

template <typename C> __device__ __forceinline__ C reduce_identity(int op) {
    if (op == R_SUM) return (C)0;
    C inf = (C)1.0 / (C)0.0;
    return op == R_MAX ? -inf : inf;
}

// `a` is the running value, `b` the newcomer: the CPU's `pick`, symmetric enough for a tree.
template <typename C> __device__ __forceinline__ C reduce_combine(int op, C a, C b) {
    if (op == R_SUM) return a + b;
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    if (op == R_MAX) return b > a ? b : a;
    return b < a ? b : a;
}

template <typename C> __device__ C block_reduce(int op, C v) {
    __shared__ C part[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v = reduce_combine(op, v, __shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? part[lane] : reduce_identity<C>(op);
        for (int o = 16; o > 0; o >>= 1) v = reduce_combine(op, v, __shfl_down_sync(0xffffffffu, v, o));
    }
    __syncthreads();
    return v;
}

template <typename T>
__device__ void reduce_block_impl(T* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    typedef typename Ty<T>::C C;
    for (u64 r = blockIdx.x; r < outer * inner; r += gridDim.x) {
        const u64 o = r / inner, i = r % inner;
        const T* row = x + o * len * inner + i;
        C acc = reduce_identity<C>(op);
        for (u64 l = threadIdx.x; l < len; l += blockDim.x) acc = reduce_combine(op, acc, Ty<T>::load(row[l * inner]));
        acc = block_reduce<C>(op, acc);
        if (threadIdx.x == 0) out[r] = Ty<T>::store(acc);
    }
}

template <typename T>
__device__ void reduce_thread_impl(T* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    typedef typename Ty<T>::C C;
    GRID_LOOP(r, outer * inner) {
        const u64 o = r / inner, i = r % inner;
        const T* col = x + o * len * inner + i;
        C acc = Ty<T>::load(col[0]);
        for (u64 l = 1; l < len; ++l) acc = reduce_combine(op, acc, Ty<T>::load(col[l * inner]));
        out[r] = Ty<T>::store(acc);
    }
}

// (value, index) pairs; index -1 marks a thread that saw no element.
// What argmax/argmin compare: the compute type for floats, the labels themselves
// for i64 (an f64 holds integers exactly only up to 2^53, and the CPU compares i64).
template <typename T> struct ArgTy {
    typedef typename Ty<T>::C V;
    static __device__ __forceinline__ V load(T v) { return Ty<T>::load(v); }
};
template <> struct ArgTy<i64> {
    typedef i64 V;
    static __device__ __forceinline__ i64 load(i64 v) { return v; }
};
// The narrower integers and bool compare widened to i32 (exact, and a type
// warp shuffles move).
#define ARG_AS_I32(T) \
    template <> struct ArgTy<T> { \
        typedef i32 V; \
        static __device__ __forceinline__ i32 load(T v) { return (i32)v; } \
    };
ARG_AS_I32(i32)
ARG_AS_I32(i8)
ARG_AS_I32(u8)
ARG_AS_I32(bool)

template <typename C> __device__ __forceinline__ bool arg_better(int op, C av, i64 ai, C bv, i64 bi) {
    if (bi < 0) return false;
    if (ai < 0) return true;
    if (is_nan(av)) return is_nan(bv) && bi < ai;
    if (is_nan(bv)) return true;
    if (bv == av) return bi < ai;
    return op == A_MAX ? bv > av : bv < av;
}

// Keeps the better of (v, k) and the pair `s` lanes down, across a warp.
template <typename C> __device__ __forceinline__ void arg_warp_reduce(int op, C& v, i64& k) {
    for (int s = 16; s > 0; s >>= 1) {
        C ov = __shfl_down_sync(0xffffffffu, v, s);
        i64 ok = __shfl_down_sync(0xffffffffu, k, s);
        if (arg_better(op, v, k, ov, ok)) {
            v = ov;
            k = ok;
        }
    }
}

// The block's best (value, index) pair, valid in thread 0; every thread must call it.
template <typename C> __device__ void arg_block_reduce(int op, C& v, i64& k) {
    __shared__ C part_v[32];
    __shared__ i64 part_i[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    arg_warp_reduce(op, v, k);
    if (lane == 0) {
        part_v[warp] = v;
        part_i[warp] = k;
    }
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? part_v[lane] : (C)0;
        k = lane < warps ? part_i[lane] : -1;
        arg_warp_reduce(op, v, k);
    }
    // The next call reuses part_v/part_i: nobody may write them before all have read.
    __syncthreads();
}

template <typename T>
__device__ void argreduce_block_impl(i64* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    typedef typename ArgTy<T>::V C;
    for (u64 r = blockIdx.x; r < outer * inner; r += gridDim.x) {
        const u64 o = r / inner, i = r % inner;
        const T* row = x + o * len * inner + i;
        C v = (C)0;
        i64 k = -1;
        for (u64 l = threadIdx.x; l < len; l += blockDim.x) {
            C c = ArgTy<T>::load(row[l * inner]);
            if (arg_better(op, v, k, c, (i64)l)) {
                v = c;
                k = (i64)l;
            }
        }
        arg_block_reduce<C>(op, v, k);
        if (threadIdx.x == 0) out[r] = k < 0 ? 0 : k;
    }
}

// Pass 1 of the two-pass shape: block b reduces chunk b % chunks (elements
// [c * chunk, min(len, (c + 1) * chunk)) of the row) of output b / chunks. The
// host sizes the chunks so that none is empty.
template <typename T>
__device__ void reduce_partial_impl(typename Ty<T>::C* part, const T* x, u64 outer, u64 len, u64 inner, u64 chunk,
                                    u64 chunks, int op) {
    typedef typename Ty<T>::C C;
    for (u64 b = blockIdx.x; b < outer * inner * chunks; b += gridDim.x) {
        const u64 r = b / chunks, c = b % chunks;
        const u64 o = r / inner, i = r % inner;
        const T* row = x + o * len * inner + i;
        const u64 start = c * chunk, end = len - start < chunk ? len : start + chunk;
        C acc = reduce_identity<C>(op);
        for (u64 l = start + threadIdx.x; l < end; l += blockDim.x)
            acc = reduce_combine(op, acc, Ty<T>::load(row[l * inner]));
        acc = block_reduce<C>(op, acc);
        if (threadIdx.x == 0) part[b] = acc;
    }
}

// Pass 2: output r combines its `chunks` partials, stored contiguously.
template <typename T>
__device__ void reduce_finish_impl(T* out, const typename Ty<T>::C* part, u64 outputs, u64 chunks, int op) {
    typedef typename Ty<T>::C C;
    for (u64 r = blockIdx.x; r < outputs; r += gridDim.x) {
        C acc = reduce_identity<C>(op);
        for (u64 j = threadIdx.x; j < chunks; j += blockDim.x) acc = reduce_combine(op, acc, part[r * chunks + j]);
        acc = block_reduce<C>(op, acc);
        if (threadIdx.x == 0) out[r] = Ty<T>::store(acc);
    }
}

// Pass 1 of argmax/argmin: each chunk's best value (in the compute type) and its
// index in the whole row.
template <typename T>
__device__ void argreduce_partial_impl(typename ArgTy<T>::V* part_v, i64* part_i, const T* x, u64 outer, u64 len,
                                       u64 inner, u64 chunk, u64 chunks, int op) {
    typedef typename ArgTy<T>::V C;
    for (u64 b = blockIdx.x; b < outer * inner * chunks; b += gridDim.x) {
        const u64 r = b / chunks, c = b % chunks;
        const u64 o = r / inner, i = r % inner;
        const T* row = x + o * len * inner + i;
        const u64 start = c * chunk, end = len - start < chunk ? len : start + chunk;
        C v = (C)0;
        i64 k = -1;
        for (u64 l = start + threadIdx.x; l < end; l += blockDim.x) {
            C e = ArgTy<T>::load(row[l * inner]);
            if (arg_better(op, v, k, e, (i64)l)) {
                v = e;
                k = (i64)l;
            }
        }
        arg_block_reduce<C>(op, v, k);
        if (threadIdx.x == 0) {
            part_v[b] = v;
            part_i[b] = k;
        }
    }
}

// Pass 2 of argmax/argmin: arg_better compares indices on ties and among NaNs, so
// the first index wins whichever chunk it came from.
template <typename T>
__device__ void argreduce_finish_impl(i64* out, const typename ArgTy<T>::V* part_v, const i64* part_i, u64 outputs,
                                      u64 chunks, int op) {
    typedef typename ArgTy<T>::V C;
    for (u64 r = blockIdx.x; r < outputs; r += gridDim.x) {
        C v = (C)0;
        i64 k = -1;
        for (u64 j = threadIdx.x; j < chunks; j += blockDim.x) {
            const u64 p = r * chunks + j;
            if (arg_better(op, v, k, part_v[p], part_i[p])) {
                v = part_v[p];
                k = part_i[p];
            }
        }
        arg_block_reduce<C>(op, v, k);
        if (threadIdx.x == 0) out[r] = k < 0 ? 0 : k;
    }
}

template <typename T>
__device__ void argreduce_thread_impl(i64* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    typedef typename ArgTy<T>::V C;
    GRID_LOOP(r, outer * inner) {
        const u64 o = r / inner, i = r % inner;
        const T* col = x + o * len * inner + i;
        C best = ArgTy<T>::load(col[0]);
        i64 k = 0;
        for (u64 l = 1; l < len && !is_nan(best); ++l) {
            C c = ArgTy<T>::load(col[l * inner]);
            if (is_nan(c) || (op == A_MAX ? c > best : c < best)) {
                best = c;
                k = (i64)l;
            }
        }
        out[r] = k;
    }
}

#define REDUCE(name, T) \
    extern "C" __global__ void reduce_block_##name(T* out, const T* x, u64 outer, u64 len, u64 inner, int op) { \
        reduce_block_impl<T>(out, x, outer, len, inner, op); \
    } \
    extern "C" __global__ void reduce_thread_##name(T* out, const T* x, u64 outer, u64 len, u64 inner, int op) { \
        reduce_thread_impl<T>(out, x, outer, len, inner, op); \
    } \
    extern "C" __global__ void argreduce_block_##name(i64* out, const T* x, u64 outer, u64 len, u64 inner, int op) { \
        argreduce_block_impl<T>(out, x, outer, len, inner, op); \
    } \
    extern "C" __global__ void argreduce_thread_##name(i64* out, const T* x, u64 outer, u64 len, u64 inner, \
                                                       int op) { \
        argreduce_thread_impl<T>(out, x, outer, len, inner, op); \
    } \
    extern "C" __global__ void reduce_partial_##name(Ty<T>::C* part, const T* x, u64 outer, u64 len, u64 inner, \
                                                     u64 chunk, u64 chunks, int op) { \
        reduce_partial_impl<T>(part, x, outer, len, inner, chunk, chunks, op); \
    } \
    extern "C" __global__ void reduce_finish_##name(T* out, const Ty<T>::C* part, u64 outputs, u64 chunks, int op) { \
        reduce_finish_impl<T>(out, part, outputs, chunks, op); \
    } \
    ARGREDUCE_SPLIT(name, T)

// The two-pass argmax/argmin kernels of one input type.
#define ARGREDUCE_SPLIT(name, T) \
    extern "C" __global__ void argreduce_partial_##name(ArgTy<T>::V* part_v, i64* part_i, const T* x, u64 outer, \
                                                        u64 len, u64 inner, u64 chunk, u64 chunks, int op) { \
        argreduce_partial_impl<T>(part_v, part_i, x, outer, len, inner, chunk, chunks, op); \
    } \
    extern "C" __global__ void argreduce_finish_##name(i64* out, const ArgTy<T>::V* part_v, const i64* part_i, \
                                                       u64 outputs, u64 chunks, int op) { \
        argreduce_finish_impl<T>(out, part_v, part_i, outputs, chunks, op); \
    }

REDUCE(f32, float)
REDUCE(f64, double)
REDUCE(f16, f16)
REDUCE(bf16, bf16)

// Integer labels have an argmax too (compared in f64, as on the CPU).
extern "C" __global__ void argreduce_block_i64(i64* out, const i64* x, u64 outer, u64 len, u64 inner, int op) {
    argreduce_block_impl<i64>(out, x, outer, len, inner, op);
}
extern "C" __global__ void argreduce_thread_i64(i64* out, const i64* x, u64 outer, u64 len, u64 inner, int op) {
    argreduce_thread_impl<i64>(out, x, outer, len, inner, op);
}
ARGREDUCE_SPLIT(i64, i64)

// Argmax/argmin of the other integer types and bool.
#define ARGREDUCE_INT(name, T) \
    extern "C" __global__ void argreduce_block_##name(i64* out, const T* x, u64 outer, u64 len, u64 inner, int op) { \
        argreduce_block_impl<T>(out, x, outer, len, inner, op); \
    } \
    extern "C" __global__ void argreduce_thread_##name(i64* out, const T* x, u64 outer, u64 len, u64 inner, \
                                                       int op) { \
        argreduce_thread_impl<T>(out, x, outer, len, inner, op); \
    } \
    ARGREDUCE_SPLIT(name, T)
ARGREDUCE_INT(i32, i32)
ARGREDUCE_INT(i8, i8)
ARGREDUCE_INT(u8, u8)
ARGREDUCE_INT(bool, bool)

// Integer sum (wrapping, through u64), max and min: one thread per output, in
// order, so the result is exact and deterministic. The tensor op widens integer
// sums to i64 first, as PyTorch returns them. `len` is at least 1.
template <typename T>
__device__ void reduce_int_impl(T* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    GRID_LOOP(r, outer * inner) {
        const u64 o = r / inner, i = r % inner;
        const T* col = x + o * len * inner + i;
        T acc = col[0];
        for (u64 l = 1; l < len; ++l) {
            const T v = col[l * inner];
            if (op == R_SUM) acc = (T)((u64)(i64)acc + (u64)(i64)v);
            else if (op == R_MAX) acc = v > acc ? v : acc;
            else acc = v < acc ? v : acc;
        }
        out[r] = acc;
    }
}
#define REDUCE_INT(name, T) \
    extern "C" __global__ void reduce_int_##name(T* out, const T* x, u64 outer, u64 len, u64 inner, int op) { \
        reduce_int_impl<T>(out, x, outer, len, inner, op); \
    }
REDUCE_INT(i64, i64)
REDUCE_INT(i32, i32)
REDUCE_INT(i8, i8)
REDUCE_INT(u8, u8)
