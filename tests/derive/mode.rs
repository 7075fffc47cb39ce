//! `train()` / `eval()` reach every Dropout and BatchNorm, however nested.

use crate::max_diff;
use crate::models::{Block, Net, input};
use neurite::nn::{Forward, Module};
use neurite::{DType, Device, Result, Tensor, no_grad};

/// The names of the mode-dependent layers, with their modes.
fn modes(net: &Net) -> Vec<(String, bool)> {
    net.named_modules()
        .into_iter()
        .filter(|(_, m)| matches!(m.name().as_str(), "Dropout" | "BatchNorm2d"))
        .map(|(n, m)| (n, m.is_training()))
        .collect()
}

#[test]
fn eval_and_train_switch_every_nested_layer() {
    let mut net = Net::new(true);
    let layers: Vec<String> = modes(&net).into_iter().map(|(n, _)| n).collect();
    let mut want = Vec::new();
    for b in ["stem", "blocks.0", "blocks.1", "extra"] {
        want.push(format!("{b}.bn1"));
        want.push(format!("{b}.drop"));
    }
    assert_eq!(layers, want);
    assert!(modes(&net).iter().all(|(_, t)| *t), "layers start in training mode");

    net.eval();
    assert!(!net.is_training());
    for (n, m) in net.named_modules() {
        assert!(!m.is_training(), "{n} is still training after eval()");
    }

    net.train();
    assert!(net.is_training());
    // A container trains when one of its descendants does (every Block, the
    // blocks list); a Sequential keeps a flag of its own; the heads (Linear,
    // ReLU) have no mode at all.
    let with_mode = ["stem", "blocks", "blocks.0", "blocks.1", "extra", "act"];
    for (n, m) in net.named_modules() {
        let expected = modes(&net).iter().any(|(l, _)| *l == n) || with_mode.contains(&n.as_str());
        assert_eq!(m.is_training(), expected, "{n} after train()");
    }
}

/// `relu(batch_norm(conv(x)))` with the running statistics, written out,
/// and no dropout: what an evaluation-mode block computes.
fn block_by_hand(b: &Block, x: &Tensor) -> Result<Tensor> {
    let z = b.conv1.forward(x)?;
    let c = b.bn1.num_features();
    let per_channel = |t: &Tensor| t.reshape((1, c, 1, 1));
    let mean = per_channel(b.bn1.running_mean())?;
    let std = per_channel(&b.bn1.running_var().add_scalar(b.bn1.eps())?.sqrt()?)?;
    let w = per_channel(b.bn1.weight().expect("affine"))?;
    let bias = per_channel(b.bn1.bias().expect("affine"))?;
    z.sub(&mean)?.div(&std)?.mul(&w)?.add(&bias)?.relu()
}

#[test]
fn eval_forward_uses_running_statistics_and_no_dropout_everywhere() -> Result<()> {
    let mut net = Net::new(true);
    let dev = Device::cpu();
    // Batch-norm affine parameters away from 1 and 0, and running statistics
    // away from their initial values, so that a layer left in training mode
    // (batch statistics, dropout) cannot give the same numbers.
    no_grad(|| -> Result<()> {
        for (n, p) in net.named_parameters() {
            if n.contains(".bn1.") {
                p.set_data(&Tensor::randn(p.dims().to_vec(), DType::F32, &dev)?.affine(0.3, 1.0)?)?;
            }
        }
        for _ in 0..3 {
            net.forward(&input(6).affine(2.0, 0.5)?)?;
        }
        Ok(())
    })?;
    for b in [
        &net.stem,
        &net.blocks[0],
        &net.blocks[1],
        net.extra.as_ref().expect("extra"),
    ] {
        assert_eq!(
            b.bn1.num_batches_tracked(),
            3,
            "every block's BatchNorm ran in training mode"
        );
    }

    net.eval();
    let x = input(3);
    let y1 = net.forward(&x)?;
    let y2 = net.forward(&x)?;
    assert_eq!(crate::values(&y1), crate::values(&y2), "evaluation is deterministic");

    let mut h = block_by_hand(&net.stem, &x)?;
    for b in &net.blocks {
        h = block_by_hand(b, &h)?;
    }
    h = block_by_hand(net.extra.as_ref().expect("extra"), &h)?;
    let by_hand = net.head(&h)?;
    let diff = max_diff(&y1, &by_hand);
    assert!(
        diff < 1e-4,
        "eval forward differs from the running-statistics computation by {diff}"
    );
    for b in [
        &net.stem,
        &net.blocks[0],
        &net.blocks[1],
        net.extra.as_ref().expect("extra"),
    ] {
        assert_eq!(b.bn1.num_batches_tracked(), 3, "evaluation leaves the statistics alone");
    }

    net.train();
    let y3 = net.forward(&x)?;
    assert!(
        max_diff(&y1, &y3) > 1e-3,
        "training mode uses batch statistics and dropout"
    );
    Ok(())
}
