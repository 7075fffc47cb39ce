//! Single-step cells: [`RNNCell`], [`LSTMCell`], [`GRUCell`].

use super::step::{self, CellKind, RnnNonlinearity};
use super::weights::{CellWeights, check_input, check_sizes, check_state};
use crate::nn::params::Unbuilt;
use crate::nn::{Forward, LayerConfig, Module};
use crate::{Result, Tensor};

/// The weights and sizes every cell holds.
#[derive(Debug)]
struct Core {
    op: &'static str,
    input_size: usize,
    hidden_size: usize,
    bias: bool,
    weights: CellWeights,
    unbuilt: Unbuilt,
}

impl Core {
    fn try_new(op: &'static str, kind: CellKind, input_size: usize, hidden_size: usize, bias: bool) -> Result<Core> {
        check_sizes(op, input_size, hidden_size)?;
        Ok(Core {
            op,
            input_size,
            hidden_size,
            bias,
            weights: CellWeights::new(op, input_size, hidden_size, kind.gates(), bias)?,
            unbuilt: Unbuilt::none(),
        })
    }

    fn new(op: &'static str, kind: CellKind, input_size: usize, hidden_size: usize, bias: bool) -> Core {
        Core::try_new(op, kind, input_size, hidden_size, bias).unwrap_or_else(|e| Core {
            op,
            input_size,
            hidden_size,
            bias,
            weights: CellWeights::placeholder(),
            unbuilt: Unbuilt::because(&e),
        })
    }

    fn validate(&self) -> Result<()> {
        self.unbuilt.check(self.op)?;
        check_sizes(self.op, self.input_size, self.hidden_size)
    }

    /// The input as `(N, input_size)`, whether it was unbatched, and the state
    /// shape the input implies.
    fn batch(&self, x: &Tensor) -> Result<(Tensor, bool, Vec<usize>)> {
        self.validate()?;
        check_input(self.op, x, &[1, 2], self.input_size)?;
        if x.rank() == 1 {
            Ok((x.unsqueeze(0)?, true, vec![self.hidden_size]))
        } else {
            Ok((x.clone(), false, vec![x.dims()[0], self.hidden_size]))
        }
    }

    /// A given state checked against `dims` and batched, or zeros.
    fn state(&self, t: Option<&Tensor>, what: &str, dims: &[usize], x: &Tensor) -> Result<Tensor> {
        match t {
            Some(t) => {
                check_state(self.op, what, t, dims)?;
                if dims.len() == 1 { t.unsqueeze(0) } else { Ok(t.clone()) }
            }
            None => Tensor::zeros((x.dims()[0], self.hidden_size), x.dtype(), &x.device()),
        }
    }
}

macro_rules! cell_common {
    ($ty:ident) => {
        impl $ty {
            /// Checks the sizes and that the parameters were created.
            pub fn validate(&self) -> Result<()> {
                self.core.validate()
            }

            /// Features of the input.
            pub fn input_size(&self) -> usize {
                self.core.input_size
            }

            /// Features of the hidden state.
            pub fn hidden_size(&self) -> usize {
                self.core.hidden_size
            }

            /// Whether the cell has `bias_ih` and `bias_hh`.
            pub fn bias(&self) -> bool {
                self.core.bias
            }
        }

        impl Module for $ty {
            fn own_parameters(&self) -> Vec<(String, Tensor)> {
                self.core.weights.named("")
            }

            fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
                self.core.weights.map(f)
            }

            fn config(&self) -> Result<LayerConfig> {
                self.core.validate()?;
                Ok(self.layer_config())
            }
        }
    };
}

