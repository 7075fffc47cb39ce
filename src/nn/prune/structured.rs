//! Structured pruning: whole output channels (conv filters, linear neurons)
//! are removed, so the layers physically shrink and the model runs faster.
//! Masks ([`super::PruningMasks`]) keep the dense shapes and save no time.
//!
//! # Which channels
//! Channels are ranked as PyTorch's `prune.ln_structured(dim=0)` ranks them:
//! by the L1 or L2 norm ([`ChannelNorm`]) of each channel's slice of the
//! weight (the bias does not count), and the `round(amount * n)` channels with
//! the smallest norms go, with Python's `round` (half to even), as PyTorch's
//! `_compute_nparams_toprune` counts them. At least one channel always stays,
//! because a layer with no output would cut the model in two. PyTorch leaves
//! the order of equal norms to `torch.topk`; here the lower channel index is
//! removed first and a NaN norm counts as the largest, as in
//! [`super::l1_unstructured`], so one model always gives one result.
//!
//! # What else changes
//! A channel is only gone once every layer that reads it forgets it too. The
//! layers after the pruned one are followed up to the first one that mixes
//! channels (the *consumer*):
//! - after a [`Linear`](crate::nn::Linear): activations, dropout and
//!   `Identity` pass through, a `BatchNorm1d` loses the same features, and
//!   the next `Linear` loses the matching input columns;
//! - after a [`Conv2d`](crate::nn::Conv2d): activations, dropout, pooling,
//!   upsampling and spatial padding pass through, a `BatchNorm2d` loses the
//!   same channels (weight, bias, running mean and variance), and either the
//!   next `Conv2d` loses the matching input channels or, across a `Flatten`,
//!   the next `Linear` loses the block of `H * W` consecutive columns that
//!   each channel owns (`H * W` is `in_features / channels`).
//!
//! Any other layer on the way (softmax, layer norm, a nested container, a
//! custom module) may mix channels, so it is an error rather than a guess.
//!
//! The pruned model computes exactly what the original computes when the
//! removed channels are zeroed where the consumer reads them. With
//! activations that keep zero at zero (ReLU, GELU, tanh, max or average
//! pooling) that is the original with the removed channels' weights and
//! biases set to zero (and their batch-norm scale and shift, which would
//! otherwise turn a zero into a constant).
//!
//! # The new model
//! The original is left untouched: the result is a new [`Sequential`] with
//! fresh tensors, in the dtype, on the device and in the train/eval mode of
//! each original layer, with frozen parameters still frozen. `Linear` and
//! ungrouped `Conv2d` layers are built from their sliced tensors; every other
//! layer is rebuilt from its [`Module::config`] and its tensors loaded by
//! name, so every layer needs a configuration (custom ones registered with
//! [`crate::nn::register_layer`]), and rebuilding a parametrised layer other
//! than those (an `Embedding`, a grouped conv) draws from the global random
//! generator before its weights are overwritten.

use crate::nn::{Conv2d, Forward, LayerConfig, Linear, Module, Sequential};
use crate::{Device, Error, Result, Tensor};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

/// The norm that ranks output channels: PyTorch's `n` in `prune.ln_structured`.
///
/// ```
/// use neurite::nn::prune::{ChannelNorm, channel_norms};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![3f32, -4.0, 1.0, 1.0], (2, 2), &Device::cpu())?;
/// assert_eq!(channel_norms(&w, ChannelNorm::L1)?, vec![7.0, 2.0]);
/// assert_eq!(channel_norms(&w, ChannelNorm::L2)?, vec![5.0, 2f64.sqrt()]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelNorm {
    /// Sum of absolute values (`n=1`): favours channels with many mid-sized weights.
    L1,
    /// Euclidean norm (`n=2`): favours channels with a few large weights.
    L2,
}

/// The norm of every output channel of `weight` (`[out, in, ...]`, as a
/// `Linear` or `Conv2d` stores it): one value per index of dim 0, over all
/// the other dims, computed in `f64` on the host.
///
/// Errors unless `weight` is a floating-point tensor of rank 2 or more.
///
/// ```
/// use neurite::nn::prune::{ChannelNorm, channel_norms};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![1f32, -2.0, 0.5, 0.5], (2, 2), &Device::cpu())?;
/// assert_eq!(channel_norms(&w, ChannelNorm::L1)?, vec![3.0, 1.0]);
/// # Ok(()) }
/// ```
pub fn channel_norms(weight: &Tensor, norm: ChannelNorm) -> Result<Vec<f64>> {
    norms_over(weight, None, norm, "channel_norms")
}

