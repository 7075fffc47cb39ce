//! Casts between every pair of dtypes, device round trips, and mixed-device errors.

use neurite::{DType, Device, Error, Result, Tensor};

const ALL: [DType; 9] = DType::ALL;

/// Values that exercise rounding, overflow, underflow, NaN and the integer range.
fn specials() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.0,
        -2.5,
        0.1,
        1.0 / 3.0,
        2.5,
        -3.5,
        65504.0,
        65520.0,
        70000.0,
        1e-8,
        6.0e-8,
        3.0e38,
        1e300,
        -1e300,
        1e19,
        -1e19,
        16_777_217.0,
        9_007_199_254_740_993.0,
        1.000_488_281_25, // ties in f16 (1 + 2^-11, 1 + 3 * 2^-11): to even
        1.001_464_843_75,
        1.003_906_25, // ties in bf16 (1 + 2^-8, 1 + 3 * 2^-8): to even
        1.011_718_75,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]
}

fn casts(dev: &Device) -> Result<()> {
    let cpu = Device::cpu();
    for src in ALL {
        let base = Tensor::from_vec(specials(), specials().len(), &cpu)?.to_dtype(src)?;
        let on_dev = base.to_device(dev)?;
        for dst in ALL {
            let got = on_dev.to_dtype(dst)?;
            assert_eq!(got.device(), *dev);
            let want = base.to_dtype(dst)?;
            // Bit-exact: casts round once, to nearest even, on both backends.
            let (g, w): (Vec<f64>, Vec<f64>) = (got.to_vec()?, want.to_vec()?);
            for (i, (a, b)) in g.iter().zip(&w).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{src} -> {dst} of {}: got {a}, expected {b}",
                    specials()[i]
                );
            }
        }
    }
    // Known answers (so the CPU variant checks something too).
    let x = Tensor::from_vec(vec![f64::NAN, 1e19, -2.7, 70000.0], 4, &cpu)?.to_device(dev)?;
    assert_eq!(x.to_dtype(DType::I64)?.to_vec::<i64>()?, vec![0, i64::MAX, -2, 70000]);
    assert_eq!(x.to_dtype(DType::F16)?.to_vec::<f64>()?[3], f64::INFINITY);
    Ok(())
}
test_device!(casts);

fn device_round_trip(dev: &Device) -> Result<()> {
    let cpu = Device::cpu();
    for dt in ALL {
        let t = Tensor::from_vec(specials(), (3, 9), &cpu)?.to_dtype(dt)?;
        let back = t.to_device(dev)?.to_device(&cpu)?;
        assert_eq!(back.device(), cpu);
        let (a, b): (Vec<f64>, Vec<f64>) = (back.to_vec()?, t.to_vec()?);
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{dt} changed on the way"
        );
    }
    // Empty tensors travel too.
    let e = Tensor::zeros((0, 3), DType::F32, dev)?;
    assert_eq!(e.to_device(&cpu)?.dims(), &[0, 3]);
    Ok(())
}
test_device!(device_round_trip);

fn mixed_devices_are_an_error(dev: &Device) -> Result<()> {
    if dev.is_cpu() {
        return Ok(()); // needs two devices
    }
    let a = Tensor::ones(3, DType::F32, dev)?;
    let b = Tensor::ones(3, DType::F32, &Device::cpu())?;
    assert!(matches!(a.add(&b), Err(Error::DeviceMismatch { .. })));
    assert!(matches!(
        b.matmul(&a.reshape((3, 1))?),
        Err(Error::DeviceMismatch { .. })
    ));
    // Gradients flow back across a device move.
    let w = Tensor::from_vec(vec![1f32, 2., 3.], 3, &Device::cpu())?.requires_grad();
    let g = w.to_device(dev)?.sqr()?.sum_all()?.backward()?;
    assert_eq!(g.get(&w).unwrap().to_vec::<f32>()?, vec![2., 4., 6.]);
    Ok(())
}
test_device!(mixed_devices_are_an_error);

