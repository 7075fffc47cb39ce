//! Unstructured pruning (`neurite::nn::prune`): masks against
//! torch.nn.utils.prune (tests/fixtures/prune_torch.json), hand-computed
//! masks with ties, global pruning across layers, fine-tuning with `fit`,
//! the gradual schedule, the sparsity report, saving, and every error.

use crate::rng_lock;
use neurite::checkpoint::{CheckpointProblem, TrainingSnapshot, load_training, save_training};
use neurite::data::Dataset;
use neurite::nn::prune::{
    GradualPruning, MaskedOptimizer, PolynomialSchedule, PruningCallback, PruningMasks, PruningScope, SparsityReport,
    global_unstructured, l1_unstructured, random_unstructured,
};
use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::train::{Callback, CallbackContext, History, Logs, Trainer};
use neurite::{DType, Device, Result, Tensor};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

fn cpu() -> Device {
    Device::cpu()
}

fn fixture(name: &str) -> &'static Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let path = std::path::Path::new(&dir).join("tests/fixtures/prune_torch.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture file")).expect("fixture JSON")
    });
    let c = &all["cases"][name];
    assert!(
        !c.is_null(),
        "fixture case {name} missing: rerun tests/fixtures/prune_torch.py"
    );
    c
}

fn data_of(v: &Value) -> Vec<f64> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn shape_of(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn tensor_of(v: &Value) -> Tensor {
    Tensor::from_vec(data_of(v), shape_of(v), &cpu()).unwrap()
}

/// A torch 1.0 / 0.0 mask as keep flags.
fn flags_of(v: &Value) -> Vec<bool> {
    data_of(v).iter().map(|x| *x == 1.0).collect()
}

fn flags(s: &str) -> Vec<bool> {
    s.chars().map(|c| c == '1').collect()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

fn param(model: &dyn Module, name: &str) -> Tensor {
    model
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .1
}

fn set(model: &dyn Module, name: &str, data: Vec<f64>) {
    let p = param(model, name);
    let t = Tensor::from_vec(data, p.dims(), &cpu())
        .unwrap()
        .to_dtype(p.dtype())
        .unwrap();
    p.set_data(&t).unwrap();
}

/// A `Linear(inp, out)` in f64.
fn linear64(inp: usize, out: usize) -> Linear {
    let mut l = Linear::new(inp, out);
    l.to_dtype(DType::F64).unwrap();
    l
}

fn zero_positions(t: &Tensor) -> Vec<bool> {
    values(t).iter().map(|v| *v == 0.0).collect()
}

fn pruned_positions(masks: &PruningMasks, name: &str) -> Vec<bool> {
    masks.keep_flags(name).unwrap().iter().map(|k| !k).collect()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neurite-prune-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn message(e: neurite::Error) -> String {
    e.to_string()
}

// ------------------------------------------------------------------ against PyTorch

#[test]
fn repeated_l1_pruning_composes_like_torch() {
    let case = fixture("l1_iterative");
    let layer = linear64(5, 4);
    layer.weight().set_data(&tensor_of(&case["weight"])).unwrap();
    let mut masks = PruningMasks::new();
    for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let amount = step["amount"].as_f64().unwrap();
        masks.l1_unstructured(&layer, "weight", amount).unwrap();
        assert_eq!(
            masks.keep_flags("weight").unwrap(),
            flags_of(&step["mask"]),
            "step {i} (amount {amount})"
        );
        assert_eq!(
            values(layer.weight()),
            data_of(&step["weight"]),
            "step {i}: weight * mask"
        );
    }
    assert_eq!(
        masks.num_pruned("weight"),
        Some(15),
        "6, then 7 of the 14 left, then 2 of the 7 left"
    );
}

#[test]
fn pruned_counts_round_half_to_even_like_python() {
    for case in fixture("rounding").as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let amount = case["amount"].as_f64().unwrap();
        let layer = linear64(n, 1);
        layer.weight().set_data(&tensor_of(&case["weight"])).unwrap();
        let masks = l1_unstructured(&layer, "weight", amount).unwrap();
        assert_eq!(
            masks.keep_flags("weight").unwrap(),
            flags_of(&case["mask"]),
            "n {n}, amount {amount}"
        );
    }
}

#[test]
fn global_pruning_after_a_layer_prune_matches_torch() {
    let case = fixture("global");
    let mut model = Sequential::new()
        .add(Linear::new(4, 3))
        .add(ReLU)
        .add(Linear::new(3, 5));
    model.to_dtype(DType::F64).unwrap();
    for name in ["0.weight", "2.weight"] {
        param(&model, name)
            .set_data(&tensor_of(&case["weights"][name]))
            .unwrap();
    }
    let mut masks = PruningMasks::new();
    masks
        .l1_unstructured(&model, "0.weight", case["layer_amount"].as_f64().unwrap())
        .unwrap();
    assert_eq!(masks.keep_flags("0.weight").unwrap(), flags_of(&case["after_layer"]));
    for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let amount = step["amount"].as_f64().unwrap();
        masks
            .global_unstructured(&model, &["0.weight", "2.weight"], amount)
            .unwrap();
        for name in ["0.weight", "2.weight"] {
            assert_eq!(
                masks.keep_flags(name).unwrap(),
                flags_of(&step["masks"][name]),
                "step {i}, {name}"
            );
            assert_eq!(zero_positions(&param(&model, name)), pruned_positions(&masks, name));
        }
    }
    assert_eq!(masks.names(), vec!["0.weight", "2.weight"]);
}

