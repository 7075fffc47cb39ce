//! Padding, flip/roll/repeat/tile, tril/triu, adaptive pooling and
//! interpolation: composites of index_select, cat, matmul and where_cond,
//! compared across devices, forward and backward.

use crate::common::{FLOATS, parity};
use neurite::{DType, Device, Result, Tensor};

fn pad_ops(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 4, 5], 1)?;
        Ok(vec![
            x.pad(&[1, 2, -1, 3], "constant", 0.5)?,
            x.pad(&[3, 1, 2, 3], "reflect", 0.0)?,
            x.pad(&[3, 5, 1, 6], "replicate", 0.0)?,
            x.pad(&[5, 2, 4, -1], "circular", 0.0)?,
            x.flip(&[0usize, 3])?,
            x.roll(&[1, -7], &[1usize, 3])?,
            x.repeat(&[1, 2, 1, 2, 3])?,
            x.tile(&[2, 1])?,
            x.tril(1)?,
            x.triu(-1)?,
        ])
    })
}
test_device!(pad_ops);

fn pooling_and_interpolation(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 7, 5], 2)?;
        let s = c.rand(&[2, 3, 6], 3)?;
        let (m, idx) = x.adaptive_max_pool2d_with_indices((3, 4))?;
        Ok(vec![
            x.adaptive_avg_pool2d((3, 2))?,
            x.adaptive_avg_pool2d((Some(9), None))?,
            m,
            idx,
            s.adaptive_max_pool1d(4)?,
            s.adaptive_avg_pool1d(5)?,
            x.interpolate(Some(&[9, 4]), None, "nearest", None)?,
            x.interpolate(None, Some(&[1.7]), "nearest", None)?,
            x.interpolate(Some(&[9, 8]), None, "bilinear", Some(false))?,
            x.interpolate(None, Some(&[0.6, 1.5]), "bilinear", Some(true))?,
            s.interpolate(Some(&[11]), None, "linear", None)?,
        ])
    })
}
test_device!(pooling_and_interpolation);

fn resample_gradients(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[2, 2, 5, 6], 4)?.requires_grad();
        let w = |shape: &[usize], seed| c.rand(shape, seed);
        let parts: Vec<Tensor> = vec![
            x.pad(&[2, 1, 3, -1], "reflect", 0.0)?,
            x.pad(&[2, 7, 1, 1], "replicate", 0.0)?,
            x.pad(&[-1, 3, 2, 0], "constant", 0.0)?,
            x.pad(&[4, 6, 5, 2], "circular", 0.0)?,
            x.adaptive_avg_pool2d((3, 4))?,
            x.adaptive_max_pool2d((4, 4))?,
            x.interpolate(Some(&[7, 9]), None, "bilinear", Some(false))?,
            x.interpolate(None, Some(&[1.5, 2.5]), "nearest", None)?,
            x.repeat(&[2, 1, 1, 2])?
                .tril(0)?
                .flip(&[-1i64])?
                .roll(&[2], &[2usize])?,
        ];
        let mut loss = Tensor::zeros((), c.dtype, &c.dev)?;
        for (i, p) in parts.iter().enumerate() {
            loss = loss.add(&p.mul(&w(p.dims(), 10 + i as u64)?)?.sum_all()?)?;
        }
        let g = loss.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(resample_gradients);
