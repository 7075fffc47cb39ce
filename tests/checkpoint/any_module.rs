//! Checkpoints and safetensors for any module: a derived model with nested
//! blocks, a `Vec` of blocks and an `Option` block saves, reloads (rebuilt
//! with no code through its configuration, or into a model built in code) and
//! reproduces its outputs bit for bit, on the CPU and on CUDA when present;
//! non-strict loading reports PyTorch's missing and unexpected keys.

use crate::common::tmp_dir;
use neurite::checkpoint::{CheckpointProblem, load_weights};
use neurite::nn::{
    BatchNorm2d, Configurable, Conv2d, Dropout, Forward, Linear, Module, ReLU, Sequential, build_from_config,
};
use neurite::{DType, Device, Result, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Module)]
struct Block {
    conv: Conv2d,
    bn: BatchNorm2d,
    drop: Dropout,
}

impl Block {
    fn new(c: usize) -> Block {
        Block {
            conv: Conv2d::new(c, c, 3).with_padding(1),
            bn: BatchNorm2d::new(c),
            drop: Dropout::new(0.3),
        }
    }
}

impl Forward for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.drop.forward(&self.bn.forward(&self.conv.forward(x)?)?.relu()?)?;
        h.add(x)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct NetConfig {
    channels: usize,
    blocks: usize,
    extra: bool,
    classes: usize,
}

#[derive(Module)]
#[module(config)]
struct Net {
    stem: Conv2d,
    blocks: Vec<Block>,
    extra: Option<Block>,
    head: Linear,
    #[module(skip)]
    cfg: NetConfig,
}

impl Configurable for Net {
    type Config = NetConfig;
    fn module_config(&self) -> NetConfig {
        self.cfg.clone()
    }
    fn from_module_config(c: &NetConfig) -> Result<Net> {
        Ok(Net {
            stem: Conv2d::new(1, c.channels, 3),
            blocks: (0..c.blocks).map(|_| Block::new(c.channels)).collect(),
            extra: c.extra.then(|| Block::new(c.channels)),
            head: Linear::new(c.channels, c.classes),
            cfg: c.clone(),
        })
    }
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.stem.forward(x)?;
        for b in &self.blocks {
            h = b.forward(&h)?;
        }
        if let Some(b) = &self.extra {
            h = b.forward(&h)?;
        }
        let pooled = h.mean_dims(&[2usize, 3], false)?;
        self.head.forward(&pooled)
    }
}

const CFG: NetConfig = NetConfig {
    channels: 4,
    blocks: 2,
    extra: true,
    classes: 3,
};

/// A net whose batch-norm statistics have moved, in evaluation mode.
fn trained_net(device: &Device) -> Net {
    neurite::manual_seed(3);
    let mut net = Net::from_module_config(&CFG).unwrap();
    net.to_device(device).unwrap();
    let x = Tensor::randn((4, 1, 7, 7), DType::F32, device).unwrap();
    neurite::no_grad(|| net.forward(&x)).unwrap();
    net.eval();
    net
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec::<f32>().unwrap().into_iter().map(f32::to_bits).collect()
}

fn devices() -> Vec<Device> {
    let mut d = vec![Device::cpu()];
    crate::cuda_emu::install_if_requested("checkpoint any_module");
    match Device::cuda(0) {
        Ok(g) => d.push(g),
        Err(e) => {
            if std::env::var("NEURITE_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("NEURITE_REQUIRE_GPU=1 but the GPU is unavailable: {e}");
            }
            eprintln!("CUDA part of the derived-model checkpoint test skipped: {e}");
        }
    }
    d
}

