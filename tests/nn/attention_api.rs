//! The attention layers' API: errors that name the op and the shapes,
//! configurations and checkpoints, `#[derive(Module)]` models, modes, and
//! finite-difference gradients in f64.

use neurite::nn::functional::scaled_dot_product_attention;
use neurite::nn::{
    Configurable, Forward, Linear, Module, MultiheadAttention, MultiheadAttentionConfig, TransformerEncoder,
    TransformerEncoderLayer, TransformerEncoderLayerConfig, build_from_config,
};
use neurite::{DType, Device, Tensor};

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(shape, DType::F32, &Device::cpu()).unwrap()
}

fn err_text<T: std::fmt::Debug>(r: neurite::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn embed_dim_not_divisible_by_num_heads_is_an_error() {
    let msg = err_text(MultiheadAttention::try_new(&MultiheadAttentionConfig::new(10, 3)));
    assert!(
        msg.contains("MultiheadAttention") && msg.contains("embed_dim=10") && msg.contains("num_heads=3"),
        "{msg}"
    );
    // `new` never fails; the first forward reports the problem.
    let m = MultiheadAttention::new(10, 3);
    let x = randn(&[2, 1, 10]);
    assert!(m.forward(&x, &x, &x, None, true, None, true, false).is_err());
    assert!(m.config().is_err());
    assert!(TransformerEncoderLayer::try_new(&TransformerEncoderLayerConfig::new(10, 3)).is_err());
    let bad_p = MultiheadAttentionConfig {
        dropout: 1.5,
        ..MultiheadAttentionConfig::new(8, 2)
    };
    assert!(err_text(MultiheadAttention::try_new(&bad_p)).contains("1.5"));
}

#[test]
fn masks_and_inputs_of_the_wrong_shape_are_errors_naming_the_shapes() {
    let m = MultiheadAttention::new(8, 2);
    let (q, kv) = (randn(&[4, 3, 8]), randn(&[5, 3, 8]));
    let bad2d = Tensor::zeros((4, 4), DType::F32, &Device::cpu()).unwrap();
    let msg = err_text(m.forward(&q, &kv, &kv, None, true, Some(&bad2d), true, false));
    assert!(
        msg.contains("MultiheadAttention") && msg.contains("attn_mask") && msg.contains("[4, 4]"),
        "{msg}"
    );
    let bad3d = Tensor::zeros((3, 4, 5), DType::I64, &Device::cpu()).unwrap();
    let msg = err_text(m.forward(&q, &kv, &kv, None, true, Some(&bad3d), true, false));
    assert!(msg.contains("(6, 4, 5)"), "{msg}");
    let kpm = Tensor::zeros((5, 3), DType::I64, &Device::cpu()).unwrap();
    let msg = err_text(m.forward(&q, &kv, &kv, Some(&kpm), true, None, true, false));
    assert!(msg.contains("key_padding_mask") && msg.contains("(3, 5)"), "{msg}");
    let wrong_e = randn(&[5, 3, 7]);
    let msg = err_text(m.forward(&q, &wrong_e, &kv, None, true, None, true, false));
    assert!(msg.contains("[5, 3, 7]") && msg.contains("kdim=8"), "{msg}");
    let msg = err_text(m.forward(&q, &kv, &kv, None, true, None, true, true));
    assert!(msg.contains("is_causal"), "{msg}");
    let msg = err_text(m.forward(&randn(&[4, 8]), &kv, &kv, None, true, None, true, false));
    assert!(msg.contains("[4, 8]") && msg.contains("[5, 3, 8]"), "{msg}");

    let (q, k) = (randn(&[2, 4, 8]), randn(&[2, 6, 8]));
    let mask = Tensor::zeros((4, 5), DType::F32, &Device::cpu()).unwrap();
    let msg = err_text(scaled_dot_product_attention(&q, &k, &k, Some(&mask), 0.0, false, None));
    assert!(
        msg.contains("scaled_dot_product_attention") && msg.contains("[4, 5]"),
        "{msg}"
    );
    let ok = Tensor::zeros((4, 6), DType::F32, &Device::cpu()).unwrap();
    assert!(scaled_dot_product_attention(&q, &k, &k, Some(&ok), 0.0, true, None).is_err());
    let msg = err_text(scaled_dot_product_attention(
        &q,
        &randn(&[2, 6, 7]),
        &k,
        None,
        0.0,
        false,
        None,
    ));
    assert!(msg.contains("[2, 6, 7]"), "{msg}");
}

#[test]
fn pytorch_initialisation_and_parameter_names() {
    neurite::manual_seed(3);
    let m = MultiheadAttention::new(8, 2);
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    );
    let w = m.in_proj_weight().unwrap();
    assert_eq!(w.dims(), &[24, 8]);
    // Xavier uniform: bound sqrt(6 / (8 + 24)).
    let bound = (6.0f32 / 32.0).sqrt();
    let max = w.to_vec::<f32>().unwrap().into_iter().fold(0f32, |a, v| a.max(v.abs()));
    assert!(max <= bound && max > 0.8 * bound, "max {max} vs bound {bound}");
    assert!(
        m.in_proj_bias()
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(
        m.out_proj()
            .bias()
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );

    let layer = TransformerEncoderLayer::new(8, 2);
    let names: Vec<String> = layer.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "self_attn.in_proj_weight",
            "self_attn.in_proj_bias",
            "self_attn.out_proj.weight",
            "self_attn.out_proj.bias",
            "linear1.weight",
            "linear1.bias",
            "linear2.weight",
            "linear2.bias",
            "norm1.weight",
            "norm1.bias",
            "norm2.weight",
            "norm2.bias",
        ]
    );
    assert_eq!(layer.named_parameters()[4].1.dims(), &[2048, 8]);
}

