//! Linear, Conv2d, pooling, LayerNorm, activations and Embedding against PyTorch.

use crate::fixtures::{assert_tensor, case, ids, tensor, tensor_map, weighted_sum};
use neurite::nn::{
    AvgPool2d, Conv2d, Embedding, Flatten, Forward, GELU, LayerNorm, LeakyReLU, Linear, MaxPool2d, Module, ReLU,
    Sigmoid, Softmax, Tanh,
};
use neurite::{DType, Device, Tensor};

const TOL: f64 = 1e-9;

/// Loads the case's weights into `layer` (in f64), runs it and compares the
/// output and every gradient with PyTorch's.
fn check(name: &str, mut layer: Box<dyn Forward>) {
    let c = case(name);
    layer.to_dtype(DType::F64).unwrap();
    layer.load_named_tensors(&tensor_map(&c["params"])).unwrap();
    let x = tensor(&c["input"]).requires_grad();
    let y = layer.forward(&x).unwrap();
    assert_tensor(&format!("{name} output"), &y, &c["output"], TOL);
    let grads = weighted_sum(&y).backward().unwrap();
    assert_tensor(
        &format!("{name} input grad"),
        grads.get(&x).unwrap(),
        &c["input_grad"],
        TOL,
    );
    for (pname, p) in layer.named_parameters() {
        let want = &c["param_grads"][&pname];
        assert_tensor(&format!("{name} {pname} grad"), grads.get(&p).unwrap(), want, TOL);
    }
}

#[test]
fn linear_matches_pytorch() {
    let _rng = crate::rng_lock();
    check("linear", Box::new(Linear::new(5, 3)));
}

#[test]
fn linear_on_3d_input_without_bias_matches_pytorch() {
    let _rng = crate::rng_lock();
    check("linear_3d_no_bias", Box::new(Linear::new(4, 2).with_bias(false)));
}

#[test]
fn conv2d_matches_pytorch() {
    let _rng = crate::rng_lock();
    check(
        "conv2d_s2_p1",
        Box::new(Conv2d::new(3, 4, 3).with_stride(2).with_padding(1)),
    );
    check(
        "conv2d_rect_no_bias",
        Box::new(Conv2d::try_new(2, 3, (2, 3), (1, 2), (1, 0), false).unwrap()),
    );
}

#[test]
fn pooling_matches_pytorch() {
    let _rng = crate::rng_lock();
    check(
        "max_pool2d_k3_s2_p1",
        Box::new(MaxPool2d::new(3).with_stride(2).with_padding(1)),
    );
    check("max_pool2d_k2", Box::new(MaxPool2d::new(2)));
    check("avg_pool2d_k2", Box::new(AvgPool2d::new(2)));
    check("avg_pool2d_k3_s2_p1", Box::new(AvgPool2d::try_new(3, 2, 1).unwrap()));
}

#[test]
fn layer_norm_matches_pytorch() {
    let _rng = crate::rng_lock();
    check("layer_norm_3x5", Box::new(LayerNorm::new([3, 5])));
    check("layer_norm_6_eps", Box::new(LayerNorm::new(6).with_eps(1e-3)));
}

#[test]
fn activations_match_pytorch() {
    let _rng = crate::rng_lock();
    check("gelu", Box::new(GELU));
    check("leaky_relu", Box::new(LeakyReLU::new(0.2)));
    check("softmax_dim1", Box::new(Softmax::new(1)));
}

#[test]
fn simple_activations_give_known_values() {
    let _rng = crate::rng_lock();
    let x = Tensor::from_vec(vec![-2.0f64, 0.0, 3.0], 3, &Device::cpu()).unwrap();
    let v = |m: &dyn Forward| m.forward(&x).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(v(&ReLU), vec![0.0, 0.0, 3.0]);
    assert_eq!(v(&LeakyReLU::default()), vec![-0.02, 0.0, 3.0]);
    let s = v(&Sigmoid);
    assert!((s[0] - 1.0 / (1.0 + 2f64.exp())).abs() < 1e-12 && s[1] == 0.5);
    let t = v(&Tanh);
    assert!((t[2] - 3f64.tanh()).abs() < 1e-12);
}

