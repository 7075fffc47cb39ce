//! Multi-head attention, PyTorch's `nn.MultiheadAttention`.

use super::mask::{TrueMeans, additive_mask};
use super::sdpa::{attend, check_dropout, default_scale};
use crate::nn::init::Init;
use crate::nn::params::{Unbuilt, check_size, placeholder};
use crate::nn::{Configurable, Forward, LayerConfig, Linear, Module, layer_config_of};
use crate::{DType, Device, Error, Result, Tensor};
use serde::{Deserialize, Serialize};

const OP: &str = "MultiheadAttention";

/// The hyperparameters of a [`MultiheadAttention`], with PyTorch's names and
/// defaults (`MultiheadAttentionConfig::new` fills them in; override fields
/// with struct-update syntax).
///
/// ```
/// use neurite::nn::{MultiheadAttention, MultiheadAttentionConfig};
/// # fn main() -> neurite::Result<()> {
/// let cfg = MultiheadAttentionConfig { kdim: Some(3), batch_first: true, ..MultiheadAttentionConfig::new(8, 2) };
/// let mha = MultiheadAttention::try_new(&cfg)?;
/// assert!(mha.in_proj_weight().is_none() && mha.k_proj_weight().is_some());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MultiheadAttentionConfig {
    /// Model width `E` (query features and output features).
    pub embed_dim: usize,
    /// Heads; must divide `embed_dim`.
    pub num_heads: usize,
    /// Dropout on the attention weights, in training mode (default 0).
    pub dropout: f64,
    /// Biases of the input and output projections (default true).
    pub bias: bool,
    /// Inputs and outputs are `(N, L, E)` rather than `(L, N, E)` (default false).
    pub batch_first: bool,
    /// Key features (default `embed_dim`).
    pub kdim: Option<usize>,
    /// Value features (default `embed_dim`).
    pub vdim: Option<usize>,
}

impl MultiheadAttentionConfig {
    /// PyTorch's defaults for `embed_dim` and `num_heads`: no dropout, biases,
    /// sequence-first, keys and values of `embed_dim` features.
    pub fn new(embed_dim: usize, num_heads: usize) -> MultiheadAttentionConfig {
        MultiheadAttentionConfig {
            embed_dim,
            num_heads,
            dropout: 0.0,
            bias: true,
            batch_first: false,
            kdim: None,
            vdim: None,
        }
    }

    fn kdim(&self) -> usize {
        self.kdim.unwrap_or(self.embed_dim)
    }

    fn vdim(&self) -> usize {
        self.vdim.unwrap_or(self.embed_dim)
    }
}

/// The input projection: one packed `(3E, E)` weight when keys and values have
/// `embed_dim` features, three separate weights otherwise (PyTorch's
/// `_qkv_same_embed_dim`).
#[derive(Debug)]
enum InProj {
    Packed(Tensor),
    Separate { q: Tensor, k: Tensor, v: Tensor },
}

/// Multi-head attention, PyTorch's `nn.MultiheadAttention`: the query, key and
/// value are projected, split into `num_heads` heads of `embed_dim /
/// num_heads` features, attended with scaled dot products (see
/// [`crate::nn::functional::scaled_dot_product_attention`]), joined and
/// projected again.
///
/// [`MultiheadAttention::forward`] takes PyTorch's arguments in PyTorch's
/// order and returns the output and, with `need_weights`, the attention
/// weights. Masks follow PyTorch: a boolean mask (any non-float dtype; `I64`
/// 0/1 today) is nonzero where attention is **not** allowed; a float mask is
/// added to the scores. Dropout acts on the attention weights in training
/// mode only. Initialisation is PyTorch's: Xavier-uniform input projections,
/// zero biases, the output projection's weight as a `Linear`'s.
///
/// # Shapes
/// With `batch_first = false` (the default); `batch_first` swaps `L`/`S` and
/// `N` in the batched inputs and output. Unbatched inputs drop `N`.
/// - `query`: `(L, N, E)`; `key`: `(S, N, kdim)`; `value`: `(S, N, vdim)`
/// - `key_padding_mask`: `(N, S)`
/// - `attn_mask`: `(L, S)` or `(N * num_heads, L, S)`
/// - output: `(L, N, E)`
/// - weights: `(N, L, S)` when averaged over heads, else `(N, num_heads, L, S)`
///
/// # Parameters
/// `in_proj_weight` `[3E, E]` (or `q_proj_weight` `[E, E]`, `k_proj_weight`
/// `[E, kdim]`, `v_proj_weight` `[E, vdim]` when `kdim` or `vdim` differ from
/// `E`), `in_proj_bias` `[3E]`, `out_proj.weight` `[E, E]`, `out_proj.bias` `[E]`.
///
/// ```
/// use neurite::nn::{Module, MultiheadAttention};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mha = MultiheadAttention::new(8, 2).with_batch_first(true);
/// let x = Tensor::randn((3, 5, 8), DType::F32, &Device::cpu())?; // (N, L, E)
/// let (y, w) = mha.forward(&x, &x, &x, None, true, None, true, false)?;
/// assert_eq!(y.dims(), &[3, 5, 8]);
/// assert_eq!(w.unwrap().dims(), &[3, 5, 5]);
/// assert_eq!(mha.named_parameters()[0].0, "in_proj_weight");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MultiheadAttention {
    config: MultiheadAttentionConfig,
    in_proj: InProj,
    in_proj_bias: Option<Tensor>,
    out_proj: Linear,
    training: bool,
    unbuilt: Unbuilt,
}

