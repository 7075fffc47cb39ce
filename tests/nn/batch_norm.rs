//! BatchNorm1d/2d against PyTorch: train outputs and gradients over three
//! steps, running statistics after each, eval output and gradients.

use crate::fixtures::{assert_tensor, case, tensor, tensor_map, weighted_sum};
use neurite::nn::{BatchNorm1d, BatchNorm2d, Forward, Module};
use neurite::{DType, Device, Tensor};

const TOL: f64 = 1e-9;

fn check(name: &str, mut layer: Box<dyn Forward>) {
    let c = case(name);
    layer.to_dtype(DType::F64).unwrap();
    let mut init = tensor_map(&c["initial"]);
    init.insert(
        "num_batches_tracked".into(),
        Tensor::from_vec(vec![0i64], (), &Device::cpu()).unwrap(),
    );
    layer.load_named_tensors(&init).unwrap();
    let affine = c["affine"].as_bool().unwrap();
    let params = layer.parameters();
    assert_eq!(params.len(), if affine { 2 } else { 0 });

    layer.train();
    for (step, s) in c["train_steps"].as_array().unwrap().iter().enumerate() {
        let x = tensor(&s["input"]).requires_grad();
        let y = layer.forward(&x).unwrap();
        assert_tensor(&format!("{name} step {step} output"), &y, &s["output"], TOL);
        let grads = weighted_sum(&y).backward().unwrap();
        let want = s["grads"].as_array().unwrap();
        assert_tensor(
            &format!("{name} step {step} input grad"),
            grads.get(&x).unwrap(),
            &want[0],
            TOL,
        );
        for (i, p) in params.iter().enumerate() {
            let what = format!("{name} step {step} param {i} grad");
            assert_tensor(&what, grads.get(p).unwrap(), &want[i + 1], TOL);
        }
        let buffers: std::collections::HashMap<String, Tensor> = layer.named_buffers().into_iter().collect();
        assert_tensor(
            &format!("{name} step {step} running_mean"),
            &buffers["running_mean"],
            &s["running_mean"],
            TOL,
        );
        assert_tensor(
            &format!("{name} step {step} running_var"),
            &buffers["running_var"],
            &s["running_var"],
            TOL,
        );
        assert_eq!(
            buffers["num_batches_tracked"].to_scalar::<i64>().unwrap(),
            s["num_batches_tracked"].as_i64().unwrap()
        );
    }

    layer.eval();
    let e = &c["eval"];
    let x = tensor(&e["input"]).requires_grad();
    let before: Vec<Vec<f64>> = layer.named_buffers().iter().map(|(_, t)| t.to_vec().unwrap()).collect();
    let y = layer.forward(&x).unwrap();
    assert_tensor(&format!("{name} eval output"), &y, &e["output"], TOL);
    // The inference path (no graph: one host pass) gives the same output.
    let y_inference = neurite::no_grad(|| layer.forward(&tensor(&e["input"]))).unwrap();
    assert_tensor(&format!("{name} no-grad eval output"), &y_inference, &e["output"], TOL);
    let grads = weighted_sum(&y).backward().unwrap();
    let want = e["grads"].as_array().unwrap();
    assert_tensor(
        &format!("{name} eval input grad"),
        grads.get(&x).unwrap(),
        &want[0],
        TOL,
    );
    for (i, p) in params.iter().enumerate() {
        assert_tensor(
            &format!("{name} eval param {i} grad"),
            grads.get(p).unwrap(),
            &want[i + 1],
            TOL,
        );
    }
    let after: Vec<Vec<f64>> = layer.named_buffers().iter().map(|(_, t)| t.to_vec().unwrap()).collect();
    assert_eq!(before, after, "{name}: eval mode must not touch the running statistics");
}

