//! The Elman recurrence over a sequence.

use super::sequence::{Recurrent, RecurrentConfig};
use super::sequence_layer_common;
use super::step::{CellKind, RnnNonlinearity};
use crate::nn::{Forward, LayerConfig};
use crate::{Result, Tensor};

/// A multi-layer Elman RNN, PyTorch's `nn.RNN`:
/// `h' = act(W_ih x + b_ih + W_hh h + b_hh)` with `act` tanh (the default)
/// or ReLU. Layering, dropout, initialisation and construction are as for
/// [`super::LSTM`].
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
/// `weight_ih_l{k}` `[hidden_size, input_size]` (`D * hidden_size` inputs for `k > 0`),
/// `weight_hh_l{k}` `[hidden_size, hidden_size]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[hidden_size]`.
///
/// ```
/// use neurite::nn::{RNN, RnnNonlinearity};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let rnn = RNN::new(3, 5).with_nonlinearity(RnnNonlinearity::Relu);
/// let x = Tensor::randn((4, 3), DType::F32, &Device::cpu())?; // unbatched (L, H_in)
/// let (out, h_n) = rnn.forward_with_state(&x, None)?;
/// assert_eq!(out.dims(), &[4, 5]);
/// assert_eq!(h_n.dims(), &[1, 5]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RNN {
    inner: Recurrent,
}

const OP: &str = "RNN";

impl RNN {
    /// One tanh layer of `hidden_size` units over `input_size` features, with
    /// PyTorch's other defaults; never fails (see [`super::LSTM`]).
    pub fn new(input_size: usize, hidden_size: usize) -> RNN {
        RNN {
            inner: Recurrent::build(
                OP,
                CellKind::Rnn(RnnNonlinearity::Tanh),
                RecurrentConfig::new(input_size, hidden_size),
            ),
        }
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(config: RecurrentConfig, nonlinearity: RnnNonlinearity) -> Result<RNN> {
        Ok(RNN {
            inner: Recurrent::try_build(OP, CellKind::Rnn(nonlinearity), config)?,
        })
    }

    /// Sets the activation (the parameters are kept).
    pub fn with_nonlinearity(mut self, nonlinearity: RnnNonlinearity) -> RNN {
        self.inner.kind = CellKind::Rnn(nonlinearity);
        self
    }

    /// The activation.
    pub fn nonlinearity(&self) -> RnnNonlinearity {
        match self.inner.kind {
            CellKind::Rnn(act) => act,
            _ => RnnNonlinearity::Tanh,
        }
    }

    /// Runs the sequence from `h_0` (zeros when `None`) and returns
    /// `(output, h_n)`, as PyTorch's `rnn(x, h_0)`. See the type's `# Shapes`.
    pub fn forward_with_state(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let r = self.inner.run(x, h0, None)?;
        Ok((r.output, r.h_n))
    }

    fn layer_config(&self) -> LayerConfig {
        LayerConfig::RNN {
            config: self.inner.cfg.clone(),
            nonlinearity: self.nonlinearity(),
        }
    }
}

sequence_layer_common!(RNN);

impl Forward for RNN {
    /// The output sequence from a zero state.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_state(x, None).map(|(out, _)| out)
    }
}
