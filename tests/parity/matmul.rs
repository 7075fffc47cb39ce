//! Matrix products: 2-D, batched, broadcast batches, transposed operands (through
//! the backward pass), and cuBLAS's f16/bf16 path.

use crate::common::{FLOATS, parity};
use neurite::{Device, Result};

fn matmul_2d(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let a = c.rand(&[7, 13], 1)?;
        let b = c.rand(&[13, 5], 2)?;
        let sq = c.rand(&[64, 64], 3)?;
        Ok(vec![a.matmul(&b)?, sq.matmul(&sq)?, b.t()?.matmul(&a.t()?)?])
    })
}
test_device!(matmul_2d);

fn matmul_batched(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let a = c.rand(&[3, 4, 6], 4)?;
        let b = c.rand(&[3, 6, 2], 5)?;
        let shared = c.rand(&[6, 9], 6)?;
        let one = c.rand(&[1, 4, 6], 7)?;
        let wide = c.rand(&[2, 3, 4, 6], 8)?;
        Ok(vec![
            a.matmul(&b)?,      // batch against batch
            a.matmul(&shared)?, // rank-2 rhs: batches folded into rows
            one.matmul(&b)?,    // lhs batch of 1 reused (stride 0)
            wide.matmul(&b)?,   // broadcast batch dims
        ])
    })
}
test_device!(matmul_batched);

fn matmul_transposed_in_backward(dev: &Device) -> Result<()> {
    parity(dev, &[neurite::DType::F32, neurite::DType::F64], |c| {
        let a = c.rand(&[3, 5, 4], 9)?.requires_grad();
        let b = c.rand(&[3, 4, 6], 10)?.requires_grad();
        let w = c.rand(&[4, 7], 11)?.requires_grad();
        let loss = a.matmul(&b)?.sqr()?.sum_all()?.add(&a.matmul(&w)?.tanh()?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![
            g.get(&a).unwrap().clone(),
            g.get(&b).unwrap().clone(),
            g.get(&w).unwrap().clone(),
        ])
    })
}
test_device!(matmul_transposed_in_backward);
