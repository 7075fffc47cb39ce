//! Gated recurrent unit over a sequence.

use super::sequence::{Recurrent, RecurrentConfig};
use super::sequence_layer_common;
use super::step::CellKind;
use crate::nn::{Forward, LayerConfig};
use crate::{Result, Tensor};

/// A multi-layer GRU, PyTorch's `nn.GRU`. For each step and layer, with gates
/// stacked r, z, n in the weights:
///
/// ```text
/// r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
/// z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
/// h' = (1 - z) * n + z * h
/// ```
///
/// The reset gate scales the state's whole contribution `W_hn h + b_hn`, as
/// PyTorch (and cuDNN) do. Layering, dropout, initialisation and
/// construction are as for [`super::LSTM`].
///
/// # Shapes
/// With `D = 2` when bidirectional (else 1) and `S = num_layers * D`:
/// - input: `(L, N, input_size)`, `(N, L, input_size)` with `batch_first`, or unbatched `(L, input_size)`
/// - `h_0` (optional, zeros by default): `(S, N, hidden_size)`, unbatched `(S, hidden_size)`
/// - output: `(L, N, D * hidden_size)` (`(N, L, ...)` with `batch_first`), unbatched `(L, D * hidden_size)`
/// - `h_n`: like `h_0`
///
/// # Parameters
/// For layer `k` (suffix `_reverse` for the backward direction):
/// `weight_ih_l{k}` `[3 * hidden_size, input_size]` (`D * hidden_size` inputs for `k > 0`),
/// `weight_hh_l{k}` `[3 * hidden_size, hidden_size]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[3 * hidden_size]`.
///
/// ```
/// use neurite::nn::{Forward, GRU};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let gru = GRU::new(4, 6).with_batch_first(true).with_bidirectional(true);
/// let x = Tensor::randn((2, 7, 4), DType::F32, &Device::cpu())?;
/// let (out, h_n) = gru.forward_with_state(&x, None)?;
/// assert_eq!(out.dims(), &[2, 7, 12]);
/// assert_eq!(h_n.dims(), &[2, 2, 6]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GRU {
    inner: Recurrent,
}

const OP: &str = "GRU";

impl GRU {
    /// One layer of `hidden_size` units over `input_size` features, with
    /// PyTorch's other defaults; never fails (see [`super::LSTM`]).
    pub fn new(input_size: usize, hidden_size: usize) -> GRU {
        GRU {
            inner: Recurrent::build(OP, CellKind::Gru, RecurrentConfig::new(input_size, hidden_size)),
        }
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(config: RecurrentConfig) -> Result<GRU> {
        Ok(GRU {
            inner: Recurrent::try_build(OP, CellKind::Gru, config)?,
        })
    }

    /// Runs the sequence from `h_0` (zeros when `None`) and returns
    /// `(output, h_n)`, as PyTorch's `gru(x, h_0)`. See the type's `# Shapes`.
    pub fn forward_with_state(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let r = self.inner.run(x, h0, None)?;
        Ok((r.output, r.h_n))
    }

    fn layer_config(&self) -> LayerConfig {
        LayerConfig::GRU(self.inner.cfg.clone())
    }
}

sequence_layer_common!(GRU);

impl Forward for GRU {
    /// The output sequence from a zero state.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_state(x, None).map(|(out, _)| out)
    }
}
