//! Tensor names, order and shapes against PyTorch's for the same architectures.

use crate::models::{Block, Either, Net, Pair, Wrapper};
use neurite::Tensor;
use neurite::nn::{Linear, Module};
use serde_json::Value;

fn fixture(model: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/derive_names_torch.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let all: Value = serde_json::from_str(&text).expect("fixture JSON");
    all["models"][model].clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn names(tensors: Vec<(String, Tensor)>) -> Vec<String> {
    tensors.into_iter().map(|(n, _)| n).collect()
}

/// `named_parameters` and `named_buffers` in PyTorch's order; `named_tensors`
/// holds exactly the `state_dict` keys (PyTorch interleaves each module's own
/// parameters and buffers there, neurite lists parameters first); shapes and
/// the parameter count match.
fn assert_matches_torch(model: &dyn Module, key: &str) {
    let f = fixture(key);
    assert_eq!(
        names(model.named_parameters()),
        strings(&f["named_parameters"]),
        "{key}"
    );
    assert_eq!(names(model.named_buffers()), strings(&f["named_buffers"]), "{key}");
    let mut ours = names(model.named_tensors());
    let mut theirs = strings(&f["state_dict"]);
    assert_eq!(ours.len(), theirs.len(), "{key}: {ours:?}");
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "{key}");
    for (n, t) in model.named_tensors() {
        let shape: Vec<usize> = f["shapes"][&n]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: no shape for {n}"))
            .iter()
            .map(|d| d.as_u64().expect("dim") as usize)
            .collect();
        assert_eq!(t.dims(), shape.as_slice(), "{key}: {n}");
    }
    assert_eq!(
        model.num_parameters() as u64,
        f["num_parameters"].as_u64().expect("count"),
        "{key}"
    );
}

#[test]
fn net_names_match_pytorch() {
    assert_matches_torch(&Net::new(true), "net");
}

#[test]
fn a_none_option_registers_nothing() {
    let net = Net::new(false);
    assert_matches_torch(&net, "net_without_extra");
    assert!(net.named_tensors().iter().all(|(n, _)| !n.starts_with("extra")));
    assert!(net.named_modules().iter().all(|(n, _)| !n.starts_with("extra")));
}

#[test]
fn generic_wrapper_names_match_pytorch() {
    assert_matches_torch(&Wrapper::new(Block::new(1, 4, 1), 4), "wrapper_block");
}

#[test]
fn tuple_struct_names_match_pytorch() {
    assert_matches_torch(&Pair::new(), "pair");
}

#[test]
fn nested_generics_prefix_every_level() {
    let w = Wrapper::new(Wrapper::new(Linear::new(2, 3), 3), 3);
    assert_eq!(
        names(w.named_parameters()),
        ["gain", "inner.gain", "inner.inner.weight", "inner.inner.bias"]
    );
    let boxed: Wrapper<Box<dyn neurite::nn::Forward>> = Wrapper::new(Box::new(Linear::new(2, 3)), 3);
    assert_eq!(names(boxed.named_parameters()), ["gain", "inner.weight", "inner.bias"]);
}

#[test]
fn unbounded_generics_take_any_registrable_field() -> neurite::Result<()> {
    let dev = neurite::Device::cpu();
    let e = Either {
        first: Linear::new(2, 3),
        second: Some(Tensor::zeros(3, neurite::DType::F32, &dev)?),
    };
    assert_eq!(names(e.named_parameters()), ["second", "first.weight", "first.bias"]);
    let e: Either<Vec<Tensor>, Block> = Either {
        first: vec![Tensor::zeros(2, neurite::DType::F32, &dev)?],
        second: None,
    };
    assert_eq!(names(e.named_parameters()), ["first.0"]);
    assert!(e.children().is_empty());
    Ok(())
}

#[test]
fn named_modules_lists_every_container_and_layer() {
    let net = Net::new(true);
    let got: Vec<String> = net
        .named_modules()
        .into_iter()
        .map(|(n, m)| format!("{n}:{}", m.name()))
        .collect();
    let block = |p: &str| {
        [
            format!("{p}:Block"),
            format!("{p}.conv1:Conv2d"),
            format!("{p}.bn1:BatchNorm2d"),
            format!("{p}.drop:Dropout"),
        ]
    };
    let mut want: Vec<String> = block("stem").into();
    want.push("blocks:ModuleList".into());
    want.extend(block("blocks.0"));
    want.extend(block("blocks.1"));
    want.extend(block("extra"));
    want.extend(
        [
            "act:Sequential",
            "act.0:Linear",
            "act.1:ReLU",
            "heads:ModuleList",
            "heads.0:Linear",
            "heads.1:ReLU",
            "heads.2:Linear",
            "dict:ModuleDict",
            "dict.digits:Linear",
            "dict.parity:Linear",
            "fc:Linear",
        ]
        .map(String::from),
    );
    assert_eq!(got, want);
}
