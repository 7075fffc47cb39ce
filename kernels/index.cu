// Index-driven ops on buffers viewed as (outer, dim, inner) with i64 indices
// (i32 indices are widened by a cast kernel first, see src/backend/cuda/index.rs).
// An out-of-range index is never dereferenced: the kernel records it in the
// device's error record (report_bad_index) and writes or adds nothing for it;
// the host turns the record into an error at its next synchronisation.
// The adjoints accumulate with atomicAdd into an f32 (or f64) buffer; 16-bit
// results are narrowed afterwards by a cast, as the CPU accumulates in f32.

enum IndexCode { I_SELECT = 1, I_ADD = 2, I_GATHER = 3, I_SCATTER = 4 };

__device__ __forceinline__ bool bad_index(i64 id, u64 dim) { return id < 0 || (u64)id >= dim; }

#define MOVE(name, V) \
    extern "C" __global__ void index_select_##name(V* out, const V* x, const i64* ids, u64 outer, u64 nids, \
                                                   u64 dim, u64 inner, u64* err) { \
        GRID_LOOP(t, outer * nids * inner) { \
            const u64 i = t % inner, j = (t / inner) % nids, o = t / (inner * nids); \
            const i64 id = ids[j]; \
            if (bad_index(id, dim)) { \
                report_bad_index(err, I_SELECT, id, dim); \
                out[t] = 0; \
            } else { \
                out[t] = x[(o * dim + (u64)id) * inner + i]; \
            } \
        } \
    } \
    extern "C" __global__ void gather_##name(V* out, const V* x, const i64* ids, u64 outer, u64 nidx, u64 dim, \
                                             u64 inner, u64* err) { \
        GRID_LOOP(t, outer * nidx * inner) { \
            const u64 i = t % inner, o = t / (inner * nidx); \
            const i64 id = ids[t]; \
            if (bad_index(id, dim)) { \
                report_bad_index(err, I_GATHER, id, dim); \
                out[t] = 0; \
            } else { \
                out[t] = x[(o * dim + (u64)id) * inner + i]; \
            } \
        } \
    }
MOVE(b1, u8)
MOVE(b2, u16)
MOVE(b4, u32)
MOVE(b8, u64)

#define ACCUMULATE(name, T) \
    extern "C" __global__ void index_add_##name(Ty<T>::C* acc, const T* g, const i64* ids, u64 outer, u64 nids, \
                                                u64 dim, u64 inner, u64* err) { \
        GRID_LOOP(t, outer * nids * inner) { \
            const u64 i = t % inner, j = (t / inner) % nids, o = t / (inner * nids); \
            const i64 id = ids[j]; \
            if (bad_index(id, dim)) { \
                report_bad_index(err, I_ADD, id, dim); \
            } else { \
                atomicAdd(acc + (o * dim + (u64)id) * inner + i, Ty<T>::load(g[t])); \
            } \
        } \
    } \
    extern "C" __global__ void scatter_add_##name(Ty<T>::C* acc, const T* g, const i64* ids, u64 outer, u64 nidx, \
                                                  u64 dim, u64 inner, u64* err) { \
        GRID_LOOP(t, outer * nidx * inner) { \
            const u64 i = t % inner, o = t / (inner * nidx); \
            const i64 id = ids[t]; \
            if (bad_index(id, dim)) { \
                report_bad_index(err, I_SCATTER, id, dim); \
            } else { \
                atomicAdd(acc + (o * dim + (u64)id) * inner + i, Ty<T>::load(g[t])); \
            } \
        } \
    }
ACCUMULATE(f32, float)
ACCUMULATE(f64, double)
ACCUMULATE(f16, f16)
ACCUMULATE(bf16, bf16)
