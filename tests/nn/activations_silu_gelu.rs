//! SiLU and GELU(approximate): values, configs that rebuild the layer (also
//! in a bincode checkpoint body's encoding), and use inside a
//! `#[derive(Module)]` model.

use neurite::nn::{Forward, GELU, LayerConfig, Linear, Module, Sequential, SiLU};
use neurite::{DType, Device, GeluApproximate, Result, Tensor};

fn x() -> Tensor {
    Tensor::from_vec(vec![-3.0f64, -1.0, 0.0, 0.5, 2.0], 5, &Device::cpu()).unwrap()
}

#[test]
fn values_follow_the_definitions() {
    let x = x();
    let xs = x.to_vec::<f64>().unwrap();
    let silu = SiLU.forward(&x).unwrap().to_vec::<f64>().unwrap();
    let tanh = GELU::new("tanh").unwrap().forward(&x).unwrap().to_vec::<f64>().unwrap();
    let exact = GELU::new("none").unwrap().forward(&x).unwrap();
    assert_eq!(
        exact.to_vec::<f64>().unwrap(),
        GELU.forward(&x).unwrap().to_vec::<f64>().unwrap()
    );
    for (i, &v) in xs.iter().enumerate() {
        let want_silu = v / (1.0 + (-v).exp());
        let inner = (2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v);
        let want_tanh = 0.5 * v * (1.0 + inner.tanh());
        assert!((silu[i] - want_silu).abs() < 1e-15, "silu({v})");
        assert!((tanh[i] - want_tanh).abs() < 1e-15, "gelu tanh({v})");
    }
}

#[test]
fn configs_rebuild_the_layers() {
    let model = Sequential::new()
        .add(Linear::new(3, 4))
        .add(SiLU)
        .add(GELU::new("tanh").unwrap())
        .add(GELU);
    let cfg = model.to_config().unwrap();
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(
        json.contains("\"SiLU\"") && json.contains("\"approximate\":\"tanh\""),
        "{json}"
    );
    let rebuilt = Sequential::from_config(&serde_json::from_str(&json).unwrap(), &Device::cpu()).unwrap();
    assert_eq!(rebuilt.to_config().unwrap(), cfg);
    // The checkpoint body's codec: variants are numbered by position.
    let bytes = bincode::serde::encode_to_vec(&cfg, bincode::config::standard()).unwrap();
    let (back, _): (neurite::nn::SequentialConfig, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(back, cfg);
    assert_eq!(GELU.config().unwrap(), LayerConfig::GELU);
    let bad = LayerConfig::GELUApproximate {
        approximate: "quick".into(),
    };
    let m = bad
        .build(&Device::cpu())
        .err()
        .expect("a bad approximate is refused")
        .to_string();
    assert!(m.contains("gelu") && m.contains("quick"), "{m}");
}

#[derive(neurite::nn::Module)]
struct Mlp {
    fc1: Linear,
    act: SiLU,
    fc2: Linear,
    out_act: GELU,
}

impl Forward for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.act.forward(&self.fc1.forward(x)?)?;
        self.out_act.forward(&self.fc2.forward(&h)?)
    }
}

#[test]
fn derived_model_trains_through_both() {
    let model = Mlp {
        fc1: Linear::new(3, 5),
        act: SiLU,
        fc2: Linear::new(5, 2),
        out_act: GELU {
            approximate: GeluApproximate::Tanh,
        },
    };
    let x = Tensor::randn((4, 3), DType::F32, &Device::cpu()).unwrap();
    let loss = model.forward(&x).unwrap().sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let params = model.named_parameters();
    assert_eq!(params.len(), 4);
    for (name, p) in params {
        assert!(grads.get(&p).is_some(), "no gradient for {name}");
    }
}
