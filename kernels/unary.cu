// Element-wise maps (UnaryOp). Op codes match src/backend/cuda/elementwise.rs.
// Semantics follow the CPU backend exactly, NaN handling included: Sign
// sends NaN to 0, Relu and Clamp keep it (as PyTorch does), scalar comparisons run in f64.

enum UnaryCode {
    U_NEG = 0, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIGN, U_RECIP, U_SQR, U_RELU, U_SIGMOID,
    U_TANH, U_GELU, U_GELU_GRAD, U_AFFINE, U_POWF, U_LEAKY_RELU, U_CLAMP,
    U_CMP_EQ, U_CMP_NE, U_CMP_LT, U_CMP_LE, U_CMP_GT, U_CMP_GE,
    // Numbered from 32 so that codes other families add after U_CMP_GE do not collide.
    U_ERF = 32, U_SIN, U_COS, U_SILU, U_SILU_GRAD, U_GELU_TANH, U_GELU_TANH_GRAD
};

// Two branches keep exp() from overflowing for large |v|.
template <typename C>
__device__ __forceinline__ C sigmoid_of(C v) {
    const C one = (C)1;
    if (v >= (C)0) return one / (one + m_exp(-v));
    C e = m_exp(v);
    return e / (one + e);
}

__device__ __forceinline__ bool cmp_f64(int code, double a, double b) {
    switch (code) {
        case U_CMP_EQ: return a == b;
        case U_CMP_NE: return a != b;
        case U_CMP_LT: return a < b;
        case U_CMP_LE: return a <= b;
        case U_CMP_GT: return a > b;
        default: return a >= b;
    }
}

template <typename C>
__device__ __forceinline__ C apply_unary(int code, C v, C p0, C p1, double s) {
    const C zero = (C)0, one = (C)1, half = (C)0.5;
    switch (code) {
        case U_NEG: return -v;
        case U_EXP: return m_exp(v);
        case U_LOG: return m_log(v);
        case U_SQRT: return m_sqrt(v);
        case U_ABS: return m_abs(v);
        case U_SIGN: return v > zero ? one : (v < zero ? -one : zero);
        case U_RECIP: return one / v;
        case U_SQR: return v * v;
        case U_RELU: return v < zero ? zero : v;  // NaN stays NaN, as in PyTorch
        case U_SIGMOID:
            // Two branches keep exp() from overflowing for large |v|.
            if (v >= zero) return one / (one + m_exp(-v));
            else {
                C e = m_exp(v);
                return e / (one + e);
            }
        case U_TANH: return m_tanh(v);
        case U_GELU: return half * v * (one + m_erf(v * (C)0.70710678118654752440));
        case U_GELU_GRAD: {
            C cdf = half * (one + m_erf(v * (C)0.70710678118654752440));
            C pdf = m_exp(-half * v * v) * (C)0.39894228040143267794;
            return cdf + v * pdf;
        }
        case U_AFFINE: return v * p0 + p1;
        case U_POWF: return m_pow(v, p0);
        case U_LEAKY_RELU: return v > zero ? v : v * p0;
        case U_CLAMP: {
            // max then min, as PyTorch: min > max sends everything to max; NaN stays.
            C t = v < p0 ? p0 : v;
            return t > p1 ? p1 : t;
        }
        case U_ERF: return m_erf(v);
        case U_SIN: return m_sin(v);
        case U_COS: return m_cos(v);
        case U_SILU: return v * sigmoid_of(v);
        case U_SILU_GRAD: {
            C sg = sigmoid_of(v);
            return sg * (one + v * (one - sg));
        }
        case U_GELU_TANH: {
            const C beta = (C)0.79788456080286535588, kappa = (C)0.044715;
            return half * v * (one + m_tanh(beta * (v + kappa * v * v * v)));
        }
        case U_GELU_TANH_GRAD: {
            // Factored as PyTorch's GeluBackward (tanh) and the CPU backend.
            const C beta = (C)0.79788456080286535588, kappa = (C)0.044715;
            C x_sq = v * v;
            C t = m_tanh(beta * (v + kappa * x_sq * v));
            C left = half * v;
            C right = one + t;
            C right_derivative = left * (one - t * t) * beta * (one + (C)3 * kappa * x_sq);
            return half * right + right_derivative;
        }
        default: return cmp_f64(code, (double)v, s) ? one : zero;
    }
}

