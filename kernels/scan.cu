// Inclusive scans (running sum or product) of a buffer viewed as (outer, len, inner)
// along the middle axis: one thread per (outer, inner) column, which walks its column
// in order (from the end when `reverse`), accumulating in the compute type (f32 for
// 16-bit floats) and rounding each output once. Adjacent threads read adjacent
// columns, so loads coalesce when inner > 1. The order of the additions is the CPU
// backend's (src/backend/cpu/scan.rs), so results are bit-identical to it.

enum ScanCode { S_SUM = 0, S_PROD = 1 };

template <typename T>
__device__ void scan_thread_impl(T* out, const T* x, u64 outer, u64 len, u64 inner, int op, int reverse) {
    typedef typename Ty<T>::C C;
    GRID_LOOP(r, outer * inner) {
        const u64 base = (r / inner) * len * inner + r % inner;
        C acc = (C)0;
        for (u64 s = 0; s < len; ++s) {
            const u64 at = base + (reverse ? len - 1 - s : s) * inner;
            const C v = Ty<T>::load(x[at]);
            acc = s == 0 ? v : (op == S_SUM ? acc + v : acc * v);
            out[at] = Ty<T>::store(acc);
        }
    }
}

#define SCAN(name, T) \
    extern "C" __global__ void scan_thread_##name(T* out, const T* x, u64 outer, u64 len, u64 inner, int op, \
                                                  int reverse) { \
        scan_thread_impl<T>(out, x, outer, len, inner, op, reverse); \
    }

SCAN(f32, float)
SCAN(f64, double)
SCAN(f16, f16)
SCAN(bf16, bf16)
