// Element type conversions, one kernel per (source, destination) pair. PyTorch's
// rules, as the CPU's `WithDType::cast_from`: to an integer type through i64 (floats
// truncate toward zero, saturating, NaN giving 0; integers wrap into narrower ones),
// to bool as "nonzero" (NaN is true), and to a float through f64. Between floats, rounding
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

// The conversions of the generic casts below, for every element type.
template <typename T> struct Conv {
    static __device__ __forceinline__ double to_f64(T v) { return Wide<T>::load(v); }
    static __device__ __forceinline__ i64 to_i64(T v) { return f64_to_i64(Wide<T>::load(v)); }
    static __device__ __forceinline__ T from_f64(double d) { return Wide<T>::store(d); }
    static __device__ __forceinline__ T from_i64(i64 v) { return Wide<T>::store(i64_to_f64(v)); }
};
// Narrow integers: exact widening, two's-complement wrapping when narrowing.
#define CONV_INT(T) \
    template <> struct Conv<T> { \
        static __device__ __forceinline__ double to_f64(T v) { return i64_to_f64((i64)v); } \
        static __device__ __forceinline__ i64 to_i64(T v) { return (i64)v; } \
        static __device__ __forceinline__ T from_f64(double d) { return (T)f64_to_i64(d); } \
        static __device__ __forceinline__ T from_i64(i64 v) { return (T)v; } \
    };
CONV_INT(i64)
CONV_INT(i32)
CONV_INT(i8)
CONV_INT(u8)
template <> struct Conv<bool> {
    static __device__ __forceinline__ double to_f64(bool v) { return v ? 1.0 : 0.0; }
    static __device__ __forceinline__ i64 to_i64(bool v) { return v ? 1 : 0; }
    static __device__ __forceinline__ bool from_f64(double d) { return d != 0.0; }
    static __device__ __forceinline__ bool from_i64(i64 v) { return v != 0; }
};

template <typename D> struct IsInt { static const bool value = false; };
template <> struct IsInt<i64> { static const bool value = true; };
template <> struct IsInt<i32> { static const bool value = true; };
template <> struct IsInt<i8> { static const bool value = true; };
template <> struct IsInt<u8> { static const bool value = true; };

#define CAST_ANY(sn, S, dn, D) \
    extern "C" __global__ void cast_##sn##_##dn(D* out, const S* x, u64 n) { \
        GRID_LOOP(i, n) { \
            out[i] = IsInt<D>::value ? Conv<D>::from_i64(Conv<S>::to_i64(x[i])) \
                                     : Conv<D>::from_f64(Conv<S>::to_f64(x[i])); \
        } \
    }
// Every pair with bool, u8, i8 or i32 on one side.
#define CAST_NEW_TO(dn, D) \
    CAST_ANY(f32, float, dn, D) CAST_ANY(f64, double, dn, D) CAST_ANY(f16, f16, dn, D) \
    CAST_ANY(bf16, bf16, dn, D) CAST_ANY(i64, i64, dn, D)
CAST_NEW_TO(bool, bool)
CAST_NEW_TO(u8, u8)
CAST_NEW_TO(i8, i8)
CAST_NEW_TO(i32, i32)
#define CAST_OLD_FROM(sn, S) \
    CAST_ANY(sn, S, f32, float) CAST_ANY(sn, S, f64, double) CAST_ANY(sn, S, f16, f16) \
    CAST_ANY(sn, S, bf16, bf16) CAST_ANY(sn, S, i64, i64)
CAST_OLD_FROM(bool, bool)
CAST_OLD_FROM(u8, u8)
CAST_OLD_FROM(i8, i8)
CAST_OLD_FROM(i32, i32)
// Among the new types themselves.
CAST_ANY(bool, bool, u8, u8)
CAST_ANY(bool, bool, i8, i8)
CAST_ANY(bool, bool, i32, i32)
CAST_ANY(u8, u8, bool, bool)
CAST_ANY(u8, u8, i8, i8)
CAST_ANY(u8, u8, i32, i32)
CAST_ANY(i8, i8, bool, bool)
CAST_ANY(i8, i8, u8, u8)
CAST_ANY(i8, i8, i32, i32)
CAST_ANY(i32, i32, bool, bool)
CAST_ANY(i32, i32, u8, u8)
CAST_ANY(i32, i32, i8, i8)
