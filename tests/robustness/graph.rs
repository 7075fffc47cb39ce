//! Deep autograd graphs are built, differentiated and dropped without
//! exhausting the stack.

use neurite::{DType, Device, Tensor};

const DEPTH: usize = 1_000_000;
/// Well below the 2 MiB of a test thread, so that a recursive drop would overflow.
const STACK: usize = 1 << 20;

#[test]
fn a_million_op_graph_drops_on_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| -> neurite::Result<usize> {
            let dev = Device::cpu();
            let x = Tensor::ones(1, DType::F32, &dev)?.requires_grad();
            let mut loss = Tensor::zeros(1, DType::F32, &dev)?;
            for _ in 0..DEPTH {
                loss = (loss + &x)?;
            }
            let dims = loss.dims().to_vec();
            assert_eq!(loss.to_vec::<f32>()?, vec![DEPTH as f32]);
            // The chain's nodes are freed here; a recursive drop overflows the stack (an abort).
            drop(loss);
            Ok(dims.len())
        })
        .expect("spawn");
    let r = worker.join().expect("the graph's thread panicked");
    assert_eq!(r.unwrap(), 1);
}

#[test]
fn backward_through_a_deep_chain_on_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| -> neurite::Result<f32> {
            let dev = Device::cpu();
            let x = Tensor::ones(1, DType::F32, &dev)?.requires_grad();
            let mut loss = x.clone();
            for _ in 0..100_000 {
                loss = (loss + &x)?;
            }
            let grads = loss.sum_all()?.backward()?;
            let g = grads.get(&x).expect("gradient of x").to_vec::<f32>()?[0];
            drop(grads);
            drop(loss);
            Ok(g)
        })
        .expect("spawn");
    let g = worker.join().expect("the graph's thread panicked").unwrap();
    assert_eq!(g, 100_001.0);
}
