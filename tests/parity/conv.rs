//! Convolution (im2col + GEMM), its gradients (col2im), and pooling.

use crate::common::{FLOATS, parity};
use neurite::{DType, Device, Result};

fn conv2d(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 9, 8], 1)?;
        let w = c.rand(&[4, 3, 3, 3], 2)?;
        let b = c.rand(&[4], 3)?;
        let w5 = c.rand(&[2, 3, 5, 2], 4)?;
        Ok(vec![
            x.conv2d(&w, Some(&b), (1, 1), (1, 1))?,
            x.conv2d(&w, None, (2, 1), (0, 2))?,
            x.conv2d(&w5, None, (3, 2), (2, 1))?,
        ])
    })
}
test_device!(conv2d);

fn conv2d_gradients(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[2, 2, 7, 6], 5)?.requires_grad();
        let w = c.rand(&[3, 2, 3, 3], 6)?.requires_grad();
        let b = c.rand(&[3], 7)?.requires_grad();
        let y = x.conv2d(&w, Some(&b), (2, 2), (1, 1))?;
        let g = y.tanh()?.sum_all()?.backward()?;
        Ok(vec![
            g.get(&x).unwrap().clone(),
            g.get(&w).unwrap().clone(),
            g.get(&b).unwrap().clone(),
        ])
    })
}
test_device!(conv2d_gradients);

fn pooling(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 8, 7], 8)?;
        Ok(vec![
            x.max_pool2d((2, 2), (2, 2), (0, 0))?,
            x.max_pool2d((3, 3), (2, 2), (1, 1))?,
            x.avg_pool2d((2, 2), (2, 2), (0, 0))?,
            x.avg_pool2d((3, 2), (1, 2), (1, 1))?,
        ])
    })
}
test_device!(pooling);

fn pooling_gradients(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[1, 2, 6, 6], 9)?.requires_grad();
        let w = c.rand(&[1, 2, 3, 3], 10)?;
        let loss = x
            .max_pool2d((2, 2), (2, 2), (0, 0))?
            .mul(&w)?
            .sum_all()?
            .add(&x.avg_pool2d((3, 3), (3, 3), (0, 0))?.sqr()?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(pooling_gradients);
