//! Core tensor tests: values, gradients against finite differences, errors,
//! dtypes, PyTorch fixtures and gradient accumulation.

#[path = "../support/cuda_emu.rs"]
mod cuda_emu;

mod accumulate;
mod arith;
mod conv_errors;
mod display;
mod dtypes;
mod dtypes_fixtures;
mod errors;
mod errors_elementwise_ops;
mod fixture_json;
mod grad_binary;
mod grad_conv;
mod grad_elementwise_ops;
mod grad_index;
mod grad_matmul;
mod grad_reduce;
mod grad_resample;
mod grad_shape;
mod grad_sort;
mod grad_unary;
mod gradcheck;
mod inplace;
mod ops_elementwise_fixtures;
mod resample_fixtures;
mod slicing;
mod sort_fixtures;
mod torch_conv;
mod torch_fixtures;
mod values;
