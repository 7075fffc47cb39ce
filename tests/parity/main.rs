//! Parity tests: one body per op family, run on every device. The CPU variant
//! checks each dtype against an f64 computation on the CPU; the CUDA variant checks
//! each dtype on the GPU against the same dtype on the CPU (f32 ~1e-5 relative,
//! f16/bf16 ~1e-2). Without a GPU the CUDA variants print why they were skipped;
//! with `NEURITE_REQUIRE_GPU=1` they fail instead.

/// Generates `cpu` and `cuda` tests running `fn $name(dev: &Device) -> Result<()>`.
macro_rules! test_device {
    ($name:ident) => {
        mod $name {
            #[test]
            fn cpu() {
                super::$name(&neurite::Device::cpu()).unwrap();
            }

            #[test]
            fn cuda() {
                if let Some(dev) = crate::common::cuda_device(module_path!()) {
                    super::$name(&dev).unwrap();
                }
            }
        }
    };
}

mod common;
#[path = "../support/cuda_emu.rs"]
pub mod cuda_emu;

mod attention;
mod conv;
mod dtype;
mod elementwise;
#[cfg(feature = "cuda")]
mod gpu;
mod index;
mod matmul;
mod mlp;
mod optim;
mod recurrent;
mod reduce;
mod reduce_matmul_dims;
mod resample;
mod shape;
mod sort;
