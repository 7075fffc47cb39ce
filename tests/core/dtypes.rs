//! Half-precision storage, casts and integer tensors.

use half::{bf16, f16};
use neurite::{DType, Device, Tensor};

#[test]
fn half_types_compute_in_f32_and_round() {
    let dev = Device::cpu();
    for dtype in [DType::F16, DType::BF16] {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], (2, 2), &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        assert_eq!(a.dtype(), dtype);
        let y = a
            .matmul(&a)
            .unwrap()
            .mul_scalar(0.1)
            .unwrap()
            .add_scalar(0.5)
            .unwrap()
            .exp()
            .unwrap()
            .log()
            .unwrap();
        assert_eq!(y.dtype(), dtype);
        let got = y.to_vec::<f32>().unwrap();
        for (g, w) in got.iter().zip([1.2f32, 1.5, 2.0, 2.7]) {
            assert!((g - w).abs() / w < 1e-2, "{dtype}: {g} vs {w}");
        }
        let s = a
            .softmax(1usize)
            .unwrap()
            .sum_dim(1usize, false)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-2));
    }
    let h = Tensor::from_vec(vec![f16::from_f32(1.5), f16::from_f32(-2.0)], 2, &dev).unwrap();
    assert_eq!(h.dtype(), DType::F16);
    let b = Tensor::from_vec(vec![bf16::from_f32(3.0)], 1, &dev).unwrap();
    assert_eq!(b.to_vec::<f32>().unwrap(), vec![3.0]);
}

#[test]
fn gradients_flow_through_half_precision() {
    let w = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], 3, &Device::cpu())
        .unwrap()
        .requires_grad();
    let loss = w.to_dtype(DType::BF16).unwrap().sqr().unwrap().sum_all().unwrap();
    let g = loss.backward().unwrap();
    let gw = g.get(&w).unwrap();
    assert_eq!(gw.dtype(), DType::F32);
    assert_eq!(gw.to_vec::<f32>().unwrap(), vec![1.0, -2.0, 4.0]);
}

#[test]
fn casts_round_trip_and_truncate_to_integers() {
    let dev = Device::cpu();
    let x = Tensor::from_vec(vec![1.7f64, -2.2, 3.0], 3, &dev).unwrap();
    assert_eq!(x.to_dtype(DType::I64).unwrap().to_vec::<i64>().unwrap(), vec![1, -2, 3]);
    assert_eq!(
        x.to_dtype(DType::F32)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        vec![1.7, -2.2, 3.0]
    );
    let labels = Tensor::from_vec(vec![3i64, 1, 3], 3, &dev).unwrap();
    assert_eq!(labels.eq_scalar(3.0).unwrap().to_vec::<i64>().unwrap(), vec![1, 0, 1]);
    assert_eq!(labels.eq(&labels).unwrap().to_vec::<i64>().unwrap(), vec![1, 1, 1]);
    assert_eq!(
        labels.to_device(&Device::cpu()).unwrap().to_vec::<i64>().unwrap(),
        vec![3, 1, 3]
    );
    assert_eq!(DType::BF16.size_in_bytes(), 2);
}

fn cpu() -> Device {
    Device::cpu()
}

#[test]
fn new_dtypes_round_trip_through_from_vec_and_to_vec() {
    let dev = cpu();
    let b = Tensor::from_vec(vec![true, false, true], 3, &dev).unwrap();
    assert_eq!(b.dtype(), DType::Bool);
    assert_eq!(b.to_vec::<bool>().unwrap(), vec![true, false, true]);
    assert_eq!(b.to_vec::<f32>().unwrap(), vec![1.0, 0.0, 1.0]);
    let u = Tensor::from_vec(vec![0u8, 200, 255], 3, &dev).unwrap();
    assert_eq!((u.dtype(), u.to_vec::<u8>().unwrap()), (DType::U8, vec![0, 200, 255]));
    let i = Tensor::from_vec(vec![-128i8, 0, 127], 3, &dev).unwrap();
    assert_eq!((i.dtype(), i.to_vec::<i64>().unwrap()), (DType::I8, vec![-128, 0, 127]));
    let w = Tensor::from_vec(vec![i32::MIN, 7, i32::MAX], 3, &dev).unwrap();
    assert_eq!(
        (w.dtype(), w.to_vec::<i32>().unwrap()),
        (DType::I32, vec![i32::MIN, 7, i32::MAX])
    );
    for d in DType::ALL {
        let z = Tensor::zeros((2, 3), d, &dev).unwrap();
        assert_eq!(z.dtype(), d);
        assert_eq!(z.to_vec::<f64>().unwrap(), vec![0.0; 6], "{d}");
        let o = Tensor::ones(4, d, &dev).unwrap();
        assert_eq!(o.to_vec::<f64>().unwrap(), vec![1.0; 4], "{d}");
    }
    assert_eq!(DType::Bool.size_in_bytes(), 1);
    assert_eq!(DType::I32.size_in_bytes(), 4);
    assert!(DType::I8.is_int() && !DType::Bool.is_int() && !DType::Bool.is_float());
}

