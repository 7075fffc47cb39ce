//! Reductions over several dims at once, and matrix products with 1-D operands.

use crate::common::{FLOATS, parity};
use neurite::{Device, Result};

fn multi_dim_extrema(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[3, 4, 5], 31)?.requires_grad();
        let mx = x.max_dims(&[0i64, 2], false)?;
        let mn = x.min_dims(&[-1i64, 1], true)?;
        let g = mx.sum_all()?.add(&mn.sum_all()?)?.backward()?;
        // Coarse values tie, so the gradient is shared among them.
        let t = c
            .tensor((0..24).map(|i| ((i * 7) % 3) as f64).collect(), &[2, 3, 4])?
            .requires_grad();
        let tm = t.max_dims(&[1i64, 2], false)?;
        let gt = tm.sum_all()?.backward()?;
        Ok(vec![
            mx,
            mn,
            g.get(&x).unwrap().clone(),
            tm,
            gt.get(&t).unwrap().clone(),
            x.sum_dims(&[0i64, 2], true)?,
            x.mean_dims(&[-1i64, 0], false)?,
        ])
    })
}
test_device!(multi_dim_extrema);

fn matmul_vectors(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let v = c.rand(&[4], 32)?.requires_grad();
        let w = c.rand(&[4], 33)?.requires_grad();
        let m = c.rand(&[4, 3], 34)?.requires_grad();
        let bm = c.rand(&[2, 3, 4], 35)?.requires_grad();
        let dot = v.matmul(&w)?;
        let vm = v.matmul(&m)?;
        let mv = bm.matmul(&v)?;
        let g = dot.add(&vm.sum_all()?)?.add(&mv.sum_all()?)?.backward()?;
        Ok(vec![
            dot,
            vm,
            mv,
            g.get(&v).unwrap().clone(),
            g.get(&w).unwrap().clone(),
            g.get(&m).unwrap().clone(),
            g.get(&bm).unwrap().clone(),
        ])
    })
}
test_device!(matmul_vectors);
