//! 1-D convolution layer.

use super::conv2d::check_groups;
use super::init::{Init, default_bias};
use super::params::{Unbuilt, check_size, placeholder};
use super::{Forward, LayerConfig, Module};
use crate::{Conv1dArgs, DType, Device, Error, Result, Tensor};

/// 1-D convolution (cross-correlation) over sequences, PyTorch's `nn.Conv1d`:
/// stride, zero padding, dilation, channel groups and an optional bias.
///
/// The weight is `[out_channels, in_channels / groups, kernel_size]`, initialised
/// as PyTorch does (`U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, `fan_in = in_channels /
/// groups * kernel_size`), on the CPU in `f32`. [`Conv1d::new`] and the builders
/// never fail; invalid values are reported by [`Conv1d::validate`], by `forward`
/// and by [`Conv1d::try_new`].
///
/// # Shapes
/// - input: `(N, C_in, L)` or `(C_in, L)`
/// - output: `(N, C_out, L_out)` or `(C_out, L_out)` with
///   `L_out = (L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1`.
///
/// ```
/// use neurite::nn::{Conv1d, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let conv = Conv1d::new(4, 8, 3).with_padding(2).with_dilation(2).with_groups(2);
/// let y = conv.forward(&Tensor::zeros((2, 4, 20), DType::F32, &Device::cpu())?)?;
/// assert_eq!(y.dims(), &[2, 8, 20]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Conv1d {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
    in_channels: usize,
    unbuilt: Unbuilt,
}

impl Conv1d {
    /// A convolution with stride 1, no padding, no dilation, one group and a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv1d {
        Conv1d::build(in_channels, out_channels, kernel_size, 1).unwrap_or_else(|e| Conv1d::unbuilt(in_channels, &e))
    }

    fn unbuilt(in_channels: usize, e: &Error) -> Conv1d {
        Conv1d {
            weight: placeholder(3),
            bias: None,
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
            in_channels,
            unbuilt: Unbuilt::because(e),
        }
    }

    fn build(in_channels: usize, out_channels: usize, k: usize, groups: usize) -> Result<Conv1d> {
        let (dtype, dev) = (DType::F32, Device::cpu());
        check_groups("Conv1d", in_channels, out_channels, groups)?;
        let cg = in_channels / groups;
        check_size("Conv1d", "weight", &[out_channels, cg, k])?;
        let weight = Init::pytorch_default_weight().tensor((out_channels, cg, k), dtype, &dev)?;
        // The weight's element count did not overflow, so neither does this product.
        let bias = default_bias(cg * k, out_channels, dtype, &dev)?;
        Ok(Conv1d {
            weight: weight.requires_grad(),
            bias: Some(bias.requires_grad()),
            stride: 1,
            padding: 0,
            dilation: 1,
            groups,
            in_channels,
            unbuilt: Unbuilt::none(),
        })
    }

    /// Every hyperparameter, validated now.
    #[allow(clippy::too_many_arguments)]
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        groups: usize,
        bias: bool,
    ) -> Result<Conv1d> {
        let mut c = Conv1d::build(in_channels, out_channels, kernel_size, groups)?
            .with_stride(stride)
            .with_padding(padding)
            .with_dilation(dilation);
        if !bias {
            c.bias = None;
        }
        c.validate()?;
        Ok(c)
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: usize) -> Conv1d {
        self.stride = stride;
        self
    }

    /// Sets the zero padding added on both ends.
    pub fn with_padding(mut self, padding: usize) -> Conv1d {
        self.padding = padding;
        self
    }

    /// Sets the spacing between kernel taps.
    pub fn with_dilation(mut self, dilation: usize) -> Conv1d {
        self.dilation = dilation;
        self
    }

    /// Splits the channels into `groups` independent convolutions; the
    /// parameters are created afresh for the new weight shape, keeping whether there is a bias.
    pub fn with_groups(self, groups: usize) -> Conv1d {
        if groups == self.groups || self.unbuilt.check("Conv1d").is_err() {
            return Conv1d { groups, ..self };
        }
        let (k, out) = (self.kernel_size(), self.out_channels());
        match Conv1d::build(self.in_channels, out, k, groups) {
            Ok(mut c) => {
                if self.bias.is_none() {
                    c.bias = None;
                }
                Conv1d {
                    stride: self.stride,
                    padding: self.padding,
                    dilation: self.dilation,
                    ..c
                }
            }
            Err(e) => Conv1d {
                groups,
                ..Conv1d::unbuilt(self.in_channels, &e)
            },
        }
    }

    /// Checks the hyperparameters and that the parameters were created.
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("Conv1d")?;
        if self.kernel_size() == 0 || self.stride == 0 || self.dilation == 0 {
            return Err(Error::invalid(
                "Conv1d",
                format!(
                    "kernel_size {}, stride {} and dilation {} must be positive",
                    self.kernel_size(),
                    self.stride,
                    self.dilation
                ),
            ));
        }
        check_groups("Conv1d", self.in_channels, self.out_channels(), self.groups)
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.dims()[0]
    }
    /// Kernel length.
    pub fn kernel_size(&self) -> usize {
        self.weight.dims()[2]
    }
    /// Stride.
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// Padding on each end.
    pub fn padding(&self) -> usize {
        self.padding
    }
    /// Dilation.
    pub fn dilation(&self) -> usize {
        self.dilation
    }
    /// Channel groups.
    pub fn groups(&self) -> usize {
        self.groups
    }
    /// The weight, `[out_channels, in_channels / groups, kernel_size]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
    /// The bias, `[out_channels]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for Conv1d {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        super::module::weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        super::module::map_weight_and_bias(&mut self.weight, &mut self.bias, f)
    }

    fn config(&self) -> Result<LayerConfig> {
        self.unbuilt.check("Conv1d")?;
        Ok(LayerConfig::Conv1d {
            in_channels: self.in_channels,
            out_channels: self.out_channels(),
            kernel_size: self.kernel_size(),
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: self.groups,
            bias: self.bias.is_some(),
        })
    }
}

impl Forward for Conv1d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let args = Conv1dArgs::default()
            .stride(self.stride)
            .padding(self.padding)
            .dilation(self.dilation)
            .groups(self.groups);
        if x.rank() == 2 {
            return x
                .unsqueeze(0)?
                .conv1d(&self.weight, self.bias.as_ref(), &args)?
                .squeeze(0usize);
        }
        x.conv1d(&self.weight, self.bias.as_ref(), &args)
    }
}
