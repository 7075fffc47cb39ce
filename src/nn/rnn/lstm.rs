//! Long short-term memory over a sequence.

use super::sequence::{Recurrent, RecurrentConfig};
use super::sequence_layer_common;
use super::step::CellKind;
use crate::nn::{Forward, LayerConfig};
use crate::{Result, Tensor};

/// A multi-layer LSTM, PyTorch's `nn.LSTM`. For each step and layer, with
/// gates stacked i, f, g, o in the weights:
///
/// ```text
/// i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
/// c' = f * c + i * g                              h' = o * tanh(c')
/// ```
///
/// Layer `k > 0` reads layer `k - 1`'s outputs (both directions concatenated
/// when bidirectional), after dropout in training mode when `dropout > 0`.
/// Initialisation equals PyTorch's: every parameter from
/// `U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))`. Created on the CPU in
/// `f32`. [`LSTM::new`] never fails; invalid hyperparameters (a zero
/// `hidden_size` or `num_layers`, a dropout outside `[0, 1]`) are reported by
/// [`LSTM::validate`], `forward` and [`LSTM::try_new`].
///
/// # Shapes
/// With `D = 2` when bidirectional (else 1) and `S = num_layers * D`:
/// - input: `(L, N, input_size)`, `(N, L, input_size)` with `batch_first`, or unbatched `(L, input_size)`
/// - `h_0`, `c_0` (optional, zeros by default): `(S, N, hidden_size)`, unbatched `(S, hidden_size)`
/// - output: `(L, N, D * hidden_size)` (`(N, L, ...)` with `batch_first`), unbatched `(L, D * hidden_size)`:
///   the last layer's `h` at every step, forward then backward direction
/// - `h_n`, `c_n`: like `h_0`: the final states of every layer and direction
///   (the backward direction's final state is the one after reading step 0)
///
/// # Parameters
/// For layer `k` (suffix `_reverse` for the backward direction):
/// `weight_ih_l{k}` `[4 * hidden_size, input_size]` (`D * hidden_size` inputs for `k > 0`),
/// `weight_hh_l{k}` `[4 * hidden_size, hidden_size]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[4 * hidden_size]`.
///
/// ```
/// use neurite::nn::{Forward, LSTM};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let lstm = LSTM::new(10, 20).with_num_layers(2);
/// let x = Tensor::randn((5, 3, 10), DType::F32, &Device::cpu())?;
/// let (out, (h_n, c_n)) = lstm.forward_with_state(&x, None)?;
/// assert_eq!(out.dims(), &[5, 3, 20]);
/// assert_eq!(h_n.dims(), &[2, 3, 20]);
/// assert_eq!(c_n.dims(), &[2, 3, 20]);
/// assert_eq!(lstm.forward(&x)?.dims(), &[5, 3, 20]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LSTM {
    inner: Recurrent,
}

const OP: &str = "LSTM";

impl LSTM {
    /// One layer of `hidden_size` cells over `input_size` features, with
    /// PyTorch's other defaults; never fails (see the type's docs).
    pub fn new(input_size: usize, hidden_size: usize) -> LSTM {
        LSTM {
            inner: Recurrent::build(OP, CellKind::Lstm, RecurrentConfig::new(input_size, hidden_size)),
        }
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(config: RecurrentConfig) -> Result<LSTM> {
        Ok(LSTM {
            inner: Recurrent::try_build(OP, CellKind::Lstm, config)?,
        })
    }

    /// Runs the sequence from the initial states `(h_0, c_0)` (zeros when
    /// `None`) and returns `(output, (h_n, c_n))`, as PyTorch's
    /// `lstm(x, (h_0, c_0))`. See the type's `# Shapes`.
    pub fn forward_with_state(
        &self,
        x: &Tensor,
        state: Option<(&Tensor, &Tensor)>,
    ) -> Result<(Tensor, (Tensor, Tensor))> {
        let (h0, c0) = state.unzip();
        let r = self.inner.run(x, h0, c0)?;
        let c_n = r
            .c_n
            .ok_or_else(|| crate::Error::invalid(OP, "the recurrence returned no cell state"))?;
        Ok((r.output, (r.h_n, c_n)))
    }

    fn layer_config(&self) -> LayerConfig {
        LayerConfig::LSTM(self.inner.cfg.clone())
    }
}

sequence_layer_common!(LSTM);

impl Forward for LSTM {
    /// The output sequence from zero states (use [`LSTM::forward_with_state`]
    /// for the states).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_state(x, None).map(|(out, _)| out)
    }
}
