//! The backward pass of a small MLP with a cross-entropy loss: every gradient.

use crate::common::parity;
use neurite::{DType, Device, Result};

fn mlp_backward(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64, DType::F16], |c| {
        let x = c.rand(&[8, 6], 1)?.requires_grad();
        let w1 = c.uniform(&[6, 16], -0.4, 0.4, 2)?.requires_grad();
        let b1 = c.uniform(&[16], -0.1, 0.1, 3)?.requires_grad();
        let w2 = c.uniform(&[16, 4], -0.4, 0.4, 4)?.requires_grad();
        let b2 = c.uniform(&[4], -0.1, 0.1, 5)?.requires_grad();
        let labels = c.ids(vec![0, 3, 1, 1, 2, 0, 3, 2], &[8, 1])?;
        let h = x.matmul(&w1)?.add(&b1)?.relu()?;
        let logits = h.matmul(&w2)?.add(&b2)?;
        let loss = logits.log_softmax(1usize)?.gather(1usize, &labels)?.mean_all()?.neg()?;
        let g = loss.backward()?;
        let mut out = vec![loss.clone()];
        for p in [&x, &w1, &b1, &w2, &b2] {
            out.push(g.get(p).expect("every input gets a gradient").clone());
        }
        Ok(out)
    })
}
test_device!(mlp_backward);
