//! Loading by name and `assign_named`, routed through every kind of child.

use crate::models::{Net, input};
use crate::values;
use neurite::nn::{Forward, Module};
use neurite::{DType, Device, Result, Tensor, no_grad};
use std::collections::HashMap;

fn lookup(net: &Net, name: &str) -> Tensor {
    net.named_tensors()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no tensor {name}"))
        .1
}

/// A model whose every tensor differs from a fresh one's (trained batch-norm statistics).
fn trained_source() -> Result<Net> {
    let net = Net::new(true);
    no_grad(|| net.forward(&input(4)))?;
    Ok(net)
}

#[test]
fn non_strict_loading_reports_missing_and_unexpected_keys() -> Result<()> {
    let src = trained_source()?;
    let mut dst = Net::new(true);
    let before: HashMap<String, Vec<f64>> = dst
        .named_tensors()
        .iter()
        .map(|(n, t)| (n.clone(), values(t)))
        .collect();
    let mut map: HashMap<String, Tensor> = src.named_tensors().into_iter().collect();
    map.remove("blocks.1.conv1.weight");
    map.remove("extra.bn1.running_var");
    let dev = Device::cpu();
    map.insert(
        "blocks.2.conv1.weight".into(),
        Tensor::zeros((4, 4, 3, 3), DType::F32, &dev)?,
    );
    map.insert("nope".into(), Tensor::zeros(1, DType::F32, &dev)?);

    let report = dst.load_named_tensors_with(&map, false)?;
    assert_eq!(report.missing_keys, ["blocks.1.conv1.weight", "extra.bn1.running_var"]);
    assert_eq!(report.unexpected_keys, ["blocks.2.conv1.weight", "nope"]);
    assert!(!report.is_complete());
    for (n, t) in dst.named_tensors() {
        let want = map.get(&n).map_or_else(|| before[&n].clone(), values);
        assert_eq!(values(&t), want, "{n}");
    }
    assert_eq!(dst.blocks[0].bn1.num_batches_tracked(), 1, "the counter is loaded too");

    let err = Net::new(true).load_named_tensors_with(&map, true).expect_err("strict");
    let msg = err.to_string();
    for key in [
        "blocks.1.conv1.weight",
        "extra.bn1.running_var",
        "blocks.2.conv1.weight",
        "nope",
    ] {
        assert!(msg.contains(key), "{msg}");
    }
    Ok(())
}

#[test]
fn a_none_option_makes_its_tensors_unexpected() -> Result<()> {
    let src = trained_source()?;
    let map: HashMap<String, Tensor> = src.named_tensors().into_iter().collect();
    let mut dst = Net::new(false);
    let report = dst.load_named_tensors_with(&map, false)?;
    assert!(report.missing_keys.is_empty());
    let suffixes = [
        "bn1.bias",
        "bn1.num_batches_tracked",
        "bn1.running_mean",
        "bn1.running_var",
        "bn1.weight",
    ];
    let mut want: Vec<String> = suffixes.iter().map(|s| format!("extra.{s}")).collect();
    want.extend(["extra.conv1.bias".to_string(), "extra.conv1.weight".to_string()]);
    assert_eq!(report.unexpected_keys, want);
    assert_eq!(
        values(&lookup(&dst, "blocks.1.bn1.running_mean")),
        values(&lookup(&src, "blocks.1.bn1.running_mean"))
    );
    Ok(())
}

#[test]
fn assign_named_routes_through_every_kind_of_child() -> Result<()> {
    let dev = Device::cpu();
    let mut net = Net::new(true);
    let filled = |shape: &[usize], v: f64| Tensor::full(v, shape.to_vec(), DType::F32, &dev);
    let cases: [(&str, &[usize]); 10] = [
        ("blocks.1.bn1.running_mean", &[4]),
        ("blocks.0.conv1.weight", &[4, 4, 3, 3]),
        ("extra.conv1.bias", &[4]),
        ("stem.bn1.weight", &[4]),
        ("act.0.bias", &[8]),
        ("heads.2.bias", &[5]),
        ("dict.parity.weight", &[3, 5]),
        ("scale", &[3]),
        ("running", &[3]),
        ("fc.weight", &[3, 5]),
    ];
    for (i, (name, shape)) in cases.iter().enumerate() {
        net.assign_named(name, &filled(shape, i as f64 + 0.5)?)?;
    }
    // Read back through the fields where they are reachable, by name otherwise.
    let n = |t: &Tensor| t.elem_count();
    let rm = net.blocks[1].bn1.running_mean();
    assert_eq!(values(rm), vec![0.5; n(rm)]);
    let w = net.blocks[0].conv1.weight();
    assert_eq!(values(w), vec![1.5; n(w)]);
    let b = net.extra.as_ref().expect("extra").conv1.bias().expect("bias");
    assert_eq!(values(b), vec![2.5; 4]);
    assert_eq!(values(net.stem.bn1.weight().expect("affine")), vec![3.5; 4]);
    for (i, name) in ["act.0.bias", "heads.2.bias", "dict.parity.weight"].iter().enumerate() {
        let t = lookup(&net, name);
        assert_eq!(values(&t), vec![i as f64 + 4.5; n(&t)], "{name}");
    }
    assert_eq!(values(&net.scale), vec![7.5; 3]);
    assert_eq!(values(&net.running), vec![8.5; 3]);
    assert_eq!(values(net.head_linear.weight()), vec![9.5; 15]);
    assert!(
        net.scale.is_requires_grad(),
        "assignment keeps the parameter a trainable leaf"
    );

    net.assign_named("stem.bn1.num_batches_tracked", &Tensor::from_vec(vec![7i64], (), &dev)?)?;
    assert_eq!(net.stem.bn1.num_batches_tracked(), 7);

    for bad in [
        "blocks.7.conv1.weight",
        "head_linear.weight",
        "label",
        "blocks.0.stride",
    ] {
        let err = net.assign_named(bad, &filled(&[4], 0.0)?).expect_err(bad);
        assert!(err.to_string().contains("has no tensor named"), "{bad}: {err}");
    }
    let err = net.assign_named("scale", &filled(&[4], 0.0)?).expect_err("wrong shape");
    assert!(
        err.to_string().contains("[4]") && err.to_string().contains("[3]"),
        "{err}"
    );
    let err = Net::new(false)
        .assign_named("extra.conv1.bias", &filled(&[4], 0.0)?)
        .expect_err("an absent block has no tensors");
    assert!(err.to_string().contains("extra.conv1.bias"), "{err}");
    Ok(())
}
