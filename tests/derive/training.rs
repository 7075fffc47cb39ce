//! Freezing and dtype moves through derived structs.

use crate::models::{Block, Net, Pair, Wrapper, input};
use neurite::nn::{Forward, Module};
use neurite::{DType, Result};

/// Backpropagates a sum through `net` and returns, for every parameter,
/// whether it received a gradient.
fn got_gradients(net: &Net) -> Result<Vec<(String, bool)>> {
    let grads = net.forward(&input(2))?.sum_all()?.backward()?;
    assert!(grads.get(&net.running).is_none(), "a buffer never gets a gradient");
    Ok(net
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, grads.get(&p).is_some()))
        .collect())
}

#[test]
fn freezing_a_sub_block_stops_only_its_gradients() -> Result<()> {
    let net = Net::new(true);
    let all = net.named_parameters().len();
    assert!(
        got_gradients(&net)?.iter().all(|(_, g)| *g),
        "every parameter is trained at first"
    );

    net.blocks[0].freeze();
    net.extra.as_ref().expect("extra").freeze();
    let frozen = |n: &str| n.starts_with("blocks.0.") || n.starts_with("extra.");
    for (n, got) in got_gradients(&net)? {
        assert_eq!(got, !frozen(&n), "{n}");
    }
    for (n, p) in net.named_parameters() {
        assert_eq!(p.is_requires_grad(), !frozen(&n), "{n}");
    }
    // Two blocks of four parameters (conv weight and bias, bn weight and bias).
    assert_eq!(net.trainable_parameters().len(), all - 8);
    assert!(!net.running.is_requires_grad());

    net.blocks[0].unfreeze();
    for (n, got) in got_gradients(&net)? {
        assert_eq!(got, !n.starts_with("extra."), "{n} after unfreezing blocks.0");
    }
    Ok(())
}

#[test]
fn freezing_reaches_through_generic_and_tuple_structs() {
    let w = Wrapper::new(Block::new(1, 4, 1), 4);
    w.freeze();
    assert!(w.named_parameters().iter().all(|(_, p)| !p.is_requires_grad()));
    assert!(w.trainable_parameters().is_empty());
    w.unfreeze();
    assert_eq!(w.trainable_parameters().len(), 5);
    let p = Pair::new();
    p.0.freeze();
    let trainable: Vec<bool> = p.named_parameters().iter().map(|(_, t)| t.is_requires_grad()).collect();
    assert_eq!(
        trainable,
        [true, false, false],
        "\"2\" stays trainable, \"0.weight\"/\"0.bias\" are frozen"
    );
}

#[test]
fn to_dtype_reaches_every_tensor() -> Result<()> {
    let mut net = Net::new(true);
    net.blocks[1].freeze();
    let before = net.named_tensors().len();
    net.to_dtype(DType::F64)?;
    let after = net.named_tensors();
    assert_eq!(after.len(), before);
    for (n, t) in &after {
        // BatchNorm's counter is an integer buffer and stays one, as in PyTorch.
        let want = if n.ends_with("num_batches_tracked") {
            DType::I64
        } else {
            DType::F64
        };
        assert_eq!(t.dtype(), want, "{n}");
    }
    for (n, p) in net.named_parameters() {
        assert_eq!(
            p.is_requires_grad(),
            !n.starts_with("blocks.1."),
            "{n} keeps its trainable flag"
        );
    }
    assert!(net.named_buffers().iter().all(|(_, b)| !b.is_requires_grad()));
    // The fields themselves were replaced, not copies of them.
    assert_eq!(net.scale.dtype(), DType::F64);
    assert_eq!(net.running.dtype(), DType::F64);
    assert_eq!(net.head_linear.weight().dtype(), DType::F64);
    assert_eq!(net.extra.as_ref().expect("extra").conv1.weight().dtype(), DType::F64);
    assert_eq!(
        crate::values(&net.running),
        [0.1f32 as f64, -0.2f32 as f64, 0.3f32 as f64]
    );
    assert_eq!(
        (net.stem.stride, net.label.as_str()),
        (2, "net"),
        "skipped fields are untouched"
    );
    let y = net.forward(&input(2).to_dtype(DType::F64)?)?;
    assert_eq!((y.dtype(), y.dims()), (DType::F64, &[2usize, 3][..]));

    let mut pair = Pair::new();
    pair.to_dtype(DType::F64)?;
    assert_eq!(pair.2.dtype(), DType::F64);
    assert!(pair.2.is_requires_grad());
    assert_eq!(pair.1, 7);

    let err = net.to_dtype(DType::I64).expect_err("an integer dtype is refused");
    assert!(err.to_string().contains("floating-point"), "{err}");
    Ok(())
}