template <typename T>
__device__ void unary_impl(T* out, const T* x, u64 n, int code, double p0, double p1) {
    typedef typename Ty<T>::C C;
    const C q0 = (C)p0, q1 = (C)p1;
    GRID_LOOP(i, n) { out[i] = Ty<T>::store(apply_unary<C>(code, Ty<T>::load(x[i]), q0, q1, p0)); }
}

#define UNARY(name, T) \
    extern "C" __global__ void unary_##name(T* out, const T* x, u64 n, int code, double p0, double p1) { \
        unary_impl<T>(out, x, n, code, p0, p1); \
    }
UNARY(f32, float)
UNARY(f64, double)
UNARY(f16, f16)
UNARY(bf16, bf16)

// Comparison with a scalar, for every dtype, as a bool mask; in f64 as on the CPU.
template <typename T> __device__ __forceinline__ double cmp_load(T v) { return (double)Ty<T>::load(v); }
template <> __device__ __forceinline__ double cmp_load<i64>(i64 v) { return i64_to_f64(v); }
template <> __device__ __forceinline__ double cmp_load<i32>(i32 v) { return (double)v; }
template <> __device__ __forceinline__ double cmp_load<i8>(i8 v) { return (double)v; }
template <> __device__ __forceinline__ double cmp_load<u8>(u8 v) { return (double)v; }
template <> __device__ __forceinline__ double cmp_load<bool>(bool v) { return v ? 1.0 : 0.0; }

#define CMP_SCALAR(name, T) \
    extern "C" __global__ void cmp_scalar_##name(bool* out, const T* x, u64 n, int code, double s) { \
        GRID_LOOP(i, n) { out[i] = cmp_f64(code, cmp_load<T>(x[i]), s); } \
    }
CMP_SCALAR(f32, float)
CMP_SCALAR(f64, double)
CMP_SCALAR(f16, f16)
CMP_SCALAR(bf16, bf16)
CMP_SCALAR(i64, i64)
CMP_SCALAR(i32, i32)
CMP_SCALAR(i8, i8)
CMP_SCALAR(u8, u8)
CMP_SCALAR(bool, bool)

// The maps with an integer meaning (Neg, Abs, Sign, Sqr, Relu, Clamp), wrapping as
// on the CPU; the clamp bounds arrive already rounded into the type's range.
template <typename T> __device__ __forceinline__ T apply_unary_int(int code, T v, i64 lo, i64 hi) {
    switch (code) {
        case U_NEG: return (T)(0ull - (u64)(i64)v);
        case U_ABS: return v < 0 ? (T)(0ull - (u64)(i64)v) : v;
        case U_SIGN: return v > 0 ? (T)1 : (v < 0 ? (T)-1 : (T)0);
        case U_SQR: return (T)((u64)(i64)v * (u64)(i64)v);
        case U_RELU: return v < 0 ? (T)0 : v;
        default: return (i64)v < lo ? (T)lo : ((i64)v > hi ? (T)hi : v);
    }
}
#define UNARY_INT(name, T) \
    extern "C" __global__ void unary_##name(T* out, const T* x, u64 n, int code, i64 lo, i64 hi) { \
        GRID_LOOP(i, n) { out[i] = apply_unary_int<T>(code, x[i], lo, hi); } \
    }
UNARY_INT(i64, i64)
UNARY_INT(i32, i32)
UNARY_INT(i8, i8)
UNARY_INT(u8, u8)