/// The output channels of `weight` that pruning `amount` of them by `norm`
/// keeps, in increasing order: the `n - round(amount * n)` largest norms, and
/// at least one.
///
/// Errors when `amount` is not in `[0, 1)`, when `weight` has no output
/// channel, or as [`channel_norms`].
///
/// ```
/// use neurite::nn::prune::{ChannelNorm, channels_to_keep};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![0.1f32, 3.0, -2.0, 0.2], (4, 1), &Device::cpu())?;
/// assert_eq!(channels_to_keep(&w, 0.5, ChannelNorm::L1)?, vec![1, 2]);
/// assert!(channels_to_keep(&w, 1.0, ChannelNorm::L1).is_err());
/// # Ok(()) }
/// ```
pub fn channels_to_keep(weight: &Tensor, amount: f64, norm: ChannelNorm) -> Result<Vec<usize>> {
    const OP: &str = "channels_to_keep";
    check_amount(OP, amount)?;
    let norms = norms_over(weight, None, norm, OP)?;
    if norms.is_empty() {
        return Err(Error::invalid(
            OP,
            format!("the weight {} has no output channel to keep", weight.shape()),
        ));
    }
    Ok(keep_largest(&norms, amount))
}

/// A copy of `model` in which layer `layer` (a [`Linear`] or an ungrouped
/// [`Conv2d`]) has lost the fraction `amount` of its output channels with
/// the smallest `norm`, and the layers that read them the matching features
/// (see the [module documentation](self)), with a report of what went.
///
/// Returns the model and the report together because the kept indices are
/// needed to map anything indexed by channel (labels, masks, statistics)
/// onto the new model, and they cannot be read back from it.
///
/// Errors, naming the layer's index and kind and the shapes involved, when
/// `amount` is not in `[0, 1)` (NaN included), `layer` is out of range, the
/// layer has no structured form (not a `Linear` or `Conv2d`) or is a grouped
/// conv, no later layer reads its channels (the last such layer: its outputs
/// are the model's), a layer on the way may mix channels, a reader is a
/// grouped conv, the sizes of consecutive layers disagree, or a layer has no
/// configuration to rebuild it from.
///
/// ```
/// use neurite::nn::prune::{ChannelNorm, prune_channels};
/// use neurite::nn::{Conv2d, Flatten, Forward, Linear, MaxPool2d, Module, ReLU, Sequential};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new()
///     .add(Conv2d::new(1, 8, 3))
///     .add(ReLU)
///     .add(MaxPool2d::new(2))
///     .add(Flatten::new())
///     .add(Linear::new(8 * 3 * 3, 10));
/// let (small, report) = prune_channels(&model, 0, 0.5, ChannelNorm::L1)?;
/// assert_eq!(report.layers[0].kept.len(), 4);
/// assert_eq!(small.named_parameters()[0].1.dims(), &[4, 1, 3, 3]);
/// assert_eq!(small.named_parameters()[2].1.dims(), &[10, 4 * 3 * 3]);
/// assert_eq!(report.params_after, small.num_parameters());
/// let x = Tensor::randn((2, 1, 8, 8), DType::F32, &Device::cpu())?;
/// assert_eq!(small.forward(&x)?.dims(), &[2, 10]);
/// // The last layer's outputs are the model's: nothing reads them.
/// assert!(prune_channels(&model, 4, 0.5, ChannelNorm::L1).is_err());
/// # Ok(()) }
/// ```
pub fn prune_channels(
    model: &Sequential,
    layer: usize,
    amount: f64,
    norm: ChannelNorm,
) -> Result<(Sequential, ChannelPruneReport)> {
    const OP: &str = "prune_channels";
    check_amount(OP, amount)?;
    let mut plan = Plan::new(model, OP)?;
    plan.prune_by_norm(layer, amount, norm)?;
    plan.finish()
}