#[test]
fn casts_follow_pytorch_rules() {
    let dev = cpu();
    let x = Tensor::from_vec(vec![2.7f32, -2.7, 0.0, -0.0, 0.4, f32::NAN, 300.5, -1.0], 8, &dev).unwrap();
    // Float to integer truncates toward zero; NaN gives 0 (PyTorch leaves it undefined).
    assert_eq!(
        x.to_dtype(DType::I32).unwrap().to_vec::<i32>().unwrap(),
        vec![2, -2, 0, 0, 0, 0, 300, -1]
    );
    // Into u8 and i8 the truncated value wraps, as PyTorch's CPU casts do.
    assert_eq!(
        x.to_dtype(DType::U8).unwrap().to_vec::<u8>().unwrap(),
        vec![2, 254, 0, 0, 0, 0, 44, 255]
    );
    assert_eq!(
        x.to_dtype(DType::I8).unwrap().to_vec::<i8>().unwrap(),
        vec![2, -2, 0, 0, 0, 0, 44, -1]
    );
    // Nonzero is true, NaN included; -0.0 is false.
    assert_eq!(
        x.to_dtype(DType::Bool).unwrap().to_vec::<bool>().unwrap(),
        vec![true, true, false, false, true, true, true, true]
    );
    // Integers wrap into narrower integers and stay exact in i64.
    let big = Tensor::from_vec(vec![300i64, -129, (1 << 53) + 1, -1], 4, &dev).unwrap();
    assert_eq!(
        big.to_dtype(DType::U8).unwrap().to_vec::<u8>().unwrap(),
        vec![44, 127, 1, 255]
    );
    assert_eq!(
        big.to_dtype(DType::I8).unwrap().to_vec::<i8>().unwrap(),
        vec![44, 127, 1, -1]
    );
    assert_eq!(
        big.to_dtype(DType::I32)
            .unwrap()
            .to_dtype(DType::I64)
            .unwrap()
            .to_vec::<i64>()
            .unwrap(),
        vec![300, -129, 1, -1]
    );
    // Bool to numbers is 1 / 0.
    let b = Tensor::from_vec(vec![true, false], 2, &dev).unwrap();
    for d in DType::ALL {
        assert_eq!(b.to_dtype(d).unwrap().to_vec::<f64>().unwrap(), vec![1.0, 0.0], "{d}");
    }
    // Every pair casts, and a cast to the same dtype is the identity.
    let src = Tensor::from_vec(vec![3.0f64, 0.0, 1.0], 3, &dev).unwrap();
    for from in DType::ALL {
        let a = src.to_dtype(from).unwrap();
        for to in DType::ALL {
            let want = if to == DType::Bool || from == DType::Bool {
                vec![1.0, 0.0, 1.0]
            } else {
                vec![3.0, 0.0, 1.0]
            };
            assert_eq!(a.to_dtype(to).unwrap().to_vec::<f64>().unwrap(), want, "{from} -> {to}");
        }
    }
}