/// Xavier-uniform `(rows, cols)` weight, as PyTorch's `_reset_parameters`.
fn xavier(rows: usize, cols: usize) -> Result<Tensor> {
    check_size(OP, "input projection weight", &[rows, cols])?;
    Ok(Init::XavierUniform { gain: 1.0 }
        .tensor((rows, cols), DType::F32, &Device::cpu())?
        .requires_grad())
}

/// The parameters of `c`, freshly initialised.
fn parameters(c: &MultiheadAttentionConfig) -> Result<(InProj, Option<Tensor>, Linear)> {
    let e = c.embed_dim;
    let three_e = e.checked_mul(3).ok_or_else(|| Error::SizeOverflow {
        op: OP,
        detail: format!("3 * embed_dim overflows for embed_dim {e}"),
    })?;
    let in_proj = if c.kdim() == e && c.vdim() == e {
        InProj::Packed(xavier(three_e, e)?)
    } else {
        InProj::Separate {
            q: xavier(e, e)?,
            k: xavier(e, c.kdim())?,
            v: xavier(e, c.vdim())?,
        }
    };
    let in_proj_bias = if c.bias {
        Some(Tensor::zeros(three_e, DType::F32, &Device::cpu())?.requires_grad())
    } else {
        None
    };
    let out_proj = Linear::try_new(e, e, c.bias)?;
    if let Some(b) = out_proj.bias() {
        Init::Zeros.fill(b)?;
    }
    Ok((in_proj, in_proj_bias, out_proj))
}

impl MultiheadAttention {
    /// `embed_dim` features split over `num_heads` heads, PyTorch's other
    /// defaults (see [`MultiheadAttentionConfig::new`]). Never fails: invalid
    /// sizes are reported by [`MultiheadAttention::validate`], `forward` and
    /// `config` (use [`MultiheadAttention::try_new`] for the error at once).
    pub fn new(embed_dim: usize, num_heads: usize) -> MultiheadAttention {
        MultiheadAttention::build(&MultiheadAttentionConfig::new(embed_dim, num_heads))
    }

    /// A layer with every hyperparameter, validated now: `embed_dim` and
    /// `num_heads` positive, `num_heads` dividing `embed_dim`, `dropout` in `[0, 1]`.
    ///
    /// ```
    /// use neurite::nn::{MultiheadAttention, MultiheadAttentionConfig};
    /// assert!(MultiheadAttention::try_new(&MultiheadAttentionConfig::new(10, 3)).is_err());
    /// ```
    pub fn try_new(config: &MultiheadAttentionConfig) -> Result<MultiheadAttention> {
        let m = MultiheadAttention::build(config);
        m.validate()?;
        Ok(m)
    }

    /// The layer for `config`, holding placeholders (and the reason) when its
    /// parameters cannot be created; nothing else is checked.
    pub(super) fn build(config: &MultiheadAttentionConfig) -> MultiheadAttention {
        let (in_proj, in_proj_bias, out_proj, unbuilt) = match parameters(config) {
            Ok((p, b, o)) => (p, b, o, Unbuilt::none()),
            Err(e) => (
                InProj::Packed(placeholder(2)),
                None,
                Linear::new(0, 0),
                Unbuilt::because(&e),
            ),
        };
        MultiheadAttention {
            config: config.clone(),
            in_proj,
            in_proj_bias,
            out_proj,
            training: true,
            unbuilt,
        }
    }

