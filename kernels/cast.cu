// Element type conversions, one kernel per (source, destination) pair, rounding
// to nearest even as the CPU backend does: pairs within {f32, f16, bf16} go through
// f32 (exact for the 16-bit types) and pairs with f64 through f64, each rounding
// once. i64 sources also go through f64, so an i64 above 2^53 rounds twice on its
// way to f32, f16 or bf16 (2^60 + 2^36 + 1 becomes 2^60, not 2^60 + 2^37), exactly
// as the CPU's `as f64` then narrowing does. Float to i64 truncates and saturates,
// NaN giving 0.

template <typename T> struct Wide;
template <> struct Wide<float> {
    static __device__ __forceinline__ double load(float v) { return (double)v; }
    static __device__ __forceinline__ float store(double d) { return (float)d; }
};
template <> struct Wide<double> {
    static __device__ __forceinline__ double load(double v) { return v; }
    static __device__ __forceinline__ double store(double d) { return d; }
};
template <> struct Wide<f16> {
    static __device__ __forceinline__ double load(f16 v) { return (double)f16_to_f32(v.bits); }
    static __device__ __forceinline__ f16 store(double d) {
        f16 r;
        r.bits = f64_to_f16(d);
        return r;
    }
};
template <> struct Wide<bf16> {
    static __device__ __forceinline__ double load(bf16 v) { return (double)bf16_to_f32(v.bits); }
    static __device__ __forceinline__ bf16 store(double d) {
        bf16 r;
        r.bits = f64_to_bf16(d);
        return r;
    }
};
template <> struct Wide<i64> {
    static __device__ __forceinline__ double load(i64 v) { return i64_to_f64(v); }
    static __device__ __forceinline__ i64 store(double d) { return f64_to_i64(d); }
};

#define CAST_VIA_F32(sn, S, dn, D) \
    extern "C" __global__ void cast_##sn##_##dn(D* out, const S* x, u64 n) { \
        GRID_LOOP(i, n) { out[i] = Ty<D>::store(Ty<S>::load(x[i])); } \
    }
#define CAST_VIA_F64(sn, S, dn, D) \
    extern "C" __global__ void cast_##sn##_##dn(D* out, const S* x, u64 n) { \
        GRID_LOOP(i, n) { out[i] = Wide<D>::store(Wide<S>::load(x[i])); } \
    }

CAST_VIA_F32(f32, float, f16, f16)
CAST_VIA_F32(f32, float, bf16, bf16)
CAST_VIA_F32(f16, f16, f32, float)
CAST_VIA_F32(f16, f16, bf16, bf16)
CAST_VIA_F32(bf16, bf16, f32, float)
CAST_VIA_F32(bf16, bf16, f16, f16)

CAST_VIA_F64(f32, float, f64, double)
CAST_VIA_F64(f32, float, i64, i64)
CAST_VIA_F64(f16, f16, f64, double)
CAST_VIA_F64(f16, f16, i64, i64)
CAST_VIA_F64(bf16, bf16, f64, double)
CAST_VIA_F64(bf16, bf16, i64, i64)
CAST_VIA_F64(f64, double, f32, float)
CAST_VIA_F64(f64, double, f16, f16)
CAST_VIA_F64(f64, double, bf16, bf16)
CAST_VIA_F64(f64, double, i64, i64)
CAST_VIA_F64(i64, i64, f32, float)
CAST_VIA_F64(i64, i64, f64, double)
CAST_VIA_F64(i64, i64, f16, f16)
CAST_VIA_F64(i64, i64, bf16, bf16)
