//! Adaptive average and max pooling, PyTorch's `adaptive_{avg,max}_pool{1,2}d`.
//!
//! Output entry `i` of a dim of size `input` pooled to `output` covers
//! `floor(i * input / output) .. ceil((i + 1) * input / output)`. Average
//! pooling is a product with an averaging matrix per dim; max pooling gathers
//! every window (padded to the longest by repeating its first entry, which
//! never changes the maximum nor which entry is the first maximum) and reduces.

use super::separable::{along_last, along_second_last, matrix};
use crate::{Error, Result, Tensor};

/// An adaptive pool's output size: a size per dim, `None` keeping the input's.
///
/// `7` means `(7, 7)`; `(Some(7), None)` keeps the width.
pub trait IntoOutputSize2: Copy {
    /// `[height, width]`.
    fn into_output_size2(self) -> [Option<usize>; 2];
}

impl IntoOutputSize2 for usize {
    fn into_output_size2(self) -> [Option<usize>; 2] {
        [Some(self), Some(self)]
    }
}

impl IntoOutputSize2 for (usize, usize) {
    fn into_output_size2(self) -> [Option<usize>; 2] {
        [Some(self.0), Some(self.1)]
    }
}

impl IntoOutputSize2 for [usize; 2] {
    fn into_output_size2(self) -> [Option<usize>; 2] {
        [Some(self[0]), Some(self[1])]
    }
}

impl IntoOutputSize2 for (Option<usize>, Option<usize>) {
    fn into_output_size2(self) -> [Option<usize>; 2] {
        [self.0, self.1]
    }
}

impl IntoOutputSize2 for [Option<usize>; 2] {
    fn into_output_size2(self) -> [Option<usize>; 2] {
        self
    }
}

/// The `(start, end)` input window of each of `output` entries.
pub(crate) fn windows(input: usize, output: usize) -> Vec<(usize, usize)> {
    let (i_in, i_out) = (input as u128, output as u128);
    (0..i_out)
        .map(|i| {
            let start = (i * i_in) / i_out;
            let end = ((i + 1) * i_in).div_ceil(i_out);
            (start as usize, end as usize)
        })
        .collect()
}

/// The spatial sizes of an `(N, C, H, W)` / `(C, H, W)` input and the output
/// sizes (`None` resolved), after checking ranks and sizes.
fn spatial(x: &Tensor, size: [Option<usize>; 2], op: &'static str) -> Result<([usize; 2], [usize; 2])> {
    if x.rank() != 3 && x.rank() != 4 {
        return Err(Error::invalid(
            op,
            format!("expected an (N, C, H, W) or (C, H, W) input, got shape {}", x.shape()),
        ));
    }
    let r = x.rank();
    // PyTorch accepts an empty batch, but no empty channel or spatial dim.
    let non_batch = &x.dims()[r - 3..];
    if non_batch.contains(&0) {
        return Err(Error::invalid(
            op,
            format!("the non-batch dims of shape {} must be non-empty", x.shape()),
        ));
    }
    let input = [x.dims()[r - 2], x.dims()[r - 1]];
    let output = [size[0].unwrap_or(input[0]), size[1].unwrap_or(input[1])];
    if output.contains(&0) {
        return Err(Error::invalid(
            op,
            format!("output size {size:?} must be positive (input shape {})", x.shape()),
        ));
    }
    Ok((input, output))
}

/// The `(output, input)` matrix averaging each window.
fn averaging(x: &Tensor, input: usize, output: usize) -> Result<Tensor> {
    let n = crate::shape::checked_numel(&[output, input], "adaptive_avg_pool2d")?;
    let mut m = vec![0.0; n];
    for (i, (s, e)) in windows(input, output).into_iter().enumerate() {
        let w = 1.0 / (e - s) as f64;
        m[i * input + s..i * input + e].fill(w);
    }
    matrix(x, output, input, m)
}

