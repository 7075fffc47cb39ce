//! Hostile bodies behind a valid header and checksum: the decoder and the
//! content checks must refuse them with clear errors, without panicking,
//! overflowing the stack or allocating what the file does not hold.

use crate::common::problem;
use neurite::checkpoint::CheckpointKind;
use neurite::checkpoint::CheckpointProblem as P;
use neurite::checkpoint::format::encode_frame;
use neurite::nn::{LayerConfig, Sequential, SequentialConfig};
use neurite::{Device, Error};
use serde::{Serialize, Serializer};

/// Mirrors the crate's private model body (format 2), to craft bodies field by field.
#[derive(Serialize)]
struct Body {
    module: String,
    architecture: Option<LayerConfig>,
    training: bool,
    tensors: Vec<Record>,
}

#[derive(Serialize)]
struct Record {
    name: String,
    dtype: u8,
    stored: u8,
    shape: Vec<u64>,
    data: Bytes,
}

struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap()
}

fn load_body(body: &[u8]) -> Result<Sequential, Error> {
    Sequential::from_checkpoint_bytes(&encode_frame(CheckpointKind::Model, body), &Device::cpu())
}

fn linear(i: usize, o: usize) -> LayerConfig {
    LayerConfig::Linear {
        in_features: i,
        out_features: o,
        bias: false,
    }
}

fn f32_record(name: &str, shape: &[u64], n_bytes: usize) -> Record {
    Record {
        name: name.into(),
        dtype: 1,
        stored: 1,
        shape: shape.to_vec(),
        data: Bytes(vec![0; n_bytes]),
    }
}

fn body(layers: Vec<LayerConfig>, tensors: Vec<Record>) -> Vec<u8> {
    encode(&Body {
        module: "Sequential".into(),
        architecture: Some(LayerConfig::Sequential(SequentialConfig { layers })),
        training: false,
        tensors,
    })
}

#[test]
fn the_mirror_matches_the_real_format() {
    let ok = body(vec![linear(2, 1)], vec![f32_record("0.weight", &[1, 2], 8)]);
    let m = load_body(&ok).unwrap();
    assert_eq!(m.len(), 1);
}

#[test]
fn nesting_a_million_deep_is_refused_without_overflowing_the_stack() {
    // The encoding of `LayerConfig::Sequential` holding one layer, repeated.
    let one = encode(&LayerConfig::Sequential(SequentialConfig { layers: vec![] }));
    let tag = &one[..one.len() - 1]; // variant tag; the last byte is the empty Vec's length
    // An empty module name, `Some` architecture, then the nested layers.
    let mut body = vec![0u8, 1];
    for _ in 0..1_000_000 {
        body.extend_from_slice(tag);
        body.push(1);
    }
    // Run on a small stack to show the limit holds well inside it.
    let result = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || load_body(&body).map(|_| ()))
        .unwrap()
        .join()
        .unwrap();
    let err = result.unwrap_err();
    assert_eq!(problem(&err), P::Undecodable);
    assert!(err.to_string().contains("nesting deeper than"), "{err}");
}

#[test]
fn a_huge_declared_string_is_not_allocated() {
    // Empty module name, no architecture, training flag, one record whose name claims 2^60 bytes.
    let mut body = vec![0u8, 0, 0, 1];
    body.push(253); // bincode varint: a u64 follows
    body.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let err = load_body(&body).unwrap_err();
    assert_eq!(problem(&err), P::Undecodable);
}

#[test]
fn huge_declared_sequences_and_byte_strings_are_not_allocated() {
    // One record with a shape of 2^60 dims.
    let mut body = vec![0u8, 0, 0, 1, 1, b'w', 1, 1];
    body.push(253);
    body.extend_from_slice(&(1u64 << 60).to_le_bytes());
    assert_eq!(problem(&load_body(&body).unwrap_err()), P::Undecodable);
    // One record whose data claims 2^62 bytes.
    let mut body = vec![0u8, 0, 0, 1, 1, b'w', 1, 1, 1, 4];
    body.push(253);
    body.extend_from_slice(&(1u64 << 62).to_le_bytes());
    assert_eq!(problem(&load_body(&body).unwrap_err()), P::Undecodable);
}

#[test]
fn byte_counts_must_match_shapes() {
    let b = body(vec![linear(2, 1)], vec![f32_record("0.weight", &[1, 2], 7)]);
    let err = load_body(&b).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("needs 8 bytes, the record holds 7"), "{err}");
}

#[test]
fn overflowing_shapes_are_refused() {
    for shape in [vec![1u64 << 40, 1 << 40], vec![0, 1 << 62, 1 << 62], vec![u64::MAX]] {
        let b = body(vec![], vec![f32_record("t", &shape, 0)]);
        let err = load_body(&b).unwrap_err();
        assert_eq!(problem(&err), P::InvalidContent, "{shape:?}: {err}");
    }
    let b = body(vec![], vec![f32_record("t", &[1; 65], 4)]);
    assert!(load_body(&b).unwrap_err().to_string().contains("rank 65"));
}