#[test]
fn embedding_matches_pytorch() {
    let _rng = crate::rng_lock();
    let c = case("embedding");
    let mut emb = Embedding::new(6, 3);
    emb.to_dtype(DType::F64).unwrap();
    let mut map = std::collections::HashMap::new();
    map.insert("weight".to_string(), tensor(&c["weight"]));
    emb.load_named_tensors(&map).unwrap();
    let y = emb.forward(&ids(&c["ids"])).unwrap();
    assert_tensor("embedding output", &y, &c["output"], TOL);
    let grads = weighted_sum(&y).backward().unwrap();
    assert_tensor(
        "embedding weight grad",
        grads.get(emb.weight()).unwrap(),
        &c["weight_grad"],
        TOL,
    );
    // Float ids and out-of-range ids are errors, not panics.
    let e = emb
        .forward(&Tensor::zeros(2, DType::F32, &Device::cpu()).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("i64"), "{e}");
    let bad = Tensor::from_vec(vec![6i64], 1, &Device::cpu()).unwrap();
    assert!(emb.forward(&bad).is_err());
}

#[test]
fn default_initialisation_follows_pytorch_bounds() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(7);
    let fc = Linear::new(400, 300);
    let bound = 1.0 / 400f64.sqrt();
    for t in [fc.weight(), fc.bias().unwrap()] {
        let v = t.to_vec::<f64>().unwrap();
        let max = v.iter().fold(0f64, |m, x| m.max(x.abs()));
        // Within the bound, and filling it (a uniform sample of 120k/300 values reaches 95% of it).
        assert!(max <= bound && max > 0.95 * bound, "max |w| {max} vs bound {bound}");
    }
    // Variance of U(-b, b) is b^2 / 3.
    let v = fc.weight().to_vec::<f64>().unwrap();
    let var = v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
    assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.02, "variance {var}");
    let conv = Conv2d::new(3, 8, 5);
    let cb = 1.0 / 75f64.sqrt();
    let m = conv
        .weight()
        .to_vec::<f64>()
        .unwrap()
        .iter()
        .fold(0f64, |m, x| m.max(x.abs()));
    assert!(m <= cb && m > 0.9 * cb);
    assert!(fc.weight().is_requires_grad() && conv.bias().unwrap().is_requires_grad());
}

#[test]
fn shape_handling_of_conv_pool_and_flatten() {
    let _rng = crate::rng_lock();
    let cpu = Device::cpu();
    let img = Tensor::zeros((3, 8, 8), DType::F32, &cpu).unwrap();
    // Unbatched (C, H, W) inputs, as PyTorch accepts.
    assert_eq!(Conv2d::new(3, 5, 3).forward(&img).unwrap().dims(), &[5, 6, 6]);
    assert_eq!(MaxPool2d::new(2).forward(&img).unwrap().dims(), &[3, 4, 4]);
    let x = Tensor::zeros((2, 3, 4, 5), DType::F32, &cpu).unwrap();
    assert_eq!(Flatten::new().forward(&x).unwrap().dims(), &[2, 60]);
    assert_eq!(Flatten::with_dims(2, 3).forward(&x).unwrap().dims(), &[2, 3, 20]);
    // Invalid hyperparameters: no panic at construction, an error at forward or try_new.
    let e = Conv2d::new(3, 5, 3).with_stride(0).forward(&img).unwrap_err();
    assert!(e.to_string().contains("stride"), "{e}");
    assert!(Conv2d::try_new(3, 5, 0, 1, 0, true).is_err());
    assert!(MaxPool2d::new(2).with_padding(2).forward(&img).is_err());
    assert!(AvgPool2d::try_new(0, 1, 0).is_err());
    assert!(Softmax::new(5).forward(&img).is_err());
    let e = Conv2d::new(4, 5, 3).forward(&img).unwrap_err();
    assert!(e.to_string().contains("conv2d"), "{e}");
    assert!(LayerNorm::new(7).forward(&img).is_err());
    assert!(Linear::new(7, 2).forward(&img).is_err());
}