/// [`prune_channels`] with the output channels to keep chosen by the caller
/// (any criterion: activations, gradients, a PyTorch mask), given as indices
/// in any order; the kept channels stay in their original order.
///
/// Errors as [`prune_channels`], and when `keep` is empty, repeats an index
/// or names a channel the layer does not have.
///
/// ```
/// use neurite::nn::prune::prune_channels_keeping;
/// use neurite::nn::{Linear, Module, ReLU, Sequential};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(3, 5)).add(ReLU).add(Linear::new(5, 2));
/// let (small, report) = prune_channels_keeping(&model, 0, &[4, 0])?;
/// assert_eq!(report.layers[0].kept, vec![0, 4]);
/// assert_eq!(report.layers[0].removed(), vec![1, 2, 3]);
/// assert_eq!(small.num_parameters(), (3 * 2 + 2) + (2 * 2 + 2));
/// assert!(prune_channels_keeping(&model, 0, &[5]).is_err());
/// # Ok(()) }
/// ```
pub fn prune_channels_keeping(
    model: &Sequential,
    layer: usize,
    keep: &[usize],
) -> Result<(Sequential, ChannelPruneReport)> {
    const OP: &str = "prune_channels_keeping";
    let mut plan = Plan::new(model, OP)?;
    let target = plan.target(layer)?;
    let mut kept = keep.to_vec();
    kept.sort_unstable();
    if kept.is_empty() {
        return Err(Error::invalid(
            OP,
            format!(
                "layer {layer} ({}): at least one of its {} output channels must be kept",
                plan.name(layer),
                target.out
            ),
        ));
    }
    if let Some(w) = kept.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::invalid(
            OP,
            format!("layer {layer} ({}): channel {} is listed twice", plan.name(layer), w[0]),
        ));
    }
    if let Some(&last) = kept.last()
        && last >= target.out
    {
        return Err(Error::invalid(
            OP,
            format!(
                "layer {layer} ({}) has {} output channels, so channel {last} cannot be kept",
                plan.name(layer),
                target.out
            ),
        ));
    }
    plan.apply(layer, target, kept)?;
    plan.finish()
}

/// Prunes the fraction `amount` of the output channels of every `Linear` and
/// `Conv2d` of `model` except the last one (whose outputs are the model's),
/// each ranked by `norm` within its own layer, as [`prune_channels`] does.
///
/// The layers are pruned first to last, and each is ranked on the weights
/// that are left once its predecessor's removed channels are gone (the
/// inputs it no longer sees do not count), so the result equals calling
/// [`prune_channels`] on each layer in turn, with one rebuild instead of one
/// per layer. A model with fewer than two such layers comes back unchanged
/// (as a copy) with an empty report. Any layer that cannot be pruned (a
/// grouped conv, a reader across an unknown layer) is an error naming it:
/// prune the others one by one with [`prune_channels`].
///
/// ```
/// use neurite::nn::prune::{ChannelNorm, prune_channels_all};
/// use neurite::nn::{Linear, Module, ReLU, Sequential};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new()
///     .add(Linear::new(4, 8))
///     .add(ReLU)
///     .add(Linear::new(8, 6))
///     .add(ReLU)
///     .add(Linear::new(6, 3));
/// let (small, report) = prune_channels_all(&model, 0.5, ChannelNorm::L2)?;
/// assert_eq!(report.layers.len(), 2);
/// assert_eq!(small.num_parameters(), (4 * 4 + 4) + (4 * 3 + 3) + (3 * 3 + 3));
/// # Ok(()) }
/// ```
pub fn prune_channels_all(
    model: &Sequential,
    amount: f64,
    norm: ChannelNorm,
) -> Result<(Sequential, ChannelPruneReport)> {
    const OP: &str = "prune_channels_all";
    check_amount(OP, amount)?;
    let mut plan = Plan::new(model, OP)?;
    let mut prunable: Vec<usize> = (0..plan.kinds.len())
        .filter(|&i| matches!(plan.kinds[i], Kind::Linear { .. } | Kind::Conv { .. }))
        .collect();
    prunable.pop();
    for i in prunable {
        plan.prune_by_norm(i, amount, norm)?;
    }
    plan.finish()
}

/// What a structured pruning removed: per pruned layer, the output channels
/// kept, and the parameter counts of the whole model before and after.
///
/// ```
/// use neurite::nn::prune::{ChannelNorm, prune_channels};
/// use neurite::nn::{Linear, ReLU, Sequential};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(2, 4)).add(ReLU).add(Linear::new(4, 1));
/// let (_, report) = prune_channels(&model, 0, 0.25, ChannelNorm::L1)?;
/// assert_eq!((report.params_before, report.params_after), (17, 13));
/// assert_eq!(report.layers[0].adjusted, vec![2]);
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelPruneReport {
    /// The pruned layers, in model order.
    pub layers: Vec<PrunedLayer>,
    /// Parameter elements of the original model.
    pub params_before: usize,
    /// Parameter elements of the pruned model.
    pub params_after: usize,
}

