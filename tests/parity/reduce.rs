//! Reductions (both kernel shapes: short rows and long rows), softmax and friends.

use crate::common::{Ctx, FLOATS, parity};
use neurite::{DType, Device, Result};

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

fn full_reductions(dev: &Device) -> Result<()> {
    // Few outputs over long rows take the two-pass shape on the GPU (rows split
    // into chunks over many blocks); this checks that chunk boundaries change
    // nothing: ties and NaNs across chunks keep the first index.
    let all = |c: &Ctx| c.rand(&[70_000], 11);
    let rows = |c: &Ctx| c.rand(&[2, 50_000], 12);
    let cols = |c: &Ctx| c.rand(&[20_000, 3], 13);
    parity(dev, &FLOATS, |c| {
        let (all, rows, cols) = (all(c)?, rows(c)?, cols(c)?);
        let mut with_nan: Vec<f64> = (0..60_000).map(|i| ((i % 977) as f64) / 977.0).collect();
        with_nan[41_234] = f64::NAN;
        with_nan[55_000] = f64::NAN;
        let with_nan = c.tensor(with_nan, &[60_000])?;
        Ok(vec![
            all.max_all()?,
            all.min_all()?,
            all.argmax(0usize, false)?,
            all.argmin(0usize, false)?,
            rows.max_dim(1usize, false)?,
            rows.argmin(1usize, false)?,
            cols.min_dim(0usize, false)?,
            cols.argmax(0usize, false)?,
            with_nan.max_all()?,
            with_nan.argmax(0usize, false)?,
            with_nan.argmin(0usize, false)?,
        ])
    })?;
    // The CPU sums a long row with a few running sums in the tested dtype, the GPU
    // with a tree in f32 or f64: for f32 their sums of 50 000 values differ by more
    // than f32's tolerance (the CPU's error), for 16-bit types by more than theirs.
    // The mean divides that error by the length.
    parity(dev, &[DType::F32, DType::F64], |c| Ok(vec![all(c)?.mean_all()?]))?;
    parity(dev, &[DType::F64], |c| {
        Ok(vec![
            all(c)?.sum_all()?,
            rows(c)?.sum_dim(1usize, false)?,
            cols(c)?.sum_dim(0usize, false)?,
        ])
    })
}
test_device!(full_reductions);

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
