use crate::gradcheck::{check, randt};
use neurite::Tensor;

#[test]
fn matmul_mlp_gradients() {
    let x = randt(&[4, 3], 1);
    let w = randt(&[3, 5], 2);
    let b = randt(&[5], 3);
    check(
        &[x, w, b],
        |t| t[0].matmul(&t[1])?.add(&t[2])?.tanh()?.sqr()?.mean_all(),
        1e-6,
    );
}

#[test]
fn softmax_and_conv_gradients() {
    let x = randt(&[2, 2, 5, 5], 4);
    let w = randt(&[3, 2, 3, 3], 5);
    check(
        &[x, w],
        |t| {
            let y = t[0]
                .conv2d(&t[1], None, (1, 1), (1, 1))?
                .max_pool2d((2, 2), (2, 2), (0, 0))?;
            y.flatten(1i64, -1)?
                .log_softmax(1i64)?
                .sum_dim(0usize, false)?
                .narrow(0usize, 1, 1)?
                .sum_all()
        },
        1e-5,
    );
}

#[test]
fn values_are_right() {
    let dev = neurite::Device::cpu();
    let a = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], (2, 3), &dev).unwrap();
    assert_eq!(
        a.sum_dim(0usize, false).unwrap().to_vec::<f32>().unwrap(),
        vec![5., 7., 9.]
    );
    assert_eq!(a.t().unwrap().to_vec::<f32>().unwrap(), vec![1., 4., 2., 5., 3., 6.]);
    assert_eq!(a.argmax(1usize, false).unwrap().to_vec::<i64>().unwrap(), vec![2, 2]);
}
