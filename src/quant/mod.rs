//! Model compression: integer arithmetic for quantized inference.
//!
//! [`PackedInt8Matrix`] holds an int8 weight matrix packed for the fastest
//! `int8 x int8 -> i32` kernel the CPU has ([`Int8Kernel::best`], chosen at
//! run time: AVX-512 VNNI, AVX2 or portable Rust), and multiplies int8
//! activations by it exactly.
//!
//! ```
//! use neurite::quant::int8_matmul;
//! // [1, 2] @ [[3, 4], [5, -6]]^T
//! let y = int8_matmul(&[1, 2], &[3, 4, 5, -6], 1, 2, 2).unwrap();
//! assert_eq!(y, vec![11, -7]);
//! ```

mod int8_gemm;

pub use int8_gemm::{Int8Kernel, MAX_INT8_DEPTH, PackedInt8Matrix, int8_matmul};
