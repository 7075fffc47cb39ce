//! Forward values against known answers.

use neurite::{DType, Device, Tensor};

fn t(v: Vec<f32>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape, &Device::cpu()).unwrap()
}

fn v(t: &Tensor) -> Vec<f32> {
    t.to_vec().unwrap()
}

#[test]
fn creation() {
    let dev = Device::cpu();
    assert_eq!(v(&Tensor::zeros((2, 2), DType::F32, &dev).unwrap()), vec![0.; 4]);
    assert_eq!(v(&Tensor::full(2.5, 3, DType::F32, &dev).unwrap()), vec![2.5; 3]);
    assert_eq!(
        v(&Tensor::arange(1.0, 2.0, 0.25, DType::F32, &dev).unwrap()),
        vec![1., 1.25, 1.5, 1.75]
    );
    let a = ndarray::arr2(&[[1f32, 2.], [3., 4.]]);
    let x = Tensor::from_ndarray(&a, &dev).unwrap();
    assert_eq!(x.to_ndarray::<f32>().unwrap(), a.into_dyn());
}

#[test]
fn seeded_random_is_reproducible_and_distributed() {
    let dev = Device::cpu();
    neurite::manual_seed(7);
    let a = Tensor::randn(10_000, DType::F64, &dev).unwrap();
    neurite::manual_seed(7);
    let b = Tensor::randn(10_000, DType::F64, &dev).unwrap();
    assert_eq!(a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap());
    let mean = a.mean_all().unwrap().to_scalar::<f64>().unwrap();
    let var = a.var_dims(&[0usize], false, true).unwrap().to_scalar::<f64>().unwrap();
    assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
    let u = Tensor::rand_uniform(-2.0, 3.0, 10_000, DType::F32, &dev).unwrap();
    let (lo, hi) = (
        u.min_all().unwrap().to_scalar::<f32>().unwrap(),
        u.max_all().unwrap().to_scalar::<f32>().unwrap(),
    );
    assert!(lo >= -2.0 && hi < 3.0 && lo < -1.9 && hi > 2.9);
    let state = neurite::rng_state();
    let c = Tensor::rand(5, DType::F32, &dev).unwrap();
    neurite::set_rng_state(&state);
    assert_eq!(v(&c), v(&Tensor::rand(5, DType::F32, &dev).unwrap()));
}

