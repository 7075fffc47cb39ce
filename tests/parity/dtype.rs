//! Casts between every pair of dtypes, device round trips, and mixed-device errors.

use neurite::{DType, Device, Error, Result, Tensor};

const ALL: [DType; 5] = [DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64];

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
