//! Bad convolution and pooling arguments are errors naming the op and the values.

use neurite::{
    AvgPool2dArgs, Conv1dArgs, Conv2dArgs, ConvPadding, ConvTranspose2dArgs, DType, Device, MaxPool2dArgs, Tensor,
};

fn zeros(dims: &[usize]) -> Tensor {
    Tensor::zeros(dims, DType::F32, &Device::cpu()).unwrap()
}

fn message<T: std::fmt::Debug>(r: neurite::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn conv2d_groups_must_divide_both_channel_counts() {
    let x = zeros(&[1, 6, 5, 5]);
    let m = message(x.conv2d_with(&zeros(&[4, 2, 3, 3]), None, &Conv2dArgs::default().groups(4)));
    assert!(
        m.contains("conv2d") && m.contains("groups (4)") && m.contains("(6)"),
        "{m}"
    );
    let m = message(x.conv2d_with(&zeros(&[4, 2, 3, 3]), None, &Conv2dArgs::default().groups(3)));
    assert!(
        m.contains("conv2d") && m.contains("groups (3)") && m.contains("(4)"),
        "{m}"
    );
    let m = message(x.conv2d_with(&zeros(&[4, 3, 3, 3]), None, &Conv2dArgs::default().groups(0)));
    assert!(m.contains("groups (0)"), "{m}");
}

#[test]
fn conv2d_wrong_weight_shape() {
    let x = zeros(&[1, 6, 5, 5]);
    let m = message(x.conv2d_with(&zeros(&[4, 6, 3, 3]), None, &Conv2dArgs::default().groups(2)));
    assert!(
        m.contains("conv2d") && m.contains("[4, 6, 3, 3]") && m.contains("6 / 2 = 3"),
        "{m}"
    );
    let m = message(x.conv2d_with(&zeros(&[4, 6, 3]), None, &Conv2dArgs::default()));
    assert!(m.contains("conv2d") && m.contains("[4, 6, 3]"), "{m}");
    let m = message(x.conv2d_with(&zeros(&[4, 6, 3, 3]), Some(&zeros(&[3])), &Conv2dArgs::default()));
    assert!(m.contains("bias of shape [4]"), "{m}");
}

#[test]
fn conv2d_zero_dilation_stride_and_oversized_kernels() {
    let x = zeros(&[1, 2, 5, 5]);
    let w = zeros(&[2, 2, 3, 3]);
    let m = message(x.conv2d_with(&w, None, &Conv2dArgs::default().dilation((0, 1))));
    assert!(m.contains("conv2d") && m.contains("dilation (0, 1)"), "{m}");
    let m = message(x.conv2d_with(&w, None, &Conv2dArgs::default().stride(0)));
    assert!(m.contains("stride (0, 0)"), "{m}");
    // A dilated 3x3 kernel spans 7 > 5 pixels.
    let m = message(x.conv2d_with(&w, None, &Conv2dArgs::default().dilation(3)));
    assert!(m.contains("larger than the padded input 5x5"), "{m}");
    let m = message(x.conv2d_with(&w, None, &Conv2dArgs::default().padding(usize::MAX)));
    assert!(m.contains("conv2d"), "{m}");
    let m = message(x.conv2d_with(&w, None, &Conv2dArgs::default().padding(ConvPadding::Same).stride(2)));
    assert!(m.contains("\"same\"") && m.contains("stride [2, 2]"), "{m}");
}

#[test]
fn conv1d_errors() {
    let x = zeros(&[1, 4, 9]);
    let m = message(x.conv1d(&zeros(&[2, 4, 3, 1]), None, &Conv1dArgs::default()));
    assert!(m.contains("conv1d"), "{m}");
    let m = message(x.conv1d(&zeros(&[3, 2, 3]), None, &Conv1dArgs::default().groups(2)));
    assert!(
        m.contains("conv1d") && m.contains("groups (2)") && m.contains("(3)"),
        "{m}"
    );
}

#[test]
fn conv_transpose2d_errors() {
    let x = zeros(&[1, 4, 3, 3]);
    let w = zeros(&[4, 2, 3, 3]);
    let m = message(x.conv_transpose2d(&w, None, &ConvTranspose2dArgs::default().stride(2).output_padding(2)));
    assert!(
        m.contains("conv_transpose2d") && m.contains("output_padding [2, 2]") && m.contains("stride [2, 2]"),
        "{m}"
    );
    // Below the dilation is allowed, at or above both is not.
    assert!(
        x.conv_transpose2d(&w, None, &ConvTranspose2dArgs::default().dilation(3).output_padding(2))
            .is_ok()
    );
    let m = message(x.conv_transpose2d(&w, None, &ConvTranspose2dArgs::default().groups(3)));
    assert!(m.contains("groups (3)") && m.contains("(4)"), "{m}");
    let m = message(x.conv_transpose2d(&zeros(&[3, 2, 3, 3]), None, &ConvTranspose2dArgs::default()));
    assert!(m.contains("weight dim 0") && m.contains("(4)"), "{m}");
    let m = message(x.conv_transpose2d(&w, None, &ConvTranspose2dArgs::default().dilation(0)));
    assert!(m.contains("dilation [0, 0]"), "{m}");
    let m = message(x.conv_transpose2d(&w, None, &ConvTranspose2dArgs::default().padding(4)));
    assert!(m.contains("gives no output"), "{m}");
}

#[test]
fn pooling_errors() {
    let x = zeros(&[1, 2, 6, 6]);
    let m = message(x.max_pool2d_with(&MaxPool2dArgs::new(3).padding(2)));
    assert!(m.contains("max_pool2d") && m.contains("at most half the kernel"), "{m}");
    let m = message(x.avg_pool2d_with(&AvgPool2dArgs::new(2).padding((0, 2))));
    assert!(m.contains("avg_pool2d") && m.contains("[0, 2]"), "{m}");
    let m = message(x.max_pool2d_with(&MaxPool2dArgs::new(2).dilation((1, 0))));
    assert!(m.contains("dilation [1, 0]"), "{m}");
    let m = message(x.max_pool2d_with(&MaxPool2dArgs::new(3).dilation(3)));
    assert!(m.contains("smaller than the kernel"), "{m}");
    let m = message(x.avg_pool2d_with(&AvgPool2dArgs::new(2).divisor_override(Some(0))));
    assert!(m.contains("divisor_override"), "{m}");
    let (v, i) = x.max_pool2d_with_indices(&MaxPool2dArgs::new(2)).unwrap();
    let m = message(v.max_unpool2d(&i, 2, 2, 0, Some([9, 6])));
    assert!(m.contains("max_unpool2d") && m.contains("output_size [9, 6]"), "{m}");
    let m = message(v.max_unpool2d(&v, 2, 2, 0, None));
    assert!(m.contains("max_unpool2d") && m.contains("I64"), "{m}");
}
