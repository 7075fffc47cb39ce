// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11), keyed by a
// 64-bit seed. Block `offset + b` of a call yields four 32-bit words; element i of
// a 4-per-block output uses word i % 4 of block i / 4 (f64 uses two words per element,
// so two elements per block). The host mirror in src/backend/cuda/random.rs produces
// the same bits, which is what the tests check.

struct U4 {
    u32 x, y, z, w;
};

__device__ __forceinline__ U4 philox4x32_10(u64 counter, u64 seed) {
    u32 c0 = (u32)counter, c1 = (u32)(counter >> 32), c2 = 0, c3 = 0;
    u32 k0 = (u32)seed, k1 = (u32)(seed >> 32);
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const u32 lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
        const u32 lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
        const u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    U4 r = {c0, c1, c2, c3};
    return r;
}

__device__ __forceinline__ u32 word(const U4& r, int k) { return k == 0 ? r.x : k == 1 ? r.y : k == 2 ? r.z : r.w; }

// Uniform in [0, 1) with as many random bits as the type holds exactly, so that
// rounding can never produce 1.0.
__device__ __forceinline__ float unit_f32(u32 w) { return (float)(w >> 8) * 5.9604644775390625e-8f; }

#define RAND4(name, T, EXPR) \
    extern "C" __global__ void rand_uniform_##name(T* out, u64 n, u64 seed, u64 offset) { \
        GRID_LOOP(b, (n + 3) / 4) { \
            const U4 r = philox4x32_10(offset + b, seed); \
            for (int k = 0; k < 4; ++k) { \
                const u64 i = b * 4 + k; \
                if (i < n) { \
                    const u32 w = word(r, k); \
                    out[i] = EXPR; \
                } \
            } \
        } \
    }
RAND4(f32, float, unit_f32(w))
RAND4(f16, f16, Ty<f16>::store((float)(w >> 21) * 4.8828125e-4f))
RAND4(bf16, bf16, Ty<bf16>::store((float)(w >> 24) * 3.90625e-3f))

extern "C" __global__ void rand_uniform_f64(double* out, u64 n, u64 seed, u64 offset) {
    GRID_LOOP(b, (n + 1) / 2) {
        const U4 r = philox4x32_10(offset + b, seed);
        const u64 i = b * 2;
        out[i] = ((double)(r.x >> 5) * 67108864.0 + (double)(r.y >> 6)) * 1.1102230246251565e-16;
        if (i + 1 < n) out[i + 1] = ((double)(r.z >> 5) * 67108864.0 + (double)(r.w >> 6)) * 1.1102230246251565e-16;
    }
}

// Dropout: element i is dropped (0) when its f32 uniform is below p, else `scale`.
template <typename T>
__device__ void dropout_mask_impl(T* out, u64 n, u64 seed, u64 offset, float p, double scale) {
    typedef typename Ty<T>::C C;
    const T keep = Ty<T>::store((C)scale), drop = Ty<T>::store((C)0);
    GRID_LOOP(b, (n + 3) / 4) {
        const U4 r = philox4x32_10(offset + b, seed);
        for (int k = 0; k < 4; ++k) {
            const u64 i = b * 4 + k;
            if (i < n) out[i] = unit_f32(word(r, k)) < p ? drop : keep;
        }
    }
}

#define DROPOUT(name, T) \
    extern "C" __global__ void dropout_mask_##name(T* out, u64 n, u64 seed, u64 offset, float p, double scale) { \
        dropout_mask_impl<T>(out, n, seed, offset, p, scale); \
    }
DROPOUT(f32, float)
DROPOUT(f64, double)
DROPOUT(f16, f16)
DROPOUT(bf16, bf16)
