//! Sanity checks on a decoded architecture before anything is built from it.
//!
//! Rebuilding a layer allocates and initialises its tensors, so a crafted
//! `Linear { in_features: 1 << 40, .. }` would ask for terabytes before the
//! weight check could reject it. Here the tensors each built-in layer keeps,
//! and (conservatively) those it allocates while being constructed (a
//! non-affine norm layer fills its scale and shift, then drops them), are
//! sized from the configuration alone. Every shape must be representable; the kept elements
//! must be at most those the checkpoint stores, and the constructed ones at
//! most twice that plus [`CONSTRUCTION_SLACK`], so that the work and memory of
//! rebuilding stay proportional to the file's real size. Custom layers are
//! built by user code and count as zero.

use crate::nn::{LayerConfig, SequentialConfig};

/// Elements a model may allocate during construction beyond twice what it
/// stores (room for non-affine norm layers, which store nothing).
pub(crate) const CONSTRUCTION_SLACK: u128 = 1 << 20;

/// Tensor elements of an architecture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Elems {
    /// Elements the built layers keep as parameters and buffers (a lower bound
    /// of what the checkpoint must store).
    pub kept: u128,
    /// Elements allocated while the layers are constructed.
    pub constructed: u128,
}

impl Elems {
    fn add(self, o: Elems) -> Elems {
        Elems {
            kept: self.kept.saturating_add(o.kept),
            constructed: self.constructed.saturating_add(o.constructed),
        }
    }
}

/// The elements of `cfg`, or an error naming the first layer whose shapes cannot exist.
pub(crate) fn tensor_elems(cfg: &SequentialConfig) -> Result<Elems, String> {
    let mut total = Elems::default();
    for (i, layer) in cfg.layers.iter().enumerate() {
        total = total.add(layer_elems(layer).map_err(|e| format!("layer {i}: {e}"))?);
    }
    Ok(total)
}

/// The elements of a model whose root configuration is `cfg` (any layer,
/// a `Sequential`, or a custom module, which counts as zero).
pub(crate) fn root_elems(cfg: &LayerConfig) -> Result<Elems, String> {
    layer_elems(cfg)
}

/// The largest kernel, stride or padding a stored convolution or pooling layer
/// may have. Far beyond any real network, and small enough that the window
/// arithmetic of validation and of the forward pass cannot overflow.
pub(crate) const MAX_WINDOW: usize = 1 << 32;

fn check_window(sizes: &[[usize; 2]]) -> Result<(), String> {
    match sizes.iter().flatten().find(|&&v| v > MAX_WINDOW) {
        Some(v) => Err(format!(
            "a kernel, stride or padding of {v} is above the maximum of {MAX_WINDOW}"
        )),
        None => Ok(()),
    }
}

/// Elements of a tensor of `dims`, after checking that every stride fits.
fn tensor(dims: &[usize]) -> Result<u128, String> {
    let mut nonzero = 1u128;
    for &d in dims {
        if d != 0 {
            nonzero = nonzero.saturating_mul(d as u128);
        }
    }
    if nonzero > isize::MAX as u128 {
        return Err(format!("a tensor of shape {dims:?} cannot exist"));
    }
    Ok(if dims.contains(&0) { 0 } else { nonzero })
}

/// The sum of a layer's sizes: room for any 1-D tensor a constructor may
/// allocate before deciding not to keep it (a `Conv2d` builds its bias even
/// when `bias` is false), so the estimate does not depend on those details.
fn sum(dims: &[usize]) -> u128 {
    dims.iter().map(|&d| d as u128).sum()
}

/// A weight of shape `dims` (constructed through a `dims`-sized shape vector)
/// plus, when kept, a bias of `bias` elements.
fn weight_and_bias(dims: &[usize], bias: Option<usize>) -> Result<Elems, String> {
    let w = tensor(dims)?;
    Ok(Elems {
        kept: w + bias.map_or(0, |b| b as u128),
        constructed: w + sum(dims),
    })
}