impl ChannelPruneReport {
    /// The share of the parameters removed, in `[0, 1]` (0 for a model with none).
    ///
    /// ```
    /// use neurite::nn::prune::ChannelPruneReport;
    /// let r = ChannelPruneReport { layers: vec![], params_before: 200, params_after: 150 };
    /// assert_eq!(r.fraction_removed(), 0.25);
    /// ```
    pub fn fraction_removed(&self) -> f64 {
        if self.params_before == 0 {
            return 0.0;
        }
        self.params_before.saturating_sub(self.params_after) as f64 / self.params_before as f64
    }
}

impl fmt::Display for ChannelPruneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "structured pruning: {} -> {} parameters ({:.1}% removed)",
            self.params_before,
            self.params_after,
            100.0 * self.fraction_removed()
        )?;
        for l in &self.layers {
            let adjusted: Vec<String> = l.adjusted.iter().map(|i| i.to_string()).collect();
            writeln!(
                f,
                "  layer {} ({}): {} -> {} output channels; inputs cut in layer(s) {}",
                l.index,
                l.kind,
                l.channels_before,
                l.kept.len(),
                adjusted.join(", ")
            )?;
        }
        Ok(())
    }
}

/// One pruned layer of a [`ChannelPruneReport`].
///
/// ```
/// use neurite::nn::prune::PrunedLayer;
/// let l = PrunedLayer { index: 0, kind: "Linear".into(), channels_before: 4, kept: vec![1, 3], adjusted: vec![2] };
/// assert_eq!(l.removed(), vec![0, 2]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunedLayer {
    /// The layer's index in the model (unchanged by pruning).
    pub index: usize,
    /// The layer's kind ([`Module::name`]: `"Linear"`, `"Conv2d"`).
    pub kind: String,
    /// Output channels before pruning.
    pub channels_before: usize,
    /// The original indices of the output channels kept, increasing: channel
    /// `k` of the pruned layer is channel `kept[k]` of the original.
    pub kept: Vec<usize>,
    /// The later layers that lost the matching features (batch norms, then
    /// the consumer), by index.
    pub adjusted: Vec<usize>,
}

impl PrunedLayer {
    /// The original indices of the output channels removed, increasing.
    ///
    /// ```
    /// use neurite::nn::prune::PrunedLayer;
    /// let l = PrunedLayer { index: 2, kind: "Conv2d".into(), channels_before: 3, kept: vec![0], adjusted: vec![3] };
    /// assert_eq!(l.removed(), vec![1, 2]);
    /// ```
    pub fn removed(&self) -> Vec<usize> {
        (0..self.channels_before)
            .filter(|c| self.kept.binary_search(c).is_err())
            .collect()
    }
}

/// Errors unless `amount` is in `[0, 1)` (NaN is not): 1 would remove every
/// channel, and the count is a fraction as in PyTorch's float `amount`.
fn check_amount(op: &'static str, amount: f64) -> Result<()> {
    if (0.0..1.0).contains(&amount) {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!("amount must be a fraction in [0, 1) of the channels to remove, got {amount}"),
    ))
}

/// The indices of the `n - round(amount * n)` largest `norms` (at least one),
/// increasing. Ties remove the lower index first and NaN sorts above
/// everything, so the choice is the same on every run and device.
fn keep_largest(norms: &[f64], amount: f64) -> Vec<usize> {
    let n = norms.len();
    // `as` saturates and the product is below n, so nothing is lost.
    let remove = ((amount * n as f64).round_ties_even() as usize).min(n.saturating_sub(1));
    let mut order: Vec<usize> = (0..n).collect();
    // `total_cmp` puts NaN above every number: a NaN channel is kept, as topk keeps it.
    order.sort_by(|&a, &b| match norms[a].abs().total_cmp(&norms[b].abs()) {
        Ordering::Equal => a.cmp(&b),
        o => o,
    });
    let mut kept = order.split_off(remove);
    kept.sort_unstable();
    kept
}

