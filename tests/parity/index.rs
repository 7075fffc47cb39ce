//! Index-driven ops: index_select, gather, scatter_add, one_hot, and the adjoints
//! reached through backward (index_add, scatter_add with atomics on the GPU).

use crate::common::{FLOATS, parity};
use neurite::{DType, Device, Result, Tensor};

fn index_ops(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[4, 5, 3], 1)?;
        let ids = c.ids(vec![4, 0, 0, 2], &[4])?;
        let gidx = c.ids(vec![0, 4, 1, 1, 3, 2, 4, 4, 0, 1, 2, 3], &[4, 1, 3])?;
        let src = c.rand(&[4, 2, 3], 2)?;
        let sidx = c.ids(
            vec![1, 1, 0, 4, 4, 4, 2, 3, 2, 0, 0, 0, 3, 3, 3, 1, 2, 4, 0, 0, 1, 4, 4, 4],
            &[4, 2, 3],
        )?;
        Ok(vec![
            x.index_select(1usize, &ids)?,
            x.index_select(0usize, &c.ids(vec![3, 1], &[2])?)?,
            x.gather(1usize, &gidx)?,
            src.scatter_add_into(1usize, &sidx, [4usize, 5, 3])?,
            c.ids(vec![2, 0, 1, 2], &[4])?.one_hot(3, c.dtype)?,
        ])
    })
}
test_device!(index_ops);

fn index_gradients(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[6, 4], 3)?.requires_grad();
        let ids = c.ids(vec![5, 0, 5, 5, 2, 0], &[6])?;
        let gidx = c.ids(vec![3, 3, 0, 1, 2, 2, 3, 0, 1, 1, 0, 3], &[6, 2])?;
        let w = c.rand(&[6, 4], 4)?;
        let loss = x
            .index_select(0usize, &ids)?
            .mul(&w)?
            .sum_all()?
            .add(&x.gather(1usize, &gidx)?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(index_gradients);

fn integer_data_moves(dev: &Device) -> Result<()> {
    let data = Tensor::from_vec((0..12i64).map(|v| v * 10 - 30).collect(), (3, 4), &Device::cpu())?.to_device(dev)?;
    let ids = Tensor::from_vec(vec![2i64, 0], 2, &Device::cpu())?.to_device(dev)?;
    assert_eq!(
        data.index_select(0usize, &ids)?.to_vec::<i64>()?,
        vec![50, 60, 70, 80, -30, -20, -10, 0]
    );
    let g = Tensor::from_vec(vec![3i64, 0, 1], (3, 1), &Device::cpu())?.to_device(dev)?;
    assert_eq!(data.gather(1usize, &g)?.to_vec::<i64>()?, vec![0, 10, 60]);
    assert_eq!(data.t()?.contiguous()?.to_vec::<i64>()?[..3], [-30, 10, 50]);
    let cat = Tensor::cat(&[data.clone(), data.narrow(1usize, 1, 2)?], 1usize)?;
    assert_eq!(cat.to_vec::<i64>()?[..6], [-30, -20, -10, 0, -20, -10]);
    Ok(())
}
test_device!(integer_data_moves);

fn index_out_of_range_is_an_error(dev: &Device) -> Result<()> {
    let x = Tensor::ones((3, 2), DType::F32, dev)?;
    let bad = Tensor::from_vec(vec![0i64, 3], 2, &Device::cpu())?.to_device(dev)?;
    // The GPU reports the bad index at the next read (no per-op synchronisation).
    let r = x.index_select(0usize, &bad).and_then(|t| t.to_vec::<f32>().map(|_| t));
    match r {
        Err(neurite::Error::IndexOutOfRange { index, size, .. }) => {
            assert_eq!((index, size), (3, 3));
        }
        other => panic!("expected IndexOutOfRange, got {other:?}"),
    }
    // The error is reported once; the device stays usable.
    assert_eq!(x.sum_all()?.to_scalar::<f32>()?, 6.0);
    Ok(())
}
test_device!(index_out_of_range_is_an_error);
