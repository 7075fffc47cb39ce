//! Reductions (both kernel shapes: short rows and long rows), softmax and friends.

use crate::common::{FLOATS, parity};
use neurite::{Device, Result};

fn reductions(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[3, 4, 5], 1)?;
        let mut out = Vec::new();
        for d in 0..3usize {
            out.push(x.sum_dim(d, false)?);
            out.push(x.max_dim(d, true)?);
            out.push(x.min_dim(d, false)?);
            out.push(x.mean_dim(d, false)?);
            out.push(x.argmax(d, false)?);
            out.push(x.argmin(d, false)?);
        }
        out.push(x.sum_all()?);
        out.push(x.max_all()?);
        out.push(x.var_dim(1usize, false, true)?);
        Ok(out)
    })
}
test_device!(reductions);

fn long_rows(dev: &Device) -> Result<()> {
    // Rows longer than 32 use one block per output; many short columns one thread each.
    parity(dev, &FLOATS, |c| {
        let wide = c.rand(&[3, 5000], 2)?;
        let tall = c.rand(&[700, 40], 3)?;
        let huge = c.rand(&[2, 300, 70], 4)?;
        Ok(vec![
            wide.sum_dim(1usize, false)?,
            wide.max_dim(1usize, false)?,
            wide.argmax(1usize, false)?,
            wide.argmin(1usize, false)?,
            tall.sum_dim(0usize, false)?,
            tall.min_dim(0usize, false)?,
            tall.argmax(0usize, false)?,
            huge.sum_dim(1usize, false)?,
            huge.argmin(1usize, false)?,
            tall.mean_all()?,
        ])
    })
}
test_device!(long_rows);

fn softmax_family(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.uniform(&[4, 10], -5.0, 5.0, 5)?;
        let y = c.uniform(&[2, 3, 6], -3.0, 3.0, 6)?;
        Ok(vec![
            x.softmax(1usize)?,
            x.log_softmax(1usize)?,
            y.softmax(1usize)?,
            y.log_softmax(0usize)?,
            x.logsumexp(1usize, false)?,
        ])
    })
}
test_device!(softmax_family);

fn softmax_gradient(dev: &Device) -> Result<()> {
    parity(dev, &[neurite::DType::F32, neurite::DType::F64], |c| {
        let x = c.uniform(&[5, 7], -2.0, 2.0, 7)?.requires_grad();
        let w = c.rand(&[5, 7], 8)?;
        let loss = x
            .log_softmax(1usize)?
            .mul(&w)?
            .sum_all()?
            .add(&x.softmax(0usize)?.sqr()?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(softmax_gradient);