/// Per output channel of `weight`, the norm over the input columns in
/// `columns` (all when `None`) and every further dim.
fn norms_over(weight: &Tensor, columns: Option<&[usize]>, norm: ChannelNorm, op: &'static str) -> Result<Vec<f64>> {
    if weight.rank() < 2 || !weight.dtype().is_float() {
        return Err(Error::invalid(
            op,
            format!(
                "expected a floating-point weight [out, in, ...] of rank 2 or more, got {} {}",
                weight.dtype(),
                weight.shape()
            ),
        ));
    }
    let dims = weight.dims();
    let (out, cols) = (dims[0], dims[1]);
    let inner: usize = dims[2..].iter().product();
    let values = crate::no_grad(|| weight.to_vec::<f64>())?;
    let all: Vec<usize>;
    let columns = match columns {
        Some(c) => c,
        None => {
            all = (0..cols).collect();
            &all
        }
    };
    Ok((0..out)
        .map(|o| {
            let row = &values[o * cols * inner..(o + 1) * cols * inner];
            let slices = columns.iter().flat_map(|&c| &row[c * inner..(c + 1) * inner]);
            match norm {
                ChannelNorm::L1 => slices.map(|v| v.abs()).sum(),
                ChannelNorm::L2 => slices.map(|v| v * v).sum::<f64>().sqrt(),
            }
        })
        .collect())
}

/// What pruning needs to know about a layer, read from its configuration so
/// that no downcast is needed.
#[derive(Clone, Debug)]
enum Kind {
    Linear {
        in_features: usize,
        out_features: usize,
    },
    Conv {
        in_channels: usize,
        out_channels: usize,
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
    },
    BatchNorm {
        features: usize,
        image: bool,
    },
    Flatten {
        start_dim: i64,
        end_dim: i64,
    },
    /// Acts on each value (or drops whole values): never mixes channels.
    Elementwise,
    /// Acts on H and W of an image only: channel-preserving before a Flatten.
    Spatial,
    Other,
}

impl Kind {
    fn of(config: &LayerConfig) -> Kind {
        use LayerConfig as C;
        match config {
            C::Linear {
                in_features,
                out_features,
                ..
            } => Kind::Linear {
                in_features: *in_features,
                out_features: *out_features,
            },
            C::Conv2d {
                in_channels,
                out_channels,
                stride,
                padding,
                ..
            } => Kind::Conv {
                in_channels: *in_channels,
                out_channels: *out_channels,
                stride: *stride,
                padding: *padding,
                dilation: [1, 1],
                groups: 1,
            },
            C::Conv2dFull {
                in_channels,
                out_channels,
                stride,
                padding,
                dilation,
                groups,
                ..
            } => Kind::Conv {
                in_channels: *in_channels,
                out_channels: *out_channels,
                stride: *stride,
                padding: *padding,
                dilation: *dilation,
                groups: *groups,
            },
            C::BatchNorm1d { num_features, .. } => Kind::BatchNorm {
                features: *num_features,
                image: false,
            },
            C::BatchNorm2d { num_features, .. } => Kind::BatchNorm {
                features: *num_features,
                image: true,
            },
            C::Flatten { start_dim, end_dim } => Kind::Flatten {
                start_dim: *start_dim,
                end_dim: *end_dim,
            },
            C::ReLU
            | C::LeakyReLU { .. }
            | C::Sigmoid
            | C::Tanh
            | C::GELU
            | C::GELUApproximate { .. }
            | C::SiLU
            | C::Dropout { .. }
            | C::Dropout1d { .. }
            | C::Dropout2d { .. }
            | C::Identity => Kind::Elementwise,
            C::MaxPool2d { .. }
            | C::MaxPool2dFull { .. }
            | C::AvgPool2d { .. }
            | C::AvgPool2dFull { .. }
            | C::AdaptiveAvgPool2d { .. }
            | C::AdaptiveMaxPool2d { .. }
            | C::Upsample { .. } => Kind::Spatial,
            // Padding layers pad the last one or two dims: H and W of an image.
            C::Padding { padding, .. } if padding.len() <= 4 => Kind::Spatial,
            _ => Kind::Other,
        }
    }
}

/// The output side of the layer being pruned.
#[derive(Clone, Copy, Debug)]
struct Target {
    out: usize,
    image: bool,
}