#[test]
fn comparisons_return_bool() {
    let dev = cpu();
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, f32::NAN], 4, &dev).unwrap();
    let b = Tensor::from_vec(vec![3.0f32, 2.0, 1.0, f32::NAN], 4, &dev).unwrap();
    let cases: [(Tensor, [bool; 4]); 8] = [
        (a.eq(&b).unwrap(), [false, true, false, false]),
        (a.ne(&b).unwrap(), [true, false, true, true]),
        (a.lt(&b).unwrap(), [true, false, false, false]),
        (a.le(&b).unwrap(), [true, true, false, false]),
        (a.gt(&b).unwrap(), [false, false, true, false]),
        (a.ge(&b).unwrap(), [false, true, true, false]),
        (a.gt_scalar(1.5).unwrap(), [false, true, true, false]),
        (a.ne_scalar(2.0).unwrap(), [true, false, true, true]),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(got.dtype(), DType::Bool, "case {i}");
        assert_eq!(got.to_vec::<bool>().unwrap(), want.to_vec(), "case {i}");
    }
    // Integers compare exactly, even beyond f64's integers.
    let big = Tensor::from_vec(vec![(1i64 << 53) + 1, 5], 2, &dev).unwrap();
    let other = Tensor::from_vec(vec![1i64 << 53, 5], 2, &dev).unwrap();
    assert_eq!(big.gt(&other).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    for d in [DType::U8, DType::I8, DType::I32, DType::Bool] {
        let x = Tensor::from_vec(vec![0.0f32, 1.0, 1.0], 3, &dev)
            .unwrap()
            .to_dtype(d)
            .unwrap();
        let y = Tensor::from_vec(vec![1.0f32, 1.0, 0.0], 3, &dev)
            .unwrap()
            .to_dtype(d)
            .unwrap();
        assert_eq!(
            x.lt(&y).unwrap().to_vec::<bool>().unwrap(),
            vec![true, false, false],
            "{d}"
        );
        assert_eq!(
            x.eq_scalar(1.0).unwrap().to_vec::<bool>().unwrap(),
            vec![false, true, true],
            "{d}"
        );
    }
    // A comparison starts no graph, and the old float mask is one cast away.
    let w = a.requires_grad();
    let m = w.gt_scalar(1.5).unwrap();
    assert!(!m.tracks_grad());
    assert_eq!(
        m.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap(),
        vec![0.0, 1.0, 1.0, 0.0]
    );
}

#[test]
fn where_cond_takes_bool_masks_and_shape_ops_work_on_new_dtypes() {
    let dev = cpu();
    let m = Tensor::from_vec(vec![true, false, false, true], (2, 2), &dev).unwrap();
    let a = Tensor::from_vec(vec![1i32, 2, 3, 4], (2, 2), &dev).unwrap();
    let b = Tensor::from_vec(vec![-1i32], 1, &dev).unwrap();
    assert_eq!(
        m.where_cond(&a, &b).unwrap().to_vec::<i32>().unwrap(),
        vec![1, -1, -1, 4]
    );
    let bools = m.where_cond(&m, &m.logical_not().unwrap()).unwrap();
    assert_eq!(bools.to_vec::<bool>().unwrap(), vec![true, true, true, true]);
    // A float mask still selects (nonzero is true).
    let fm = m.to_dtype(DType::F32).unwrap();
    assert_eq!(
        fm.where_cond(&a, &b).unwrap().to_vec::<i32>().unwrap(),
        vec![1, -1, -1, 4]
    );
    // Transpose, narrow, cat, index_select and gather move every dtype.
    for d in DType::ALL {
        let x = Tensor::from_vec(vec![0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0], (2, 3), &dev)
            .unwrap()
            .to_dtype(d)
            .unwrap();
        let want = |v: Vec<f64>| -> Vec<f64> {
            v.into_iter()
                .map(|e| if d == DType::Bool { (e != 0.0) as u8 as f64 } else { e })
                .collect()
        };
        let t = x.t().unwrap().contiguous().unwrap();
        assert_eq!(t.dtype(), d);
        assert_eq!(t.to_vec::<f64>().unwrap(), want(vec![0., 3., 1., 4., 2., 5.]), "{d}");
        let n = x.narrow(1usize, 1, 2).unwrap().contiguous().unwrap();
        assert_eq!(n.to_vec::<f64>().unwrap(), want(vec![1., 2., 4., 5.]), "{d}");
        let c = Tensor::cat(&[x.clone(), x.clone()], 0usize).unwrap();
        assert_eq!(c.dims(), &[4, 3]);
        for ids_dtype in [DType::I64, DType::I32] {
            let ids = Tensor::from_vec(vec![2i64, 0], 2, &dev)
                .unwrap()
                .to_dtype(ids_dtype)
                .unwrap();
            let s = x.index_select(1usize, &ids).unwrap();
            assert_eq!(
                s.to_vec::<f64>().unwrap(),
                want(vec![2., 0., 5., 3.]),
                "{d} {ids_dtype}"
            );
            let g = Tensor::from_vec(vec![1i64, 0, 0, 2], (2, 2), &dev)
                .unwrap()
                .to_dtype(ids_dtype)
                .unwrap();
            let gathered = x.gather(1usize, &g).unwrap();
            assert_eq!(
                gathered.to_vec::<f64>().unwrap(),
                want(vec![1., 0., 3., 5.]),
                "{d} {ids_dtype}"
            );
        }
    }
}