#[test]
fn encoder_layers_start_as_copies_and_train_independently() {
    let enc = TransformerEncoder::new(TransformerEncoderLayer::new(8, 2), 3, None).unwrap();
    let p = enc.named_parameters();
    assert_eq!(p.len(), 36);
    let a = &p[0];
    let b = p
        .iter()
        .find(|(n, _)| n == "layers.2.self_attn.in_proj_weight")
        .unwrap();
    assert_eq!(a.1.to_vec::<f32>().unwrap(), b.1.to_vec::<f32>().unwrap());
    assert_ne!(a.1.id(), b.1.id());
    assert!(enc.is_training());
}

#[test]
fn dropout_acts_in_training_mode_only() {
    neurite::manual_seed(5);
    let mut m = MultiheadAttention::new(8, 2).with_dropout(0.5).with_batch_first(true);
    let x = randn(&[2, 6, 8]);
    let run = |m: &MultiheadAttention| m.forward(&x, &x, &x, None, true, None, true, false).unwrap();
    let (_, w) = run(&m);
    // Dropped weights are 0 and survivors scaled by 2: rows no longer sum to 1.
    let w = w.unwrap().to_vec::<f32>().unwrap();
    assert!(w.contains(&0.0));
    m.eval();
    assert!(!m.is_training());
    let (y1, w1) = run(&m);
    let (y2, _) = run(&m);
    assert_eq!(y1.to_vec::<f32>().unwrap(), y2.to_vec::<f32>().unwrap());
    let rows = w1.unwrap().sum_dim(-1i64, false).unwrap().to_vec::<f32>().unwrap();
    assert!(rows.iter().all(|s| (s - 1.0).abs() < 1e-5));
}

#[test]
fn configurations_and_checkpoints_rebuild_the_modules() {
    let dir = std::env::temp_dir().join(format!("neurite-attention-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = TransformerEncoderLayerConfig {
        dim_feedforward: 12,
        norm_first: true,
        bias: false,
        batch_first: true,
        ..TransformerEncoderLayerConfig::new(8, 4)
    };
    let mut enc = TransformerEncoder::new(
        TransformerEncoderLayer::try_new(&cfg).unwrap(),
        2,
        Some(neurite::nn::LayerNorm::new(8)),
    )
    .unwrap();
    enc.eval();
    let path = dir.join("encoder.ckpt");
    enc.save(&path).unwrap();
    let back = TransformerEncoder::load(&path, &Device::cpu()).unwrap();
    assert_eq!(back.module_config(), enc.module_config());
    let x = randn(&[3, 5, 8]);
    assert_eq!(
        back.forward(&x, None, None, false).unwrap().to_vec::<f32>().unwrap(),
        enc.forward(&x, None, None, false).unwrap().to_vec::<f32>().unwrap()
    );

    let mha_cfg = MultiheadAttentionConfig {
        kdim: Some(3),
        vdim: Some(5),
        bias: false,
        ..MultiheadAttentionConfig::new(6, 3)
    };
    let m = MultiheadAttention::try_new(&mha_cfg).unwrap();
    let json = serde_json::to_string(&m.config().unwrap()).unwrap();
    let rebuilt: MultiheadAttention = build_from_config(&serde_json::from_str(&json).unwrap(), &Device::cpu()).unwrap();
    assert_eq!(rebuilt.hyperparameters(), &mha_cfg);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A derived model holding the attention layers: names and moves recurse.
#[derive(Module)]
struct Tagger {
    embed: Linear,
    encoder: TransformerEncoder,
    pool: MultiheadAttention,
}

#[test]
fn derived_models_hold_attention_layers_under_pytorch_names() {
    let cfg = TransformerEncoderLayerConfig {
        dim_feedforward: 16,
        ..TransformerEncoderLayerConfig::new(8, 2)
    };
    let mut m = Tagger {
        embed: Linear::new(3, 8),
        encoder: TransformerEncoder::new(TransformerEncoderLayer::try_new(&cfg).unwrap(), 2, None).unwrap(),
        pool: MultiheadAttention::new(8, 1),
    };
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"encoder.layers.1.linear2.bias".to_string()));
    assert!(names.contains(&"pool.out_proj.weight".to_string()));
    m.to_dtype(DType::F64).unwrap();
    m.eval();
    let x = Tensor::randn((5, 2, 3), DType::F64, &Device::cpu()).unwrap();
    let h = m
        .encoder
        .forward(&m.embed.forward(&x).unwrap(), None, None, false)
        .unwrap();
    let (y, _) = m.pool.forward(&h, &h, &h, None, false, None, true, false).unwrap();
    assert_eq!((y.dims(), y.dtype()), (&[5usize, 2, 8][..], DType::F64));
}

