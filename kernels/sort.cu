// Stable sort of a buffer viewed as (outer, len, inner) along the middle axis, giving
// the sorted values and their i64 positions in the input row, exactly as the CPU
// backend (src/backend/cpu/sort.rs): NaN sorts above everything, -0.0 equals 0.0,
// equal elements keep their input order (descending too). Values are moved, never
// rounded; 16-bit floats are compared as their f32 widening, i64 as i64.
//
// Two launch shapes (src/backend/cuda/sort.rs):
// - `sort_thread_*`: one thread per row, insertion sort in the outputs, for short rows.
// - `sort_block_*`: one block per row, bottom-up merge sort in global memory. Each
//   pass merges pairs of sorted runs; every element finds its place in the merged run
//   on its own (its offset in its run plus a binary search of the other run), so the
//   block's threads split the row and one barrier ends the pass. The host passes a
//   scratch copy of both outputs; the pass count fixes which buffer the first pass
//   reads, so that the last one writes the outputs.

template <typename T> struct SortKey {
    typedef typename Ty<T>::C K;
    static __device__ __forceinline__ K load(T v) { return Ty<T>::load(v); }
};
template <> struct SortKey<i64> {
    typedef i64 K;
    static __device__ __forceinline__ i64 load(i64 v) { return v; }
};

// Whether key `a` goes strictly before key `b` (equal keys: neither).
template <typename K> __device__ __forceinline__ bool sort_before(K a, K b, int descending) {
    if (descending) {
        K t = a;
        a = b;
        b = t;
    }
    return !is_nan(a) && (is_nan(b) || a < b);
}

template <typename T>
__device__ void sort_thread_impl(T* vals, i64* ids, const T* x, u64 outer, u64 len, u64 inner, int descending) {
    typedef SortKey<T> S;
    GRID_LOOP(r, outer * inner) {
        const u64 o = r / inner, i = r % inner;
        const u64 base = o * len * inner + i;
        for (u64 l = 0; l < len; ++l) {
            const T v = x[base + l * inner];
            const typename S::K k = S::load(v);
            u64 j = l;
            // Shifting only past strictly later keys keeps equal ones in order.
            while (j > 0 && sort_before(k, S::load(vals[base + (j - 1) * inner]), descending)) {
                vals[base + j * inner] = vals[base + (j - 1) * inner];
                ids[base + j * inner] = ids[base + (j - 1) * inner];
                --j;
            }
            vals[base + j * inner] = v;
            ids[base + j * inner] = (i64)l;
        }
    }
}

template <typename T>
__device__ void sort_block_impl(T* vals, i64* ids, T* tmp_vals, i64* tmp_ids, const T* x, u64 outer, u64 len,
                                u64 inner, int descending) {
    typedef SortKey<T> S;
    typedef typename S::K K;
    u32 passes = 0;
    for (u64 w = 1; w < len; w <<= 1) ++passes;
    for (u64 r = blockIdx.x; r < outer * inner; r += gridDim.x) {
        const u64 base = (r / inner) * len * inner + r % inner;
        T* sv = (passes & 1) ? tmp_vals : vals;
        i64* si = (passes & 1) ? tmp_ids : ids;
        T* dv = (passes & 1) ? vals : tmp_vals;
        i64* di = (passes & 1) ? ids : tmp_ids;
        for (u64 l = threadIdx.x; l < len; l += blockDim.x) {
            sv[base + l * inner] = x[base + l * inner];
            si[base + l * inner] = (i64)l;
        }
        __syncthreads();
        for (u64 w = 1; w < len; w <<= 1) {
            for (u64 l = threadIdx.x; l < len; l += blockDim.x) {
                const u64 lo = l / (2 * w) * (2 * w);
                const u64 mid = lo + w < len ? lo + w : len;
                const u64 hi = mid + w < len ? mid + w : len;
                const K k = S::load(sv[base + l * inner]);
                // Left-run elements go before the right run's strictly smaller keys
                // only; right-run elements go after the left run's equal keys.
                const bool left = l < mid;
                u64 a = left ? mid : lo, b = left ? hi : mid;
                while (a < b) {
                    const u64 m = a + (b - a) / 2;
                    const K o = S::load(sv[base + m * inner]);
                    const bool first = left ? sort_before(o, k, descending) : !sort_before(k, o, descending);
                    if (first) a = m + 1;
                    else b = m;
                }
                const u64 pos = left ? l + (a - mid) : (l - mid) + lo + (a - lo);
                dv[base + pos * inner] = sv[base + l * inner];
                di[base + pos * inner] = si[base + l * inner];
            }
            __syncthreads();
            T* t = sv;
            sv = dv;
            dv = t;
            i64* u = si;
            si = di;
            di = u;
        }
    }
}

#define SORT(name, T) \
    extern "C" __global__ void sort_thread_##name(T* vals, i64* ids, const T* x, u64 outer, u64 len, u64 inner, \
                                                  int descending) { \
        sort_thread_impl<T>(vals, ids, x, outer, len, inner, descending); \
    } \
    extern "C" __global__ void sort_block_##name(T* vals, i64* ids, T* tmp_vals, i64* tmp_ids, const T* x, \
                                                 u64 outer, u64 len, u64 inner, int descending) { \
        sort_block_impl<T>(vals, ids, tmp_vals, tmp_ids, x, outer, len, inner, descending); \
    }

SORT(f32, float)
SORT(f64, double)
SORT(f16, f16)
SORT(bf16, bf16)
SORT(i64, i64)
