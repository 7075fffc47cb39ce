// Element-wise ops of two operands read through broadcasting strides (BinaryOp),
// and the mask select behind where_cond. Op codes match src/backend/cuda/elementwise.rs.

enum BinaryCode {
    B_ADD = 0, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
    // Numbered from 32 so that codes other families add after B_GE do not collide.
    B_POW = 32
};

// Output dims with one stride set per operand (0 along broadcast dims).
struct BinaryLayout {
    u64 dims[MAX_DIMS];
    u64 lhs[MAX_DIMS];
    u64 rhs[MAX_DIMS];
    u32 rank;
};

__device__ __forceinline__ void binary_offsets(const BinaryLayout& l, u64 i, u64& lo, u64& ro) {
    if (l.rank == 1) {
        lo = i * l.lhs[0];
        ro = i * l.rhs[0];
        return;
    }
    lo = 0;
    ro = 0;
    // Unrolled so that array indices are constants (see strided_offset).
#pragma unroll
    for (int d = MAX_DIMS - 1; d >= 0; --d) {
        if (d < (int)l.rank) {
            const u64 dim = l.dims[d];
            const u64 k = i % dim;
            i /= dim;
            lo += k * l.lhs[d];
            ro += k * l.rhs[d];
        }
    }
}

template <typename C>
__device__ __forceinline__ C apply_binary(int code, C x, C y) {
    const C one = (C)1, zero = (C)0;
    switch (code) {
        case B_ADD: return x + y;
        case B_SUB: return x - y;
        case B_MUL: return x * y;
        case B_DIV: return x / y;
        // NaN in the left operand wins, as on the CPU.
        case B_MAX: return (x >= y || is_nan(x)) ? x : y;
        case B_MIN: return (x <= y || is_nan(x)) ? x : y;
        case B_EQ: return x == y ? one : zero;
        case B_NE: return x != y ? one : zero;
        case B_LT: return x < y ? one : zero;
        case B_LE: return x <= y ? one : zero;
        case B_GT: return x > y ? one : zero;
        case B_POW: return m_pow(x, y);
        default: return x >= y ? one : zero;
    }
}

// Layouts of rank > MAX_DIMS are split by the host into launches on offset pointers.
template <typename T>
__device__ void binary_impl(T* out, const T* a, const T* b, u64 n, BinaryLayout l, int code) {
    typedef typename Ty<T>::C C;
    GRID_LOOP(i, n) {
        u64 lo, ro;
        binary_offsets(l, i, lo, ro);
        out[i] = Ty<T>::store(apply_binary<C>(code, Ty<T>::load(a[lo]), Ty<T>::load(b[ro])));
    }
}

#define BINARY(name, T) \
    extern "C" __global__ void binary_##name(T* out, const T* a, const T* b, u64 n, BinaryLayout l, int code) { \
        binary_impl<T>(out, a, b, n, l, code); \
    }
BINARY(f32, float)
BINARY(f64, double)
BINARY(f16, f16)
BINARY(bf16, bf16)

// Comparisons are the binary ops defined on integer tensors.
extern "C" __global__ void binary_cmp_i64(i64* out, const i64* a, const i64* b, u64 n, BinaryLayout l, int code) {
    GRID_LOOP(i, n) {
        u64 lo, ro;
        binary_offsets(l, i, lo, ro);
        double x = i64_to_f64(a[lo]), y = i64_to_f64(b[ro]);
        bool r;
        switch (code) {
            case B_EQ: r = x == y; break;
            case B_NE: r = x != y; break;
            case B_LT: r = x < y; break;
            case B_LE: r = x <= y; break;
            case B_GT: r = x > y; break;
            default: r = x >= y; break;
        }
        out[i] = r ? 1 : 0;
    }
}

// where_cond only moves bits, so values are typed by size. The mask is nonzero when
// its bits under `magnitude` are (floats drop the sign bit: -0.0 is false, NaN true).
#define WHERE(mname, M, vname, V) \
    extern "C" __global__ void where_##mname##_##vname(V* out, const M* mask, const V* t, const V* f, u64 n, \
                                                       u64 magnitude) { \
        GRID_LOOP(i, n) { out[i] = (((u64)mask[i]) & magnitude) != 0 ? t[i] : f[i]; } \
    }
#define WHERE_ALL(mname, M) WHERE(mname, M, b2, u16) WHERE(mname, M, b4, u32) WHERE(mname, M, b8, u64)
WHERE_ALL(m2, u16)
WHERE_ALL(m4, u32)
WHERE_ALL(m8, u64)