#[test]
fn masked_fill_values_and_gradient() {
    let dev = cpu();
    let x = Tensor::from_vec(vec![1.0f32, -2.0, 3.0, -4.0, 5.0, -6.0], (2, 3), &dev).unwrap();
    let row_mask = Tensor::from_vec(vec![true, false, true], 3, &dev).unwrap();
    let y = x.masked_fill(&row_mask, 9.0).unwrap();
    assert_eq!(y.dims(), &[2, 3]);
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![9.0, -2.0, 9.0, 9.0, 5.0, 9.0]);
    let v = Tensor::scalar(-0.5, DType::F32, &dev).unwrap();
    let y = x.masked_fill_tensor(&x.lt_scalar(0.0).unwrap(), &v).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0, -0.5, 3.0, -0.5, 5.0, -0.5]);
    // Integers too.
    let i = Tensor::from_vec(vec![1i64, 2, 3], 3, &dev).unwrap();
    assert_eq!(
        i.masked_fill(&i.ge_scalar(2.0).unwrap(), -7.0)
            .unwrap()
            .to_vec::<i64>()
            .unwrap(),
        vec![1, -7, -7]
    );
    // A float mask, or one that does not broadcast to self, is an error.
    assert!(x.masked_fill(&row_mask.to_dtype(DType::F32).unwrap(), 0.0).is_err());
    let wide = Tensor::from_vec(vec![true; 4], 4, &dev).unwrap();
    assert!(x.masked_fill(&wide, 0.0).is_err());
    // Gradient: passes where the mask is false, zero where it is true.
    let m = crate::gradcheck::randt(&[2, 3], 5).gt_scalar(0.0).unwrap();
    let w = crate::gradcheck::randt(&[2, 3], 6);
    crate::gradcheck::check(
        &[crate::gradcheck::randt(&[2, 3], 7)],
        |t| t[0].masked_fill(&m, 2.5)?.sqr()?.mul(&w)?.sum_all(),
        1e-6,
    );
    let xg = x.to_dtype(DType::F64).unwrap().requires_grad();
    let g = xg
        .masked_fill(&row_mask, 1.0)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(
        g.get(&xg).unwrap().to_vec::<f64>().unwrap(),
        vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    );
    // The 0-d value gets the gradient summed over the filled positions.
    let m2 = m.clone();
    crate::gradcheck::check(
        &[crate::gradcheck::randt(&[2, 3], 8), crate::gradcheck::randt(&[], 9)],
        move |t| t[0].masked_fill_tensor(&m2, &t[1])?.sqr()?.sum_all(),
        1e-6,
    );
}

#[test]
fn where_cond_with_bool_mask_has_gradients() {
    let cond = crate::gradcheck::randt(&[3, 4], 31).gt_scalar(0.0).unwrap();
    assert_eq!(cond.dtype(), DType::Bool);
    crate::gradcheck::check(
        &[crate::gradcheck::randt(&[3, 4], 32), crate::gradcheck::randt(&[4], 33)],
        move |t| cond.where_cond(&t[0], &t[1])?.sqr()?.sum_all(),
        1e-6,
    );
}

#[test]
fn logical_ops_and_any_all() {
    let dev = cpu();
    let a = Tensor::from_vec(vec![true, true, false, false], (2, 2), &dev).unwrap();
    let b = Tensor::from_vec(vec![true, false, true, false], (2, 2), &dev).unwrap();
    let v = |t: Tensor| t.to_vec::<bool>().unwrap();
    assert_eq!(v(a.logical_and(&b).unwrap()), vec![true, false, false, false]);
    assert_eq!(v(a.logical_or(&b).unwrap()), vec![true, true, true, false]);
    assert_eq!(v(a.logical_xor(&b).unwrap()), vec![false, true, true, false]);
    assert_eq!(v(a.logical_not().unwrap()), vec![false, false, true, true]);
    assert!(a.any().unwrap().item::<bool>().unwrap());
    assert!(!a.all().unwrap().item::<bool>().unwrap());
    assert_eq!(v(a.all_dim(1usize, false).unwrap()), vec![true, false]);
    assert_eq!(v(b.any_dim(0usize, false).unwrap()), vec![true, false]);
    assert_eq!(a.any_dim(1usize, true).unwrap().dims(), &[2, 1]);
    // Non-bool inputs count nonzero as true; empty tensors: any false, all true.
    let f = Tensor::from_vec(vec![0.0f32, f32::NAN], 2, &dev).unwrap();
    assert_eq!(v(f.logical_and(&f).unwrap()), vec![false, true]);
    let e = Tensor::zeros(0, DType::Bool, &dev).unwrap();
    assert!(!e.any().unwrap().item::<bool>().unwrap());
    assert!(e.all().unwrap().item::<bool>().unwrap());
}

