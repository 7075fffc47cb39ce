//! The multi-layer, optionally bidirectional recurrence shared by
//! [`super::RNN`], [`super::LSTM`] and [`super::GRU`].

use super::step::{self, CellKind};
use super::weights::{CellWeights, check_input, check_sizes, check_state};
use crate::nn::params::Unbuilt;
use crate::nn::{Dropout, Forward};
use crate::{Error, Result, Tensor};
use serde::{Deserialize, Serialize};

/// The hyperparameters of a recurrent layer, PyTorch's constructor arguments
/// (`nn.LSTM(input_size, hidden_size, num_layers=1, bias=True,
/// batch_first=False, dropout=0.0, bidirectional=False)`).
///
/// ```
/// use neurite::nn::{Module, RecurrentConfig, LSTM};
/// # fn main() -> neurite::Result<()> {
/// let cfg = RecurrentConfig::new(8, 16).with_num_layers(2).with_bidirectional(true);
/// let lstm = LSTM::try_new(cfg)?;
/// assert_eq!(lstm.named_parameters().len(), 2 * 2 * 4);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecurrentConfig {
    /// Features of each input step.
    pub input_size: usize,
    /// Features of the state (> 0).
    pub hidden_size: usize,
    /// Stacked layers (> 0); layer `k > 0` reads layer `k - 1`'s outputs.
    pub num_layers: usize,
    /// Whether the cells have `bias_ih` and `bias_hh`.
    pub bias: bool,
    /// Inputs and outputs `(N, L, *)` instead of `(L, N, *)` (states keep `(S, N, H)`).
    pub batch_first: bool,
    /// Dropout probability on the outputs of every layer but the last, in training mode.
    pub dropout: f64,
    /// A second recurrence per layer reading the sequence backwards (outputs concatenated).
    pub bidirectional: bool,
}

impl RecurrentConfig {
    /// PyTorch's defaults: one layer, biases, `(L, N, H_in)` inputs, no dropout, one direction.
    pub fn new(input_size: usize, hidden_size: usize) -> RecurrentConfig {
        RecurrentConfig {
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
        }
    }

    /// Sets `num_layers`.
    pub fn with_num_layers(mut self, num_layers: usize) -> RecurrentConfig {
        self.num_layers = num_layers;
        self
    }

    /// Sets `bias`.
    pub fn with_bias(mut self, bias: bool) -> RecurrentConfig {
        self.bias = bias;
        self
    }

    /// Sets `batch_first`.
    pub fn with_batch_first(mut self, batch_first: bool) -> RecurrentConfig {
        self.batch_first = batch_first;
        self
    }

    /// Sets `dropout`.
    pub fn with_dropout(mut self, dropout: f64) -> RecurrentConfig {
        self.dropout = dropout;
        self
    }

    /// Sets `bidirectional`.
    pub fn with_bidirectional(mut self, bidirectional: bool) -> RecurrentConfig {
        self.bidirectional = bidirectional;
        self
    }

    /// 2 when bidirectional, else 1.
    pub fn num_directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Checks the sizes, the layer count and the dropout probability.
    pub fn validate(&self, op: &'static str) -> Result<()> {
        check_sizes(op, self.input_size, self.hidden_size)?;
        if self.num_layers == 0 {
            return Err(Error::invalid(op, "num_layers must be greater than zero, got 0"));
        }
        if !(0.0..=1.0).contains(&self.dropout) {
            return Err(Error::invalid(
                op,
                format!("dropout must be a probability in [0, 1], got {}", self.dropout),
            ));
        }
        Ok(())
    }
}

/// What the recurrence returns: the last layer's outputs and, per layer and
/// direction, the final hidden (and, for LSTM, cell) state.
pub(crate) struct SequenceOutput {
    pub(crate) output: Tensor,
    pub(crate) h_n: Tensor,
    pub(crate) c_n: Option<Tensor>,
}