/// Inference (no graph) and a recorded eval forward agree bit for bit on
/// inputs large enough to be split over threads, with one value per plane
/// (BatchNorm1d on `(N, C)`) and with image planes.
#[test]
fn batch_norm_inference_pass_equals_recorded_eval() {
    let _rng = crate::rng_lock();
    let cpu = Device::cpu();
    neurite::manual_seed(11);
    let cases: Vec<(Box<dyn Forward>, Vec<usize>)> = vec![
        (Box::new(BatchNorm1d::new(8)), vec![5000, 8]),
        (Box::new(BatchNorm2d::new(16)), vec![4, 16, 32, 32]),
        (Box::new(BatchNorm2d::new(3)), vec![2, 3, 5, 7]),
    ];
    for (mut layer, shape) in cases {
        for dtype in [DType::F32, DType::F64] {
            layer.to_dtype(dtype).unwrap();
            layer.train();
            let warm = Tensor::randn(shape.as_slice(), dtype, &cpu)
                .unwrap()
                .affine(2.0, 0.5)
                .unwrap();
            layer.forward(&warm).unwrap();
            layer.eval();
            let x = Tensor::randn(shape.as_slice(), dtype, &cpu).unwrap();
            let recorded = layer.forward(&x.clone().requires_grad()).unwrap();
            let fast = neurite::no_grad(|| layer.forward(&x)).unwrap();
            assert_eq!(fast.dims(), recorded.dims());
            assert_eq!(
                fast.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(),
                recorded.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(),
                "{shape:?} {dtype:?}"
            );
        }
    }
}

#[test]
fn batch_norm1d_nc_matches_pytorch() {
    let _rng = crate::rng_lock();
    check("batch_norm1d_nc", Box::new(BatchNorm1d::new(4)));
}

#[test]
fn batch_norm1d_ncl_with_eps_and_momentum_matches_pytorch() {
    let _rng = crate::rng_lock();
    check(
        "batch_norm1d_ncl",
        Box::new(BatchNorm1d::try_new(3, 1e-3, Some(0.3), true).unwrap()),
    );
}

#[test]
fn batch_norm2d_matches_pytorch() {
    let _rng = crate::rng_lock();
    check("batch_norm2d", Box::new(BatchNorm2d::new(3)));
}

#[test]
fn batch_norm2d_cumulative_average_without_affine_matches_pytorch() {
    let _rng = crate::rng_lock();
    check(
        "batch_norm2d_cumulative_no_affine",
        Box::new(BatchNorm2d::new(2).with_momentum(None).with_affine(false)),
    );
}

#[test]
fn batch_norm_rejects_bad_inputs_and_hyperparameters() {
    let _rng = crate::rng_lock();
    let bn = BatchNorm2d::new(3);
    let cpu = Device::cpu();
    // Wrong rank, wrong channel count, a single value per channel in training.
    let e = bn
        .forward(&Tensor::zeros((2, 3, 4), DType::F32, &cpu).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("BatchNorm2d"), "{e}");
    let e = bn
        .forward(&Tensor::zeros((2, 4, 2, 2), DType::F32, &cpu).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("3 channels"), "{e}");
    let e = bn
        .forward(&Tensor::zeros((1, 3, 1, 1), DType::F32, &cpu).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("more than 1 value per channel"), "{e}");
    assert_eq!(bn.num_batches_tracked(), 0, "failed calls must not count");
    // Batch 1 is fine in eval mode.
    let mut bn1 = BatchNorm1d::new(3);
    bn1.eval();
    assert_eq!(
        bn1.forward(&Tensor::ones((1, 3), DType::F32, &cpu).unwrap())
            .unwrap()
            .dims(),
        &[1, 3]
    );
    // Lazy validation: `new` + builder never panics, forward reports.
    let bad = BatchNorm1d::new(3).with_momentum(1.5);
    let e = bad
        .forward(&Tensor::ones((4, 3), DType::F32, &cpu).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("momentum"), "{e}");
    assert!(BatchNorm2d::try_new(3, -1.0, Some(0.1), true).is_err());
}
