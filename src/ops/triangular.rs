//! Triangular parts of (batched) matrices: `tril` and `triu`.

use crate::{Error, Result, Tensor};

impl Tensor {
    /// A 0/1 mask of the last two dims: 1 where `keep(col - row)`.
    fn triangle(&self, op: &'static str, keep: impl Fn(i64) -> bool) -> Result<Tensor> {
        if self.rank() < 2 {
            return Err(Error::invalid(
                op,
                format!("needs a tensor of rank 2 or more, got shape {}", self.shape()),
            ));
        }
        let (rows, cols) = (self.dims()[self.rank() - 2], self.dims()[self.rank() - 1]);
        let mask: Vec<i64> = (0..rows as i64)
            .flat_map(|r| (0..cols as i64).map(move |c| (c, r)))
            .map(|(c, r)| i64::from(keep(c - r)))
            .collect();
        let mask = Tensor::from_vec(mask, (rows, cols), &self.device())?;
        // `where_cond` rather than a product, so that infinities and NaNs above
        // the diagonal become 0 as in PyTorch.
        mask.where_cond(self, &Tensor::zeros((), self.dtype(), &self.device())?)
    }

    /// The lower triangle of the last two dims (entries with
    /// `col - row <= diagonal` kept, the rest zero), like `torch.tril`.
    ///
    /// ```
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::ones((2, 2), DType::F32, &Device::cpu())?;
    /// assert_eq!(x.tril(0)?.to_vec::<f32>()?, vec![1., 0., 1., 1.]);
    /// # Ok(()) }
    /// ```
    pub fn tril(&self, diagonal: i64) -> Result<Tensor> {
        self.triangle("tril", |d| d <= diagonal)
    }

    /// The upper triangle of the last two dims (entries with
    /// `col - row >= diagonal` kept), like `torch.triu`.
    pub fn triu(&self, diagonal: i64) -> Result<Tensor> {
        self.triangle("triu", |d| d >= diagonal)
    }
}