/// The weights and hyperparameters of a recurrent layer.
#[derive(Debug)]
pub(crate) struct Recurrent {
    pub(crate) op: &'static str,
    pub(crate) kind: CellKind,
    pub(crate) cfg: RecurrentConfig,
    /// Layer-major, direction-minor: index `layer * num_directions + direction`.
    pub(crate) cells: Vec<CellWeights>,
    pub(crate) training: bool,
    pub(crate) unbuilt: Unbuilt,
}

impl Recurrent {
    /// The layer, or the error its hyperparameters or parameters give.
    pub(crate) fn try_build(op: &'static str, kind: CellKind, cfg: RecurrentConfig) -> Result<Recurrent> {
        cfg.validate(op)?;
        let d = cfg.num_directions();
        let count = cfg
            .num_layers
            .checked_mul(d)
            .ok_or_else(|| Error::invalid(op, format!("num_layers {} overflows", cfg.num_layers)))?;
        let mut cells = Vec::new();
        for idx in 0..count {
            let layer = idx / d;
            let input = if layer == 0 {
                cfg.input_size
            } else {
                cfg.hidden_size * d
            };
            cells.push(CellWeights::new(op, input, cfg.hidden_size, kind.gates(), cfg.bias)?);
        }
        Ok(Recurrent {
            op,
            kind,
            cfg,
            cells,
            training: true,
            unbuilt: Unbuilt::none(),
        })
    }

    /// [`Recurrent::try_build`] that never fails: a failure is kept and
    /// reported by `validate`, `forward` and `config`.
    pub(crate) fn build(op: &'static str, kind: CellKind, cfg: RecurrentConfig) -> Recurrent {
        Recurrent::try_build(op, kind, cfg.clone()).unwrap_or_else(|e| Recurrent {
            op,
            kind,
            cfg,
            cells: Vec::new(),
            training: true,
            unbuilt: Unbuilt::because(&e),
        })
    }

    /// Rebuilds with a changed configuration, keeping the mode.
    pub(crate) fn rebuilt(self, cfg: RecurrentConfig) -> Recurrent {
        let training = self.training;
        let mut r = Recurrent::build(self.op, self.kind, cfg);
        r.training = training;
        r
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.unbuilt.check(self.op)?;
        self.cfg.validate(self.op)
    }

    /// Every parameter under PyTorch's names (`weight_ih_l0`, ..., `bias_hh_l1_reverse`).
    pub(crate) fn named(&self) -> Vec<(String, Tensor)> {
        let d = self.cfg.num_directions();
        let mut out = Vec::new();
        for (idx, cell) in self.cells.iter().enumerate() {
            let reverse = if idx % d == 1 { "_reverse" } else { "" };
            out.extend(cell.named(&format!("_l{}{reverse}", idx / d)));
        }
        out
    }

    pub(crate) fn map(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.cells.iter_mut().try_for_each(|c| c.map(f))
    }