#[test]
fn integer_arithmetic_known_answers() {
    let dev = cpu();
    let a = Tensor::from_vec(vec![7i64, -7, 7, -7, 0, 5], 6, &dev).unwrap();
    let b = Tensor::from_vec(vec![2i64, 2, -2, -2, 3, -3], 6, &dev).unwrap();
    // PyTorch: floor division rounds toward -inf; the remainder has the divisor's sign.
    assert_eq!(
        a.floor_divide(&b).unwrap().to_vec::<i64>().unwrap(),
        vec![3, -4, -4, 3, 0, -2]
    );
    assert_eq!(
        a.remainder(&b).unwrap().to_vec::<i64>().unwrap(),
        vec![1, 1, -1, -1, 0, -1]
    );
    // True division gives floats.
    let q = a.div(&b).unwrap();
    assert_eq!(q.dtype(), DType::F32);
    assert_eq!(q.to_vec::<f32>().unwrap(), vec![3.5, -3.5, -3.5, 3.5, 0.0, 5.0 / -3.0]);
    assert_eq!(a.add(&b).unwrap().to_vec::<i64>().unwrap(), vec![9, -5, 5, -9, 3, 2]);
    assert_eq!(a.sub(&b).unwrap().to_vec::<i64>().unwrap(), vec![5, -9, 9, -5, -3, 8]);
    assert_eq!(
        a.mul(&b).unwrap().to_vec::<i64>().unwrap(),
        vec![14, -14, -14, 14, 0, -15]
    );
    assert_eq!(a.maximum(&b).unwrap().to_vec::<i64>().unwrap(), vec![7, 2, 7, -2, 3, 5]);
    assert_eq!(
        a.minimum(&b).unwrap().to_vec::<i64>().unwrap(),
        vec![2, -7, -2, -7, 0, -3]
    );
    assert_eq!(a.neg().unwrap().to_vec::<i64>().unwrap(), vec![-7, 7, -7, 7, 0, -5]);
    assert_eq!(a.abs().unwrap().to_vec::<i64>().unwrap(), vec![7, 7, 7, 7, 0, 5]);
    assert_eq!(
        a.clamp(-3.0, 4.5).unwrap().to_vec::<i64>().unwrap(),
        vec![4, -3, 4, -3, 0, 4]
    );
    // Division by zero is an error, not a panic.
    let z = Tensor::from_vec(vec![1i64, 0, 1, 1, 1, 1], 6, &dev).unwrap();
    let e = a.floor_divide(&z).unwrap_err().to_string();
    assert!(e.contains("floor_divide") && e.contains("division by zero"), "{e}");
    assert!(a.remainder(&z).is_err());
    // Wrapping as PyTorch: u8 250 + 10 = 4, 3 - 5 = 254; i8 100 * 100 = 16, -(-128) = -128.
    let u = Tensor::from_vec(vec![250u8, 3], 2, &dev).unwrap();
    let v = Tensor::from_vec(vec![10u8, 5], 2, &dev).unwrap();
    assert_eq!(u.add(&v).unwrap().to_vec::<u8>().unwrap(), vec![4, 8]);
    assert_eq!(u.sub(&v).unwrap().to_vec::<u8>().unwrap(), vec![240, 254]);
    let i = Tensor::from_vec(vec![100i8, -128], 2, &dev).unwrap();
    assert_eq!(i.mul(&i).unwrap().to_vec::<i8>().unwrap(), vec![16, 0]);
    assert_eq!(i.neg().unwrap().to_vec::<i8>().unwrap(), vec![-100, -128]);
    // i8 floor division and remainder with negative operands, MIN / -1 wrapping.
    let p = Tensor::from_vec(vec![-128i8, 127, -100, 100, -128], 5, &dev).unwrap();
    let d = Tensor::from_vec(vec![3i8, -3, 7, -7, -1], 5, &dev).unwrap();
    assert_eq!(
        p.floor_divide(&d).unwrap().to_vec::<i8>().unwrap(),
        vec![-43, -43, -15, -15, -128]
    );
    assert_eq!(p.remainder(&d).unwrap().to_vec::<i8>().unwrap(), vec![1, -2, 5, -5, 0]);
    // Float floor_divide / remainder follow the same convention.
    let fa = Tensor::from_vec(vec![7.5f64, -7.5, 7.5, -7.5], 4, &dev).unwrap();
    let fb = Tensor::from_vec(vec![2.0f64, 2.0, -2.0, -2.0], 4, &dev).unwrap();
    assert_eq!(
        fa.floor_divide(&fb).unwrap().to_vec::<f64>().unwrap(),
        vec![3.0, -4.0, -4.0, 3.0]
    );
    assert_eq!(
        fa.remainder(&fb).unwrap().to_vec::<f64>().unwrap(),
        vec![1.5, 0.5, -0.5, -1.5]
    );
}

