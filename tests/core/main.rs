//! Core tensor tests: values, gradients against finite differences, errors.

mod gradcheck;
mod smoke;