    /// Runs the recurrence over `x` (`(L, N, H_in)`, `(N, L, H_in)` with
    /// `batch_first`, or unbatched `(L, H_in)`) from the given or zero states.
    pub(crate) fn run(&self, x: &Tensor, h0: Option<&Tensor>, c0: Option<&Tensor>) -> Result<SequenceOutput> {
        let op = self.op;
        self.validate()?;
        check_input(op, x, &[2, 3], self.cfg.input_size)?;
        let batched = x.rank() == 3;
        // Unbatched input is (L, H_in) whatever batch_first says, as in PyTorch.
        let (x3, tdim) = if batched {
            (x.clone(), usize::from(self.cfg.batch_first))
        } else {
            (x.unsqueeze(1)?, 0)
        };
        let (len, n) = (x3.dims()[tdim], x3.dims()[1 - tdim]);
        if len == 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "expected a sequence of at least one step, got input shape {}",
                    x.shape()
                ),
            ));
        }
        let (d, hidden) = (self.cfg.num_directions(), self.cfg.hidden_size);
        let s = self.cells.len();
        let state_dims: Vec<usize> = if batched { vec![s, n, hidden] } else { vec![s, hidden] };
        let prepare = |t: Option<&Tensor>, what: &str| -> Result<Option<Tensor>> {
            let Some(t) = t else { return Ok(None) };
            check_state(op, what, t, &state_dims)?;
            Ok(Some(if batched { t.clone() } else { t.unsqueeze(1)? }))
        };
        let h0 = prepare(h0, "h_0 (num_layers * num_directions, N, hidden_size)")?;
        let c0 = prepare(c0, "c_0 (num_layers * num_directions, N, hidden_size)")?;
        let initial = |given: &Option<Tensor>, idx: usize| -> Result<Tensor> {
            match given {
                Some(t) => t.narrow(0, idx, 1)?.squeeze(0),
                None => Tensor::zeros((n, hidden), x.dtype(), &x.device()),
            }
        };

        // Per-step slices, so that each step's gradient is its own small tensor.
        let mut steps: Vec<Tensor> = (0..len)
            .map(|t| x3.narrow(tdim, t, 1)?.squeeze(tdim))
            .collect::<Result<_>>()?;
        let (mut h_n, mut c_n) = (Vec::with_capacity(s), Vec::with_capacity(s));
        for layer in 0..self.cfg.num_layers {
            let mut per_dir: Vec<Vec<Tensor>> = Vec::with_capacity(d);
            for dir in 0..d {
                let idx = layer * d + dir;
                let w = &self.cells[idx];
                let mut h = initial(&h0, idx)?;
                let mut c = match self.kind {
                    CellKind::Lstm => Some(initial(&c0, idx)?),
                    _ => None,
                };
                let mut outs: Vec<Option<Tensor>> = vec![None; len];
                let order: Box<dyn Iterator<Item = usize>> = if dir == 0 {
                    Box::new(0..len)
                } else {
                    Box::new((0..len).rev())
                };
                for t in order {
                    let xt = &steps[t];
                    match (self.kind, &c) {
                        (CellKind::Rnn(act), _) => h = step::rnn(w, act, xt, &h)?,
                        (CellKind::Gru, _) => h = step::gru(w, xt, &h)?,
                        (CellKind::Lstm, Some(cc)) => {
                            let (hh, ch) = step::lstm(w, xt, &h, cc)?;
                            h = hh;
                            c = Some(ch);
                        }
                        (CellKind::Lstm, None) => unreachable!("an LSTM always carries a cell state"),
                    }
                    outs[t] = Some(h.clone());
                }
                per_dir.push(outs.into_iter().flatten().collect());
                h_n.push(h);
                if let Some(c) = c {
                    c_n.push(c);
                }
            }
            let last = layer + 1 == self.cfg.num_layers;
            let drop = (!last && self.training && self.cfg.dropout > 0.0).then(|| Dropout::new(self.cfg.dropout));
            steps = (0..len)
                .map(|t| {
                    let y = if d == 1 {
                        per_dir[0][t].clone()
                    } else {
                        Tensor::cat(&[per_dir[0][t].clone(), per_dir[1][t].clone()], 1)?
                    };
                    match &drop {
                        Some(dr) => dr.forward(&y),
                        None => Ok(y),
                    }
                })
                .collect::<Result<_>>()?;
        }
        let mut output = Tensor::stack(&steps, tdim)?;
        let mut h_n = Tensor::stack(&h_n, 0)?;
        let mut c_n = if c_n.is_empty() {
            None
        } else {
            Some(Tensor::stack(&c_n, 0)?)
        };
        if !batched {
            output = output.squeeze(1)?;
            h_n = h_n.squeeze(1)?;
            c_n = c_n.map(|c| c.squeeze(1)).transpose()?;
        }
        Ok(SequenceOutput { output, h_n, c_n })
    }
}