/// Central differences of `loss` with respect to every element of `inputs`.
fn check_grads(inputs: &[Tensor], loss: impl Fn() -> Tensor) {
    let g = loss().backward().unwrap();
    for (k, t) in inputs.iter().enumerate() {
        let analytic: Vec<f64> = g.get(t).expect("gradient").to_vec().unwrap();
        let base: Vec<f64> = t.to_vec().unwrap();
        let h = 1e-6;
        for i in 0..base.len() {
            let at = |d: f64| {
                let mut v = base.clone();
                v[i] += d;
                neurite::no_grad(|| t.set_data(&Tensor::from_vec(v, t.shape(), &Device::cpu()).unwrap())).unwrap();
                neurite::no_grad(|| loss().to_scalar::<f64>().unwrap())
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            at(0.0);
            let err = (analytic[i] - numeric).abs() / numeric.abs().max(1.0);
            assert!(
                err < 1e-6,
                "input {k}[{i}]: autograd {} vs numeric {numeric}",
                analytic[i]
            );
        }
    }
}

#[test]
fn multihead_attention_gradients_match_finite_differences_in_f64() {
    neurite::manual_seed(17);
    let mut m = MultiheadAttention::try_new(&MultiheadAttentionConfig {
        kdim: Some(3),
        batch_first: true,
        ..MultiheadAttentionConfig::new(4, 2)
    })
    .unwrap();
    m.to_dtype(DType::F64).unwrap();
    let dev = Device::cpu();
    let q = Tensor::randn((2, 3, 4), DType::F64, &dev).unwrap().requires_grad();
    let k = Tensor::randn((2, 5, 3), DType::F64, &dev).unwrap().requires_grad();
    let v = Tensor::randn((2, 5, 4), DType::F64, &dev).unwrap().requires_grad();
    let kpm = Tensor::from_vec(vec![0i64, 0, 0, 1, 1, 0, 1, 0, 0, 0], (2, 5), &dev).unwrap();
    let mask = Tensor::randn((3, 5), DType::F64, &dev).unwrap();
    let cot = Tensor::randn((2, 3, 4), DType::F64, &dev).unwrap();
    let cot_w = Tensor::randn((2, 2, 3, 5), DType::F64, &dev).unwrap();
    let loss = || {
        let (y, w) = m
            .forward(&q, &k, &v, Some(&kpm), true, Some(&mask), false, false)
            .unwrap();
        let lw = w.unwrap().mul(&cot_w).unwrap().sum_all().unwrap();
        y.mul(&cot).unwrap().sum_all().unwrap().add(&lw).unwrap()
    };
    let mut inputs = vec![q.clone(), k.clone(), v.clone()];
    inputs.extend(m.parameters());
    check_grads(&inputs, loss);
}

#[test]
fn encoder_layer_gradients_match_finite_differences_in_f64() {
    neurite::manual_seed(19);
    let mut l = TransformerEncoderLayer::try_new(&TransformerEncoderLayerConfig {
        dim_feedforward: 6,
        dropout: 0.0,
        activation: neurite::nn::TransformerActivation::Gelu,
        norm_first: true,
        ..TransformerEncoderLayerConfig::new(4, 2)
    })
    .unwrap();
    l.to_dtype(DType::F64).unwrap();
    let x = Tensor::randn((3, 2, 4), DType::F64, &Device::cpu())
        .unwrap()
        .requires_grad();
    let cot = Tensor::randn((3, 2, 4), DType::F64, &Device::cpu()).unwrap();
    let causal = Tensor::from_vec(vec![0i64, 1, 1, 0, 0, 1, 0, 0, 0], (3, 3), &Device::cpu()).unwrap();
    let loss = || {
        let y = l.forward(&x, Some(&causal), None, true).unwrap();
        y.mul(&cot).unwrap().sum_all().unwrap()
    };
    let mut inputs = vec![x.clone()];
    inputs.extend(l.parameters());
    check_grads(&inputs, loss);
}
