//! Max pooling layer.

use super::pool::pool_layer;

pool_layer! {
    /// Max pooling over 2-D windows, PyTorch's `nn.MaxPool2d` (floor mode, no dilation).
    ///
    /// Padded positions never win; the gradient goes to the first maximum of each window.
    ///
    /// The stride defaults to the kernel size and the padding to 0. [`MaxPool2d::new`]
    /// and the builders never fail; invalid values (a zero kernel or stride, padding
    /// over half the kernel) are reported by [`MaxPool2d::validate`], by `forward` and by
    /// [`MaxPool2d::try_new`].
    ///
    /// # Shapes
    /// - input: `(N, C, H, W)` or `(C, H, W)`
    /// - output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)` with
    ///   `H_out = (H + 2 * padding - kernel) / stride + 1` (likewise for `W`).
    ///
    /// ```
    /// use neurite::nn::{Forward, MaxPool2d, Module};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
    /// let y = MaxPool2d::new(2).forward(&x)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![5., 7., 13., 15.]);
    /// # Ok(()) }
    /// ```
    MaxPool2d,
    max_pool2d
}