#[test]
fn custom_mask_then_l1_then_remove_match_torch() {
    let case = fixture("custom_then_l1");
    let layer = linear64(4, 3);
    layer.weight().set_data(&tensor_of(&case["weight"])).unwrap();
    let mut masks = PruningMasks::new();
    masks
        .custom_from_mask(&layer, "weight", &tensor_of(&case["custom"]))
        .unwrap();
    masks
        .l1_unstructured(&layer, "weight", case["amount"].as_f64().unwrap())
        .unwrap();
    assert_eq!(masks.keep_flags("weight").unwrap(), flags_of(&case["mask"]));
    masks.remove(&layer, "weight").unwrap();
    assert!(masks.is_empty());
    assert_eq!(values(layer.weight()), data_of(&case["removed"]));
}

// ------------------------------------------------------------------ by hand

#[test]
fn l1_ties_prune_the_lower_index_first() {
    let layer = linear64(6, 1);
    set(&layer, "weight", vec![1.0, -1.0, 0.5, 1.0, -0.5, 2.0]);
    // 3 of 6: both 0.5s, then the first of the three 1s.
    let mut masks = l1_unstructured(&layer, "weight", 0.5).unwrap();
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("010101"));
    assert_eq!(values(layer.weight()), vec![0.0, -1.0, 0.0, 1.0, 0.0, 2.0]);
    // Again, half of the 3 left, round(1.5) = 2: the -1 and the 1 (equal), not the 2.
    masks.l1_unstructured(&layer, "weight", 0.5).unwrap();
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("000001"));
    // Zero amount changes nothing; the bias has no mask.
    masks.l1_unstructured(&layer, "weight", 0.0).unwrap();
    assert_eq!(masks.num_pruned("weight"), Some(5));
    assert!(!masks.contains("bias"));
}

#[test]
fn pruned_weights_that_drifted_are_not_counted_again() {
    let layer = linear64(4, 1);
    set(&layer, "weight", vec![0.1, 0.2, 0.3, 0.4]);
    let mut masks = l1_unstructured(&layer, "weight", 0.25).unwrap(); // prunes 0.1
    // An optimizer moved the pruned entry (without re-applying); its mask still holds.
    set(&layer, "weight", vec![9.0, 0.2, 0.3, 0.4]);
    masks.l1_unstructured(&layer, "weight", 0.34).unwrap(); // round(1.02) = 1 of the 3 left: 0.2
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("0011"));
    assert_eq!(values(layer.weight()), vec![0.0, 0.0, 0.3, 0.4]);
}

#[test]
fn global_pruning_picks_across_layers() {
    let model = Sequential::new().add(linear64(2, 1)).add(ReLU).add(linear64(3, 1));
    set(&model, "0.weight", vec![0.3, 0.1]);
    set(&model, "2.weight", vec![-0.1, 0.2, 5.0]);
    let mut masks = global_unstructured(&model, &["0.weight", "2.weight"], 0.4).unwrap(); // 2 of 5
    assert_eq!(masks.keep_flags("0.weight").unwrap(), flags("10"));
    assert_eq!(masks.keep_flags("2.weight").unwrap(), flags("011"));
    masks
        .global_unstructured(&model, &["0.weight", "2.weight"], 0.34)
        .unwrap(); // 1 of the 3 left
    assert_eq!(masks.keep_flags("2.weight").unwrap(), flags("001"));
    assert_eq!(masks.keep_flags("0.weight").unwrap(), flags("10"));
    // Equal magnitudes in two layers: the first layer listed loses first.
    set(&model, "0.weight", vec![0.1, 0.5]);
    set(&model, "2.weight", vec![0.1, 0.7, 0.9]);
    let m = global_unstructured(&model, &["2.weight", "0.weight"], 0.2).unwrap(); // 1 of 5
    assert_eq!(m.keep_flags("2.weight").unwrap(), flags("011"));
    assert_eq!(m.keep_flags("0.weight").unwrap(), flags("11"));
    assert_eq!(m.names(), vec!["2.weight", "0.weight"]);
    // A layer of large weights keeps all of them.
    set(&model, "2.weight", vec![10.0, 20.0, 30.0]);
    let m = global_unstructured(&model, &["0.weight", "2.weight"], 0.4).unwrap();
    assert_eq!((m.num_pruned("0.weight"), m.num_pruned("2.weight")), (Some(2), Some(0)));
}

