//! Multi-head attention and an encoder layer, forward and backward, with
//! boolean and float masks: every device against f64 on the CPU.

use crate::common::{Ctx, parity};
use neurite::nn::functional::scaled_dot_product_attention;
use neurite::nn::{
    Module, MultiheadAttention, MultiheadAttentionConfig, TransformerActivation, TransformerEncoderLayer,
    TransformerEncoderLayerConfig,
};
use neurite::{DType, Device, Result, Tensor};
use std::collections::HashMap;

/// Moves `m` to the context and fills its parameters with seeded values.
fn place(m: &mut dyn Module, c: &Ctx, seed: u64) -> Result<Vec<Tensor>> {
    m.to_dtype(c.dtype)?;
    m.to_device(&c.dev)?;
    let mut values = HashMap::new();
    for (i, (name, p)) in m.named_parameters().into_iter().enumerate() {
        values.insert(name, c.uniform(p.dims(), -0.5, 0.5, seed + i as u64)?);
    }
    m.load_named_tensors(&values)?;
    m.eval();
    Ok(m.parameters())
}

fn gradients(loss: &Tensor, of: &[Tensor]) -> Result<Vec<Tensor>> {
    let g = loss.backward()?;
    Ok(of
        .iter()
        .map(|t| g.get(t).expect("every input gets a gradient").clone())
        .collect())
}

fn multihead_attention(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let mut m = MultiheadAttention::try_new(&MultiheadAttentionConfig {
            batch_first: true,
            vdim: Some(5),
            ..MultiheadAttentionConfig::new(8, 2)
        })?;
        let params = place(&mut m, c, 10)?;
        let q = c.rand(&[2, 4, 8], 1)?.requires_grad();
        let k = c.rand(&[2, 6, 8], 2)?.requires_grad();
        let v = c.rand(&[2, 6, 5], 3)?.requires_grad();
        let kpm = c.ids(vec![0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0], &[2, 6])?;
        let mask = c.rand(&[4, 6], 4)?;
        let (y, w) = m.forward(&q, &k, &v, Some(&kpm), true, Some(&mask), false, false)?;
        let w = w.expect("weights were asked for");
        let loss = y.mul(&c.rand(&[2, 4, 8], 5)?)?.sum_all()?.add(&w.sum_all()?)?;
        let mut out = vec![y, w];
        let mut leaves = vec![q, k, v];
        leaves.extend(params);
        out.extend(gradients(&loss, &leaves)?);
        Ok(out)
    })
}
test_device!(multihead_attention);

fn encoder_layer_causal(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let mut l = TransformerEncoderLayer::try_new(&TransformerEncoderLayerConfig {
            dim_feedforward: 12,
            activation: TransformerActivation::Gelu,
            norm_first: true,
            ..TransformerEncoderLayerConfig::new(8, 4)
        })?;
        let params = place(&mut l, c, 30)?;
        let x = c.rand(&[5, 2, 8], 6)?.requires_grad();
        let causal = c.ids((0..25).map(|i| i64::from(i % 5 > i / 5)).collect(), &[5, 5])?;
        let y = l.forward(&x, Some(&causal), None, true)?;
        let loss = y.mul(&c.rand(&[5, 2, 8], 7)?)?.sum_all()?;
        let mut leaves = vec![x];
        leaves.extend(params);
        let mut out = vec![y];
        out.extend(gradients(&loss, &leaves)?);
        Ok(out)
    })
}
test_device!(encoder_layer_causal);

fn sdpa_causal_and_boolean(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64, DType::F16], |c| {
        let q = c.rand(&[2, 3, 4, 8], 8)?.requires_grad();
        let k = c.rand(&[2, 3, 6, 8], 9)?.requires_grad();
        let v = c.rand(&[2, 3, 6, 4], 10)?.requires_grad();
        let causal = scaled_dot_product_attention(&q, &k, &v, None, 0.0, true, None)?;
        let allow = c.ids((0..24).map(|i| i64::from(i % 6 != 2 + i / 12)).collect(), &[1, 1, 4, 6])?;
        let masked = scaled_dot_product_attention(&q, &k, &v, Some(&allow), 0.0, false, Some(0.5))?;
        let loss = causal
            .sum_all()?
            .add(&masked.mul(&c.rand(&[2, 3, 4, 4], 11)?)?.sum_all()?)?;
        let mut out = vec![causal, masked];
        out.extend(gradients(&loss, &[q, k, v])?);
        Ok(out)
    })
}
test_device!(sdpa_causal_and_boolean);
