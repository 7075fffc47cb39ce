//! The four tensors of one recurrent cell (one layer, one direction) and the
//! checks shared by every recurrent module.

use super::super::params::check_size;
use crate::{DType, Device, Error, Result, Tensor};

/// `weight_ih` `[gates * hidden, input]`, `weight_hh` `[gates * hidden, hidden]`
/// and, with a bias, `bias_ih` / `bias_hh` `[gates * hidden]`: PyTorch's
/// layout, gates stacked along dim 0 (LSTM i, f, g, o; GRU r, z, n).
#[derive(Debug, Clone)]
pub(crate) struct CellWeights {
    pub(crate) weight_ih: Tensor,
    pub(crate) weight_hh: Tensor,
    pub(crate) bias_ih: Option<Tensor>,
    pub(crate) bias_hh: Option<Tensor>,
}

impl CellWeights {
    /// PyTorch's initialisation: every tensor from `U(-1/sqrt(hidden), 1/sqrt(hidden))`,
    /// drawn in the order of the parameter names; biases are drawn even when
    /// dropped so that a seed gives the same weights with or without them.
    pub(crate) fn new(op: &'static str, input: usize, hidden: usize, gates: usize, bias: bool) -> Result<CellWeights> {
        let rows = gates
            .checked_mul(hidden)
            .ok_or_else(|| Error::invalid(op, format!("{gates} gates x hidden_size {hidden} overflows")))?;
        check_size(op, "weight_ih", &[rows, input])?;
        check_size(op, "weight_hh", &[rows, hidden])?;
        let k = 1.0 / (hidden.max(1) as f64).sqrt();
        let u = |dims: &[usize]| -> Result<Tensor> {
            let dims = dims.to_vec();
            if dims.contains(&0) {
                return Tensor::zeros(dims, DType::F32, &Device::cpu());
            }
            Ok(Tensor::rand_uniform(-k, k, dims, DType::F32, &Device::cpu())?.requires_grad())
        };
        let weight_ih = u(&[rows, input])?;
        let weight_hh = u(&[rows, hidden])?;
        let bias_ih = u(&[rows])?;
        let bias_hh = u(&[rows])?;
        Ok(CellWeights {
            weight_ih,
            weight_hh,
            bias_ih: bias.then_some(bias_ih),
            bias_hh: bias.then_some(bias_hh),
        })
    }

    /// Zero-element stand-ins for a module whose parameters could not be created.
    pub(crate) fn placeholder() -> CellWeights {
        CellWeights {
            weight_ih: super::super::params::placeholder(2),
            weight_hh: super::super::params::placeholder(2),
            bias_ih: None,
            bias_hh: None,
        }
    }

    /// The tensors under PyTorch's names with `suffix` (`"_l0"`, `"_l1_reverse"`, or `""` for cells).
    pub(crate) fn named(&self, suffix: &str) -> Vec<(String, Tensor)> {
        let mut out = vec![
            (format!("weight_ih{suffix}"), self.weight_ih.clone()),
            (format!("weight_hh{suffix}"), self.weight_hh.clone()),
        ];
        if let (Some(bi), Some(bh)) = (&self.bias_ih, &self.bias_hh) {
            out.push((format!("bias_ih{suffix}"), bi.clone()));
            out.push((format!("bias_hh{suffix}"), bh.clone()));
        }
        out
    }

    /// Replaces every tensor by `f(tensor)`, in the order of [`CellWeights::named`].
    pub(crate) fn map(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.weight_ih = f(&self.weight_ih)?;
        self.weight_hh = f(&self.weight_hh)?;
        if let Some(b) = &mut self.bias_ih {
            *b = f(b)?;
        }
        if let Some(b) = &mut self.bias_hh {
            *b = f(b)?;
        }
        Ok(())
    }

    /// `x @ weight_ih^T + bias_ih`: the input's contribution to the gates.
    pub(crate) fn input_part(&self, x: &Tensor) -> Result<Tensor> {
        super::super::functional::linear(x, &self.weight_ih, self.bias_ih.as_ref())
    }

    /// `h @ weight_hh^T + bias_hh`: the state's contribution to the gates.
    pub(crate) fn hidden_part(&self, h: &Tensor) -> Result<Tensor> {
        super::super::functional::linear(h, &self.weight_hh, self.bias_hh.as_ref())
    }
}

/// Checks the sizes every recurrent module shares.
pub(crate) fn check_sizes(op: &'static str, input_size: usize, hidden_size: usize) -> Result<()> {
    if hidden_size == 0 {
        return Err(Error::invalid(
            op,
            format!("hidden_size must be greater than zero, got {hidden_size} (input_size {input_size})"),
        ));
    }
    Ok(())
}

/// Checks that `x` is a float tensor of rank `ranks` whose last dim is `input_size`.
pub(crate) fn check_input(op: &'static str, x: &Tensor, ranks: &[usize], input_size: usize) -> Result<()> {
    if !ranks.contains(&x.rank()) || x.dims()[x.rank() - 1] != input_size {
        return Err(Error::invalid(
            op,
            format!(
                "expected an input of rank {ranks:?} whose last dim is input_size {input_size}, got shape {}",
                x.shape()
            ),
        ));
    }
    x.require_float(op)
}

/// Checks that a given state has exactly `dims`.
pub(crate) fn check_state(op: &'static str, what: &str, t: &Tensor, dims: &[usize]) -> Result<()> {
    if t.dims() != dims {
        return Err(Error::invalid(
            op,
            format!("expected {what} of shape {dims:?}, got shape {}", t.shape()),
        ));
    }
    Ok(())
}
