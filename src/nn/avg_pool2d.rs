//! Average pooling layer.

use super::pool::pool_layer;

pool_layer! {
    /// Average pooling over 2-D windows, PyTorch's `nn.AvgPool2d` (floor mode,
    /// `count_include_pad=True`: padded positions count as zeros).
    ///
    /// The stride defaults to the kernel size and the padding to 0. [`AvgPool2d::new`]
    /// and the builders never fail; invalid values (a zero kernel or stride, padding
    /// over half the kernel) are reported by [`AvgPool2d::validate`], by `forward` and by
    /// [`AvgPool2d::try_new`].
    ///
    /// # Shapes
    /// - input: `(N, C, H, W)` or `(C, H, W)`
    /// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)` with
    ///   `H_out = (H + 2 * padding - kernel) / stride + 1` (likewise for `W`).
    ///
    /// ```
    /// use neurite::nn::{AvgPool2d, Forward, Module};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
    /// let y = AvgPool2d::new(2).forward(&x)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![2.5, 4.5, 10.5, 12.5]);
    /// # Ok(()) }
    /// ```
    AvgPool2d,
    avg_pool2d
}
