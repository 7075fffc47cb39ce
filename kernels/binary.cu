// Element-wise ops of two operands read through broadcasting strides (BinaryOp),
// and the mask select behind where_cond. Op codes match src/backend/cuda/elementwise.rs.

enum BinaryCode {
    B_ADD = 0, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE, B_FLOORDIV, B_REM,
    // Numbered from 32 so that codes other families add after B_REM do not collide.
    B_POW = 32
};

__device__ __forceinline__ float m_floor(float x) { return floorf(x); }
__device__ __forceinline__ double m_floor(double x) { return floor(x); }
__device__ __forceinline__ float m_fmod(float x, float y) { return fmodf(x, y); }
__device__ __forceinline__ double m_fmod(double x, double y) { return fmod(x, y); }

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
        case B_GE: return x >= y ? one : zero;
        case B_POW: return m_pow(x, y);
        case B_FLOORDIV: return m_floor(x / y);
        default: {
            // PyTorch's remainder: fmod, moved to the sign of the divisor.
            C r = m_fmod(x, y);
            if (r != zero && ((r < zero) != (y < zero))) r += y;
            return r;
        }
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

// Integer arithmetic: wrapping (through u64, where overflow is defined), floor
// division and remainder rounding toward negative infinity. The host has checked
// that no divisor is zero (a zero still gives 0 here rather than a trap), and
// MIN / -1 wraps to MIN as on the CPU.
template <typename T> __device__ __forceinline__ T apply_int(int code, T x, T y) {
    const bool is_signed = (T)-1 < (T)0;
    switch (code) {
        case B_ADD: return (T)((u64)(i64)x + (u64)(i64)y);
        case B_SUB: return (T)((u64)(i64)x - (u64)(i64)y);
        case B_MUL: return (T)((u64)(i64)x * (u64)(i64)y);
        case B_MAX: return x >= y ? x : y;
        case B_MIN: return x <= y ? x : y;
        case B_FLOORDIV: {
            if (y == 0) return 0;
            if (is_signed && y == (T)-1) return (T)(0ull - (u64)(i64)x);
            T q = (T)(x / y);
            if ((T)(x % y) != 0 && ((x < 0) != (y < 0))) q = (T)(q - 1);
            return q;
        }
        case B_REM: {
            if (y == 0 || (is_signed && y == (T)-1)) return 0;
            T r = (T)(x % y);
            if (r != 0 && ((r < 0) != (y < 0))) r = (T)(r + y);
            return r;
        }
        default: return 0;  // true division is computed in float by the tensor op
    }
}

#define BINARY_INT(name, T) \
    extern "C" __global__ void binary_##name(T* out, const T* a, const T* b, u64 n, BinaryLayout l, int code) { \
        GRID_LOOP(i, n) { \
            u64 lo, ro; \
            binary_offsets(l, i, lo, ro); \
            out[i] = apply_int<T>(code, a[lo], b[ro]); \
        } \
    }
BINARY_INT(i64, i64)
BINARY_INT(i32, i32)
BINARY_INT(i8, i8)
BINARY_INT(u8, u8)

// Comparisons, for every dtype, write a bool mask. Floats compare in their compute
// type (exact for the 16-bit ones), integers and bools as stored (exact for all i64).
template <typename T> struct CmpTy {
    typedef typename Ty<T>::C V;
    static __device__ __forceinline__ V load(T v) { return Ty<T>::load(v); }
};
#define CMP_AS_STORED(T) \
    template <> struct CmpTy<T> { \
        typedef T V; \
        static __device__ __forceinline__ T load(T v) { return v; } \
    };
CMP_AS_STORED(i64)
CMP_AS_STORED(i32)
CMP_AS_STORED(i8)
CMP_AS_STORED(u8)
CMP_AS_STORED(bool)

template <typename T>
__device__ void cmp_impl(bool* out, const T* a, const T* b, u64 n, BinaryLayout l, int code) {
    typedef typename CmpTy<T>::V V;
    GRID_LOOP(i, n) {
        u64 lo, ro;
        binary_offsets(l, i, lo, ro);
        const V x = CmpTy<T>::load(a[lo]), y = CmpTy<T>::load(b[ro]);
        bool r;
        switch (code) {
            case B_EQ: r = x == y; break;
            case B_NE: r = x != y; break;
            case B_LT: r = x < y; break;
            case B_LE: r = x <= y; break;
            case B_GT: r = x > y; break;
            default: r = x >= y; break;
        }
        out[i] = r;
    }
}
#define CMP(name, T) \
    extern "C" __global__ void cmp_##name(bool* out, const T* a, const T* b, u64 n, BinaryLayout l, int code) { \
        cmp_impl<T>(out, a, b, n, l, code); \
    }
CMP(f32, float)
CMP(f64, double)
CMP(f16, f16)
CMP(bf16, bf16)
CMP(i64, i64)
CMP(i32, i32)
CMP(i8, i8)
CMP(u8, u8)
CMP(bool, bool)

// where_cond only moves bits, so values are typed by size. The mask is nonzero when
// its bits under `magnitude` are (floats drop the sign bit: -0.0 is false, NaN true).
#define WHERE(mname, M, vname, V) \
    extern "C" __global__ void where_##mname##_##vname(V* out, const M* mask, const V* t, const V* f, u64 n, \
                                                       u64 magnitude) { \
        GRID_LOOP(i, n) { out[i] = (((u64)mask[i]) & magnitude) != 0 ? t[i] : f[i]; } \
    }
#define WHERE_ALL(mname, M) \
    WHERE(mname, M, b1, u8) WHERE(mname, M, b2, u16) WHERE(mname, M, b4, u32) WHERE(mname, M, b8, u64)
WHERE_ALL(m1, u8)
WHERE_ALL(m2, u16)
WHERE_ALL(m4, u32)
WHERE_ALL(m8, u64)
