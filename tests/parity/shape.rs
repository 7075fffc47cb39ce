//! Data movement: cat, narrow, permute, transpose, broadcast, stack, split.

use crate::common::{FLOATS, parity};
use neurite::{Device, Result, Tensor};

fn shape_ops(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let a = c.rand(&[2, 3, 4], 1)?;
        let b = c.rand(&[2, 5, 4], 2)?;
        let big = c.rand(&[2, 2, 2, 2, 3, 2, 2, 3], 3)?; // rank 8: split into several launches
        Ok(vec![
            Tensor::cat(&[a.clone(), b.clone(), a.clone()], 1usize)?,
            Tensor::cat(&[a.clone(), a.affine(2.0, 0.0)?], 2usize)?,
            Tensor::cat(&[a.clone(), a.clone()], 0usize)?,
            a.narrow(2usize, 1, 2)?.contiguous()?,
            b.narrow(1usize, 2, 3)?.contiguous()?,
            a.permute(&[2usize, 0, 1])?.contiguous()?,
            a.transpose(0usize, 2usize)?.contiguous()?,
            c.rand(&[3, 1], 4)?.broadcast_as([2, 3, 4])?.contiguous()?,
            Tensor::stack(&[a.clone(), a.neg()?], 1)?,
            a.split(2, 1usize)?[1].contiguous()?,
            big.permute(&[7usize, 3, 5, 1, 6, 0, 4, 2])?.contiguous()?,
            big.add(&big.narrow(7usize, 0, 1)?)?,
        ])
    })
}
test_device!(shape_ops);

fn shape_gradients(dev: &Device) -> Result<()> {
    parity(dev, &[neurite::DType::F32, neurite::DType::F64], |c| {
        let a = c.rand(&[2, 3, 4], 5)?.requires_grad();
        let b = c.rand(&[2, 2, 4], 6)?.requires_grad();
        let w = c.rand(&[4, 5, 2], 7)?;
        let y = Tensor::cat(&[a.clone(), b.clone()], 1usize)?
            .permute(&[2usize, 1, 0])?
            .mul(&w)?;
        let loss = y.narrow(1usize, 1, 3)?.sqr()?.sum_all()?;
        let g = loss.backward()?;
        Ok(vec![g.get(&a).unwrap().clone(), g.get(&b).unwrap().clone()])
    })
}
test_device!(shape_gradients);