    /// Sets the dropout probability on the attention weights (builder style).
    pub fn with_dropout(mut self, dropout: f64) -> MultiheadAttention {
        self.config.dropout = dropout;
        self
    }

    /// Batched inputs and outputs as `(N, L, E)` (`true`) or `(L, N, E)` (builder style).
    pub fn with_batch_first(mut self, batch_first: bool) -> MultiheadAttention {
        self.config.batch_first = batch_first;
        self
    }

    /// Checks the hyperparameters and that the parameters could be created.
    pub fn validate(&self) -> Result<()> {
        self.unbuilt.check(OP)?;
        let c = &self.config;
        if c.embed_dim == 0 || c.num_heads == 0 {
            return Err(Error::invalid(
                OP,
                format!(
                    "embed_dim and num_heads must be greater than 0, got embed_dim={} and num_heads={}",
                    c.embed_dim, c.num_heads
                ),
            ));
        }
        if !c.embed_dim.is_multiple_of(c.num_heads) {
            return Err(Error::invalid(
                OP,
                format!(
                    "embed_dim must be divisible by num_heads, got embed_dim={} and num_heads={}",
                    c.embed_dim, c.num_heads
                ),
            ));
        }
        check_dropout(OP, c.dropout)
    }

    /// The hyperparameters.
    pub fn hyperparameters(&self) -> &MultiheadAttentionConfig {
        &self.config
    }

    /// `E`.
    pub fn embed_dim(&self) -> usize {
        self.config.embed_dim
    }

    /// Heads.
    pub fn num_heads(&self) -> usize {
        self.config.num_heads
    }

    /// `embed_dim / num_heads`.
    pub fn head_dim(&self) -> usize {
        self.config.embed_dim.checked_div(self.config.num_heads).unwrap_or(0)
    }

    /// Whether batched tensors are `(N, L, E)`.
    pub fn batch_first(&self) -> bool {
        self.config.batch_first
    }

    /// The packed `[3E, E]` input projection, when keys and values have `E` features.
    pub fn in_proj_weight(&self) -> Option<&Tensor> {
        match &self.in_proj {
            InProj::Packed(w) => Some(w),
            InProj::Separate { .. } => None,
        }
    }

    /// The query projection `[E, E]` when the projections are separate.
    pub fn q_proj_weight(&self) -> Option<&Tensor> {
        match &self.in_proj {
            InProj::Separate { q, .. } => Some(q),
            InProj::Packed(_) => None,
        }
    }

    /// The key projection `[E, kdim]` when the projections are separate.
    pub fn k_proj_weight(&self) -> Option<&Tensor> {
        match &self.in_proj {
            InProj::Separate { k, .. } => Some(k),
            InProj::Packed(_) => None,
        }
    }

    /// The value projection `[E, vdim]` when the projections are separate.
    pub fn v_proj_weight(&self) -> Option<&Tensor> {
        match &self.in_proj {
            InProj::Separate { v, .. } => Some(v),
            InProj::Packed(_) => None,
        }
    }

    /// The packed `[3E]` input bias, with `bias`.
    pub fn in_proj_bias(&self) -> Option<&Tensor> {
        self.in_proj_bias.as_ref()
    }

    /// The output projection.
    pub fn out_proj(&self) -> &Linear {
        &self.out_proj
    }