#[test]
fn a_derived_model_round_trips_bit_for_bit_on_every_device() {
    let dir = tmp_dir("any-module");
    for dev in devices() {
        let net = trained_net(&dev);
        let x = Tensor::randn((2, 1, 7, 7), DType::F32, &dev).unwrap();
        let expected = bits(&net.forward(&x).unwrap());
        let path = dir.join(format!("net-{dev}.ckpt"));
        net.save(&path).unwrap();

        // Rebuilt with no code from the stored configuration, on every device.
        for target in devices() {
            let loaded = Net::load(&path, &target).unwrap();
            assert_eq!(loaded.cfg, CFG);
            assert!(!loaded.is_training(), "the mode is saved");
            assert_eq!(loaded.device(), Some(target));
            let y = loaded.forward(&x.to_device(&target).unwrap()).unwrap();
            if target == dev {
                assert_eq!(bits(&y), expected, "saved on {dev}, loaded on {target}");
            } else {
                // The weights arrive bit for bit, but another device sums its products
                // in another order (cuBLAS against the CPU's GEMM): close, not equal.
                let (got, want) = (
                    y.to_vec::<f32>().unwrap(),
                    net.forward(&x).unwrap().to_vec::<f32>().unwrap(),
                );
                for (a, b) in got.iter().zip(&want) {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs() + 1e-6,
                        "saved on {dev}, loaded on {target}: {a} vs {b}"
                    );
                }
            }
        }

        // Into a model built in code (weights only).
        let mut fresh = Net::from_module_config(&CFG).unwrap();
        fresh.load_weights(&path).unwrap();
        fresh.eval();
        let x_cpu = x.to_device(&Device::cpu()).unwrap();
        let on_cpu = Net::load(&path, &Device::cpu()).unwrap();
        assert_eq!(
            bits(&fresh.forward(&x_cpu).unwrap()),
            bits(&on_cpu.forward(&x_cpu).unwrap()),
            "weights saved on {dev} into a model built in code"
        );
    }
}

#[test]
fn names_follow_pytorch_and_the_option_block_is_absent_when_none() {
    let net = Net::from_module_config(&NetConfig { extra: false, ..CFG }).unwrap();
    let names: Vec<String> = net.named_tensors().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"blocks.1.bn.running_var".to_string()), "{names:?}");
    assert!(names.contains(&"blocks.0.conv.weight".to_string()));
    assert!(names.iter().all(|n| !n.starts_with("extra.")), "{names:?}");
    let with = Net::from_module_config(&CFG).unwrap();
    assert!(
        with.named_tensors()
            .iter()
            .any(|(n, _)| n == "extra.bn.num_batches_tracked")
    );
}

#[test]
fn a_checkpoint_of_another_shape_is_refused_and_a_weights_only_one_cannot_rebuild() {
    let dir = tmp_dir("any-module-mismatch");
    let path = dir.join("net.ckpt");
    trained_net(&Device::cpu()).save(&path).unwrap();
    // Fewer blocks: strict loading lists the extra names.
    let mut small = Net::from_module_config(&NetConfig { blocks: 1, ..CFG }).unwrap();
    let err = small.load_weights(&path).unwrap_err();
    assert_eq!(err.checkpoint_problem(), Some(CheckpointProblem::ArchitectureMismatch));
    assert!(err.to_string().contains("unexpected \"blocks.1.conv.weight\""), "{err}");
    // Non-strict loads the rest and reports them.
    let report = load_weights(&mut small, &path, false).unwrap();
    assert!(report.missing_keys.is_empty());
    assert!(report.unexpected_keys.iter().all(|k| k.starts_with("blocks.1.")));
    assert_eq!(report.unexpected_keys.len(), 7); // conv weight and bias, five batch-norm tensors

    // A Sequential holding it can be saved, but only the weights: rebuilding needs code.
    let seq = Sequential::new().add(Block::new(2)).add(ReLU);
    let p2 = dir.join("seq.ckpt");
    seq.save(&p2).unwrap();
    let err = Sequential::load(&p2, &Device::cpu()).unwrap_err();
    assert!(err.to_string().contains("without its configuration"), "{err}");
    // Rebuilding a Net from a Sequential's checkpoint names the saved module.
    let p3 = dir.join("seq2.ckpt");
    Sequential::new().add(Linear::new(2, 2)).save(&p3).unwrap();
    let Err(err) = Net::load(&p3, &Device::cpu()) else {
        panic!("a Sequential's checkpoint rebuilt a Net")
    };
    assert!(err.to_string().contains("Sequential"), "{err}");
}