#[test]
fn random_pruning_is_seeded_and_prunes_among_the_remaining() {
    let layer = Linear::new(10, 10);
    let a = random_unstructured(&layer, "weight", 0.3, 11).unwrap();
    let b = random_unstructured(&layer, "weight", 0.3, 11).unwrap();
    let c = random_unstructured(&layer, "weight", 0.3, 12).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.keep_flags("weight"), c.keep_flags("weight"));
    assert_eq!(a.num_pruned("weight"), Some(30));
    let mut m = a.clone();
    m.random_unstructured(&layer, "weight", 0.5, 3).unwrap();
    assert_eq!(m.num_pruned("weight"), Some(65), "30, then 35 of the 70 left");
    let (before, after) = (a.keep_flags("weight").unwrap(), m.keep_flags("weight").unwrap());
    assert!(before.iter().zip(after).all(|(b, a)| *b || !*a), "nothing un-pruned");
    // Every call zeroed its own entries in the layer; m's are among them.
    let zeros = zero_positions(layer.weight());
    assert!(pruned_positions(&m, "weight").iter().zip(&zeros).all(|(p, z)| !p || *z));
}

#[test]
fn custom_masks_accept_bool_and_refuse_to_unprune() {
    let layer = Linear::new(2, 2);
    let mut masks = PruningMasks::new();
    let m = Tensor::from_vec(vec![true, false, true, true], (2, 2), &cpu()).unwrap();
    masks.custom_from_mask(&layer, "weight", &m).unwrap();
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("1011"));
    // Pruning more is fine; the same mask again too.
    let more = Tensor::from_vec(vec![1f32, 0.0, 0.0, 1.0], (2, 2), &cpu()).unwrap();
    masks.custom_from_mask(&layer, "weight", &more).unwrap();
    masks.custom_from_mask(&layer, "weight", &more).unwrap();
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("1001"));
    let revive = Tensor::from_vec(vec![1f32, 1.0, 1.0, 1.0], (2, 2), &cpu()).unwrap();
    let e = message(masks.custom_from_mask(&layer, "weight", &revive).unwrap_err());
    assert!(e.contains("un-prune 2 entries") && e.contains("index 1"), "{e}");
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("1001"), "unchanged");
    // After remove the entries are ordinary weights, and any mask goes.
    masks.remove(&layer, "weight").unwrap();
    masks.custom_from_mask(&layer, "weight", &revive).unwrap();
    assert_eq!(masks.num_pruned("weight"), Some(0));
    // The weight tensor itself can serve as a mask only if it holds 0/1.
    let e = message(masks.custom_from_mask(&layer, "weight", layer.weight()).unwrap_err());
    assert!(e.contains("0 and 1 only"), "{e}");
}

#[test]
fn mask_tensor_is_torchs_weight_mask() {
    let layer = linear64(4, 1);
    set(&layer, "weight", vec![0.4, 0.1, 0.3, 0.2]);
    let masks = l1_unstructured(&layer, "weight", 0.5).unwrap();
    let m = masks.mask_tensor("weight", DType::F32, &cpu()).unwrap();
    assert_eq!(m.dims(), &[1, 4]);
    assert_eq!(m.to_vec::<f32>().unwrap(), vec![1.0, 0.0, 1.0, 0.0]);
    assert_eq!(masks.shape("weight"), Some(&[1, 4][..]));
    assert!(masks.mask_tensor("bias", DType::F32, &cpu()).is_err());
}

#[test]
fn apply_and_mask_gradients_keep_momentum_from_reviving_weights() {
    let layer = linear64(3, 1);
    set(&layer, "weight", vec![0.5, -0.01, 0.2]);
    let masks = l1_unstructured(&layer, "weight", 0.34).unwrap(); // 1 of 3
    let mut opt = Sgd::new(
        layer.parameters(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], (1, 3), &cpu()).unwrap();
    for _ in 0..4 {
        let mut grads = layer
            .forward(&x)
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        masks.mask_gradients(&layer, &mut grads).unwrap();
        assert_eq!(values(grads.get(layer.weight()).unwrap())[1], 0.0);
        opt.step(&grads).unwrap();
        // The gradient was masked, so the momentum buffer stays zero: no re-apply needed.
        assert_eq!(values(layer.weight())[1], 0.0);
    }
    assert_ne!(values(layer.weight())[0], 0.5, "the others train");
}

// ------------------------------------------------------------------ fine-tuning with fit

/// A small regression set: y = x @ [1, -2, 3, 0.5, 1]^T.
fn regression(n: usize) -> Dataset {
    let x = Tensor::randn((n, 5), DType::F32, &cpu()).unwrap();
    let w = Tensor::from_vec(vec![1f32, -2.0, 3.0, 0.5, 1.0], (5, 1), &cpu()).unwrap();
    Dataset::new(x.clone(), x.matmul(&w).unwrap()).unwrap()
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(5, 16))
        .add(ReLU)
        .add(Linear::new(16, 1))
}