#[test]
fn elementwise_and_broadcast() {
    let a = t(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
    let b = t(vec![10., 20., 30.], &[3]);
    assert_eq!(v(&a.add(&b).unwrap()), vec![11., 22., 33., 14., 25., 36.]);
    let col = t(vec![1., 2.], &[2, 1]);
    assert_eq!(v(&a.sub(&col).unwrap()), vec![0., 1., 2., 2., 3., 4.]);
    assert_eq!(v(&a.gt_scalar(3.0).unwrap()), vec![0., 0., 0., 1., 1., 1.]);
    assert_eq!(v(&a.clamp(2.0, 5.0).unwrap()), vec![2., 2., 3., 4., 5., 5.]);
    assert_eq!(v(&t(vec![-1., 0., 2.], &[3]).relu().unwrap()), vec![0., 0., 2.]);
    assert_eq!(v(&t(vec![-1., 2.], &[2]).leaky_relu(0.1).unwrap()), vec![-0.1, 2.]);
    let mask = t(vec![1., 0., 1.], &[3]);
    assert_eq!(v(&mask.where_cond(&b, &a).unwrap()), vec![10., 2., 30., 10., 5., 30.]);
    let big = Tensor::ones(100_000, DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        big.add(&big).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap(),
        200_000.0
    );
}

#[test]
fn stable_sigmoid_and_softmax() {
    let x = t(vec![-1000., 0., 1000.], &[3]);
    assert_eq!(v(&x.sigmoid().unwrap()), vec![0., 0.5, 1.]);
    let s = x.softmax(0usize).unwrap();
    assert_eq!(v(&s), vec![0., 0., 1.]);
    let ls = x.log_softmax(0usize).unwrap();
    assert_eq!(v(&ls), vec![-2000., -1000., 0.]);
}

#[test]
fn reductions() {
    let a = t(vec![3., 1., 4., 1., 5., 9., 2., 6.], &[2, 2, 2]);
    assert_eq!(
        v(&a.sum_dims(&[0usize, 2], false).unwrap()),
        vec![3. + 1. + 5. + 9., 4. + 1. + 2. + 6.]
    );
    assert_eq!(a.sum_dims(&[1usize], true).unwrap().dims(), &[2, 1, 2]);
    assert_eq!(v(&a.max_dim(-1i64, false).unwrap()), vec![3., 4., 9., 6.]);
    assert_eq!(
        a.argmax(2usize, false).unwrap().to_vec::<i64>().unwrap(),
        vec![0, 0, 1, 1]
    );
    assert_eq!(
        a.argmin(0usize, false).unwrap().to_vec::<i64>().unwrap(),
        vec![0, 0, 1, 0]
    );
    assert_eq!(v(&a.mean_all().unwrap()), vec![31. / 8.]);
    let var = t(vec![1., 2., 3., 4.], &[4]).var_dims(&[0usize], false, true).unwrap();
    assert!((v(&var)[0] - 5.0 / 3.0).abs() < 1e-6);
    // Wide rows with few outer rows take the column-parallel path.
    let wide = Tensor::ones((64, 4096), DType::F32, &Device::cpu()).unwrap();
    assert_eq!(v(&wide.sum_dim(0usize, false).unwrap()), vec![64.; 4096]);
}

#[test]
fn shape_ops() {
    let a = t((0..24).map(|i| i as f32).collect(), &[2, 3, 4]);
    let p = a.permute(&[2usize, 0, 1]).unwrap();
    assert_eq!(p.dims(), &[4, 2, 3]);
    assert_eq!(v(&p)[..6], [0., 4., 8., 12., 16., 20.]);
    assert_eq!(v(&a.narrow(2usize, 1, 2).unwrap())[..4], [1., 2., 5., 6.]);
    let c = Tensor::cat(
        &[a.narrow(0usize, 0, 1).unwrap(), a.narrow(0usize, 1, 1).unwrap()],
        0usize,
    )
    .unwrap();
    assert_eq!(v(&c), v(&a));
    assert_eq!(Tensor::stack(&[a.clone(), a.clone()], 3).unwrap().dims(), &[2, 3, 4, 2]);
    assert_eq!(a.unsqueeze(-1).unwrap().dims(), &[2, 3, 4, 1]);
    let b = t(vec![1., 2.], &[2, 1]).broadcast_as([3, 2, 2]).unwrap();
    assert_eq!(v(&b), vec![1., 1., 2., 2., 1., 1., 2., 2., 1., 1., 2., 2.]);
}

#[test]
fn index_ops() {
    let dev = Device::cpu();
    let a = t(vec![1., 2., 3., 4., 5., 6.], &[3, 2]);
    let ids = Tensor::from_vec(vec![2i64, 0], 2, &dev).unwrap();
    assert_eq!(v(&a.index_select(0usize, &ids).unwrap()), vec![5., 6., 1., 2.]);
    let g = Tensor::from_vec(vec![1i64, 0, 0, 0, 1, 1], (3, 2), &dev).unwrap();
    assert_eq!(v(&a.gather(1usize, &g).unwrap()), vec![2., 1., 3., 3., 6., 6.]);
    let labels = Tensor::from_vec(vec![1i64, 3], 2, &dev).unwrap();
    assert_eq!(
        v(&labels.one_hot(4, DType::F32).unwrap()),
        vec![0., 1., 0., 0., 0., 0., 0., 1.]
    );
}

#[test]
fn conv_and_pool_known_answers() {
    // A 3x3 box filter over a 4x4 ramp, padding 1.
    let x = t((0..16).map(|i| i as f32).collect(), &[1, 1, 4, 4]);
    let w = Tensor::ones((1, 1, 3, 3), DType::F32, &Device::cpu()).unwrap();
    let y = x.conv2d(&w, None, (1, 1), (1, 1)).unwrap();
    assert_eq!(v(&y)[..4], [10., 18., 24., 18.]);
    assert_eq!(
        v(&x.max_pool2d((2, 2), (2, 2), (0, 0)).unwrap()),
        vec![5., 7., 13., 15.]
    );
    assert_eq!(
        v(&x.avg_pool2d((2, 2), (2, 2), (0, 0)).unwrap()),
        vec![2.5, 4.5, 10.5, 12.5]
    );
}

#[test]
fn matmul_large_uses_threads_and_matches_naive() {
    let (m, k, n) = (67, 130, 45);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
    let c = t(a.clone(), &[m, k]).matmul(&t(b.clone(), &[k, n])).unwrap();
    let got = v(&c);
    for i in 0..m {
        for j in 0..n {
            let want: f32 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            assert_eq!(got[i * n + j], want, "({i}, {j})");
        }
    }
}

#[test]
fn no_grad_scope_records_nothing() {
    let w = Tensor::ones(3, DType::F32, &Device::cpu()).unwrap().requires_grad();
    let y = neurite::no_grad(|| w.mul_scalar(2.0)).unwrap();
    assert!(!y.tracks_grad());
    assert!(neurite::is_grad_enabled());
    assert!(w.mul_scalar(2.0).unwrap().tracks_grad());
    assert!(
        w.detach()
            .mul_scalar(2.0)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .is_err()
    );
}
