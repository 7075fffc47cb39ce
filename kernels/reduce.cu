// Reductions of a buffer viewed as (outer, len, inner) over the middle axis.
// Two shapes of launch: one block per output (long rows, coalesced when inner == 1)
// and one thread per output (many outputs, coalesced across inner). Max and Min
// propagate NaN; ArgMax and ArgMin return the first extreme index, NaN winning,
// exactly as the CPU backend does. 16-bit inputs accumulate in f32.

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
template <typename C> __device__ __forceinline__ bool arg_better(int op, C av, i64 ai, C bv, i64 bi) {
    if (bi < 0) return false;
    if (ai < 0) return true;
    if (is_nan(av)) return is_nan(bv) && bi < ai;
    if (is_nan(bv)) return true;
    if (bv == av) return bi < ai;
    return op == A_MAX ? bv > av : bv < av;
}

template <typename T>
__device__ void argreduce_block_impl(i64* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    typedef typename Ty<T>::C C;
    __shared__ C part_v[32];
    __shared__ i64 part_i[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (u64 r = blockIdx.x; r < outer * inner; r += gridDim.x) {
        const u64 o = r / inner, i = r % inner;
        const T* row = x + o * len * inner + i;
        C v = (C)0;
        i64 k = -1;
        for (u64 l = threadIdx.x; l < len; l += blockDim.x) {
            C c = Ty<T>::load(row[l * inner]);
            if (arg_better(op, v, k, c, (i64)l)) {
                v = c;
                k = (i64)l;
            }
        }
        for (int s = 16; s > 0; s >>= 1) {
            C ov = __shfl_down_sync(0xffffffffu, v, s);
            i64 ok = __shfl_down_sync(0xffffffffu, k, s);
            if (arg_better(op, v, k, ov, ok)) {
                v = ov;
                k = ok;
            }
        }
        if (lane == 0) {
            part_v[warp] = v;
            part_i[warp] = k;
        }
        __syncthreads();
        if (warp == 0) {
            v = lane < warps ? part_v[lane] : (C)0;
            k = lane < warps ? part_i[lane] : -1;
            for (int s = 16; s > 0; s >>= 1) {
                C ov = __shfl_down_sync(0xffffffffu, v, s);
                i64 ok = __shfl_down_sync(0xffffffffu, k, s);
                if (arg_better(op, v, k, ov, ok)) {
                    v = ov;
                    k = ok;
                }
            }
            if (lane == 0) out[r] = k < 0 ? 0 : k;
        }
        __syncthreads();
    }
}

template <typename T>
__device__ void argreduce_thread_impl(i64* out, const T* x, u64 outer, u64 len, u64 inner, int op) {
    typedef typename Ty<T>::C C;
    GRID_LOOP(r, outer * inner) {
        const u64 o = r / inner, i = r % inner;
        const T* col = x + o * len * inner + i;
        C best = Ty<T>::load(col[0]);
        i64 k = 0;
        for (u64 l = 1; l < len && !is_nan(best); ++l) {
            C c = Ty<T>::load(col[l * inner]);
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
