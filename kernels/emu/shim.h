// Host C++ shim that lets kernels/*.cu compile and run on the CPU (the CUDA
// emulator, docs/GPU.md "Emulated CUDA device"). Force-included before the
// prelude when a family is built with -DNEURITE_HOST_KERNELS.
//
// A CUDA thread is a host thread (or, for kernels whose PTX has no barrier or
// warp instruction, an iteration of a host loop); threadIdx/blockIdx are
// thread-locals set by the executor; __syncthreads is a barrier over the block's
// host threads; warp shuffles go through a per-warp exchange with a warp barrier
// on each side; atomics are host atomics on the same memory.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <math.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __align__(n) alignas(n)
// Static shared memory: one instance per instantiation, used by one block at a time
// (the executor runs the blocks of a barrier kernel one after the other).
#define __shared__ static

struct neurite_dim3 {
    unsigned x, y, z;
};

namespace neurite_emu {
// Per CUDA thread; set by the executor before it calls the kernel.
extern thread_local neurite_dim3 tl_thread_idx __attribute__((tls_model("initial-exec")));
extern thread_local neurite_dim3 tl_block_idx __attribute__((tls_model("initial-exec")));
extern thread_local neurite_dim3 tl_block_dim __attribute__((tls_model("initial-exec")));
extern thread_local neurite_dim3 tl_grid_dim __attribute__((tls_model("initial-exec")));

void sync_threads();
// Writes `bytes` bytes of `value` into this lane's slot, waits for the warp, copies
// lane `src`'s slot (own value when src is outside the warp) into `out`, waits again.
void warp_exchange(const void* value, void* out, unsigned bytes, int src_lane, unsigned mask);
int lane_id();

template <typename T> inline T shfl_down(unsigned mask, T v, unsigned delta) {
    static_assert(sizeof(T) <= 16, "shuffled values are at most 16 bytes");
    T out;
    warp_exchange(&v, &out, sizeof(T), lane_id() + (int)delta, mask);
    return out;
}
template <typename T> inline T shfl_xor(unsigned mask, T v, int lane_mask) {
    T out;
    warp_exchange(&v, &out, sizeof(T), lane_id() ^ lane_mask, mask);
    return out;
}
template <typename T> inline T shfl(unsigned mask, T v, int src) {
    T out;
    warp_exchange(&v, &out, sizeof(T), src & 31, mask);
    return out;
}
}  // namespace neurite_emu

#define threadIdx (neurite_emu::tl_thread_idx)
#define blockIdx (neurite_emu::tl_block_idx)
#define blockDim (neurite_emu::tl_block_dim)
#define gridDim (neurite_emu::tl_grid_dim)
#define warpSize 32

inline void __syncthreads() { neurite_emu::sync_threads(); }
template <typename T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta) {
    return neurite_emu::shfl_down(mask, v, delta);
}
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask) {
    return neurite_emu::shfl_xor(mask, v, lane_mask);
}
template <typename T> inline T __shfl_sync(unsigned mask, T v, int src) { return neurite_emu::shfl(mask, v, src); }

// Bit casts (memcpy: the only well-defined way in C++).
inline unsigned __float_as_uint(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float __uint_as_float(unsigned u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline long long __double_as_longlong(double d) {
    long long v;
    std::memcpy(&v, &d, 8);
    return v;
}
inline double __longlong_as_double(long long v) {
    double d;
    std::memcpy(&d, &v, 8);
    return d;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}

// Atomics on device memory, which is host memory here: the GCC builtins are seen
// by ThreadSanitizer as the atomic accesses they are.
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long expected, unsigned long long desired) {
    __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
inline unsigned atomicCAS(unsigned* p, unsigned expected, unsigned desired) {
    __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
template <typename F, typename U> inline F atomic_add_float(F* p, F v) {
    U* bits = reinterpret_cast<U*>(p);
    U old = __atomic_load_n(bits, __ATOMIC_SEQ_CST);
    for (;;) {
        F cur;
        std::memcpy(&cur, &old, sizeof(F));
        F next = cur + v;
        U want;
        std::memcpy(&want, &next, sizeof(F));
        if (__atomic_compare_exchange_n(bits, &old, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return cur;
    }
}
inline float atomicAdd(float* p, float v) { return atomic_add_float<float, unsigned>(p, v); }
inline double atomicAdd(double* p, double v) { return atomic_add_float<double, unsigned long long>(p, v); }

// Host versions of the prelude's inline-PTX conversions (same rounding as PTX cvt).
inline float neurite_host_f16_to_f32(unsigned short h) {
    _Float16 v;
    std::memcpy(&v, &h, 2);
    return (float)v;
}
// GCC's _Float16 conversions round once to nearest even (libgcc __truncsfhf2/__truncdfhf2).
inline unsigned short neurite_host_f32_to_f16(float f) {
    _Float16 v = (_Float16)f;
    unsigned short h;
    std::memcpy(&h, &v, 2);
    return h;
}
inline unsigned short neurite_host_f64_to_f16(double d) {
    _Float16 v = (_Float16)d;
    unsigned short h;
    std::memcpy(&h, &v, 2);
    return h;
}
// cvt.rz.f32.f64: toward zero, so a finite input never becomes infinite.
inline float neurite_host_f64_to_f32_rz(double d) {
    if (d != d) return (float)d;
    float r = (float)d;
    if (std::fabs((double)r) > std::fabs(d)) r = std::nextafter(r, 0.0f);
    return r;
}
// cvt.rzi.s64.f64: truncation, saturating, NaN -> 0.
inline long long neurite_host_f64_to_i64(double d) {
    if (d != d) return 0;
    if (d >= 9223372036854775808.0) return INT64_MAX;
    if (d < -9223372036854775808.0) return INT64_MIN;
    return (long long)d;
}
inline double neurite_host_i64_to_f64(long long v) { return (double)v; }