impl Tensor {
    /// Adaptive average pooling to `output_size`, like
    /// `torch.nn.functional.adaptive_avg_pool2d`, on `(N, C, H, W)` or `(C, H, W)`.
    ///
    /// ```
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::arange(0., 6., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 2, 3))?;
    /// let y = x.adaptive_avg_pool2d((1, 2))?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![2., 3.]);
    /// # Ok(()) }
    /// ```
    pub fn adaptive_avg_pool2d(&self, output_size: impl IntoOutputSize2) -> Result<Tensor> {
        let op = "adaptive_avg_pool2d";
        self.require_float(op)?;
        let (input, output) = spatial(self, output_size.into_output_size2(), op)?;
        let mut y = self.clone();
        if input[1] != output[1] {
            y = along_last(&y, &averaging(self, input[1], output[1])?)?;
        }
        if input[0] != output[0] {
            y = along_second_last(&y, &averaging(self, input[0], output[0])?)?;
        }
        Ok(y)
    }

    /// Adaptive average pooling of `(N, C, L)` or `(C, L)` to `output_size`,
    /// like `torch.nn.functional.adaptive_avg_pool1d`.
    pub fn adaptive_avg_pool1d(&self, output_size: usize) -> Result<Tensor> {
        let op = "adaptive_avg_pool1d";
        check_1d(self, op)?;
        self.unsqueeze(-2)?
            .adaptive_avg_pool2d([Some(1), Some(output_size)])?
            .squeeze(-2i64)
    }

    /// Adaptive max pooling to `output_size`, like
    /// `torch.nn.functional.adaptive_max_pool2d`; the gradient goes to the
    /// first maximum of each window.
    pub fn adaptive_max_pool2d(&self, output_size: impl IntoOutputSize2) -> Result<Tensor> {
        Ok(self.adaptive_max_pool2d_with_indices(output_size)?.0)
    }

    /// [`Tensor::adaptive_max_pool2d`] and, as PyTorch's `return_indices=True`,
    /// the `I64` position `h * W + w` of each maximum within its input plane
    /// (the first maximum on ties).
    ///
    /// ```
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, 5., 2., 4., 0., 3.], (1, 1, 2, 3), &Device::cpu())?;
    /// let (y, idx) = x.adaptive_max_pool2d_with_indices((1, 2))?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![5., 5.]);
    /// assert_eq!(idx.to_vec::<i64>()?, vec![1, 1]);
    /// # Ok(()) }
    /// ```
    pub fn adaptive_max_pool2d_with_indices(&self, output_size: impl IntoOutputSize2) -> Result<(Tensor, Tensor)> {
        let op = "adaptive_max_pool2d";
        self.require_float(op)?;
        let (input, output) = spatial(self, output_size.into_output_size2(), op)?;
        let (rows, cols) = (windows(input[0], output[0]), windows(input[1], output[1]));
        let kh = rows.iter().map(|(s, e)| e - s).max().unwrap_or(1);
        let kw = cols.iter().map(|(s, e)| e - s).max().unwrap_or(1);
        let k = kh * kw;
        let cells = output[0] * output[1];
        let n = crate::shape::checked_numel(&[cells, k], op)?;
        let lead: Vec<usize> = self.dims()[..self.rank() - 2].to_vec();
        let planes: usize = lead.iter().product();
        crate::shape::checked_numel(&[planes, n], op)?;
        let mut table = Vec::with_capacity(n);
        for &(hs, he) in &rows {
            for &(ws, we) in &cols {
                let first = (hs * input[1] + ws) as i64;
                let cell = (hs..he).flat_map(|h| (ws..we).map(move |w| (h * input[1] + w) as i64));
                let len = (he - hs) * (we - ws);
                table.extend(cell.chain(std::iter::repeat_n(first, k - len)));
            }
        }
        let table = Tensor::from_vec(table, n, &self.device())?;
        let taps = self
            .reshape([planes, input[0] * input[1]])?
            .index_select(1usize, &table)?
            .reshape([planes, cells, k])?;
        let mut out_dims = lead;
        out_dims.extend(output);
        let values = taps.max_dim(2usize, false)?.reshape(out_dims.clone())?;
        let which = taps.detach().argmax(2usize, true)?;
        let indices = table
            .reshape([1, cells, k])?
            .broadcast_as([planes, cells, k])?
            .gather(2usize, &which)?
            .reshape(out_dims)?;
        Ok((values, indices))
    }

    /// Adaptive max pooling of `(N, C, L)` or `(C, L)`, like
    /// `torch.nn.functional.adaptive_max_pool1d`.
    pub fn adaptive_max_pool1d(&self, output_size: usize) -> Result<Tensor> {
        Ok(self.adaptive_max_pool1d_with_indices(output_size)?.0)
    }

    /// [`Tensor::adaptive_max_pool1d`] and the `I64` position of each maximum.
    pub fn adaptive_max_pool1d_with_indices(&self, output_size: usize) -> Result<(Tensor, Tensor)> {
        check_1d(self, "adaptive_max_pool1d")?;
        let (v, i) = self
            .unsqueeze(-2)?
            .adaptive_max_pool2d_with_indices([Some(1), Some(output_size)])?;
        Ok((v.squeeze(-2i64)?, i.squeeze(-2i64)?))
    }
}

fn check_1d(x: &Tensor, op: &'static str) -> Result<()> {
    if x.rank() != 2 && x.rank() != 3 {
        return Err(Error::invalid(
            op,
            format!("expected an (N, C, L) or (C, L) input, got shape {}", x.shape()),
        ));
    }
    Ok(())
}