fn sgd(model: &dyn Module) -> Sgd {
    Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.02,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Checks after every batch that the pruned weights are zero.
struct CheckZeros<'m> {
    masks: &'m PruningMasks,
    checked: usize,
}

impl Callback for CheckZeros<'_> {
    fn on_batch_end(&mut self, _: usize, _: usize, _: &Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        for name in self.masks.names() {
            let p = param(&*ctx.model, name);
            assert_eq!(zero_positions(&p), pruned_positions(self.masks, name), "{name}");
        }
        self.checked += 1;
        Ok(())
    }
}

#[test]
fn zeros_survive_fit_with_momentum_and_a_save_and_load() {
    let _g = rng_lock();
    neurite::manual_seed(5);
    let data = regression(64);
    let mut model = mlp();
    let mut masks = PruningMasks::new();
    // Per layer: a global threshold would take nearly all of the smaller 2.weight.
    masks.l1_unstructured(&model, "0.weight", 0.6).unwrap();
    masks.l1_unstructured(&model, "2.weight", 0.25).unwrap();
    let before = values(&param(&model, "0.weight"));
    let reference = masks.clone();

    let mut opt = sgd(&model);
    let mut keep = PruningCallback::new(masks);
    let mut check = CheckZeros {
        masks: &reference,
        checked: 0,
    };
    let history = Trainer::new(neurite::loss::mse_loss)
        .epochs(3)
        .batch_size(8)
        .log_every(1)
        .quiet()
        .callback(&mut keep)
        .callback(&mut check)
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(check.checked, 24, "every batch checked");
    assert!(history.loss.last() < history.loss.first(), "{:?}", history.loss);
    let after = values(&param(&model, "0.weight"));
    let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    assert!(moved > 0, "the kept weights train");

    // Model and masks saved, reloaded, and fine-tuned further.
    let dir = temp_dir("fit");
    model.save(dir.join("model.ckpt")).unwrap();
    keep.masks().save(dir.join("masks.bin")).unwrap();
    let mut loaded = Sequential::load(dir.join("model.ckpt"), &cpu()).unwrap();
    let masks = PruningMasks::load(dir.join("masks.bin")).unwrap();
    assert_eq!(masks, reference);
    for name in masks.names() {
        assert_eq!(zero_positions(&param(&loaded, name)), pruned_positions(&masks, name));
    }
    let mut opt = sgd(&loaded);
    let mut keep = PruningCallback::new(masks);
    // Hooks only every 3 batches: the weights are still zero once fit returns.
    Trainer::new(neurite::loss::mse_loss)
        .epochs(2)
        .batch_size(8)
        .log_every(3)
        .quiet()
        .callback(&mut keep)
        .fit(&mut loaded, &mut opt, &data)
        .unwrap();
    for name in reference.names() {
        assert_eq!(
            zero_positions(&param(&loaded, name)),
            pruned_positions(&reference, name),
            "{name}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn masked_optimizer_keeps_zeros_inside_every_step() {
    let _g = rng_lock();
    neurite::manual_seed(6);
    let data = regression(48);
    let mut model = mlp();
    let masks = global_unstructured(&model, &["0.weight", "2.weight"], 0.5).unwrap();
    let reference = masks.clone();
    let mut opt = MaskedOptimizer::new(sgd(&model), masks, &model).unwrap();
    let mut check = CheckZeros {
        masks: &reference,
        checked: 0,
    };
    // log_every(4): the check runs after 4 steps, with no callback re-applying in between.
    Trainer::new(neurite::loss::mse_loss)
        .epochs(2)
        .batch_size(4)
        .log_every(4)
        .quiet()
        .callback(&mut check)
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(check.checked, 24);
    assert_eq!(opt.step_count(), 24);
    assert_eq!(opt.name(), "SGD");
    let (mut sgd, masks) = opt.into_parts();
    assert_eq!(masks, reference);
    // The momentum buffers of pruned entries never built up: a step of the
    // bare optimizer with zero gradients moves only the kept weights.
    let mut zeros = neurite::GradStore::new();
    for p in model.parameters() {
        zeros.insert(&p, p.zeros_like().unwrap());
    }
    let before = values(&param(&model, "0.weight"));
    sgd.step(&zeros).unwrap();
    let after = values(&param(&model, "0.weight"));
    assert_ne!(before, after, "momentum moves the kept weights");
    for name in reference.names() {
        assert_eq!(
            zero_positions(&param(&model, name)),
            pruned_positions(&reference, name),
            "{name}"
        );
    }
}

#[test]
fn masks_ride_in_a_training_checkpoint_history() {
    let model = mlp();
    let masks = l1_unstructured(&model, "0.weight", 0.5).unwrap();
    let opt = sgd(&model);
    let dir = temp_dir("train");
    let path = dir.join("train.ckpt");
    let extra = (History::new(), masks.clone());
    save_training(&path, &TrainingSnapshot::new(&model, &opt, &extra).epoch(1)).unwrap();
    let ckpt = load_training::<(History, PruningMasks)>(&path, &cpu()).unwrap();
    assert_eq!(ckpt.history.1, masks);
    ckpt.history.1.apply(&ckpt.model).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

// ------------------------------------------------------------------ gradual schedule

#[test]
fn polynomial_schedule_values() {
    let s = PolynomialSchedule::new(0.1, 0.9, 10, 50, 10).unwrap();
    let want = [
        (0, 0.1),
        (10, 0.1),
        (20, 0.9 - 0.8 * 0.421875),
        (30, 0.9 - 0.8 * 0.125),
        (40, 0.9 - 0.8 * 0.015625),
        (50, 0.9),
        (80, 0.9),
    ];
    for (t, v) in want {
        assert!(
            (s.sparsity_at(t) - v).abs() < 1e-12,
            "step {t}: {} vs {v}",
            s.sparsity_at(t)
        );
    }
    assert_eq!(s.target_at(9), None);
    assert_eq!(s.target_at(19), Some(0.1));
    assert_eq!(s.target_at(25), Some(s.sparsity_at(20)));
    // An end that is not on the grid is still a pruning step.
    let s = PolynomialSchedule::new(0.0, 0.5, 0, 7, 3).unwrap();
    let steps: Vec<Option<u64>> = (0..9).map(|t| s.last_pruning_step(t)).collect();
    assert_eq!(steps, [0, 0, 0, 3, 3, 3, 6, 7, 7].map(Some));
    // Begin == end: one pruning step, to the final sparsity.
    let s = PolynomialSchedule::new(0.0, 0.5, 4, 4, 1).unwrap();
    assert_eq!(
        (s.target_at(3), s.target_at(4), s.target_at(100)),
        (None, Some(0.5), Some(0.5))
    );
}

/// Drives `cb` by hand for `steps` SGD steps, returning the pruned count after each.
fn drive(cb: &mut GradualPruning, model: &mut Sequential, steps: usize, names: &[&str]) -> Vec<usize> {
    let x = Tensor::randn((8, 5), DType::F32, &cpu()).unwrap();
    let mut opt = sgd(model);
    let history = History::new();
    let mut stop = None;
    let mut counts = Vec::new();
    {
        let mut ctx = CallbackContext::new(model, &mut opt, &history, &mut stop);
        cb.on_train_begin(&mut ctx).unwrap();
    }
    for b in 0..steps {
        let grads = model
            .forward(&x)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap()
            .backward()
            .unwrap();
        opt.step(&grads).unwrap();
        let mut ctx = CallbackContext::new(model, &mut opt, &history, &mut stop);
        cb.on_batch_end(0, b, &Logs::new(), &mut ctx).unwrap();
        counts.push(names.iter().map(|n| cb.masks().num_pruned(n).unwrap_or(0)).sum());
        for n in names {
            if cb.masks().contains(n) {
                assert_eq!(zero_positions(&param(model, n)), pruned_positions(cb.masks(), n), "{n}");
            }
        }
    }
    counts
}

#[test]
fn gradual_pruning_follows_the_schedule() {
    let _g = rng_lock();
    neurite::manual_seed(7);
    let mut model = mlp(); // 80 + 16 weights
    let names = ["0.weight", "2.weight"];
    let s = PolynomialSchedule::new(0.2, 0.8, 2, 8, 2).unwrap();
    let mut cb = GradualPruning::new(s, &names, PruningScope::Global).unwrap();
    let counts = drive(&mut cb, &mut model, 10, &names);
    let at = |t: u64| (s.sparsity_at(t) * 96.0).round_ties_even() as usize;
    // Counts after steps 1..=10; pruning at steps 2, 4, 6, 8.
    let want = [0, at(2), at(2), at(4), at(4), at(6), at(6), at(8), at(8), at(8)];
    assert_eq!(counts, want);
    assert_eq!(*counts.last().unwrap(), 77, "round(0.8 * 96)");
    assert_eq!(at(4), 60, "0.8 - 0.6 * (2/3)^3 = 0.6222, of 96");

    // Per layer: each reaches the target on its own.
    let mut model = mlp();
    let mut cb = GradualPruning::new(s, &names, PruningScope::PerLayer).unwrap();
    drive(&mut cb, &mut model, 9, &names);
    assert_eq!(cb.masks().num_pruned("0.weight"), Some(64));
    assert_eq!(cb.masks().num_pruned("2.weight"), Some(13), "round(12.8)");
    // Resuming with the masks continues from them.
    let masks = cb.into_masks();
    let s2 = PolynomialSchedule::new(0.9, 0.9, 0, 0, 1).unwrap();
    let mut cb = GradualPruning::new(s2, &names, PruningScope::PerLayer)
        .unwrap()
        .with_masks(masks.clone());
    drive(&mut cb, &mut model, 1, &names);
    let after = cb.masks();
    assert_eq!(after.num_pruned("0.weight"), Some(72));
    for n in names {
        let (b, a) = (masks.keep_flags(n).unwrap(), after.keep_flags(n).unwrap());
        assert!(b.iter().zip(a).all(|(b, a)| *b || !*a), "{n}: nothing un-pruned");
    }
}

#[test]
fn gradual_pruning_inside_fit() {
    let _g = rng_lock();
    neurite::manual_seed(8);
    let data = regression(32);
    let mut model = mlp();
    let s = PolynomialSchedule::new(0.0, 0.5, 0, 6, 2).unwrap();
    let mut cb = GradualPruning::new(s, &["0.weight"], PruningScope::Global).unwrap();
    let mut opt = sgd(&model);
    Trainer::new(neurite::loss::mse_loss)
        .epochs(2)
        .batch_size(4)
        .quiet()
        .callback(&mut cb)
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(cb.masks().num_pruned("0.weight"), Some(40));
    let report = SparsityReport::of_params(&model, &["0.weight"]).unwrap();
    assert_eq!(report.total().zeros, 40);
}

// ------------------------------------------------------------------ report

#[test]
fn sparsity_report_counts_zeros_per_parameter() {
    let model = Sequential::new().add(linear64(4, 2)).add(ReLU).add(linear64(2, 1));
    set(&model, "0.weight", vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    set(&model, "0.bias", vec![0.0, -0.0]);
    set(&model, "2.weight", vec![f64::NAN, 1.0]);
    l1_unstructured(&model, "0.weight", 0.25).unwrap();
    let r = SparsityReport::of(&model).unwrap();
    let rows: Vec<(&str, usize, usize)> = r.params().iter().map(|p| (p.name.as_str(), p.numel, p.zeros)).collect();
    assert_eq!(
        rows,
        vec![
            ("0.weight", 8, 2),
            ("0.bias", 2, 2),
            ("2.weight", 2, 0),
            ("2.bias", 1, 0)
        ]
    );
    assert_eq!((r.total().numel, r.total().zeros), (13, 4));
    assert_eq!(r.params()[0].sparsity(), 0.25);
    let table = r.to_string();
    assert!(table.lines().next().unwrap().starts_with("parameter"), "{table}");
    assert!(table.contains("0.weight") && table.contains("25.00%"), "{table}");
    assert!(table.lines().last().unwrap().starts_with("total"), "{table}");
    assert!(table.contains("100.00%"), "the bias: {table}");
}

// ------------------------------------------------------------------ serialisation

#[test]
fn serde_form_packs_bits_and_validates() {
    let layer = linear64(9, 1);
    set(&layer, "weight", vec![1.0, 0.1, 1.0, 1.0, 0.2, 0.3, 0.4, 0.5, 1.0]);
    let masks = l1_unstructured(&layer, "weight", 0.6).unwrap(); // round(5.4) = 5
    assert_eq!(masks.keep_flags("weight").unwrap(), flags("101100001"));
    let json = serde_json::to_string(&masks).unwrap();
    assert_eq!(json, r#"{"masks":[{"name":"weight","shape":[1,9],"keep":"0d01"}]}"#);
    assert_eq!(serde_json::from_str::<PruningMasks>(&json).unwrap(), masks);
    for bad in [
        r#"{"masks":[{"name":"w","shape":[1,9],"keep":"0d"}]}"#,
        r#"{"masks":[{"name":"w","shape":[1,9],"keep":"0d03"}]}"#,
        r#"{"masks":[{"name":"w","shape":[1,9],"keep":"0D01"}]}"#,
        r#"{"masks":[{"name":"w","shape":[1,9],"keep":"0dzz"}]}"#,
        r#"{"masks":[{"name":"w","shape":[18446744073709551615,3],"keep":""}]}"#,
        r#"{"masks":[{"name":"w","shape":[1],"keep":"01"},{"name":"w","shape":[1],"keep":"01"}]}"#,
        r#"{"masks":[{"name":"w","shape":[1],"keep":"01","extra":1}]}"#,
        r#"{"masks":[{"name":"w","shape":[1],"keep":"é1"}]}"#,
    ] {
        assert!(serde_json::from_str::<PruningMasks>(bad).is_err(), "{bad}");
    }
    let empty: PruningMasks = serde_json::from_str(r#"{"masks":[{"name":"e","shape":[0,3],"keep":""}]}"#).unwrap();
    assert_eq!(empty.num_pruned("e"), Some(0));
}

/// A file frame around `body` with a correct checksum.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = b"NEURMSK\0".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32fast_hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// CRC32 (IEEE), bit by bit: the tests do not depend on the crate's checksum code.
fn crc32fast_hash(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn any_bytes_give_masks_or_an_error() {
    let layer = Linear::new(6, 3);
    let mut masks = l1_unstructured(&layer, "weight", 0.5).unwrap();
    masks.l1_unstructured(&layer, "bias", 0.34).unwrap();
    let bytes = masks.to_bytes().unwrap();
    assert_eq!(bytes, frame(&bytes[24..bytes.len() - 4]), "the documented layout");
    assert_eq!(PruningMasks::from_bytes(&bytes).unwrap(), masks);
    let problem = |b: &[u8]| PruningMasks::from_bytes(b).unwrap_err().checkpoint_problem();
    for n in 0..bytes.len() {
        let p = problem(&bytes[..n]);
        assert!(
            matches!(
                p,
                Some(CheckpointProblem::Truncated) | Some(CheckpointProblem::BadMagic)
            ),
            "{n}: {p:?}"
        );
    }
    for i in 0..bytes.len() {
        for flip in [1u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert!(PruningMasks::from_bytes(&b).is_err(), "byte {i} ^ {flip}");
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(problem(&longer), Some(CheckpointProblem::LengthMismatch));
    let mut huge = bytes.clone();
    huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(problem(&huge), Some(CheckpointProblem::Truncated));
    let mut v2 = bytes.clone();
    v2[8] = 2;
    assert_eq!(problem(&v2), Some(CheckpointProblem::UnsupportedVersion));
    // Valid frames around bad bodies.
    assert_eq!(problem(&frame(b"{not json")), Some(CheckpointProblem::Undecodable));
    assert_eq!(problem(&frame(b"")), Some(CheckpointProblem::Undecodable));
    let dup = br#"{"masks":[{"name":"w","shape":[1],"keep":"01"},{"name":"w","shape":[1],"keep":"01"}]}"#;
    assert_eq!(problem(&frame(dup)), Some(CheckpointProblem::InvalidContent));
    let overflow = br#"{"masks":[{"name":"w","shape":[4294967296,4294967296,4294967296],"keep":""}]}"#;
    assert_eq!(problem(&frame(overflow)), Some(CheckpointProblem::InvalidContent));
    assert!(PruningMasks::from_bytes(&frame(br#"{"masks":[]}"#)).unwrap().is_empty());
    // Pseudo-random garbage, with and without the magic.
    let mut seed = 0x1234_5678_u64;
    for len in 0..200 {
        let mut b: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        assert!(PruningMasks::from_bytes(&b).is_err());
        if len >= 8 {
            b[..8].copy_from_slice(b"NEURMSK\0");
            assert!(PruningMasks::from_bytes(&b).is_err());
        }
    }
}

#[test]
fn loading_foreign_or_damaged_files_is_an_error() {
    let dir = temp_dir("files");
    let model = mlp();
    model.save(dir.join("model.ckpt")).unwrap();
    let e = PruningMasks::load(dir.join("model.ckpt")).unwrap_err();
    assert_eq!(e.checkpoint_problem(), Some(CheckpointProblem::BadMagic));
    assert!(e.to_string().contains("model or training checkpoint"), "{e}");
    assert!(PruningMasks::load(&dir).is_err(), "a folder");
    assert!(PruningMasks::load(dir.join("missing.bin")).is_err());
    let masks = l1_unstructured(&model, "0.weight", 0.5).unwrap();
    masks.save(dir.join("m.bin")).unwrap();
    let bytes = std::fs::read(dir.join("m.bin")).unwrap();
    std::fs::write(dir.join("cut.bin"), &bytes[..bytes.len() - 1]).unwrap();
    let e = PruningMasks::load(dir.join("cut.bin")).unwrap_err();
    assert_eq!(e.checkpoint_problem(), Some(CheckpointProblem::Truncated));
    let mut huge = bytes.clone();
    huge[16..24].copy_from_slice(&(1u64 << 50).to_le_bytes());
    std::fs::write(dir.join("huge.bin"), &huge).unwrap();
    let e = PruningMasks::load(dir.join("huge.bin")).unwrap_err();
    assert_eq!(e.checkpoint_problem(), Some(CheckpointProblem::Truncated));
    #[cfg(unix)]
    assert!(PruningMasks::load("/dev/zero").is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

// ------------------------------------------------------------------ errors

/// A module whose only parameter holds integers.
struct IntParam {
    ids: Tensor,
}

impl Module for IntParam {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("ids".into(), self.ids.clone())]
    }
    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.ids = f(&self.ids)?;
        Ok(())
    }
}

#[test]
fn bad_amounts_names_and_dtypes_are_errors() {
    let model = Sequential::new().add(Linear::new(3, 2));
    for amount in [1.0, 1.5, -0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = message(l1_unstructured(&model, "0.weight", amount).unwrap_err());
        assert!(e.contains("[0, 1)"), "{amount}: {e}");
        assert!(random_unstructured(&model, "0.weight", amount, 0).is_err());
        assert!(global_unstructured(&model, &["0.weight"], amount).is_err());
        assert!(PolynomialSchedule::new(amount, 0.5, 0, 1, 1).is_err());
        assert!(PolynomialSchedule::new(0.0, amount, 0, 1, 1).is_err());
    }
    let e = message(l1_unstructured(&model, "weight", 0.5).unwrap_err());
    assert!(
        e.contains("no parameter named \"weight\"") && e.contains("0.weight"),
        "{e}"
    );
    assert!(random_unstructured(&model, "1.weight", 0.5, 0).is_err());
    assert!(global_unstructured(&model, &["0.weight", "nope"], 0.5).is_err());
    assert!(global_unstructured(&model, &[] as &[&str], 0.5).is_err());
    let e = message(global_unstructured(&model, &["0.weight", "0.weight"], 0.5).unwrap_err());
    assert!(e.contains("twice"), "{e}");

    let ints = IntParam {
        ids: Tensor::from_vec(vec![1i64, 2, 3], 3, &cpu()).unwrap(),
    };
    let e = message(l1_unstructured(&ints, "ids", 0.5).unwrap_err());
    assert!(e.contains("floating-point"), "{e}");
    assert!(random_unstructured(&ints, "ids", 0.5, 1).is_err());
    let m = Tensor::from_vec(vec![1f32, 0.0, 1.0], 3, &cpu()).unwrap();
    assert!(PruningMasks::new().custom_from_mask(&ints, "ids", &m).is_err());
    assert!(SparsityReport::of_params(&ints, &["ids"]).is_err());
    assert!(
        SparsityReport::of(&ints).unwrap().params().is_empty(),
        "integer parameters are not reported"
    );

    // Schedules.
    assert!(
        PolynomialSchedule::new(0.6, 0.5, 0, 1, 1).is_err(),
        "initial above final"
    );
    assert!(PolynomialSchedule::new(0.0, 0.5, 5, 4, 1).is_err(), "begin after end");
    assert!(PolynomialSchedule::new(0.0, 0.5, 0, 4, 0).is_err(), "zero frequency");
    let s = PolynomialSchedule::new(0.0, 0.5, 0, 4, 1).unwrap();
    assert!(GradualPruning::new(s, &["a", "a"], PruningScope::Global).is_err());
    let mut bad = s;
    bad.final_sparsity = f64::NAN;
    assert!(GradualPruning::new(bad, &["a"], PruningScope::Global).is_err());
}

#[test]
fn masks_of_another_shape_or_model_are_errors() {
    let small = Linear::new(3, 2);
    let big = Linear::new(4, 2);
    let masks = l1_unstructured(&big, "weight", 0.5).unwrap();
    let before = values(small.weight());
    let e = message(masks.apply(&small).unwrap_err());
    assert!(e.contains("[2, 4]") && e.contains("[2, 3]"), "{e}");
    assert_eq!(values(small.weight()), before, "nothing changed");
    let mut m = masks.clone();
    assert!(m.l1_unstructured(&small, "weight", 0.5).is_err());
    assert!(m.global_unstructured(&small, &["weight"], 0.5).is_err());
    assert!(m.random_unstructured(&small, "weight", 0.5, 0).is_err());
    assert!(m.remove(&small, "weight").is_err());
    assert_eq!(m, masks, "unchanged by the failures");
    let wrong = Tensor::ones((2, 4), DType::F32, &cpu()).unwrap();
    let e = message(
        PruningMasks::new()
            .custom_from_mask(&small, "weight", &wrong)
            .unwrap_err(),
    );
    assert!(e.contains("shape"), "{e}");
    let model = Sequential::new().add(Linear::new(4, 2));
    assert!(masks.apply(&model).is_err(), "\"weight\" is \"0.weight\" there");
    assert!(MaskedOptimizer::new(sgd(&small), masks.clone(), &small).is_err());
    let mut cb = PruningCallback::new(masks.clone());
    let mut opt = sgd(&small);
    let (history, mut stop) = (History::new(), None);
    let mut small = small;
    let mut ctx = CallbackContext::new(&mut small, &mut opt, &history, &mut stop);
    assert!(cb.on_train_begin(&mut ctx).is_err());
    let mut g = GradualPruning::new(
        PolynomialSchedule::new(0.0, 0.5, 0, 4, 1).unwrap(),
        &["nope"],
        PruningScope::Global,
    )
    .unwrap();
    assert!(g.on_train_begin(&mut ctx).is_err());
    // Removing a mask that does not exist.
    let mut none = PruningMasks::new();
    let e = message(none.remove(&big, "weight").unwrap_err());
    assert!(e.contains("not pruned"), "{e}");
}