#[allow(unreachable_patterns)] // the catch-all keeps this compiling when nn adds layers
fn layer_elems(layer: &LayerConfig) -> Result<Elems, String> {
    let err = |e: String| format!("{layer:?}: {e}");
    Ok(match layer {
        LayerConfig::Linear {
            in_features,
            out_features,
            bias,
        } => weight_and_bias(&[*out_features, *in_features], bias.then_some(*out_features)).map_err(err)?,
        LayerConfig::Conv2d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            bias,
        } => {
            check_window(&[*kernel_size, *stride, *padding]).map_err(err)?;
            let dims = [*out_channels, *in_channels, kernel_size[0], kernel_size[1]];
            weight_and_bias(&dims, bias.then_some(*out_channels)).map_err(err)?
        }
        LayerConfig::BatchNorm1d {
            num_features, affine, ..
        }
        | LayerConfig::BatchNorm2d {
            num_features, affine, ..
        } => {
            // Running mean and variance, plus scale and shift (built even when not kept).
            let n = tensor(&[*num_features]).map_err(err)?;
            Elems {
                kept: n * if *affine { 4 } else { 2 },
                constructed: 4 * n,
            }
        }
        LayerConfig::LayerNorm {
            normalized_shape,
            elementwise_affine,
            ..
        } => {
            let n = tensor(normalized_shape).map_err(err)?;
            Elems {
                kept: if *elementwise_affine { 2 * n } else { 0 },
                constructed: 2 * n + sum(normalized_shape),
            }
        }
        LayerConfig::Embedding {
            num_embeddings,
            embedding_dim,
        } => {
            let dims = [*num_embeddings, *embedding_dim];
            weight_and_bias(&dims, None).map_err(err)?
        }
        LayerConfig::MaxPool2d {
            kernel_size,
            stride,
            padding,
        }
        | LayerConfig::AvgPool2d {
            kernel_size,
            stride,
            padding,
        } => {
            check_window(&[*kernel_size, *stride, *padding]).map_err(err)?;
            Elems::default()
        }
        LayerConfig::Normalization { num_features, .. } => {
            // Mean and variance.
            let n = tensor(&[*num_features]).map_err(err)?;
            Elems {
                kept: 2 * n,
                constructed: 2 * n,
            }
        }
        LayerConfig::Conv2dFull {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
        } => {
            check_window(&[*kernel_size, *stride, *padding, *dilation]).map_err(err)?;
            // Before groups are checked: the per-group width never exceeds in_channels.
            let dims = [
                *out_channels,
                *in_channels / (*groups).max(1),
                kernel_size[0],
                kernel_size[1],
            ];
            weight_and_bias(&dims, bias.then_some(*out_channels)).map_err(err)?
        }
        LayerConfig::Conv1d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
        } => {
            check_window(&[[*kernel_size, *stride], [*padding, *dilation]]).map_err(err)?;
            let dims = [*out_channels, *in_channels / (*groups).max(1), *kernel_size];
            weight_and_bias(&dims, bias.then_some(*out_channels)).map_err(err)?
        }
        LayerConfig::ConvTranspose2d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            bias,
            dilation,
        } => {
            check_window(&[*kernel_size, *stride, *padding, *output_padding, *dilation]).map_err(err)?;
            let dims = [
                *in_channels,
                *out_channels / (*groups).max(1),
                kernel_size[0],
                kernel_size[1],
            ];
            weight_and_bias(&dims, bias.then_some(*out_channels)).map_err(err)?
        }
        LayerConfig::MaxPool2dFull {
            kernel_size,
            stride,
            padding,
            dilation,
            ..
        } => {
            check_window(&[*kernel_size, *stride, *padding, *dilation]).map_err(err)?;
            Elems::default()
        }
        LayerConfig::AvgPool2dFull {
            kernel_size,
            stride,
            padding,
            ..
        }
        | LayerConfig::MaxUnpool2d {
            kernel_size,
            stride,
            padding,
        } => {
            check_window(&[*kernel_size, *stride, *padding]).map_err(err)?;
            Elems::default()
        }
        LayerConfig::Sequential(inner) => tensor_elems(inner)?,
        LayerConfig::GroupNorm {
            num_channels, affine, ..
        } => {
            let n = tensor(&[*num_channels]).map_err(err)?;
            Elems {
                kept: if *affine { 2 * n } else { 0 },
                constructed: 2 * n,
            }
        }
        LayerConfig::InstanceNorm2d {
            num_features,
            affine,
            track_running_stats,
            ..
        } => {
            let n = tensor(&[*num_features]).map_err(err)?;
            Elems {
                kept: n * (2 * u128::from(*affine) + 2 * u128::from(*track_running_stats)),
                constructed: 4 * n,
            }
        }
        LayerConfig::RNN { config, .. } => recurrent_elems(config, 1).map_err(err)?,
        LayerConfig::LSTM(config) => recurrent_elems(config, 4).map_err(err)?,
        LayerConfig::GRU(config) => recurrent_elems(config, 3).map_err(err)?,
        LayerConfig::RNNCell {
            input_size,
            hidden_size,
            bias,
            ..
        } => cell_elems(*input_size, *hidden_size, 1, *bias).map_err(err)?,
        LayerConfig::LSTMCell {
            input_size,
            hidden_size,
            bias,
        } => cell_elems(*input_size, *hidden_size, 4, *bias).map_err(err)?,
        LayerConfig::GRUCell {
            input_size,
            hidden_size,
            bias,
        } => cell_elems(*input_size, *hidden_size, 3, *bias).map_err(err)?,
        _ => Elems::default(),
    })
}

/// One recurrent cell's four tensors (biases counted even when dropped: they are drawn).
fn cell_elems(input: usize, hidden: usize, gates: usize, bias: bool) -> Result<Elems, String> {
    let rows = (gates as u128).saturating_mul(hidden as u128);
    let rows = usize::try_from(rows).map_err(|_| format!("{gates} x {hidden} gate rows cannot exist"))?;
    let w = tensor(&[rows, input])?.saturating_add(tensor(&[rows, hidden])?);
    let b = 2 * rows as u128;
    Ok(Elems {
        kept: w + if bias { b } else { 0 },
        constructed: w + b,
    })
}

/// Every layer and direction of an RNN, LSTM or GRU.
fn recurrent_elems(cfg: &crate::nn::RecurrentConfig, gates: usize) -> Result<Elems, String> {
    let d = cfg.num_directions() as u128;
    let upper = cell_elems(
        cfg.hidden_size.saturating_mul(d as usize),
        cfg.hidden_size,
        gates,
        cfg.bias,
    )?;
    let first = cell_elems(cfg.input_size, cfg.hidden_size, gates, cfg.bias)?;
    let upper_cells = (cfg.num_layers.saturating_sub(1) as u128).saturating_mul(d);
    let total = |f: u128, u: u128| f.saturating_mul(d).saturating_add(u.saturating_mul(upper_cells));
    Ok(Elems {
        kept: total(first.kept, upper.kept),
        constructed: total(first.constructed, upper.constructed),
    })
}
