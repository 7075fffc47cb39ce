// Shared by every kernel file: build.rs prepends it to each kernels/*.cu program.
//
// Header-free on purpose: NVRTC compiles these sources with no include path at all,
// so a machine needs only the driver and libnvrtc (no CUDA toolkit headers). The
// 16-bit floats are stored as raw bits and converted with inline PTX `cvt`
// (f16) or integer bit operations (bf16); arithmetic happens in f32. Built as host
// C++ for the emulator (NEURITE_HOST_KERNELS, kernels/emu/shim.h), each `cvt` has a
// host version with the same rounding.

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef signed char i8;
typedef int i32;
// `bool` tensors are stored as C++ `bool`: one byte holding 0 or 1.

// Distinct types for the two 16-bit formats so that templates can tell them apart.
struct __align__(2) f16 { u16 bits; };
struct __align__(2) bf16 { u16 bits; };

__device__ __forceinline__ float f16_to_f32(u16 h) {
#ifdef NEURITE_HOST_KERNELS
    return neurite_host_f16_to_f32(h);
#else
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#endif
}
__device__ __forceinline__ u16 f32_to_f16(float f) {
#ifdef NEURITE_HOST_KERNELS
    return neurite_host_f32_to_f16(f);
#else
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
#endif
}
__device__ __forceinline__ u16 f64_to_f16(double d) {
#ifdef NEURITE_HOST_KERNELS
    return neurite_host_f64_to_f16(d);
#else
    u16 h;
    asm("cvt.rn.f16.f64 %0, %1;" : "=h"(h) : "d"(d));
    return h;
#endif
}
__device__ __forceinline__ float bf16_to_f32(u16 b) { return __uint_as_float(((u32)b) << 16); }
// Round to nearest even, NaN kept quiet with its sign (as the `half` crate does).
__device__ __forceinline__ u16 f32_to_bf16(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u16)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (u16)(u >> 16);
}
// f64 -> bf16 with a single rounding: round to odd into f32 first (24 >= 8 + 2 bits),
// then to nearest even, which equals direct rounding.
__device__ __forceinline__ u16 f64_to_bf16(double d) {
    if (d != d) return (u16)(((((u64)__double_as_longlong(d)) >> 48) & 0x8000u) | 0x7fc0u);
#ifdef NEURITE_HOST_KERNELS
    float r = neurite_host_f64_to_f32_rz(d);
#else
    float r;
    asm("cvt.rz.f32.f64 %0, %1;" : "=f"(r) : "d"(d));
#endif
    u32 u = __float_as_uint(r);
    if ((double)r != d) u |= 1u;
    return f32_to_bf16(__uint_as_float(u));
}
// Rust's `as i64`: truncation, saturation at the range ends, NaN -> 0 (PTX cvt semantics).
__device__ __forceinline__ i64 f64_to_i64(double d) {
#ifdef NEURITE_HOST_KERNELS
    return neurite_host_f64_to_i64(d);
#else
    i64 r;
    asm("cvt.rzi.s64.f64 %0, %1;" : "=l"(r) : "d"(d));
    return r;
#endif
}
__device__ __forceinline__ double i64_to_f64(i64 v) {
#ifdef NEURITE_HOST_KERNELS
    return neurite_host_i64_to_f64(v);
#else
    double r;
    asm("cvt.rn.f64.s64 %0, %1;" : "=d"(r) : "l"(v));
    return r;
#endif
}

// Per element type: the type arithmetic runs in (C), and conversions to and from it.
template <typename T> struct Ty;
template <> struct Ty<float> {
    typedef float C;
    static __device__ __forceinline__ float load(float v) { return v; }
    static __device__ __forceinline__ float store(float c) { return c; }
};
template <> struct Ty<double> {
    typedef double C;
    static __device__ __forceinline__ double load(double v) { return v; }
    static __device__ __forceinline__ double store(double c) { return c; }
};
template <> struct Ty<f16> {
    typedef float C;
    static __device__ __forceinline__ float load(f16 v) { return f16_to_f32(v.bits); }
    static __device__ __forceinline__ f16 store(float c) {
        f16 r;
        r.bits = f32_to_f16(c);
        return r;
    }
};
template <> struct Ty<bf16> {
    typedef float C;
    static __device__ __forceinline__ float load(bf16 v) { return bf16_to_f32(v.bits); }
    static __device__ __forceinline__ bf16 store(float c) {
        bf16 r;
        r.bits = f32_to_bf16(c);
        return r;
    }
};

// Integer labels: only compared and moved, never computed on; compared in f64 as on the CPU.
template <> struct Ty<i64> {
    typedef double C;
    static __device__ __forceinline__ double load(i64 v) { return i64_to_f64(v); }
    static __device__ __forceinline__ i64 store(double c) { return f64_to_i64(c); }
};

// Overloads so that templates over the compute type pick the right precision.
__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float m_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double m_abs(double x) { return fabs(x); }
__device__ __forceinline__ float m_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double m_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float m_erf(float x) { return erff(x); }
__device__ __forceinline__ double m_erf(double x) { return erf(x); }
__device__ __forceinline__ float m_pow(float x, float p) { return powf(x, p); }
__device__ __forceinline__ double m_pow(double x, double p) { return pow(x, p); }
__device__ __forceinline__ float m_sin(float x) { return sinf(x); }
__device__ __forceinline__ double m_sin(double x) { return sin(x); }
__device__ __forceinline__ float m_cos(float x) { return cosf(x); }
__device__ __forceinline__ double m_cos(double x) { return cos(x); }
template <typename C> __device__ __forceinline__ bool is_nan(C x) { return x != x; }

// Grid-stride loop over [0, n): launches are capped in size (see launch.rs).
#define GRID_LOOP(i, n) \
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (u64)blockDim.x * gridDim.x)

// Strided layouts are passed by value (rank <= MAX_DIMS; the host splits larger ones).
#define MAX_DIMS 6
struct Strided {
    u64 dims[MAX_DIMS];
    u64 strides[MAX_DIMS];
    u32 rank;
};
// Offset of the i-th element (row-major over dims) in a buffer read with strides.
// The loop is unrolled over MAX_DIMS so that every array index is a constant:
// dynamic indexing would copy the struct from parameter space to local memory.
__device__ __forceinline__ u64 strided_offset(const Strided& l, u64 i) {
    if (l.rank == 1) return i * l.strides[0];
    u64 off = 0;
#pragma unroll
    for (int d = MAX_DIMS - 1; d >= 0; --d) {
        if (d < (int)l.rank) {
            const u64 dim = l.dims[d];
            off += (i % dim) * l.strides[d];
            i /= dim;
        }
    }
    return off;
}

// The sticky error record that index kernels fill for an out-of-range index:
// {op code, bad index, dimension size, unused}; the host reads it at its next sync.
__device__ __forceinline__ void report_bad_index(u64* err, u64 code, i64 index, u64 size) {
    if (atomicCAS(err, 0ull, code) == 0ull) {
        err[1] = (u64)index;
        err[2] = size;
    }
}
