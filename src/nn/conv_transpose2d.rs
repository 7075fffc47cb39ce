//! Transposed 2-D convolution layer.

use super::conv2d::check_groups;
use super::init::{Init, default_bias};
use super::params::{Unbuilt, check_size, placeholder};
use super::size2::IntoSize2;
use super::{Forward, LayerConfig, Module};
use crate::{ConvTranspose2dArgs, DType, Device, Error, Result, Tensor};

/// Transposed 2-D convolution ("deconvolution"), PyTorch's `nn.ConvTranspose2d`:
/// stride, padding, output_padding, groups, dilation and an optional bias.
///
/// The weight is `[in_channels, out_channels / groups, kh, kw]` (PyTorch's
/// layout), initialised as PyTorch does with `fan_in = out_channels / groups * kh * kw`,
/// on the CPU in `f32`. [`ConvTranspose2d::new`] and the builders never fail;
/// invalid values are reported by [`ConvTranspose2d::validate`], by `forward`
/// and by [`ConvTranspose2d::try_new`].
///
/// # Shapes
/// - input: `(N, C_in, H, W)` or `(C_in, H, W)`
/// - output: `(N, C_out, H_out, W_out)` or `(C_out, H_out, W_out)` with
///   `H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1`.
///
/// ```
/// use neurite::nn::{ConvTranspose2d, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let up = ConvTranspose2d::new(8, 4, 3).with_stride(2).with_padding(1).with_output_padding(1);
/// let y = up.forward(&Tensor::zeros((2, 8, 16, 16), DType::F32, &Device::cpu())?)?;
/// assert_eq!(y.dims(), &[2, 4, 32, 32]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ConvTranspose2d {
    weight: Tensor,
    bias: Option<Tensor>,
    args: ConvTranspose2dArgs,
    out_channels: usize,
    unbuilt: Unbuilt,
}

