//! Batch-norm folding for inference, PyTorch's `torch.nn.utils.fusion`.
//!
//! In evaluation mode a batch norm is a fixed per-channel affine map, so it
//! can be folded into the weight and bias of the layer before it: one layer
//! and one pass over the activations instead of two. The folding is done in
//! `f64` on the host whatever the layers' dtype, so that an `f32` pair and its
//! fused layer agree to rounding, and the result goes back to the layer's
//! dtype and device.

use super::{BatchNorm1d, BatchNorm2d, Conv2d, Linear, Module};
use crate::{Device, Error, Result, Tensor};

/// A [`Conv2d`] equal to `bn(conv(x))` with `bn` in evaluation mode, as
/// PyTorch's `fuse_conv_bn_eval`: per output channel `o`,
/// `w'[o] = w[o] * gamma[o] / sqrt(running_var[o] + eps)` and
/// `b'[o] = (b[o] - running_mean[o]) * gamma[o] / sqrt(running_var[o] + eps) + beta[o]`
/// (`b = 0` without a conv bias, `gamma = 1`, `beta = 0` without affine).
///
/// The running statistics are used whatever mode `bn` is in, since the
/// result is meant for inference; train-mode batch statistics cannot be
/// folded. The fused layer keeps the conv's stride, padding, dilation and
/// groups, always has a bias, and holds fresh trainable tensors: tuning it
/// leaves `conv` and `bn` untouched. A grouped conv (`groups > 1`) is built
/// through [`Conv2d::try_new_full`] before its parameters are replaced, so it
/// draws from the global random generator; an ungrouped one does not.
///
/// Errors (never panics) when `bn.num_features()` differs from
/// `conv.out_channels()`, when the layers differ in dtype or device, or when
/// either fails its `validate`.
///
/// ```
/// use neurite::nn::{BatchNorm2d, Conv2d, Forward, Module, fuse_conv_bn_eval};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let conv = Conv2d::new(3, 4, 3).with_padding(1);
/// let mut bn = BatchNorm2d::new(4);
/// let x = Tensor::randn((2, 3, 8, 8), DType::F32, &Device::cpu())?;
/// bn.forward(&conv.forward(&x)?)?; // gathers running statistics
/// bn.eval();
/// let fused = fuse_conv_bn_eval(&conv, &bn)?;
/// let diff = fused.forward(&x)?.sub(&bn.forward(&conv.forward(&x)?)?)?;
/// assert!(diff.abs()?.max_all()?.to_scalar::<f32>()? < 1e-5);
/// assert!(fuse_conv_bn_eval(&conv, &BatchNorm2d::new(5)).is_err());
/// # Ok(()) }
/// ```
pub fn fuse_conv_bn_eval(conv: &Conv2d, bn: &BatchNorm2d) -> Result<Conv2d> {
    const OP: &str = "fuse_conv_bn_eval";
    conv.validate()
        .map_err(|e| Error::invalid(OP, format!("the Conv2d cannot be fused: {e}")))?;
    bn.validate()
        .map_err(|e| Error::invalid(OP, format!("the BatchNorm2d cannot be fused: {e}")))?;
    if bn.num_features() != conv.out_channels() {
        return Err(Error::invalid(
            OP,
            format!(
                "the BatchNorm2d has {} features but the Conv2d has {} output channels (weight {}): they must match",
                bn.num_features(),
                conv.out_channels(),
                conv.weight().shape()
            ),
        ));
    }
    let stats = BnStats {
        mean: bn.running_mean(),
        var: bn.running_var(),
        gamma: bn.weight(),
        beta: bn.bias(),
        eps: bn.eps(),
    };
    check_layout(OP, ("Conv2d", conv.weight()), ("BatchNorm2d", stats.mean))?;
    let (w, b) = fold(conv.weight(), conv.bias(), &stats)?;
    if conv.groups() == 1 {
        let fused = Conv2d::from_tensors(w, Some(b), conv.stride(), conv.padding())?.with_dilation(conv.dilation());
        fused.validate()?;
        return Ok(fused);
    }
    // `from_tensors` only builds ungrouped convs, and `with_groups` redraws the
    // parameters: build the grouped layer, then put the folded tensors in.
    let mut fused = Conv2d::try_new_full(
        conv.in_channels(),
        conv.out_channels(),
        conv.kernel_size(),
        conv.stride(),
        conv.padding(),
        conv.dilation(),
        conv.groups(),
        true,
    )?;
    let mut folded = [w, b].into_iter();
    fused.map_own_tensors(&mut |old| {
        let new = folded
            .next()
            .ok_or_else(|| Error::invalid(OP, "the Conv2d has more parameters than weight and bias"))?;
        if new.shape() != old.shape() {
            return Err(Error::invalid(
                OP,
                format!(
                    "folded tensor of shape {} for a parameter of shape {}",
                    new.shape(),
                    old.shape()
                ),
            ));
        }
        Ok(new.requires_grad())
    })?;
    fused.validate()?;
    Ok(fused)
}

