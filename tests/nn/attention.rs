//! MultiheadAttention, TransformerEncoderLayer, TransformerEncoder and
//! scaled_dot_product_attention against PyTorch: outputs, attention weights
//! and every input and parameter gradient, from
//! `tests/fixtures/attention_torch.py` (f32, within 1e-5).

use neurite::checkpoint::read_safetensors;
use neurite::nn::functional::scaled_dot_product_attention;
use neurite::nn::{
    LayerNorm, Module, MultiheadAttention, MultiheadAttentionConfig, TransformerActivation, TransformerEncoder,
    TransformerEncoderLayer, TransformerEncoderLayerConfig,
};
use neurite::{GradStore, Tensor};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

fn fixtures() -> &'static HashMap<String, Tensor> {
    static ALL: OnceLock<HashMap<String, Tensor>> = OnceLock::new();
    ALL.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attention_torch.safetensors");
        read_safetensors(path).unwrap()
    })
}

/// One case's tensors, names relative to `"<case>."`.
struct Case(HashMap<String, Tensor>);

impl Case {
    fn load(name: &str) -> Case {
        let prefix = format!("{name}.");
        let map: HashMap<String, Tensor> = fixtures()
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_string(), v.clone())))
            .collect();
        assert!(!map.is_empty(), "no fixture case {name}");
        Case(map)
    }

    fn get(&self, name: &str) -> Option<Tensor> {
        self.0.get(name).cloned()
    }

    fn t(&self, name: &str) -> Tensor {
        self.get(name).unwrap_or_else(|| panic!("fixture has no {name}"))
    }

    /// A trainable copy of an input.
    fn input(&self, name: &str) -> Tensor {
        self.t(name).detach().requires_grad()
    }

    fn params(&self) -> HashMap<String, Tensor> {
        self.0
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("param.").map(|k| (k.to_string(), v.clone())))
            .collect()
    }

    /// Loads the weights (strict: PyTorch's names and shapes must be the module's).
    fn load_into(&self, m: &mut dyn Module) {
        m.load_named_tensors(&self.params()).unwrap();
        m.eval();
    }

    /// Backpropagates PyTorch's loss `sum(out * cot) (+ sum(weights * cot_weights))`
    /// and checks the outputs and the gradients of `inputs` and of `module`'s parameters.
    fn check(&self, out: &Tensor, weights: Option<&Tensor>, inputs: &[(&str, &Tensor)], module: Option<&dyn Module>) {
        close("out", out, &self.t("out"));
        let mut loss = out.mul(&self.t("cot")).unwrap().sum_all().unwrap();
        match (weights, self.get("weights")) {
            (Some(w), Some(want)) => {
                close("weights", w, &want);
                loss = loss
                    .add(&w.mul(&self.t("cot_weights")).unwrap().sum_all().unwrap())
                    .unwrap();
            }
            (None, None) => {}
            (got, want) => panic!(
                "weights: got {:?}, PyTorch {:?}",
                got.map(|t| t.dims().to_vec()),
                want.map(|t| t.dims().to_vec())
            ),
        }
        let g: GradStore = loss.backward().unwrap();
        for (name, t) in inputs {
            close(
                &format!("grad.{name}"),
                g.get(t).expect("input gradient"),
                &self.t(&format!("grad.{name}")),
            );
        }
        if let Some(m) = module {
            let params = m.named_parameters();
            assert_eq!(params.len(), self.params().len());
            for (name, p) in params {
                let got = g.get(&p).unwrap_or_else(|| panic!("{name} got no gradient"));
                close(
                    &format!("grad.param.{name}"),
                    got,
                    &self.t(&format!("grad.param.{name}")),
                );
            }
        }
    }
}

fn close(label: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.dims(), want.dims(), "{label}: shape");
    let (a, b) = (got.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
            "{label}[{i}]: {x} vs PyTorch {y}"
        );
    }
}

fn mha(cfg: MultiheadAttentionConfig, case: &Case) -> MultiheadAttention {
    let mut m = MultiheadAttention::try_new(&cfg).unwrap();
    case.load_into(&mut m);
    m
}

