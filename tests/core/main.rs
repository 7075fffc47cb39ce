//! Core tensor tests: values, gradients against finite differences, errors,
//! dtypes, PyTorch fixtures and gradient accumulation.

#[path = "../support/cuda_emu.rs"]
mod cuda_emu;

mod accumulate;
mod arith;
mod display;
mod dtypes;
mod errors;
mod grad_binary;
mod grad_conv;
mod grad_index;
mod grad_matmul;
mod grad_reduce;
mod grad_resample;
mod grad_shape;
mod grad_unary;
mod gradcheck;
mod resample_fixtures;
mod slicing;
mod torch_fixtures;
mod values;