/// A [`Linear`] equal to `bn(linear(x))` on `(N, out_features)` inputs with
/// `bn` in evaluation mode, as PyTorch's `fuse_linear_bn_eval`: row `o` of the
/// weight is scaled by `gamma[o] / sqrt(running_var[o] + eps)` and the bias
/// becomes `(b[o] - running_mean[o]) * gamma[o] / sqrt(running_var[o] + eps) + beta[o]`.
///
/// As with [`fuse_conv_bn_eval`], the running statistics are used whatever
/// mode `bn` is in, the result always has a bias and holds fresh trainable
/// tensors, and mismatched features, dtypes or devices, or a layer that fails
/// its `validate`, are errors.
///
/// ```
/// use neurite::nn::{BatchNorm1d, Forward, Linear, Module, fuse_linear_bn_eval};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let fc = Linear::new(3, 2);
/// let mut bn = BatchNorm1d::new(2);
/// let x = Tensor::randn((8, 3), DType::F32, &Device::cpu())?;
/// bn.forward(&fc.forward(&x)?)?;
/// bn.eval();
/// let fused = fuse_linear_bn_eval(&fc, &bn)?;
/// let diff = fused.forward(&x)?.sub(&bn.forward(&fc.forward(&x)?)?)?;
/// assert!(diff.abs()?.max_all()?.to_scalar::<f32>()? < 1e-5);
/// # Ok(()) }
/// ```
pub fn fuse_linear_bn_eval(linear: &Linear, bn: &BatchNorm1d) -> Result<Linear> {
    const OP: &str = "fuse_linear_bn_eval";
    linear
        .validate()
        .map_err(|e| Error::invalid(OP, format!("the Linear cannot be fused: {e}")))?;
    bn.validate()
        .map_err(|e| Error::invalid(OP, format!("the BatchNorm1d cannot be fused: {e}")))?;
    if bn.num_features() != linear.out_features() {
        return Err(Error::invalid(
            OP,
            format!(
                "the BatchNorm1d has {} features but the Linear has {} output features (weight {}): they must match",
                bn.num_features(),
                linear.out_features(),
                linear.weight().shape()
            ),
        ));
    }
    let stats = BnStats {
        mean: bn.running_mean(),
        var: bn.running_var(),
        gamma: bn.weight(),
        beta: bn.bias(),
        eps: bn.eps(),
    };
    check_layout(OP, ("Linear", linear.weight()), ("BatchNorm1d", stats.mean))?;
    let (w, b) = fold(linear.weight(), linear.bias(), &stats)?;
    Linear::from_tensors(w, Some(b))
}

/// What a batch norm contributes in evaluation mode; the two batch-norm
/// types share no trait, so their parts are gathered here.
pub(super) struct BnStats<'a> {
    pub(super) mean: &'a Tensor,
    pub(super) var: &'a Tensor,
    pub(super) gamma: Option<&'a Tensor>,
    pub(super) beta: Option<&'a Tensor>,
    pub(super) eps: f64,
}

/// Errors unless the layer's weight and the batch norm's statistics share
/// dtype and device: folding across them would silently move or cast one
/// layer, which the caller should decide.
pub(super) fn check_layout(op: &'static str, (layer, w): (&str, &Tensor), (norm, stat): (&str, &Tensor)) -> Result<()> {
    if w.dtype() != stat.dtype() {
        return Err(Error::invalid(
            op,
            format!(
                "the {layer} is {} but the {norm} is {}: cast one with `Module::to_dtype`",
                w.dtype(),
                stat.dtype()
            ),
        ));
    }
    if w.device() != stat.device() {
        return Err(Error::invalid(
            op,
            format!(
                "the {layer} is on {} but the {norm} on {}: move one with `Module::to_device`",
                w.device(),
                stat.device()
            ),
        ));
    }
    Ok(())
}

/// The folded weight (same shape as `weight`, whose dim 0 is the channel) and
/// bias `[C]`, in `weight`'s dtype and on its device, cut from any graph.
pub(super) fn fold(weight: &Tensor, bias: Option<&Tensor>, bn: &BnStats<'_>) -> Result<(Tensor, Tensor)> {
    let c = weight.dims()[0];
    let host = |t: &Tensor| t.to_vec::<f64>();
    let mean = host(bn.mean)?;
    let var = host(bn.var)?;
    let gamma = bn.gamma.map(host).transpose()?;
    let beta = bn.beta.map(host).transpose()?;
    let b = bias.map(host).transpose()?;
    let mut w = host(weight)?;
    let per_channel = w.len().checked_div(c).unwrap_or(0);
    let mut folded_bias = Vec::with_capacity(c);
    for o in 0..c {
        let scale = gamma.as_ref().map_or(1.0, |g| g[o]) / (var[o] + bn.eps).sqrt();
        for v in &mut w[o * per_channel..(o + 1) * per_channel] {
            *v *= scale;
        }
        let shift = beta.as_ref().map_or(0.0, |s| s[o]);
        folded_bias.push((b.as_ref().map_or(0.0, |b| b[o]) - mean[o]) * scale + shift);
    }
    let back = |v: Vec<f64>, shape: &[usize]| -> Result<Tensor> {
        Tensor::from_vec(v, shape, &Device::cpu())?
            .to_dtype(weight.dtype())?
            .to_device(&weight.device())
    };
    Ok((back(w, weight.dims())?, back(folded_bias, &[c])?))
}
