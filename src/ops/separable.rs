//! Linear maps applied along one of the last two dims, as matrix products:
//! the shared core of adaptive average pooling and linear interpolation.

use crate::{Result, Tensor};

/// A dense `(rows, cols)` matrix in `x`'s dtype on `x`'s device, from
/// row-major `f64` entries (built on the host: it depends only on sizes).
pub(crate) fn matrix(x: &Tensor, rows: usize, cols: usize, entries: Vec<f64>) -> Result<Tensor> {
    Tensor::from_vec(entries, (rows, cols), &crate::Device::Cpu)?
        .to_dtype(x.dtype())?
        .to_device(&x.device())
}

/// `x @ m^T`: maps the last dim (size `m`'s columns) to `m`'s rows.
pub(crate) fn along_last(x: &Tensor, m: &Tensor) -> Result<Tensor> {
    x.matmul(&m.t()?)
}

/// Maps the second-to-last dim (size `m`'s columns) to `m`'s rows.
pub(crate) fn along_second_last(x: &Tensor, m: &Tensor) -> Result<Tensor> {
    // Transposing keeps the product a single GEMM with a 2-D right operand.
    along_last(&x.transpose(-2i64, -1i64)?, m)?.transpose(-2i64, -1i64)
}