#[test]
fn cross_attention_sequence_first_with_averaged_weights() {
    let c = Case::load("mha_basic");
    let m = mha(MultiheadAttentionConfig::new(8, 2), &c);
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let (out, w) = m.forward(&q, &k, &v, None, true, None, true, false).unwrap();
    c.check(&out, w.as_ref(), &[("query", &q), ("key", &k), ("value", &v)], Some(&m));
}

#[test]
fn batch_first_self_attention_with_a_boolean_key_padding_mask() {
    let c = Case::load("mha_self_kpm");
    let m = mha(
        MultiheadAttentionConfig {
            batch_first: true,
            ..MultiheadAttentionConfig::new(8, 2)
        },
        &c,
    );
    let x = c.input("query");
    let kpm = c.t("key_padding_mask");
    assert_eq!(kpm.dtype(), neurite::DType::I64);
    let (out, w) = m.forward(&x, &x, &x, Some(&kpm), false, None, true, false).unwrap();
    assert!(w.is_none());
    // The same mask as a `Bool` tensor (what comparisons return) masks the same keys.
    let bool_kpm = kpm.to_dtype(neurite::DType::Bool).unwrap();
    let (out_bool, _) = m
        .forward(&x, &x, &x, Some(&bool_kpm), false, None, true, false)
        .unwrap();
    assert_eq!(out_bool.to_vec::<f32>().unwrap(), out.to_vec::<f32>().unwrap());
    c.check(&out, None, &[("query", &x)], Some(&m));
}

#[test]
fn kdim_and_vdim_use_separate_projections_and_a_float_mask() {
    let c = Case::load("mha_kvdim");
    let m = mha(
        MultiheadAttentionConfig {
            batch_first: true,
            kdim: Some(5),
            vdim: Some(3),
            ..MultiheadAttentionConfig::new(8, 2)
        },
        &c,
    );
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "q_proj_weight",
            "k_proj_weight",
            "v_proj_weight",
            "in_proj_bias",
            "out_proj.weight",
            "out_proj.bias"
        ]
    );
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let mask = c.t("attn_mask");
    let (out, w) = m.forward(&q, &k, &v, None, true, Some(&mask), false, false).unwrap();
    assert_eq!(w.as_ref().unwrap().dims(), &[3, 2, 4, 5]);
    c.check(&out, w.as_ref(), &[("query", &q), ("key", &k), ("value", &v)], Some(&m));
}

#[test]
fn a_3d_boolean_mask_combines_with_a_float_key_padding_mask() {
    let c = Case::load("mha_mask3d");
    let m = mha(MultiheadAttentionConfig::new(8, 2), &c);
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let (mask, kpm) = (c.t("attn_mask"), c.t("key_padding_mask"));
    let (out, w) = m
        .forward(&q, &k, &v, Some(&kpm), true, Some(&mask), true, false)
        .unwrap();
    c.check(&out, w.as_ref(), &[("query", &q), ("key", &k), ("value", &v)], Some(&m));
}

#[test]
fn causal_self_attention() {
    let c = Case::load("mha_causal");
    let m = mha(
        MultiheadAttentionConfig {
            batch_first: true,
            ..MultiheadAttentionConfig::new(8, 2)
        },
        &c,
    );
    let x = c.input("query");
    let mask = c.t("attn_mask");
    let (out, _) = m.forward(&x, &x, &x, None, false, Some(&mask), true, true).unwrap();
    c.check(&out, None, &[("query", &x)], Some(&m));
}

#[test]
fn no_bias_unbatched_with_per_head_weights() {
    let c = Case::load("mha_nobias_unbatched");
    let m = mha(
        MultiheadAttentionConfig {
            bias: false,
            ..MultiheadAttentionConfig::new(8, 2)
        },
        &c,
    );
    assert!(m.in_proj_bias().is_none() && m.out_proj().bias().is_none());
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let (out, w) = m.forward(&q, &k, &v, None, true, None, false, false).unwrap();
    assert_eq!(w.as_ref().unwrap().dims(), &[2, 4, 5]);
    c.check(&out, w.as_ref(), &[("query", &q), ("key", &k), ("value", &v)], Some(&m));
}