/// One step of an Elman RNN, PyTorch's `nn.RNNCell`:
/// `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `act` tanh (default) or ReLU.
/// Initialised from `U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))`.
/// [`RNNCell::new`] never fails; a zero `hidden_size` is reported by
/// `validate`, `forward` and [`RNNCell::try_new`].
///
/// # Shapes
/// - input: `(N, input_size)` or unbatched `(input_size)`
/// - `h` (optional, zeros by default): `(N, hidden_size)` or `(hidden_size)`
/// - output `h'`: like `h`
///
/// # Parameters
/// `weight_ih` `[hidden_size, input_size]`, `weight_hh` `[hidden_size, hidden_size]`,
/// `bias_ih`, `bias_hh` `[hidden_size]`.
///
/// ```
/// use neurite::nn::{Forward, RNNCell};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let cell = RNNCell::new(3, 4);
/// let x = Tensor::randn((2, 3), DType::F32, &Device::cpu())?;
/// let h = cell.forward(&x)?;
/// let h = cell.forward_with_state(&x, Some(&h))?;
/// assert_eq!(h.dims(), &[2, 4]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RNNCell {
    core: Core,
    nonlinearity: RnnNonlinearity,
}

impl RNNCell {
    /// A tanh cell with biases; never fails (see the type's docs).
    pub fn new(input_size: usize, hidden_size: usize) -> RNNCell {
        let kind = CellKind::Rnn(RnnNonlinearity::Tanh);
        RNNCell {
            core: Core::new("RNNCell", kind, input_size, hidden_size, true),
            nonlinearity: RnnNonlinearity::Tanh,
        }
    }

    /// A cell with every hyperparameter, validated now.
    pub fn try_new(
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        nonlinearity: RnnNonlinearity,
    ) -> Result<RNNCell> {
        let kind = CellKind::Rnn(nonlinearity);
        Ok(RNNCell {
            core: Core::try_new("RNNCell", kind, input_size, hidden_size, bias)?,
            nonlinearity,
        })
    }

    /// Sets the activation (the parameters are kept).
    pub fn with_nonlinearity(mut self, nonlinearity: RnnNonlinearity) -> RNNCell {
        self.nonlinearity = nonlinearity;
        self
    }

    /// The activation.
    pub fn nonlinearity(&self) -> RnnNonlinearity {
        self.nonlinearity
    }

    /// `h'` from the input and the state `h` (zeros when `None`).
    pub fn forward_with_state(&self, x: &Tensor, h: Option<&Tensor>) -> Result<Tensor> {
        let (xb, unbatched, dims) = self.core.batch(x)?;
        let h = self.core.state(h, "hx", &dims, &xb)?;
        let out = step::rnn(&self.core.weights, self.nonlinearity, &xb, &h)?;
        if unbatched { out.squeeze(0) } else { Ok(out) }
    }

    fn layer_config(&self) -> LayerConfig {
        LayerConfig::RNNCell {
            input_size: self.core.input_size,
            hidden_size: self.core.hidden_size,
            bias: self.core.bias,
            nonlinearity: self.nonlinearity,
        }
    }
}

cell_common!(RNNCell);

impl Forward for RNNCell {
    /// `h'` from a zero state.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_state(x, None)
    }
}

/// One LSTM step, PyTorch's `nn.LSTMCell` (gates i, f, g, o; see
/// [`super::LSTM`] for the equations). Initialisation and construction as
/// [`RNNCell`].
///
/// # Shapes
/// - input: `(N, input_size)` or unbatched `(input_size)`
/// - `(h, c)` (optional, zeros by default): each `(N, hidden_size)` or `(hidden_size)`
/// - output `(h', c')`: like `(h, c)`
///
/// # Parameters
/// `weight_ih` `[4 * hidden_size, input_size]`, `weight_hh` `[4 * hidden_size, hidden_size]`,
/// `bias_ih`, `bias_hh` `[4 * hidden_size]`.
///
/// ```
/// use neurite::nn::LSTMCell;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let cell = LSTMCell::new(3, 4);
/// let x = Tensor::randn((2, 3), DType::F32, &Device::cpu())?;
/// let (h, c) = cell.forward_with_state(&x, None)?;
/// let (h, c) = cell.forward_with_state(&x, Some((&h, &c)))?;
/// assert_eq!((h.dims(), c.dims()), (&[2usize, 4][..], &[2usize, 4][..]));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LSTMCell {
    core: Core,
}