#[test]
fn names_must_be_unique() {
    let b = body(
        vec![linear(2, 1)],
        vec![f32_record("0.weight", &[1, 2], 8), f32_record("0.weight", &[1, 2], 8)],
    );
    let err = load_body(&b).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("more than once"), "{err}");
}

#[test]
fn unknown_dtypes_and_bad_narrowings_are_refused() {
    let mut r = f32_record("0.weight", &[1, 2], 8);
    r.dtype = 42;
    assert_eq!(
        problem(&load_body(&body(vec![linear(2, 1)], vec![r])).unwrap_err()),
        P::InvalidContent
    );
    let mut r = f32_record("0.weight", &[1, 2], 8);
    r.dtype = 5; // i64 stored as f32
    let err = load_body(&body(vec![linear(2, 1)], vec![r])).unwrap_err();
    assert!(err.to_string().contains("cannot be stored as"), "{err}");
}

#[test]
fn an_architecture_larger_than_its_tensors_is_refused_before_building() {
    // Building this would allocate 2^40 weights; the file stores none.
    let b = body(vec![linear(1 << 20, 1 << 20)], vec![]);
    let err = load_body(&b).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("needs at least"), "{err}");
    // Shapes that cannot exist at all.
    let conv = LayerConfig::Conv2d {
        in_channels: 1 << 40,
        out_channels: 0,
        kernel_size: [1 << 20, 1 << 20],
        stride: [1, 1],
        padding: [0, 0],
        bias: false,
    };
    let err = load_body(&body(vec![conv], vec![])).unwrap_err();
    assert!(err.to_string().contains("cannot exist"), "{err}");
}

#[test]
fn architecture_and_tensors_that_disagree_are_refused() {
    let b = body(vec![linear(2, 1)], vec![f32_record("0.weight", &[2, 1], 8)]);
    let err = load_body(&b).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("do not fit the stored architecture"), "{err}");
}

#[test]
fn invalid_hyperparameters_and_unknown_custom_layers_are_refused() {
    let err = load_body(&body(vec![LayerConfig::Dropout { p: 7.0 }], vec![])).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    let custom = LayerConfig::Custom {
        name: "NotRegisteredAnywhere".into(),
        params: serde_json::json!({}),
    };
    let err = load_body(&body(vec![custom], vec![])).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("register_layer"), "{err}");
}

#[test]
fn trailing_bytes_inside_the_body_are_refused() {
    let mut b = body(vec![linear(2, 1)], vec![f32_record("0.weight", &[1, 2], 8)]);
    b.push(0);
    let err = load_body(&b).unwrap_err();
    assert_eq!(problem(&err), P::Undecodable);
    assert!(err.to_string().contains("trailing"), "{err}");
}

#[test]
fn a_non_affine_norm_layer_cannot_allocate_beyond_the_file() {
    // Found by the fuzzer: a non-affine LayerNorm stores nothing but builds its
    // scale and shift before dropping them.
    let ln = LayerConfig::LayerNorm {
        normalized_shape: vec![1 << 30, 1 << 20],
        eps: 1e-5,
        elementwise_affine: false,
    };
    let err = load_body(&body(vec![ln], vec![])).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("would allocate"), "{err}");
}

#[test]
fn a_convolution_without_bias_cannot_allocate_its_unused_bias() {
    // Found by the fuzzer: no weights (in_channels 0), no bias kept, but the
    // constructor builds a bias of out_channels before dropping it.
    let conv = LayerConfig::Conv2d {
        in_channels: 0,
        out_channels: 4_000_000_000,
        kernel_size: [1, 1],
        stride: [1, 1],
        padding: [0, 0],
        bias: false,
    };
    let err = load_body(&body(vec![conv], vec![])).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("would allocate"), "{err}");
}

#[test]
fn absurd_pooling_and_convolution_windows_are_refused() {
    // Found by the fuzzer: a pooling padding near usize::MAX overflowed the
    // layer's own validation.
    let pool = LayerConfig::MaxPool2d {
        kernel_size: [2, 2],
        stride: [2, 2],
        padding: [usize::MAX / 2 + 7, 0],
    };
    let err = load_body(&body(vec![pool], vec![])).unwrap_err();
    assert_eq!(problem(&err), P::InvalidContent);
    assert!(err.to_string().contains("above the maximum"), "{err}");
    let conv = LayerConfig::Conv2d {
        in_channels: 1,
        out_channels: 1,
        kernel_size: [1, 1],
        stride: [1, 1],
        padding: [1 << 40, 0],
        bias: false,
    };
    let err = load_body(&body(vec![conv], vec![f32_record("0.weight", &[1, 1, 1, 1], 4)])).unwrap_err();
    assert!(err.to_string().contains("above the maximum"), "{err}");
}
