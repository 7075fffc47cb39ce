//! Sorting (both kernel shapes: rows of at most 32 and longer rows), topk, kthvalue,
//! cumsum and cumprod along every dim, and their gradients.

use crate::common::{FLOATS, parity};
use neurite::{DType, Device, Result, Tensor};

/// A few distinct values, so that ties are everywhere and the sort's stability shows.
fn tied(c: &crate::common::Ctx, shape: &[usize], seed: u64) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v = (0..n as u64)
        .map(|k| ((k * 7 + seed) % 5) as f64 * 0.25 - 0.5)
        .collect();
    c.tensor(v, shape)
}

fn sorts(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = tied(c, &[3, 4, 5], 1)?;
        let long = tied(c, &[2, 700], 2)?;
        let strided = tied(c, &[40, 3], 3)?;
        let mut with_nan: Vec<f64> = (0..300).map(|i| ((i % 13) as f64) / 13.0).collect();
        with_nan[17] = f64::NAN;
        with_nan[250] = f64::NAN;
        let with_nan = c.tensor(with_nan, &[300])?;
        let mut out = Vec::new();
        for d in 0..3usize {
            for descending in [false, true] {
                let (v, i) = x.sort(d, descending)?;
                out.extend([v, i]);
            }
        }
        // Rows of 700 (contiguous) and of 40 (strided by 3): the block kernel.
        for (t, d) in [(&long, 1usize), (&strided, 0)] {
            for descending in [false, true] {
                let (v, i) = t.sort(d, descending)?;
                out.extend([v, i, t.argsort(d, descending)?]);
            }
        }
        let (v, i) = with_nan.sort(0usize, true)?;
        out.extend([v, i, with_nan.argsort(0usize, false)?]);
        let (v, i) = long.topk(10, 1usize, true, true)?;
        out.extend([v, i]);
        let (v, i) = x.topk(2, -2, false, true)?;
        out.extend([v, i]);
        let (v, i) = x.kthvalue(3, -1, true)?;
        out.extend([v, i]);
        Ok(out)
    })
}
test_device!(sorts);

fn scans(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[3, 4, 5], 4)?;
        let p = c.uniform(&[3, 4, 5], 0.5, 1.5, 5)?;
        let long = c.uniform(&[2, 600], 0.0, 1.0, 6)?;
        let mut out = Vec::new();
        for d in 0..3usize {
            out.push(x.cumsum(d)?);
            out.push(p.cumprod(d)?);
        }
        out.push(long.cumsum(-1)?);
        Ok(out)
    })?;
    // f16/bf16 running sums of 600 values reach ~300, where their spacing is
    // 0.25 (f16) or 2 (bf16): compared above only through the f32 accumulation
    // of short rows; the long row is held to f32 and f64.
    parity(dev, &[DType::F32, DType::F64], |c| {
        Ok(vec![c.uniform(&[2, 3000], 0.0, 1.0, 7)?.cumsum(1usize)?])
    })
}
test_device!(scans);

fn gradients(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[3, 40], 8)?.requires_grad();
        let w = c.rand(&[3, 40], 9)?;
        let (v, _) = x.sort(1usize, true)?;
        let (t, _) = x.topk(2, 0usize, true, true)?;
        let loss = v
            .mul(&w)?
            .sum_all()?
            .add(&t.sqr()?.sum_all()?)?
            .add(&x.cumsum(1usize)?.mul(&w)?.sum_all()?)?
            .add(&x.cumprod(0usize)?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![g.get(&x).expect("x has a gradient").clone()])
    })
}
test_device!(gradients);
