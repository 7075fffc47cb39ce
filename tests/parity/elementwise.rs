//! Element-wise maps, broadcasting binary ops, comparisons and where_cond.

use crate::common::{FLOATS, parity};
use neurite::{DType, Device, Result, Tensor};

fn unary_ops(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.uniform(&[3, 37], -3.0, 3.0, 1)?;
        let pos = c.uniform(&[3, 37], 0.1, 4.0, 2)?;
        Ok(vec![
            x.neg()?,
            x.exp()?,
            pos.log()?,
            pos.sqrt()?,
            x.abs()?,
            x.sign()?,
            pos.recip()?,
            x.sqr()?,
            x.relu()?,
            x.sigmoid()?,
            x.tanh()?,
            x.gelu()?,
            x.affine(0.5, -1.25)?,
            pos.powf(1.7)?,
            x.leaky_relu(0.1)?,
            x.clamp(-1.0, 0.5)?,
            x.gt_scalar(0.25)?,
            x.le_scalar(-1.0)?,
            x.eq_scalar(0.0)?,
        ])
    })
}
test_device!(unary_ops);

fn gelu_gradient(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.uniform(&[50], -4.0, 4.0, 3)?.requires_grad();
        let g = x.gelu()?.sum_all()?.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(gelu_gradient);

fn broadcast_binary(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let a = c.rand(&[4, 1, 3], 4)?;
        let b = c.rand(&[1, 5, 3], 5)?;
        let row = c.rand(&[3], 6)?;
        let big = c.rand(&[2, 3, 4, 5], 7)?;
        let col = c.rand(&[3, 1, 1], 8)?;
        let den = c.uniform(&[1, 5, 3], 0.5, 2.0, 9)?;
        let s = c.tensor(vec![0.75], &[])?;
        Ok(vec![
            a.add(&b)?,
            a.sub(&row)?,
            a.mul(&b)?,
            a.div(&den)?,
            a.maximum(&b)?,
            a.minimum(&row)?,
            big.mul(&col)?,
            big.sub(&s)?,
            s.sub(&big)?,
            big.permute(&[3usize, 1, 0, 2])?.add(&c.rand(&[5, 3, 1, 4], 10)?)?,
            // Alternating broadcast dims cannot merge: rank 8, split into several launches.
            c.rand(&[2, 1, 2, 1, 2, 1, 2, 1], 11)?
                .mul(&c.rand(&[1, 3, 1, 2, 1, 2, 1, 2], 12)?)?,
        ])
    })
}
test_device!(broadcast_binary);

fn comparisons_and_where(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        // Coarse values so that ties occur and survive every dtype's rounding.
        let a = c.tensor((0..24).map(|i| ((i * 7) % 5) as f64 - 2.0).collect(), &[4, 6])?;
        let b = c.tensor((0..6).map(|i| (i % 3) as f64 - 1.0).collect(), &[6])?;
        let mask = a.gt(&b)?;
        Ok(vec![
            a.eq(&b)?,
            a.ne(&b)?,
            a.lt(&b)?,
            a.le(&b)?,
            mask.clone(),
            a.ge(&b)?,
            mask.where_cond(&a, &a.neg()?)?,
        ])
    })
}
test_device!(comparisons_and_where);

fn nan_propagation(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64, DType::F16, DType::BF16], |c| {
        let x = c.tensor(vec![1.0, f64::NAN, -2.0, 3.0, f64::NAN, 0.0], &[2, 3])?;
        let y = c.tensor(vec![0.5, 0.5, f64::NAN, 4.0, -1.0, -0.0], &[2, 3])?;
        Ok(vec![
            x.maximum(&y)?,
            x.minimum(&y)?,
            x.relu()?,
            x.clamp(-1.0, 1.0)?,
            x.max_dim(1usize, false)?,
            x.min_dim(0usize, false)?,
            x.argmax(1usize, false)?,
            x.argmin(0usize, false)?,
            x.sum_dim(1usize, false)?,
            // A NaN mask selects the true branch; -0.0 does not.
            y.where_cond(&x, &x.affine(0.0, 9.0)?)?,
        ])
    })
}
test_device!(nan_propagation);

fn integer_ops(dev: &Device) -> Result<()> {
    // Exact answers: the same on every device.
    let ids = Tensor::from_vec(vec![3i64, -1, 7, 3, 0, 12], (2, 3), &Device::cpu())?.to_device(dev)?;
    let other = Tensor::from_vec(vec![3i64, 5, 7], 3, &Device::cpu())?.to_device(dev)?;
    assert_eq!(ids.eq(&other)?.to_vec::<i64>()?, vec![1, 0, 1, 1, 0, 0]);
    assert_eq!(ids.gt_scalar(2.5)?.to_vec::<i64>()?, vec![1, 0, 1, 1, 0, 1]);
    assert_eq!(ids.argmax(1usize, false)?.to_vec::<i64>()?, vec![2, 2]);
    assert_eq!(ids.argmin(1usize, false)?.to_vec::<i64>()?, vec![1, 1]);
    assert_eq!(ids.argmax(0usize, false)?.to_vec::<i64>()?, vec![0, 1, 1]);
    assert!(ids.exp().is_err(), "float maps on i64 must be refused");
    assert_eq!(ids.add(&ids)?.to_vec::<i64>()?, vec![6, -2, 14, 6, 0, 24]);
    let mask = ids.ge_scalar(3.0)?;
    assert_eq!(mask.dtype(), DType::Bool);
    assert_eq!(
        mask.where_cond(&ids, &ids.lt_scalar(0.0)?.to_dtype(DType::I64)?)?
            .to_vec::<i64>()?,
        vec![3, 1, 7, 3, 0, 12]
    );
    Ok(())
}
test_device!(integer_ops);

fn new_unary_ops(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.uniform(&[3, 37], -4.0, 4.0, 21)?;
        Ok(vec![
            x.erf()?,
            x.sin()?,
            x.cos()?,
            x.silu()?,
            x.gelu_tanh()?,
            x.gelu_approximate("none")?,
            // min > max: everything becomes max, as in PyTorch.
            x.clamp(1.0, -1.0)?,
            x.clamp_min(0.5)?,
            x.clamp_max(-0.5)?,
        ])
    })
}
test_device!(new_unary_ops);

fn new_unary_gradients(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.uniform(&[40], -4.0, 4.0, 22)?.requires_grad();
        let mut out = Vec::new();
        for f in [Tensor::erf, Tensor::sin, Tensor::cos, Tensor::silu, Tensor::gelu_tanh] {
            let g = f(&x)?.sum_all()?.backward()?;
            out.push(g.get(&x).unwrap().clone());
        }
        Ok(out)
    })
}
test_device!(new_unary_gradients);

fn pow_tensor(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let a = c.uniform(&[4, 1, 3], 0.2, 3.0, 23)?.requires_grad();
        let b = c.uniform(&[1, 5, 3], -2.0, 2.0, 24)?.requires_grad();
        let y = a.pow(&b)?;
        let g = y.sum_all()?.backward()?;
        // Negative bases with integral exponents are finite.
        let neg = c.tensor(vec![-2.0, -1.5, 0.0, 0.0, 3.0, -0.5], &[6])?;
        let ints = c.tensor(vec![3.0, 2.0, 0.0, 2.0, -1.0, 4.0], &[6])?;
        Ok(vec![
            y,
            g.get(&a).unwrap().clone(),
            g.get(&b).unwrap().clone(),
            neg.pow(&ints)?,
            neg.pow(2.0)?,
        ])
    })
}
test_device!(pow_tensor);
