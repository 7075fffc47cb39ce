//! One time step of each recurrence, composed from tensor ops (so it runs on
//! every device and differentiates through autograd).

use super::weights::CellWeights;
use crate::{Result, Tensor};
use serde::{Deserialize, Serialize};

/// The activation of a plain [`super::RNN`] / [`super::RNNCell`], PyTorch's
/// `nonlinearity='tanh'` (the default) or `'relu'`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RnnNonlinearity {
    /// `tanh`, the default.
    #[default]
    Tanh,
    /// `relu`.
    Relu,
}

impl RnnNonlinearity {
    /// PyTorch's spelling: `"tanh"` or `"relu"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RnnNonlinearity::Tanh => "tanh",
            RnnNonlinearity::Relu => "relu",
        }
    }
}

/// Which recurrence a cell runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellKind {
    Rnn(RnnNonlinearity),
    Lstm,
    Gru,
}

impl CellKind {
    /// Gates stacked in the weights' first dim.
    pub(crate) fn gates(self) -> usize {
        match self {
            CellKind::Rnn(_) => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }
}

/// The `k`-th of the `hidden`-wide gate blocks along the last dim.
fn gate(t: &Tensor, k: usize, hidden: usize) -> Result<Tensor> {
    t.narrow(t.rank() - 1, k * hidden, hidden)
}

/// `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
pub(crate) fn rnn(w: &CellWeights, act: RnnNonlinearity, x: &Tensor, h: &Tensor) -> Result<Tensor> {
    let pre = w.input_part(x)?.add(&w.hidden_part(h)?)?;
    match act {
        RnnNonlinearity::Tanh => pre.tanh(),
        RnnNonlinearity::Relu => pre.relu(),
    }
}

/// PyTorch's LSTM step, gates in the order i, f, g, o:
/// `c' = f * c + i * g`, `h' = o * tanh(c')`.
pub(crate) fn lstm(w: &CellWeights, x: &Tensor, h: &Tensor, c: &Tensor) -> Result<(Tensor, Tensor)> {
    let hidden = h.dims()[h.rank() - 1];
    let gates = w.input_part(x)?.add(&w.hidden_part(h)?)?;
    let i = gate(&gates, 0, hidden)?.sigmoid()?;
    let f = gate(&gates, 1, hidden)?.sigmoid()?;
    let g = gate(&gates, 2, hidden)?.tanh()?;
    let o = gate(&gates, 3, hidden)?.sigmoid()?;
    let c_next = f.mul(c)?.add(&i.mul(&g)?)?;
    let h_next = o.mul(&c_next.tanh()?)?;
    Ok((h_next, c_next))
}

/// PyTorch's GRU step, gates r, z, n, with the reset gate applied to the
/// state's whole contribution `W_hn h + b_hn` (not to `h` alone):
/// `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`, `h' = (1 - z) * n + z * h`.
pub(crate) fn gru(w: &CellWeights, x: &Tensor, h: &Tensor) -> Result<Tensor> {
    let hidden = h.dims()[h.rank() - 1];
    let gi = w.input_part(x)?;
    let gh = w.hidden_part(h)?;
    let r = gate(&gi, 0, hidden)?.add(&gate(&gh, 0, hidden)?)?.sigmoid()?;
    let z = gate(&gi, 1, hidden)?.add(&gate(&gh, 1, hidden)?)?.sigmoid()?;
    let n = gate(&gi, 2, hidden)?.add(&r.mul(&gate(&gh, 2, hidden)?)?)?.tanh()?;
    // (1 - z) * n + z * h, written as n + z * (h - n): one product fewer.
    n.add(&z.mul(&h.sub(&n)?)?)
}