/// The pruning of a model in progress: which rows and input columns of each
/// layer stay. Nothing is built until [`Plan::finish`], so pruning many
/// layers costs one rebuild.
struct Plan<'a> {
    model: &'a Sequential,
    op: &'static str,
    configs: Vec<LayerConfig>,
    kinds: Vec<Kind>,
    /// Kept output channels (dim 0 of a weight; the features of a batch norm).
    rows: Vec<Option<Vec<usize>>>,
    /// Kept input columns (dim 1 of a weight).
    columns: Vec<Option<Vec<usize>>>,
    report: Vec<PrunedLayer>,
}

impl<'a> Plan<'a> {
    fn new(model: &'a Sequential, op: &'static str) -> Result<Plan<'a>> {
        let configs = model
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| {
                l.config().map_err(|e| {
                    Error::invalid(
                        op,
                        format!(
                            "layer {i} ({}) has no configuration, so the pruned model cannot be rebuilt: {e}",
                            l.name()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n = configs.len();
        Ok(Plan {
            model,
            op,
            kinds: configs.iter().map(Kind::of).collect(),
            configs,
            rows: vec![None; n],
            columns: vec![None; n],
            report: Vec::new(),
        })
    }

    fn name(&self, i: usize) -> String {
        self.model.layer(i).map_or_else(|| "?".to_string(), |l| l.name())
    }

    fn invalid(&self, msg: String) -> Error {
        Error::invalid(self.op, msg)
    }

    /// Checks that layer `i` exists and can lose output channels.
    fn target(&self, i: usize) -> Result<Target> {
        let n = self.kinds.len();
        match self.kinds.get(i) {
            None => Err(self.invalid(format!("layer index {i} is out of range: the model has {n} layers"))),
            Some(Kind::Linear { out_features, .. }) => Ok(Target {
                out: *out_features,
                image: false,
            }),
            Some(&Kind::Conv {
                groups, out_channels, ..
            }) if groups != 1 => Err(self.invalid(format!(
                "layer {i} ({}) has groups = {groups} (weight {}): only ungrouped (groups = 1) convolutions \
                 can lose output channels, since each group's channels are tied to its inputs",
                self.name(i),
                self.weight_shape(i, out_channels)
            ))),
            Some(Kind::Conv { out_channels, .. }) => Ok(Target {
                out: *out_channels,
                image: true,
            }),
            Some(_) => Err(self.invalid(format!(
                "layer {i} ({}) has no structured form: only Linear and Conv2d layers can lose output channels",
                self.name(i)
            ))),
        }
    }

    fn weight_shape(&self, i: usize, fallback_out: usize) -> String {
        self.model
            .layer(i)
            .and_then(|l| l.own_parameters().into_iter().find(|(n, _)| n == "weight"))
            .map_or_else(|| format!("[{fallback_out}, ...]"), |(_, w)| w.shape().to_string())
    }

    /// Ranks layer `i`'s channels on the inputs it still has and prunes it.
    fn prune_by_norm(&mut self, i: usize, amount: f64, norm: ChannelNorm) -> Result<()> {
        let target = self.target(i)?;
        if target.out == 0 {
            return Err(self.invalid(format!("layer {i} ({}) has no output channel to keep", self.name(i))));
        }
        let weight = self
            .model
            .layer(i)
            .and_then(|l| l.own_parameters().into_iter().find(|(n, _)| n == "weight"))
            .map(|(_, w)| w)
            .ok_or_else(|| self.invalid(format!("layer {i} ({}) has no weight", self.name(i))))?;
        let norms = norms_over(&weight, self.columns[i].as_deref(), norm, self.op)?;
        let kept = keep_largest(&norms, amount);
        self.apply(i, target, kept)
    }

    /// Keeps `kept` (valid, increasing) output channels of layer `i` and the
    /// matching features of the layers that read them.
    fn apply(&mut self, i: usize, target: Target, kept: Vec<usize>) -> Result<()> {
        let (norms, consumer, block) = self.route(i, target)?;
        for &j in &norms {
            self.rows[j] = Some(kept.clone());
        }
        let cols: Vec<usize> = kept.iter().flat_map(|&c| c * block..(c + 1) * block).collect();
        self.columns[consumer] = Some(cols);
        let mut adjusted = norms;
        adjusted.push(consumer);
        self.report.push(PrunedLayer {
            index: i,
            kind: self.name(i),
            channels_before: target.out,
            kept: kept.clone(),
            adjusted,
        });
        self.rows[i] = Some(kept);
        Ok(())
    }

    /// Follows layer `i`'s output channels to the layer that reads them: the
    /// batch norms on the way, the consumer, and the number of consecutive
    /// consumer columns each channel owns.
    fn route(&self, i: usize, target: Target) -> Result<(Vec<usize>, usize, usize)> {
        let c = target.out;
        let here = format!("layer {i} ({}, {c} output channels)", self.name(i));
        let mut norms = Vec::new();
        let mut flattened = false;
        for j in i + 1..self.kinds.len() {
            let there = format!("layer {j} ({})", self.name(j));
            match (&self.kinds[j], target.image, flattened) {
                (Kind::Elementwise, _, _) | (Kind::Spatial, true, false) => {}
                (&Kind::BatchNorm { features, image }, _, false) if image == target.image => {
                    if features != c {
                        return Err(self.invalid(format!(
                            "{there} normalises {features} features but follows {here}: expected {c}"
                        )));
                    }
                    norms.push(j);
                }
                (&Kind::Flatten { start_dim, end_dim }, true, false) => {
                    if !matches!(start_dim, 1 | -3) || !matches!(end_dim, -1 | 3) {
                        return Err(self.invalid(format!(
                            "{there} flattens dims {start_dim}..={end_dim} after {here}: only Flatten(1, -1) of \
                             (N, C, H, W) images keeps each channel's values together"
                        )));
                    }
                    flattened = true;
                }
                (&Kind::Linear { in_features, .. }, false, _) => {
                    if in_features != c {
                        return Err(self.invalid(format!(
                            "{there} has {in_features} input features but follows {here}: expected weight [_, {c}]"
                        )));
                    }
                    return Ok((norms, j, 1));
                }
                (&Kind::Linear { in_features, .. }, true, true) => {
                    if in_features == 0 || !in_features.is_multiple_of(c) {
                        return Err(self.invalid(format!(
                            "{there} has {in_features} input features after flattening {here}: expected a \
                             positive multiple of {c} (channels * H * W)"
                        )));
                    }
                    return Ok((norms, j, in_features / c));
                }
                (Kind::Linear { .. }, true, false) => {
                    return Err(self.invalid(format!(
                        "{there} reads the (N, C, H, W) output of {here} without a Flatten, so it would act on \
                         the width rather than on the channels"
                    )));
                }
                (
                    &Kind::Conv {
                        in_channels, groups, ..
                    },
                    true,
                    false,
                ) => {
                    if groups != 1 {
                        return Err(self.invalid(format!(
                            "{there} reads the channels of {here} with groups = {groups}: only an ungrouped \
                             (groups = 1) Conv2d can lose input channels"
                        )));
                    }
                    if in_channels != c {
                        return Err(self.invalid(format!(
                            "{there} has {in_channels} input channels but follows {here}: expected {c}"
                        )));
                    }
                    return Ok((norms, j, 1));
                }
                _ => {
                    let passes = if target.image && !flattened {
                        "activations, dropout, pooling, upsampling, padding, BatchNorm2d and Flatten"
                    } else if target.image {
                        "activations and dropout"
                    } else {
                        "activations, dropout, Identity and BatchNorm1d"
                    };
                    let reader = if target.image && !flattened {
                        "a Conv2d (or a Linear after a Flatten)"
                    } else {
                        "a Linear"
                    };
                    return Err(self.invalid(format!(
                        "{there} lies between {here} and the layer that reads its channels, and may mix or \
                         reshape them: only {passes} may come before {reader}"
                    )));
                }
            }
        }
        Err(self.invalid(format!(
            "{here} has no later layer that reads its output channels (a Linear or Conv2d): its outputs are \
             the model's, and removing them would change the model's output shape"
        )))
    }

    /// Builds the pruned model and its report.
    fn finish(self) -> Result<(Sequential, ChannelPruneReport)> {
        let model = crate::no_grad(|| -> Result<Sequential> {
            let mut out = Sequential::new();
            out.set_training(self.model.is_training());
            for (i, old) in self.model.layers().iter().enumerate() {
                let layer = self
                    .rebuild(i, &**old)
                    .map_err(|e| self.invalid(format!("layer {i} ({}) could not be rebuilt: {e}", old.name())))?;
                out.push(layer);
            }
            // `push` gives each layer the container's mode; keep each layer's own
            // (a batch norm frozen in eval mode inside a model being trained).
            for (i, old) in self.model.layers().iter().enumerate() {
                if let Some(new) = out.layer_mut(i) {
                    new.set_training(old.is_training());
                }
            }
            Ok(out)
        })?;
        let report = ChannelPruneReport {
            layers: self.report,
            params_before: self.model.num_parameters(),
            params_after: model.num_parameters(),
        };
        Ok((model, report))
    }

    /// A new layer `i` holding copies of `old`'s tensors, cut to the kept rows and columns.
    fn rebuild(&self, i: usize, old: &dyn Forward) -> Result<Box<dyn Forward>> {
        let tensors: HashMap<String, Tensor> = old.named_tensors().into_iter().collect();
        let (rows, cols) = (self.rows[i].as_deref(), self.columns[i].as_deref());
        let new: Box<dyn Forward> = match &self.kinds[i] {
            Kind::Linear { .. } => {
                let (w, b) = weight_and_bias(&tensors, rows, cols)?;
                Box::new(Linear::from_tensors(w, b)?)
            }
            &Kind::Conv {
                stride,
                padding,
                dilation,
                groups: 1,
                ..
            } => {
                let (w, b) = weight_and_bias(&tensors, rows, cols)?;
                Box::new(Conv2d::from_tensors(w, b, stride, padding)?.with_dilation(dilation))
            }
            _ => {
                let mut config = self.configs[i].clone();
                let old_features = match (&self.kinds[i], rows) {
                    (&Kind::BatchNorm { features, .. }, Some(keep)) => {
                        if let LayerConfig::BatchNorm1d { num_features, .. }
                        | LayerConfig::BatchNorm2d { num_features, .. } = &mut config
                        {
                            *num_features = keep.len();
                        }
                        Some(features)
                    }
                    _ => None,
                };
                let device = old.device().unwrap_or(Device::Cpu);
                let mut new = config.build(&device)?;
                if let Some(dtype) = tensors.values().map(Tensor::dtype).find(|d| d.is_float()) {
                    new.to_dtype(dtype)?;
                }
                let mut map = HashMap::with_capacity(tensors.len());
                for (name, t) in &tensors {
                    let t = match (old_features, rows) {
                        // The per-channel vectors of a batch norm, not its counter.
                        (Some(f), Some(keep)) if t.dims() == [f] => select(t, 0, keep)?,
                        _ => t.clone(),
                    };
                    map.insert(name.clone(), t);
                }
                // Loading copies the values, so the new layer shares nothing with the old.
                new.load_named_tensors(&map)?;
                new
            }
        };
        for (name, p) in new.named_parameters() {
            if let Some(o) = tensors.get(&name) {
                p.set_requires_grad(o.is_requires_grad());
            }
        }
        Ok(new)
    }
}

/// Copies of a Linear's or Conv2d's weight and bias with only the kept rows
/// and columns; always copies, since the new layer shares the storage it is
/// given and must not write into the original's.
fn weight_and_bias(
    tensors: &HashMap<String, Tensor>,
    rows: Option<&[usize]>,
    cols: Option<&[usize]>,
) -> Result<(Tensor, Option<Tensor>)> {
    let w = tensors
        .get("weight")
        .ok_or_else(|| Error::invalid("prune_channels", "the layer has no weight"))?;
    let all: Vec<usize>;
    let rows = match rows {
        Some(r) => r,
        None => {
            all = (0..w.dims()[0]).collect();
            &all
        }
    };
    let mut weight = select(w, 0, rows)?;
    if let Some(c) = cols {
        weight = select(&weight, 1, c)?;
    }
    let bias = tensors.get("bias").map(|b| select(b, 0, rows)).transpose()?;
    Ok((weight, bias))
}

/// The entries `keep` of `t` along `dim`, as a new tensor on `t`'s device.
fn select(t: &Tensor, dim: usize, keep: &[usize]) -> Result<Tensor> {
    // Channel indices come from shapes of allocated tensors, so they fit in i64.
    let ids: Vec<i64> = keep.iter().map(|&k| k as i64).collect();
    let ids = Tensor::from_vec(ids, keep.len(), &t.device())?;
    t.detach().index_select(dim, &ids)
}
