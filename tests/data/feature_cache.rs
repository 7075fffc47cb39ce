//! Feature caching: the cached outputs equal the frozen part's evaluation-mode
//! forward pass, a head trained on them ends with the same weights as the same
//! head trained behind the frozen part, the cache survives a save and load,
//! and bad input is an error.

use neurite::data::{Dataset, cache_features, cache_features_with, load_cached_features, save_cached_features};
use neurite::loss::cross_entropy;
use neurite::nn::{BatchNorm1d, Dropout, Forward, Linear, Module, ReLU, Sequential};
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::{Device, Tensor, manual_seed};

fn data(n: usize) -> Dataset {
    let dev = Device::cpu();
    let x = Tensor::randn((n, 6), neurite::DType::F32, &dev).unwrap();
    let y = Tensor::from_vec((0..n as i64).map(|i| i % 3).collect(), n, &dev).unwrap();
    Dataset::new(x, y).unwrap()
}

/// A trunk whose output depends on the mode (BatchNorm, Dropout), with
/// running statistics moved away from their initial values.
fn trunk(train_on: &Dataset) -> Sequential {
    let t = Sequential::new()
        .add(Linear::new(6, 16))
        .add(BatchNorm1d::new(16))
        .add(ReLU)
        .add(Dropout::new(0.5));
    for _ in 0..3 {
        t.forward(train_on.features()).unwrap();
    }
    t
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.to_vec::<f32>()
        .unwrap()
        .iter()
        .zip(b.to_vec::<f32>().unwrap())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn cached_features_are_the_eval_mode_forward_and_the_mode_is_restored() {
    manual_seed(11);
    let ds = data(37);
    let mut t = trunk(&ds);
    assert!(t.is_training());
    let cached = cache_features(&mut t, &ds, 8).unwrap();
    assert!(t.is_training(), "the trunk's training mode is restored");
    t.eval();
    let want = t.forward(ds.features()).unwrap();
    assert_eq!(cached.features().dims(), &[37, 16]);
    assert!(max_abs_diff(cached.features(), &want) < 1e-6);
    assert!(!cached.features().tracks_grad());
    assert_eq!(
        cached.targets().to_vec1::<i64>().unwrap(),
        ds.targets().to_vec1::<i64>().unwrap()
    );
}

#[test]
fn head_on_cached_features_equals_head_behind_the_frozen_trunk() {
    manual_seed(3);
    let ds = data(40);
    let mut t = trunk(&ds);
    let head_a = Sequential::new().add(Linear::new(16, 3));
    let head_b = Sequential::new().add(Linear::new(16, 3));
    for ((_, a), (_, b)) in head_a.named_parameters().iter().zip(head_b.named_parameters()) {
        b.set_data(a).unwrap();
    }
    let cached = cache_features(&mut t, &ds, 16).unwrap();
    t.eval();
    let mut opt_a = Sgd::new(head_a.parameters(), SgdConfig::new(0.1)).unwrap();
    let mut opt_b = Sgd::new(head_b.parameters(), SgdConfig::new(0.1)).unwrap();
    for _epoch in 0..3 {
        for start in (0..40).step_by(10) {
            let (xc, y) = cached.range(start, 10).unwrap();
            let g = cross_entropy(&head_a.forward(&xc).unwrap(), &y)
                .unwrap()
                .backward()
                .unwrap();
            opt_a.step(&g).unwrap();
            let (x, y) = ds.range(start, 10).unwrap();
            let logits = head_b.forward(&t.forward(&x).unwrap()).unwrap();
            let g = cross_entropy(&logits, &y).unwrap().backward().unwrap();
            opt_b.step(&g).unwrap();
        }
    }
    for ((name, a), (_, b)) in head_a.named_parameters().iter().zip(head_b.named_parameters()) {
        let d = max_abs_diff(a, &b);
        assert!(d < 1e-5, "{name} differs by {d}");
    }
    // Joined back, trunk then head is the whole model again.
    let (x, _) = ds.range(0, 5).unwrap();
    let whole = t.append(head_a);
    assert_eq!(whole.len(), 5);
    assert!(
        max_abs_diff(
            &whole.forward(&x).unwrap(),
            &head_b.forward(&cached.range(0, 5).unwrap().0).unwrap()
        ) < 1e-5
    );
}

#[test]
fn split_at_gives_the_prefix_and_the_rest() {
    let model = Sequential::new()
        .add(Linear::new(6, 4))
        .add(ReLU)
        .add(Linear::new(4, 2));
    let x = Tensor::randn((3, 6), neurite::DType::F32, &Device::cpu()).unwrap();
    let want = model.forward(&x).unwrap();
    let (a, b) = model.split_at(1).unwrap();
    assert_eq!((a.len(), b.len()), (1, 2));
    assert!(max_abs_diff(&b.forward(&a.forward(&x).unwrap()).unwrap(), &want) < 1e-6);
    let err = a.split_at(2).unwrap_err().to_string();
    assert!(err.contains("Sequential::split_at") && err.contains("at 2"), "{err}");
}

#[test]
fn side_tensors_are_kept_and_the_closure_form_merges_inputs() {
    let dev = Device::cpu();
    let image = Tensor::from_vec((0..12).map(|v| v as f32).collect(), (4, 3), &dev).unwrap();
    let side = Tensor::from_vec(vec![1f64, 2., 3., 4.], (4, 1), &dev).unwrap();
    let label = Tensor::from_vec(vec![0i64, 1, 1, 0], 4, &dev).unwrap();
    let ds = Dataset::from_tensors(vec![image, side.clone(), label]).unwrap();
    let mut first = Sequential::new().add(Linear::new(3, 2));
    let cached = cache_features(&mut first, &ds, 3).unwrap();
    assert_eq!(cached.num_tensors(), 3);
    assert_eq!(
        cached.tensor(1).unwrap().to_vec2::<f64>().unwrap(),
        side.to_vec2::<f64>().unwrap()
    );

    let sums = cache_features_with(&ds, 3, |b| b.get(0)?.sum_dim(1, true)).unwrap();
    assert_eq!(sums.num_tensors(), 2);
    assert_eq!(
        sums.features().to_vec2::<f32>().unwrap(),
        vec![vec![3.], vec![12.], vec![21.], vec![30.]]
    );
    assert_eq!(sums.targets().to_vec1::<i64>().unwrap(), vec![0, 1, 1, 0]);
}

#[test]
fn a_saved_cache_loads_back_equal_and_other_files_are_refused() {
    let dir = crate::scratch_dir("feature_cache");
    let ds = data(9);
    let mut t = Sequential::new().add(Linear::new(6, 5));
    let cached = cache_features(&mut t, &ds, 4).unwrap();
    let path = dir.join("features.safetensors");
    save_cached_features(&path, &cached).unwrap();
    let back = load_cached_features(&path, &Device::cpu()).unwrap();
    assert_eq!(back.num_tensors(), 2);
    assert_eq!(
        back.features().to_vec2::<f32>().unwrap(),
        cached.features().to_vec2::<f32>().unwrap()
    );
    assert_eq!(
        back.targets().to_vec1::<i64>().unwrap(),
        cached.targets().to_vec1::<i64>().unwrap()
    );

    let junk = dir.join("junk");
    std::fs::write(&junk, b"not a safetensors file at all").unwrap();
    assert!(load_cached_features(&junk, &Device::cpu()).is_err());

    let renamed = dir.join("renamed.safetensors");
    neurite::checkpoint::write_safetensors(&renamed, &[("x".into(), cached.features().clone())]).unwrap();
    let err = load_cached_features(&renamed, &Device::cpu()).unwrap_err().to_string();
    assert!(err.contains("\"0\""), "{err}");

    let ragged = dir.join("ragged.safetensors");
    let short = Tensor::from_vec(vec![0i64, 1], 2, &Device::cpu()).unwrap();
    neurite::checkpoint::write_safetensors(&ragged, &[("0".into(), cached.features().clone()), ("1".into(), short)])
        .unwrap();
    let err = load_cached_features(&ragged, &Device::cpu()).unwrap_err().to_string();
    assert!(err.contains("not a cached dataset"), "{err}");
}

#[test]
fn bad_input_is_an_error() {
    let ds = data(5);
    let mut t = Sequential::new().add(Linear::new(6, 2));
    let err = cache_features(&mut t, &ds, 0).unwrap_err().to_string();
    assert!(err.contains("batch_size"), "{err}");
    let empty = ds.subset(&[]).unwrap();
    let err = cache_features(&mut t, &empty, 4).unwrap_err().to_string();
    assert!(err.contains("no samples"), "{err}");
    let err = cache_features_with(&ds, 2, |_| Tensor::zeros((7, 2), neurite::DType::F32, &Device::cpu()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("[7, 2]") && err.contains("batch of 2"), "{err}");
    let mut wrong = Sequential::new().add(Linear::new(3, 2));
    assert!(cache_features(&mut wrong, &ds, 2).is_err());
}
