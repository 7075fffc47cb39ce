//! Model compression: int8 quantization for inference.
//!
//! [`quantize_dynamic`] turns the `Linear` layers of a model into
//! [`QuantizedLinear`] layers (int8 weights with one scale per output
//! feature, activations quantized per call), as PyTorch's
//! `quantize_dynamic`; [`quantize_static`] also converts `Conv2d` layers
//! ([`QuantizedConv2d`]) and fixes every input's scale and zero point from
//! calibration batches ([`Observer`]: min-max or percentile);
//! [`prepare_qat`] / [`convert_qat`] train with fake quantization first
//! (quantization-aware training, straight-through gradients). Underneath, [`PackedInt8Matrix`] holds an int8 weight
//! matrix packed for the fastest `int8 x int8 -> i32` kernel the CPU has
//! ([`Int8Kernel::best`], chosen at run time: AVX-512 VNNI, AVX2 or portable
//! Rust), and multiplies int8 activations by it exactly.
//!
//! ```
//! use neurite::quant::int8_matmul;
//! // [1, 2] @ [[3, 4], [5, -6]]^T
//! let y = int8_matmul(&[1, 2], &[3, 4, 5, -6], 1, 2, 2).unwrap();
//! assert_eq!(y, vec![11, -7]);
//! ```

mod activation;
mod calibrate;
mod dynamic;
mod fake_quant;
mod int8_gemm;
mod int8_layer;
mod qat;
mod quantized_conv2d;
mod quantized_linear;
mod simd;
mod weight;

pub use calibrate::{Observer, quantize_static};
pub use dynamic::{DYNAMIC_QUANTIZABLE, quantize_dynamic};
pub use fake_quant::{fake_quantize_activation, fake_quantize_weight};
pub use int8_gemm::{Int8Kernel, MAX_INT8_DEPTH, PackedInt8Matrix, int8_matmul};
pub(crate) use qat::build_qat_conv;
pub use qat::{QatConv2d, QatLinear, convert_qat, prepare_qat};
pub use quantized_conv2d::QuantizedConv2d;
pub use quantized_linear::QuantizedLinear;
