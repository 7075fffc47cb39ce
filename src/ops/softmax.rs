//! Numerically stable softmax and log-softmax with fused backward rules.

use crate::autograd::Node;
use crate::{Dim, Result, Tensor};

impl Tensor {
    /// `exp(x) / sum(exp(x))` along `dim`, shifted by the max for stability.
    pub fn softmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        self.require_float("softmax")?;
        let d = dim.to_index(self.shape(), "softmax")?;
        if self.elem_count() == 0 {
            // Nothing to normalise (PyTorch returns the empty tensor); the
            // max below has no value to take over an empty dim.
            return self.affine(1.0, 0.0);
        }
        let y = crate::no_grad(|| -> Result<Tensor> {
            let e = self.sub(&self.max_dim(d, true)?)?.exp()?;
            e.div(&e.sum_dim(d, true)?)
        })?;
        Ok(y.with_node(|| {
            Node::new("softmax", vec![self.clone()], move |g, y| {
                // dx = y * (g - sum(g * y))
                let dot = g.mul(y)?.sum_dim(d, true)?;
                Ok(vec![Some(y.mul(&g.sub(&dot)?)?)])
            })
        }))
    }

    /// `x - log(sum(exp(x)))` along `dim`, computed without overflow.
    pub fn log_softmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        self.require_float("log_softmax")?;
        let d = dim.to_index(self.shape(), "log_softmax")?;
        if self.elem_count() == 0 {
            return self.affine(1.0, 0.0);
        }
        let y = crate::no_grad(|| -> Result<Tensor> {
            let shifted = self.sub(&self.max_dim(d, true)?)?;
            shifted.sub(&shifted.exp()?.sum_dim(d, true)?.log()?)
        })?;
        Ok(y.with_node(|| {
            Node::new("log_softmax", vec![self.clone()], move |g, y| {
                // dx = g - softmax * sum(g)
                Ok(vec![Some(g.sub(&y.exp()?.mul(&g.sum_dim(d, true)?)?)?)])
            })
        }))
    }

    /// `log(sum(exp(x)))` along `dim`, stable.
    pub fn logsumexp<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "logsumexp")?;
        let m = self.max_dim(d, true)?.detach();
        let out = self.sub(&m)?.exp()?.sum_dim(d, true)?.log()?.add(&m)?;
        if keepdim { Ok(out) } else { out.squeeze(d) }
    }
}
