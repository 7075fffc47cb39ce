//! A small LSTM and GRU (two layers, bidirectional, given initial states),
//! forward and backward: outputs, final states and every gradient.

use crate::common::{Ctx, parity};
use neurite::nn::{GRU, LSTM, Module, RecurrentConfig};
use neurite::{DType, Device, Result, Tensor};
use std::collections::HashMap;

/// Gives `m` seeded weights in the context's dtype and device, loaded by name.
fn seeded(m: &mut dyn Module, c: &Ctx) -> Result<()> {
    m.to_dtype(c.dtype)?;
    m.to_device(&c.dev)?;
    let mut map = HashMap::new();
    for (k, (name, p)) in m.named_parameters().into_iter().enumerate() {
        map.insert(name, c.uniform(p.dims(), -0.5, 0.5, 100 + k as u64)?);
    }
    m.load_named_tensors(&map)
}

/// `sum(y * w)` with fixed weights, so that each output element has its own cotangent.
fn weighted(y: &Tensor, c: &Ctx, seed: u64) -> Result<Tensor> {
    y.mul(&c.rand(y.dims(), seed)?)?.sum_all()
}

fn config() -> RecurrentConfig {
    RecurrentConfig::new(3, 4).with_num_layers(2).with_bidirectional(true)
}

fn lstm_forward_backward(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let mut lstm = LSTM::try_new(config().with_batch_first(true))?;
        seeded(&mut lstm, c)?;
        let x = c.rand(&[2, 5, 3], 1)?.requires_grad();
        let h0 = c.rand(&[4, 2, 4], 2)?.requires_grad();
        let c0 = c.rand(&[4, 2, 4], 3)?.requires_grad();
        let (y, (h_n, c_n)) = lstm.forward_with_state(&x, Some((&h0, &c0)))?;
        let loss = weighted(&y, c, 4)?
            .add(&weighted(&h_n, c, 5)?)?
            .add(&weighted(&c_n, c, 6)?)?;
        let g = loss.backward()?;
        let mut out = vec![y, h_n, c_n];
        for t in [x, h0, c0].into_iter().chain(lstm.parameters()) {
            out.push(g.get(&t).expect("every input gets a gradient").clone());
        }
        Ok(out)
    })
}
test_device!(lstm_forward_backward);

fn gru_forward_backward(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let mut gru = GRU::try_new(config())?;
        seeded(&mut gru, c)?;
        let x = c.rand(&[5, 2, 3], 7)?.requires_grad();
        let h0 = c.rand(&[4, 2, 4], 8)?.requires_grad();
        let (y, h_n) = gru.forward_with_state(&x, Some(&h0))?;
        let loss = weighted(&y, c, 9)?.add(&weighted(&h_n, c, 10)?)?;
        let g = loss.backward()?;
        let mut out = vec![y, h_n];
        for t in [x, h0].into_iter().chain(gru.parameters()) {
            out.push(g.get(&t).expect("every input gets a gradient").clone());
        }
        Ok(out)
    })
}
test_device!(gru_forward_backward);