/// Integer and bool tensors on the device: arithmetic, comparisons, selection,
/// masked fills, logic, reductions and i32 indices, with exact known answers.
fn new_dtype_ops(dev: &Device) -> Result<()> {
    let cpu = Device::cpu();
    for dt in [DType::I64, DType::I32, DType::I8, DType::U8] {
        let a = Tensor::from_vec(vec![7i64, 9, 7, 12, 0, 5], (2, 3), &cpu)?
            .to_dtype(dt)?
            .to_device(dev)?;
        let b = Tensor::from_vec(vec![2i64, 2, 3], 3, &cpu)?
            .to_dtype(dt)?
            .to_device(dev)?;
        let v = |t: Tensor| -> Result<Vec<i64>> { t.to_vec::<i64>() };
        assert_eq!(a.add(&b)?.dtype(), dt);
        assert_eq!(v(a.add(&b)?)?, vec![9, 11, 10, 14, 2, 8], "{dt}");
        assert_eq!(v(a.mul(&b)?)?, vec![14, 18, 21, 24, 0, 15], "{dt}");
        assert_eq!(v(a.floor_divide(&b)?)?, vec![3, 4, 2, 6, 0, 1], "{dt}");
        assert_eq!(v(a.remainder(&b)?)?, vec![1, 1, 1, 0, 0, 2], "{dt}");
        assert_eq!(v(a.maximum(&b)?)?, vec![7, 9, 7, 12, 2, 5], "{dt}");
        assert_eq!(v(a.clamp(1.0, 8.0)?)?, vec![7, 8, 7, 8, 1, 5], "{dt}");
        assert_eq!(
            a.div(&b)?.to_vec::<f32>()?,
            vec![3.5, 4.5, 7.0 / 3.0, 6.0, 0.0, 5.0 / 3.0]
        );
        assert_eq!(v(a.sum_dim(1usize, false)?)?, vec![23, 17], "{dt}");
        assert_eq!(a.sum_all()?.dtype(), DType::I64);
        assert_eq!(v(a.max_dim(0usize, false)?)?, vec![12, 9, 7], "{dt}");
        assert_eq!(v(a.argmin(1usize, false)?)?, vec![0, 1], "{dt}");
        let zero = Tensor::zeros(3, dt, dev)?;
        assert!(a.floor_divide(&zero).is_err(), "{dt}: division by zero");
        let m = a.gt(&b.mul(&b)?)?;
        assert_eq!(m.dtype(), DType::Bool);
        assert_eq!(m.to_vec::<bool>()?, vec![true, true, false, true, false, false], "{dt}");
        assert_eq!(v(a.masked_fill(&m, 1.0)?)?, vec![1, 1, 7, 1, 0, 5], "{dt}");
    }
    // Wrapping as PyTorch.
    let u = Tensor::from_vec(vec![250u8, 3], 2, &cpu)?.to_device(dev)?;
    let w = Tensor::from_vec(vec![10u8, 5], 2, &cpu)?.to_device(dev)?;
    assert_eq!(u.add(&w)?.to_vec::<u8>()?, vec![4, 8]);
    assert_eq!(u.sub(&w)?.to_vec::<u8>()?, vec![240, 254]);
    let i = Tensor::from_vec(vec![-7i8, 7, -128], 3, &cpu)?.to_device(dev)?;
    let d = Tensor::from_vec(vec![2i8, -2, -1], 3, &cpu)?.to_device(dev)?;
    assert_eq!(i.floor_divide(&d)?.to_vec::<i8>()?, vec![-4, -4, -128]);
    assert_eq!(i.remainder(&d)?.to_vec::<i8>()?, vec![1, -1, 0]);
    assert_eq!(i.neg()?.to_vec::<i8>()?, vec![7, -7, -128]);
    // Bool logic and reductions.
    let p = Tensor::from_vec(vec![true, true, false, false], (2, 2), &cpu)?.to_device(dev)?;
    let q = Tensor::from_vec(vec![true, false, true, false], (2, 2), &cpu)?.to_device(dev)?;
    assert_eq!(p.logical_and(&q)?.to_vec::<bool>()?, vec![true, false, false, false]);
    assert_eq!(p.logical_or(&q)?.to_vec::<bool>()?, vec![true, true, true, false]);
    assert_eq!(p.logical_xor(&q)?.to_vec::<bool>()?, vec![false, true, true, false]);
    assert_eq!(p.all_dim(1usize, false)?.to_vec::<bool>()?, vec![true, false]);
    assert!(p.any()?.item::<bool>()? && !p.all()?.item::<bool>()?);
    assert_eq!(p.sum_all()?.item::<i64>()?, 2);
    assert_eq!(p.argmin(1usize, false)?.to_vec::<i64>()?, vec![0, 0]);
    // Float masked_fill, its gradient, and a float-only op refused by name.
    let x = Tensor::from_vec(vec![1f32, -2., 3., -4.], 4, &cpu)?
        .to_device(dev)?
        .requires_grad();
    let y = x.masked_fill(&x.lt_scalar(0.0)?, 0.5)?;
    assert_eq!(y.to_vec::<f32>()?, vec![1.0, 0.5, 3.0, 0.5]);
    let g = y.sum_all()?.backward()?;
    assert_eq!(g.get(&x).unwrap().to_vec::<f32>()?, vec![1.0, 0.0, 1.0, 0.0]);
    let e = p.exp().unwrap_err().to_string();
    assert!(e.contains("exp") && e.contains("Bool"), "{e}");
    // i32 indices.
    let table = Tensor::from_vec(vec![10f32, 11., 12., 13.], (4, 1), &cpu)?.to_device(dev)?;
    let ids = Tensor::from_vec(vec![3i32, 0, 2], 3, &cpu)?.to_device(dev)?;
    assert_eq!(
        table.index_select(0usize, &ids)?.to_vec::<f32>()?,
        vec![13.0, 10.0, 12.0]
    );
    assert_eq!(
        ids.one_hot(4, DType::F32)?.sum_dim(0usize, false)?.to_vec::<f32>()?,
        vec![1., 0., 1., 1.]
    );
    Ok(())
}
test_device!(new_dtype_ops);
