//! Tiling: `repeat` and `tile`, as a broadcast of interleaved unit dims.

use crate::{Error, Result, Tensor};

impl Tensor {
    /// Repeats the tensor `sizes[i]` times along dim `i`, like
    /// `torch.Tensor.repeat`. `sizes` may be longer than the rank: the tensor
    /// is then treated as having leading dims of size 1. A size of 0 gives an
    /// empty dim.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, 2.], 2, &Device::cpu())?;
    /// let y = x.repeat(&[2, 2])?;
    /// assert_eq!(y.dims(), &[2, 4]);
    /// assert_eq!(y.to_vec::<f32>()?, vec![1., 2., 1., 2., 1., 2., 1., 2.]);
    /// # Ok(()) }
    /// ```
    pub fn repeat(&self, sizes: &[usize]) -> Result<Tensor> {
        let op = "repeat";
        if sizes.len() < self.rank() {
            return Err(Error::invalid(
                op,
                format!(
                    "{} repeat sizes {sizes:?} for a tensor of shape {}: at least one per dim is needed",
                    sizes.len(),
                    self.shape()
                ),
            ));
        }
        let lead = sizes.len() - self.rank();
        let own: Vec<usize> = std::iter::repeat_n(1, lead)
            .chain(self.dims().iter().copied())
            .collect();
        let mut out = Vec::with_capacity(sizes.len());
        for (&r, &d) in sizes.iter().zip(&own) {
            out.push(
                r.checked_mul(d)
                    .ok_or_else(|| Error::invalid(op, format!("repeating size {d} by {r} overflows")))?,
            );
        }
        crate::shape::checked_numel(&out, op)?;
        if sizes.iter().all(|&r| r == 1) {
            return self.reshape(out);
        }
        // (1, d0, 1, d1, ...) broadcast to (r0, d0, r1, d1, ...), then merged pairwise.
        let unit: Vec<usize> = own.iter().flat_map(|&d| [1, d]).collect();
        let wide: Vec<usize> = sizes.iter().zip(&own).flat_map(|(&r, &d)| [r, d]).collect();
        self.reshape(unit)?.broadcast_as(wide)?.reshape(out)
    }

    /// Repeats the tensor along each dim, like `torch.tile`: as
    /// [`Tensor::repeat`], except that fewer `dims` than the rank are
    /// padded with leading ones.
    pub fn tile(&self, dims: &[usize]) -> Result<Tensor> {
        let lead = self.rank().saturating_sub(dims.len());
        let sizes: Vec<usize> = std::iter::repeat_n(1, lead).chain(dims.iter().copied()).collect();
        self.repeat(&sizes)
    }
}