#[test]
fn the_configuration_rebuilds_through_layer_config() {
    let net = Net::from_module_config(&CFG).unwrap();
    let cfg = net.config().unwrap();
    let json = serde_json::to_string(&cfg).unwrap();
    let back: neurite::nn::LayerConfig = serde_json::from_str(&json).unwrap();
    let rebuilt = build_from_config::<Net>(&back, &Device::cpu()).unwrap();
    assert_eq!(rebuilt.num_parameters(), net.num_parameters());
    assert!(build_from_config::<Net>(&Linear::new(1, 1).config().unwrap(), &Device::cpu()).is_err());
}

// ---- non-strict loading against PyTorch's fixture (tests/fixtures/nonstrict_torch.py) ----

#[derive(Module)]
struct TorchBlock {
    conv: Conv2d,
    bn: BatchNorm2d,
}

#[derive(Module)]
struct Target {
    stem: Conv2d,
    blocks: Vec<TorchBlock>,
    classifier: Sequential,
}

fn torch_target() -> Target {
    Target {
        stem: Conv2d::new(1, 4, 3),
        blocks: vec![TorchBlock {
            conv: Conv2d::new(4, 4, 3).with_padding(1),
            bn: BatchNorm2d::new(4),
        }],
        classifier: Sequential::new()
            .add(Linear::new(4, 8))
            .add(ReLU)
            .add(Linear::new(8, 3)),
    }
}

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/nonstrict_torch.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

const SOURCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/nonstrict_torch.safetensors"
);

#[test]
fn non_strict_loading_reports_the_keys_pytorch_reports() {
    let fx = fixture();
    let mut model = torch_target();
    let mut ours: Vec<String> = model.named_tensors().into_iter().map(|(n, _)| n).collect();
    let mut theirs = strings(&fx["target_keys"]);
    ours.sort();
    theirs.sort();
    assert_eq!(
        ours, theirs,
        "the derived model names its tensors as PyTorch's state_dict"
    );

    let before = model.classifier.named_parameters()[0].1.to_vec::<f32>().unwrap();
    let report = model.load_safetensors_non_strict(SOURCE).unwrap();
    assert_eq!(report.missing_keys, strings(&fx["missing_keys"]));
    assert_eq!(report.unexpected_keys, strings(&fx["unexpected_keys"]));
    let row: Vec<f32> = fx["stem_weight_row"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    let stem = model.stem.weight().to_vec::<f32>().unwrap();
    assert_eq!(&stem[..3], &row[..], "matching tensors are loaded");
    assert_eq!(
        model.classifier.named_parameters()[0].1.to_vec::<f32>().unwrap(),
        before,
        "missing tensors keep their values"
    );

    // Strict loading refuses the same file, listing both kinds of key.
    let err = torch_target().load_safetensors(SOURCE).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("missing \"classifier.0.weight\"") && msg.contains("unexpected \"head.bias\""),
        "{msg}"
    );
}

#[test]
fn non_strict_loading_still_refuses_a_shape_mismatch_and_changes_nothing() {
    let mut model = torch_target();
    model.stem = Conv2d::new(1, 5, 3); // 5 channels where the file has 4
    let before = model.named_tensors()[2].1.to_vec::<f32>().unwrap();
    let err = model.load_safetensors_non_strict(SOURCE).unwrap_err();
    assert!(err.to_string().contains("\"stem.weight\": shape"), "{err}");
    assert_eq!(model.named_tensors()[2].1.to_vec::<f32>().unwrap(), before);
}