impl LSTMCell {
    /// A cell with biases; never fails (see [`RNNCell`]).
    pub fn new(input_size: usize, hidden_size: usize) -> LSTMCell {
        LSTMCell {
            core: Core::new("LSTMCell", CellKind::Lstm, input_size, hidden_size, true),
        }
    }

    /// A cell with every hyperparameter, validated now.
    pub fn try_new(input_size: usize, hidden_size: usize, bias: bool) -> Result<LSTMCell> {
        Ok(LSTMCell {
            core: Core::try_new("LSTMCell", CellKind::Lstm, input_size, hidden_size, bias)?,
        })
    }

    /// `(h', c')` from the input and the state `(h, c)` (zeros when `None`).
    pub fn forward_with_state(&self, x: &Tensor, state: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, Tensor)> {
        let (xb, unbatched, dims) = self.core.batch(x)?;
        let (h, c) = state.unzip();
        let h = self.core.state(h, "hx", &dims, &xb)?;
        let c = self.core.state(c, "cx", &dims, &xb)?;
        let (h, c) = step::lstm(&self.core.weights, &xb, &h, &c)?;
        if unbatched {
            Ok((h.squeeze(0)?, c.squeeze(0)?))
        } else {
            Ok((h, c))
        }
    }

    fn layer_config(&self) -> LayerConfig {
        LayerConfig::LSTMCell {
            input_size: self.core.input_size,
            hidden_size: self.core.hidden_size,
            bias: self.core.bias,
        }
    }
}

cell_common!(LSTMCell);

impl Forward for LSTMCell {
    /// `h'` from a zero state.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_state(x, None).map(|(h, _)| h)
    }
}

/// One GRU step, PyTorch's `nn.GRUCell` (gates r, z, n; see [`super::GRU`]
/// for the equations). Initialisation and construction as [`RNNCell`].
///
/// # Shapes
/// - input: `(N, input_size)` or unbatched `(input_size)`
/// - `h` (optional, zeros by default): `(N, hidden_size)` or `(hidden_size)`
/// - output `h'`: like `h`
///
/// # Parameters
/// `weight_ih` `[3 * hidden_size, input_size]`, `weight_hh` `[3 * hidden_size, hidden_size]`,
/// `bias_ih`, `bias_hh` `[3 * hidden_size]`.
///
/// ```
/// use neurite::nn::GRUCell;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let cell = GRUCell::new(3, 4);
/// let h = cell.forward_with_state(&Tensor::randn(3, DType::F32, &Device::cpu())?, None)?;
/// assert_eq!(h.dims(), &[4]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GRUCell {
    core: Core,
}

impl GRUCell {
    /// A cell with biases; never fails (see [`RNNCell`]).
    pub fn new(input_size: usize, hidden_size: usize) -> GRUCell {
        GRUCell {
            core: Core::new("GRUCell", CellKind::Gru, input_size, hidden_size, true),
        }
    }

    /// A cell with every hyperparameter, validated now.
    pub fn try_new(input_size: usize, hidden_size: usize, bias: bool) -> Result<GRUCell> {
        Ok(GRUCell {
            core: Core::try_new("GRUCell", CellKind::Gru, input_size, hidden_size, bias)?,
        })
    }

    /// `h'` from the input and the state `h` (zeros when `None`).
    pub fn forward_with_state(&self, x: &Tensor, h: Option<&Tensor>) -> Result<Tensor> {
        let (xb, unbatched, dims) = self.core.batch(x)?;
        let h = self.core.state(h, "hx", &dims, &xb)?;
        let out = step::gru(&self.core.weights, &xb, &h)?;
        if unbatched { out.squeeze(0) } else { Ok(out) }
    }

    fn layer_config(&self) -> LayerConfig {
        LayerConfig::GRUCell {
            input_size: self.core.input_size,
            hidden_size: self.core.hidden_size,
            bias: self.core.bias,
        }
    }
}

cell_common!(GRUCell);

impl Forward for GRUCell {
    /// `h'` from a zero state.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_state(x, None)
    }
}
