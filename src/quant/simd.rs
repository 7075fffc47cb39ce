//! Element-wise loops compiled three times (AVX-512, AVX2, baseline x86-64 or
//! other targets) and chosen at run time, so that one binary vectorises the
//! quantize and dequantize passes as wide as the CPU allows. The loops are
//! plain Rust; only the code generation differs.

/// Defines `fn $name(args) -> ret` whose `$body` is compiled for each
/// instruction set and dispatched on the CPU's features at run time.
macro_rules! simd_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                /// # Safety
                /// Only on a CPU with AVX-512 F/BW/VL/DQ; the body is safe Rust on any input,
                /// empty slices included.
                #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { portable($($arg),*) }
                /// # Safety
                /// Only on a CPU with AVX2 and FMA; the body is safe Rust on any input.
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { portable($($arg),*) }
                if is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512dq")
                {
                    // SAFETY: the CPU has the features `avx512` is compiled for
                    // (checked just above); the body is safe Rust.
                    return unsafe { avx512($($arg),*) };
                }
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: as above, for AVX2 and FMA.
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}

pub(crate) use simd_dispatch;