    /// Attends `query` to `key`/`value`, PyTorch's
    /// `MultiheadAttention.forward(query, key, value, key_padding_mask,
    /// need_weights, attn_mask, average_attn_weights, is_causal)`, returning the
    /// output and, when `need_weights`, the attention weights (averaged over
    /// heads when `average_attn_weights`). See the type's `# Shapes`.
    ///
    /// `is_causal` is PyTorch's hint that `attn_mask` is the causal mask: it
    /// needs that mask and does not change the result.
    ///
    /// Errors name the op and the shapes: inputs of the wrong rank or sizes,
    /// masks of the wrong shape, `is_causal` without `attn_mask`.
    #[allow(clippy::too_many_arguments)] // PyTorch's signature, in PyTorch's order.
    pub fn forward(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        key_padding_mask: Option<&Tensor>,
        need_weights: bool,
        attn_mask: Option<&Tensor>,
        average_attn_weights: bool,
        is_causal: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        self.validate()?;
        if is_causal && attn_mask.is_none() {
            return Err(Error::invalid(
                OP,
                "is_causal is a hint that attn_mask is the causal mask and needs that attn_mask",
            ));
        }
        let batched = match (query.rank(), key.rank(), value.rank()) {
            (3, 3, 3) => true,
            (2, 2, 2) => false,
            _ => {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "query, key and value must all be 3-D (batched) or all 2-D (unbatched), got shapes {}, {} and {}",
                        query.shape(),
                        key.shape(),
                        value.shape()
                    ),
                ));
            }
        };
        // Computed sequence-first, (L, N, E), as PyTorch does.
        let seq_first = |t: &Tensor| -> Result<Tensor> {
            match (batched, self.config.batch_first) {
                (false, _) => t.unsqueeze(1),
                (true, true) => t.transpose(0usize, 1usize),
                (true, false) => Ok(t.clone()),
            }
        };
        let (q_in, k_in, v_in) = (seq_first(query)?, seq_first(key)?, seq_first(value)?);
        let (l, n, s) = self.check_inputs(query, key, value, &q_in, &k_in, &v_in)?;
        let kpm = match key_padding_mask {
            Some(m) if !batched => Some(m.unsqueeze(0)?),
            Some(m) => Some(m.clone()),
            None => None,
        };
        let mask = self.merged_mask(attn_mask, kpm.as_ref(), key_padding_mask, (l, n, s), query.dtype())?;

        let (q, k, v) = self.project(query, key, value, &q_in, &k_in, &v_in)?;
        let (h, hd, e) = (self.config.num_heads, self.head_dim(), self.config.embed_dim);
        let nh = n * h;
        // (len, N, E) -> (N * H, len, head_dim): head j of sample i is batch i * H + j.
        let heads = |t: &Tensor, len: usize| t.reshape((len, nh, hd))?.transpose(0usize, 1usize);
        let (q, k, v) = (heads(&q, l)?, heads(&k, s)?, heads(&v, s)?);
        let p = if self.training { self.config.dropout } else { 0.0 };
        let (out, weights) = attend(&q, &k, &v, mask.as_ref(), p, default_scale(hd))?;

        let out = out.transpose(0usize, 1usize)?.reshape((l * n, e))?;
        let out = self.out_proj.forward(&out)?.reshape((l, n, e))?;
        let out = match (batched, self.config.batch_first) {
            (false, _) => out.squeeze(1usize)?,
            (true, true) => out.transpose(0usize, 1usize)?,
            (true, false) => out,
        };
        if !need_weights {
            return Ok((out, None));
        }
        let mut w = weights.reshape((n, h, l, s))?;
        if average_attn_weights {
            w = w.mean_dim(1usize, false)?;
        }
        if !batched {
            w = w.squeeze(0usize)?;
        }
        Ok((out, Some(w)))
    }

    /// `(L, N, S)` after checking the sequence-first inputs against the layer.
    fn check_inputs(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
    ) -> Result<(usize, usize, usize)> {
        let c = &self.config;
        let (qd, kd, vd) = (q.dims(), k.dims(), v.dims());
        let ok = qd[2] == c.embed_dim
            && kd[2] == c.kdim()
            && vd[2] == c.vdim()
            && kd[0] == vd[0]
            && qd[1] == kd[1]
            && kd[1] == vd[1];
        if !ok {
            let layout = if query.rank() == 2 {
                "(L, E), (S, kdim), (S, vdim)"
            } else if c.batch_first {
                "(N, L, E), (N, S, kdim), (N, S, vdim)"
            } else {
                "(L, N, E), (S, N, kdim), (S, N, vdim)"
            };
            return Err(Error::invalid(
                OP,
                format!(
                    "expected query, key and value of shapes {layout} with E={}, kdim={}, vdim={}, got {}, {} and {}",
                    c.embed_dim,
                    c.kdim(),
                    c.vdim(),
                    query.shape(),
                    key.shape(),
                    value.shape()
                ),
            ));
        }
        Ok((qd[0], qd[1], kd[0]))
    }

    /// The additive mask over `(N * H, L, S)` scores that combines `attn_mask`
    /// and the (batched) key padding mask, or `None` without either.
    fn merged_mask(
        &self,
        attn_mask: Option<&Tensor>,
        kpm: Option<&Tensor>,
        kpm_given: Option<&Tensor>,
        (l, n, s): (usize, usize, usize),
        dtype: DType,
    ) -> Result<Option<Tensor>> {
        let nh = n * self.config.num_heads;
        let attn = match attn_mask {
            None => None,
            Some(m) => {
                let fits = match m.rank() {
                    2 => m.dims() == [l, s],
                    3 => m.dims() == [nh, l, s],
                    _ => false,
                };
                if !fits {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "attn_mask of shape {} should be (L, S) = ({l}, {s}) or (N * num_heads, L, S) = ({nh}, {l}, {s})",
                            m.shape()
                        ),
                    ));
                }
                let m = additive_mask(m, dtype, TrueMeans::Masked)?;
                Some(if m.rank() == 2 { m.unsqueeze(0)? } else { m })
            }
        };
        let padding = match (kpm, kpm_given) {
            (Some(m), Some(given)) => {
                if m.dims() != [n, s] {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "key_padding_mask of shape {} should be (N, S) = ({n}, {s}) (or (S) for unbatched inputs)",
                            given.shape()
                        ),
                    ));
                }
                let m = additive_mask(m, dtype, TrueMeans::Masked)?;
                let h = self.config.num_heads;
                Some(
                    m.reshape((n, 1, 1, s))?
                        .broadcast_as((n, h, 1, s))?
                        .reshape((nh, 1, s))?,
                )
            }
            _ => None,
        };
        Ok(match (attn, padding) {
            (Some(a), Some(p)) => Some(a.add(&p)?),
            (a, p) => a.or(p),
        })
    }

    /// The projected query, key and value, sequence-first. One product serves
    /// all three when the same tensor is passed for each (self-attention).
    fn project(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let e = self.config.embed_dim;
        let bias = |i: usize| -> Result<Option<Tensor>> {
            self.in_proj_bias
                .as_ref()
                .map(|b| b.narrow(0usize, i * e, e))
                .transpose()
        };
        let linear = crate::nn::functional::linear;
        match &self.in_proj {
            InProj::Packed(w) if query.id() == key.id() && key.id() == value.id() => {
                let all = linear(q, w, self.in_proj_bias.as_ref())?;
                let part = |i: usize| all.narrow(2usize, i * e, e);
                Ok((part(0)?, part(1)?, part(2)?))
            }
            InProj::Packed(w) => {
                let wi = |i: usize| w.narrow(0usize, i * e, e);
                Ok((
                    linear(q, &wi(0)?, bias(0)?.as_ref())?,
                    linear(k, &wi(1)?, bias(1)?.as_ref())?,
                    linear(v, &wi(2)?, bias(2)?.as_ref())?,
                ))
            }
            InProj::Separate { q: wq, k: wk, v: wv } => Ok((
                linear(q, wq, bias(0)?.as_ref())?,
                linear(k, wk, bias(1)?.as_ref())?,
                linear(v, wv, bias(2)?.as_ref())?,
            )),
        }
    }
}