impl ConvTranspose2d {
    /// A transposed convolution with stride 1, no padding, one group and a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl IntoSize2) -> ConvTranspose2d {
        let k = kernel_size.into_size2();
        ConvTranspose2d::build(in_channels, out_channels, k, 1)
            .unwrap_or_else(|e| ConvTranspose2d::unbuilt(out_channels, &e))
    }

    fn unbuilt(out_channels: usize, e: &Error) -> ConvTranspose2d {
        ConvTranspose2d {
            weight: placeholder(4),
            bias: None,
            args: ConvTranspose2dArgs::default(),
            out_channels,
            unbuilt: Unbuilt::because(e),
        }
    }

    fn build(in_channels: usize, out_channels: usize, [kh, kw]: [usize; 2], groups: usize) -> Result<ConvTranspose2d> {
        let (dtype, dev) = (DType::F32, Device::cpu());
        check_groups("ConvTranspose2d", in_channels, out_channels, groups)?;
        let og = out_channels / groups;
        check_size("ConvTranspose2d", "weight", &[in_channels, og, kh, kw])?;
        let weight = Init::pytorch_default_weight().tensor((in_channels, og, kh, kw), dtype, &dev)?;
        // The weight's element count did not overflow, so neither does this product.
        let bias = default_bias(og * kh * kw, out_channels, dtype, &dev)?;
        Ok(ConvTranspose2d {
            weight: weight.requires_grad(),
            bias: Some(bias.requires_grad()),
            args: ConvTranspose2dArgs::default().groups(groups),
            out_channels,
            unbuilt: Unbuilt::none(),
        })
    }

    /// Every hyperparameter, validated now.
    #[allow(clippy::too_many_arguments)]
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl IntoSize2,
        stride: impl IntoSize2,
        padding: impl IntoSize2,
        output_padding: impl IntoSize2,
        groups: usize,
        bias: bool,
        dilation: impl IntoSize2,
    ) -> Result<ConvTranspose2d> {
        let mut c = ConvTranspose2d::build(in_channels, out_channels, kernel_size.into_size2(), groups)?
            .with_stride(stride)
            .with_padding(padding)
            .with_output_padding(output_padding)
            .with_dilation(dilation);
        if !bias {
            c.bias = None;
        }
        c.validate()?;
        Ok(c)
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: impl IntoSize2) -> ConvTranspose2d {
        self.args.stride = stride.into_size2();
        self
    }

    /// Sets the padding cropped from each side of the full output.
    pub fn with_padding(mut self, padding: impl IntoSize2) -> ConvTranspose2d {
        self.args.padding = padding.into_size2();
        self
    }

    /// Sets the extra rows/columns at the bottom/right of the output.
    pub fn with_output_padding(mut self, output_padding: impl IntoSize2) -> ConvTranspose2d {
        self.args.output_padding = output_padding.into_size2();
        self
    }

    /// Sets the spacing between kernel taps.
    pub fn with_dilation(mut self, dilation: impl IntoSize2) -> ConvTranspose2d {
        self.args.dilation = dilation.into_size2();
        self
    }

    /// Splits the channels into `groups` independent convolutions; the
    /// parameters are created afresh for the new weight shape, keeping whether there is a bias.
    pub fn with_groups(self, groups: usize) -> ConvTranspose2d {
        if groups == self.args.groups || self.unbuilt.check("ConvTranspose2d").is_err() {
            return ConvTranspose2d {
                args: self.args.groups(groups),
                ..self
            };
        }
        match ConvTranspose2d::build(self.in_channels(), self.out_channels, self.kernel_size(), groups) {
            Ok(mut c) => {
                if self.bias.is_none() {
                    c.bias = None;
                }
                c.args = self.args.groups(groups);
                c
            }
            Err(e) => ConvTranspose2d {
                args: self.args.groups(groups),
                ..ConvTranspose2d::unbuilt(self.out_channels, &e)
            },
        }
    }

    /// Checks the hyperparameters (positive kernel, stride and dilation,
    /// groups dividing the channels, output padding below the stride or the
    /// dilation) and that the parameters were created.
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "ConvTranspose2d";
        self.unbuilt.check(OP)?;
        let (k, a) = (self.kernel_size(), &self.args);
        if k.contains(&0) || a.stride.contains(&0) || a.dilation.contains(&0) {
            return Err(Error::invalid(
                OP,
                format!(
                    "kernel {k:?}, stride {:?} and dilation {:?} must be positive",
                    a.stride, a.dilation
                ),
            ));
        }
        for i in 0..2 {
            if a.output_padding[i] >= a.stride[i] && a.output_padding[i] >= a.dilation[i] {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "output_padding {:?} must be smaller than either the stride {:?} or the dilation {:?}",
                        a.output_padding, a.stride, a.dilation
                    ),
                ));
            }
        }
        check_groups(OP, self.in_channels(), self.out_channels, a.groups)
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.dims()[0]
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }
    /// `[kh, kw]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        [self.weight.dims()[2], self.weight.dims()[3]]
    }
    /// Stride, padding, output padding, groups and dilation.
    pub fn args(&self) -> &ConvTranspose2dArgs {
        &self.args
    }
    /// The weight, `[in_channels, out_channels / groups, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
    /// The bias, `[out_channels]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for ConvTranspose2d {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        super::module::weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        super::module::map_weight_and_bias(&mut self.weight, &mut self.bias, f)
    }

    fn config(&self) -> Result<LayerConfig> {
        self.unbuilt.check("ConvTranspose2d")?;
        let a = &self.args;
        Ok(LayerConfig::ConvTranspose2d {
            in_channels: self.in_channels(),
            out_channels: self.out_channels,
            kernel_size: self.kernel_size(),
            stride: a.stride,
            padding: a.padding,
            output_padding: a.output_padding,
            groups: a.groups,
            bias: self.bias.is_some(),
            dilation: a.dilation,
        })
    }
}

impl Forward for ConvTranspose2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        if x.rank() == 3 {
            let y = x
                .unsqueeze(0)?
                .conv_transpose2d(&self.weight, self.bias.as_ref(), &self.args)?;
            return y.squeeze(0usize);
        }
        x.conv_transpose2d(&self.weight, self.bias.as_ref(), &self.args)
    }
}