#[test]
fn integer_reductions() {
    let dev = cpu();
    let x = Tensor::from_vec(vec![100i8, 100, 100, -5, 7, 3], (2, 3), &dev).unwrap();
    // Integer and bool sums are i64 (no i8 wrap), as in PyTorch.
    let s = x.sum_all().unwrap();
    assert_eq!((s.dtype(), s.item::<i64>().unwrap()), (DType::I64, 305));
    assert_eq!(x.sum_dim(1usize, false).unwrap().to_vec::<i64>().unwrap(), vec![300, 5]);
    let b = Tensor::from_vec(vec![true, false, true], 3, &dev).unwrap();
    assert_eq!(b.sum_all().unwrap().item::<i64>().unwrap(), 2);
    assert_eq!(x.max_dim(1usize, false).unwrap().to_vec::<i8>().unwrap(), vec![100, 7]);
    assert_eq!(x.min_all().unwrap().item::<i64>().unwrap(), -5);
    assert_eq!(x.argmax(1usize, false).unwrap().to_vec::<i64>().unwrap(), vec![0, 1]);
    assert_eq!(x.argmin(0usize, false).unwrap().to_vec::<i64>().unwrap(), vec![1, 1, 1]);
    assert_eq!(b.argmin(0usize, false).unwrap().to_vec::<i64>().unwrap(), vec![1]);
}

#[test]
fn float_only_ops_on_integers_name_the_op_and_dtype() {
    let dev = cpu();
    let x = Tensor::from_vec(vec![1i32, 2, 3, 4], (2, 2), &dev).unwrap();
    let b = x.gt_scalar(2.0).unwrap();
    for (name, r) in [
        ("exp", x.exp()),
        ("log", x.log()),
        ("matmul", x.matmul(&x)),
        ("softmax", x.softmax(1usize)),
        ("mean", x.mean_all()),
        ("exp", b.exp()),
        ("sigmoid", b.sigmoid()),
    ] {
        let e = r.unwrap_err().to_string();
        assert!(e.contains(name), "{name}: {e}");
        assert!(e.contains("I32") || e.contains("Bool"), "{name}: {e}");
    }
    // Autograd never flows into integers: a cast to an integer cuts the graph.
    let w = Tensor::from_vec(vec![1.5f32, 2.5], 2, &dev).unwrap().requires_grad();
    let i = w.to_dtype(DType::I64).unwrap();
    assert!(!i.tracks_grad());
}

#[test]
fn new_dtypes_display_like_pytorch() {
    let dev = cpu();
    let b = Tensor::from_vec(vec![true, false], 2, &dev).unwrap();
    assert_eq!(b.to_string(), "tensor([ True, False])");
    let i = Tensor::from_vec(vec![1i32, -20], 2, &dev).unwrap();
    assert_eq!(i.to_string(), "tensor([  1, -20], dtype=torch.int32)");
    let u = Tensor::from_vec(vec![7u8], 1, &dev).unwrap();
    assert_eq!(u.to_string(), "tensor([7], dtype=torch.uint8)");
}