fn layer_config() -> TransformerEncoderLayerConfig {
    TransformerEncoderLayerConfig {
        dim_feedforward: 16,
        dropout: 0.0,
        ..TransformerEncoderLayerConfig::new(8, 2)
    }
}

fn encoder_layer(cfg: TransformerEncoderLayerConfig, c: &Case) -> TransformerEncoderLayer {
    let mut l = TransformerEncoderLayer::try_new(&cfg).unwrap();
    c.load_into(&mut l);
    l
}

#[test]
fn post_norm_relu_layer_with_a_key_padding_mask() {
    let c = Case::load("enc_post_relu");
    let l = encoder_layer(
        TransformerEncoderLayerConfig {
            batch_first: true,
            ..layer_config()
        },
        &c,
    );
    let x = c.input("src");
    let kpm = c.t("src_key_padding_mask");
    let out = l.forward(&x, None, Some(&kpm), false).unwrap();
    c.check(&out, None, &[("src", &x)], Some(&l));
}

#[test]
fn pre_norm_gelu_layer_with_a_float_mask() {
    let c = Case::load("enc_pre_gelu");
    let l = encoder_layer(
        TransformerEncoderLayerConfig {
            activation: TransformerActivation::Gelu,
            norm_first: true,
            ..layer_config()
        },
        &c,
    );
    let x = c.input("src");
    let out = l.forward(&x, Some(&c.t("src_mask")), None, false).unwrap();
    c.check(&out, None, &[("src", &x)], Some(&l));
}

#[test]
fn layer_without_biases_has_pytorchs_parameters() {
    let c = Case::load("enc_nobias");
    let l = encoder_layer(
        TransformerEncoderLayerConfig {
            bias: false,
            batch_first: true,
            norm_first: true,
            layer_norm_eps: 1e-3,
            ..layer_config()
        },
        &c,
    );
    let x = c.input("src");
    let out = l.forward(&x, None, None, false).unwrap();
    c.check(&out, None, &[("src", &x)], Some(&l));
}

#[test]
fn encoder_stack_with_final_norm_and_causal_mask() {
    let c = Case::load("encoder");
    let layer = TransformerEncoderLayer::try_new(&TransformerEncoderLayerConfig {
        norm_first: true,
        batch_first: true,
        ..layer_config()
    })
    .unwrap();
    let mut enc = TransformerEncoder::new(layer, 2, Some(LayerNorm::new(8))).unwrap();
    c.load_into(&mut enc);
    let x = c.input("src");
    let out = enc.forward(&x, Some(&c.t("mask")), None, true).unwrap();
    c.check(&out, None, &[("src", &x)], Some(&enc));
}

#[test]
fn sdpa_with_a_boolean_mask_that_allows_where_true_and_a_custom_scale() {
    let c = Case::load("sdpa_bool");
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let out = scaled_dot_product_attention(&q, &k, &v, Some(&c.t("attn_mask")), 0.0, false, Some(0.3)).unwrap();
    c.check(&out, None, &[("query", &q), ("key", &k), ("value", &v)], None);
}

#[test]
fn sdpa_causal_with_more_keys_than_queries() {
    let c = Case::load("sdpa_causal");
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let out = scaled_dot_product_attention(&q, &k, &v, None, 0.0, true, None).unwrap();
    c.check(&out, None, &[("query", &q), ("key", &k), ("value", &v)], None);
}

#[test]
fn sdpa_with_a_broadcast_float_mask() {
    let c = Case::load("sdpa_float");
    let (q, k, v) = (c.input("query"), c.input("key"), c.input("value"));
    let out = scaled_dot_product_attention(&q, &k, &v, Some(&c.t("attn_mask")), 0.0, false, None).unwrap();
    c.check(&out, None, &[("query", &q), ("key", &k), ("value", &v)], None);
}
