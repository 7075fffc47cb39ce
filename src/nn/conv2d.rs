//! 2-D convolution layer.

use super::init::{Init, default_bias};
use super::params::{Unbuilt, check_size, placeholder};
use super::size2::IntoSize2;
use super::{Forward, LayerConfig, Module};
use crate::{Conv2dArgs, DType, Device, Error, Result, Tensor};

/// 2-D convolution (cross-correlation) with stride, zero padding, dilation,
/// channel groups and an optional bias, PyTorch's `nn.Conv2d`.
///
/// The weight is stored `[out_channels, in_channels / groups, kh, kw]` as in PyTorch and
/// initialised as PyTorch does: weight and bias from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`
/// with `fan_in = in_channels / groups * kh * kw`. Created on the CPU in `f32`.
///
/// [`Conv2d::new`] and the `with_*` builders never fail: a zero kernel,
/// stride or dilation, groups not dividing the channels, or sizes whose
/// parameters cannot be allocated, are reported by [`Conv2d::validate`], by
/// `forward` and by [`Conv2d::try_new`].
///
/// # Shapes
/// - input: `(N, C_in, H, W)` or `(C_in, H, W)`
/// - output: `(N, C_out, H_out, W_out)` or `(C_out, H_out, W_out)` with
///   `H_out = (H + 2 * padding - dilation * (kh - 1) - 1) / stride + 1` (likewise for `W`).
///
/// ```
/// use neurite::nn::{Conv2d, Forward, Module};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let conv = Conv2d::new(3, 8, 3).with_stride(2).with_padding(1);
/// let y = conv.forward(&Tensor::zeros((2, 3, 32, 32), DType::F32, &Device::cpu())?)?;
/// assert_eq!(y.dims(), &[2, 8, 16, 16]);
/// let depthwise = Conv2d::new(8, 8, 3).with_groups(8).with_dilation(2).with_padding(2);
/// assert_eq!(depthwise.weight().dims(), &[8, 1, 3, 3]);
/// assert_eq!(depthwise.forward(&y)?.dims(), &[2, 8, 16, 16]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    /// `in_channels`, kept apart from the weight's dims so that a layer whose
    /// groups do not divide it still reports it.
    in_channels: usize,
    unbuilt: Unbuilt,
}

