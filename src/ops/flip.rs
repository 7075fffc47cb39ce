//! Reordering along dims: `flip` and `roll`, as one `index_select` per dim.

use crate::shape::resolve_dims;
use crate::{Dim, Error, Result, Tensor};

impl Tensor {
    /// Reverses the order of entries along each of `dims`, like `torch.flip`.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, 2., 3., 4.], (2, 2), &Device::cpu())?;
    /// assert_eq!(x.flip(&[-1i64])?.to_vec::<f32>()?, vec![2., 1., 4., 3.]);
    /// # Ok(()) }
    /// ```
    pub fn flip<D: Dim>(&self, dims: &[D]) -> Result<Tensor> {
        let dims = resolve_dims(dims, self.shape(), "flip")?;
        let mut y = self.clone();
        for d in dims {
            let n = self.dims()[d];
            if n < 2 {
                continue;
            }
            let ids: Vec<i64> = (0..n as i64).rev().collect();
            y = y.index_select(d, &Tensor::from_vec(ids, n, &self.device())?)?;
        }
        Ok(y)
    }

    /// Rotates entries along `dims` by `shifts` (entry `i` moves to `i + shift`,
    /// wrapping around), like `torch.roll`. With no `dims` the tensor is
    /// flattened, rolled by the single shift and reshaped back.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, 2., 3., 4.], 4, &Device::cpu())?;
    /// assert_eq!(x.roll(&[1], &[0usize])?.to_vec::<f32>()?, vec![4., 1., 2., 3.]);
    /// # Ok(()) }
    /// ```
    pub fn roll<D: Dim>(&self, shifts: &[i64], dims: &[D]) -> Result<Tensor> {
        let op = "roll";
        if dims.is_empty() {
            if shifts.len() != 1 {
                return Err(Error::invalid(
                    op,
                    format!("without dims exactly one shift is expected, got {shifts:?}"),
                ));
            }
            return self.flatten_all()?.roll(shifts, &[0usize])?.reshape(self.shape());
        }
        if shifts.len() != dims.len() {
            return Err(Error::invalid(
                op,
                format!("{} shifts {shifts:?} for {} dims", shifts.len(), dims.len()),
            ));
        }
        let mut y = self.clone();
        for (&shift, &dim) in shifts.iter().zip(dims) {
            let d = dim.to_index(self.shape(), op)?;
            let n = self.dims()[d] as i64;
            if n == 0 || shift.rem_euclid(n) == 0 {
                continue;
            }
            // Output entry j holds input entry j - shift.
            let ids: Vec<i64> = (0..n).map(|j| (j - shift.rem_euclid(n)).rem_euclid(n)).collect();
            y = y.index_select(d, &Tensor::from_vec(ids, n as usize, &self.device())?)?;
        }
        Ok(y)
    }
}