impl Module for MultiheadAttention {
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("out_proj".to_string(), &self.out_proj as &dyn Module)]
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        vec![("out_proj".to_string(), &mut self.out_proj as &mut dyn Module)]
    }

    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = match &self.in_proj {
            InProj::Packed(w) => vec![("in_proj_weight".to_string(), w.clone())],
            InProj::Separate { q, k, v } => vec![
                ("q_proj_weight".to_string(), q.clone()),
                ("k_proj_weight".to_string(), k.clone()),
                ("v_proj_weight".to_string(), v.clone()),
            ],
        };
        if let Some(b) = &self.in_proj_bias {
            out.push(("in_proj_bias".to_string(), b.clone()));
        }
        out
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        match &mut self.in_proj {
            InProj::Packed(w) => *w = f(w)?,
            InProj::Separate { q, k, v } => {
                *q = f(q)?;
                *k = f(k)?;
                *v = f(v)?;
            }
        }
        if let Some(b) = &mut self.in_proj_bias {
            *b = f(b)?;
        }
        Ok(())
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
        self.out_proj.set_training(training);
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn config(&self) -> Result<LayerConfig> {
        self.validate()?;
        layer_config_of(self)
    }
}

impl Configurable for MultiheadAttention {
    type Config = MultiheadAttentionConfig;

    fn module_config(&self) -> MultiheadAttentionConfig {
        self.config.clone()
    }

    fn from_module_config(config: &MultiheadAttentionConfig) -> Result<MultiheadAttention> {
        MultiheadAttention::try_new(config)
    }
}