impl Conv2d {
    /// A convolution with stride 1, no padding and a bias. Sizes whose
    /// parameters cannot be created give a layer holding empty placeholders
    /// that reports the failure from [`Conv2d::validate`] and `forward`.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl IntoSize2) -> Conv2d {
        let kernel = kernel_size.into_size2();
        Conv2d::build(in_channels, out_channels, kernel, 1).unwrap_or_else(|e| Conv2d::unbuilt(in_channels, &e))
    }

    /// A layer holding placeholders, reporting `e`.
    fn unbuilt(in_channels: usize, e: &Error) -> Conv2d {
        Conv2d {
            weight: placeholder(4),
            bias: None,
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
            in_channels,
            unbuilt: Unbuilt::because(e),
        }
    }

    /// Creates the parameters of `groups` groups, with a bias, stride 1 and no padding.
    fn build(in_channels: usize, out_channels: usize, [kh, kw]: [usize; 2], groups: usize) -> Result<Conv2d> {
        let (dtype, dev) = (DType::F32, Device::cpu());
        check_groups("Conv2d", in_channels, out_channels, groups)?;
        let cg = in_channels / groups;
        check_size("Conv2d", "weight", &[out_channels, cg, kh, kw])?;
        let weight = Init::pytorch_default_weight().tensor((out_channels, cg, kh, kw), dtype, &dev)?;
        // The weight's element count did not overflow, so neither does this product.
        let fan_in = cg * kh * kw;
        let bias = default_bias(fan_in, out_channels, dtype, &dev)?;
        Ok(Conv2d {
            weight: weight.requires_grad(),
            bias: Some(bias.requires_grad()),
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups,
            in_channels,
            unbuilt: Unbuilt::none(),
        })
    }

    /// A convolution holding `weight` `[out_channels, in_channels, kh, kw]` and
    /// an optional `bias` `[out_channels]` (same dtype and device), with
    /// `stride` and `padding`; the tensors become trainable and share storage
    /// with the given ones. Errors name the wrong shape, dtype or size.
    ///
    /// ```
    /// use neurite::nn::Conv2d;
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let w = Tensor::ones((4, 1, 3, 3), DType::F32, &Device::cpu())?;
    /// let conv = Conv2d::from_tensors(w, None, 1, 1)?;
    /// assert_eq!((conv.in_channels(), conv.out_channels(), conv.kernel_size()), (1, 4, [3, 3]));
    /// # Ok(()) }
    /// ```
    pub fn from_tensors(
        weight: Tensor,
        bias: Option<Tensor>,
        stride: impl IntoSize2,
        padding: impl IntoSize2,
    ) -> Result<Conv2d> {
        const OP: &str = "Conv2d::from_tensors";
        let weight = super::given::parameter(OP, "weight", &weight, 4)?;
        let bias = super::given::bias(OP, bias.as_ref(), &weight, weight.dims()[0])?;
        let c = Conv2d {
            in_channels: weight.dims()[1],
            weight,
            bias,
            stride: stride.into_size2(),
            padding: padding.into_size2(),
            dilation: [1, 1],
            groups: 1,
            unbuilt: Unbuilt::none(),
        };
        c.validate()?;
        Ok(c)
    }

    /// Like [`Conv2d::new`] with every hyperparameter, validated now.
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl IntoSize2,
        stride: impl IntoSize2,
        padding: impl IntoSize2,
        bias: bool,
    ) -> Result<Conv2d> {
        // The bias is drawn even when dropped, so a seed gives the weights of `new`.
        let c = Conv2d::build(in_channels, out_channels, kernel_size.into_size2(), 1)?
            .with_stride(stride)
            .with_padding(padding)
            .with_bias(bias);
        c.validate()?;
        Ok(c)
    }

    /// Like [`Conv2d::try_new`], with dilation and groups as well.
    #[allow(clippy::too_many_arguments)]
    pub fn try_new_full(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl IntoSize2,
        stride: impl IntoSize2,
        padding: impl IntoSize2,
        dilation: impl IntoSize2,
        groups: usize,
        bias: bool,
    ) -> Result<Conv2d> {
        let c = Conv2d::build(in_channels, out_channels, kernel_size.into_size2(), groups)?
            .with_stride(stride)
            .with_padding(padding)
            .with_dilation(dilation)
            .with_bias(bias);
        c.validate()?;
        Ok(c)
    }

    /// Sets the spacing between kernel taps.
    pub fn with_dilation(mut self, dilation: impl IntoSize2) -> Conv2d {
        self.dilation = dilation.into_size2();
        self
    }

    /// Splits the channels into `groups` independent convolutions
    /// (`groups == in_channels` is depthwise). The weight becomes
    /// `[out_channels, in_channels / groups, kh, kw]`, so the parameters are
    /// created afresh (PyTorch's initialisation), keeping whether there is a bias.
    pub fn with_groups(self, groups: usize) -> Conv2d {
        if groups == self.groups || self.unbuilt.check("Conv2d").is_err() {
            return Conv2d { groups, ..self };
        }
        let (dtype, dev) = (self.weight.dtype(), self.weight.device());
        let built =
            Conv2d::build(self.in_channels, self.out_channels(), self.kernel_size(), groups).and_then(|mut c| {
                c.map_own_tensors(&mut |t| t.to_dtype(dtype)?.to_device(&dev).map(|t| t.requires_grad()))?;
                Ok(c)
            });
        match built {
            Ok(c) => Conv2d {
                stride: self.stride,
                padding: self.padding,
                dilation: self.dilation,
                ..c
            }
            .with_bias(self.bias.is_some()),
            Err(e) => Conv2d {
                groups,
                ..Conv2d::unbuilt(self.in_channels, &e)
            },
        }
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: impl IntoSize2) -> Conv2d {
        self.stride = stride.into_size2();
        self
    }

    /// Sets the zero padding added on every side.
    pub fn with_padding(mut self, padding: impl IntoSize2) -> Conv2d {
        self.padding = padding.into_size2();
        self
    }

    /// Adds (with PyTorch's default initialisation) or removes the bias.
    pub fn with_bias(mut self, bias: bool) -> Conv2d {
        match (bias, self.bias.is_some()) {
            (false, _) => self.bias = None,
            (true, true) => {}
            (true, false) => {
                if self.unbuilt.check("Conv2d").is_err() {
                    return self;
                }
                // A product of the existing weight's dims: it fits in usize.
                let fan_in = self.weight.dims()[1] * self.kernel_size().iter().product::<usize>();
                match default_bias(fan_in, self.out_channels(), self.weight.dtype(), &self.weight.device()) {
                    Ok(b) => self.bias = Some(b.requires_grad()),
                    Err(e) => self.unbuilt = Unbuilt::because(&e),
                }
            }
        }
        self
    }

    /// Checks the hyperparameters (kernel, stride and dilation must be
    /// positive, groups must divide the channels) and that the parameters were
    /// created (see [`Conv2d::new`]).
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check("Conv2d")?;
        let k = self.kernel_size();
        if k.contains(&0) || self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err(Error::invalid(
                "Conv2d",
                format!(
                    "kernel {k:?}, stride {:?} and dilation {:?} must be positive",
                    self.stride, self.dilation
                ),
            ));
        }
        check_groups("Conv2d", self.in_channels, self.out_channels(), self.groups)
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// `[dh, dw]`.
    pub fn dilation(&self) -> [usize; 2] {
        self.dilation
    }

    /// Channel groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.dims()[0]
    }

    /// `[kh, kw]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        [self.weight.dims()[2], self.weight.dims()[3]]
    }

    /// `[sh, sw]`.
    pub fn stride(&self) -> [usize; 2] {
        self.stride
    }

    /// `[ph, pw]`.
    pub fn padding(&self) -> [usize; 2] {
        self.padding
    }

    /// The weight, `[out_channels, in_channels / groups, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out_channels]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for Conv2d {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        super::module::weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        super::module::map_weight_and_bias(&mut self.weight, &mut self.bias, f)
    }

    fn config(&self) -> Result<LayerConfig> {
        self.unbuilt.check("Conv2d")?;
        // The original variant while it can say everything: what older builds read.
        if self.groups == 1 && self.dilation == [1, 1] {
            return Ok(LayerConfig::Conv2d {
                in_channels: self.in_channels(),
                out_channels: self.out_channels(),
                kernel_size: self.kernel_size(),
                stride: self.stride,
                padding: self.padding,
                bias: self.bias.is_some(),
            });
        }
        Ok(LayerConfig::Conv2dFull {
            in_channels: self.in_channels(),
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

impl Forward for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let args = Conv2dArgs::default()
            .stride(self.stride)
            .padding(self.padding)
            .dilation(self.dilation)
            .groups(self.groups);
        if x.rank() == 3 {
            let y = x.unsqueeze(0)?.conv2d_with(&self.weight, self.bias.as_ref(), &args)?;
            return y.squeeze(0usize);
        }
        x.conv2d_with(&self.weight, self.bias.as_ref(), &args)
    }
}

/// Errors unless `groups` is positive and divides both channel counts.
pub(crate) fn check_groups(op: &'static str, in_channels: usize, out_channels: usize, groups: usize) -> Result<()> {
    if groups == 0 || !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
        return Err(Error::invalid(
            op,
            format!(
                "groups ({groups}) must be positive and divide both in_channels ({in_channels}) and out_channels ({out_channels})"
            ),
        ));
    }
    Ok(())
}
