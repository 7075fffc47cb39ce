//! Convolution and pooling with groups, dilation, per-side / "same" padding,
//! transposed convolution, ceil mode, count_include_pad, divisor_override,
//! return_indices and max_unpool2d, against PyTorch (tests/fixtures/conv_torch.py
//! writes tests/fixtures/conv_torch.json): forward values, the indices, and
//! the gradients of every input.

use crate::fixture_json::{assert_close, floats, indices, load, tensor};
use neurite::{
    AvgPool2dArgs, Conv1dArgs, Conv2dArgs, ConvPadding, ConvPadding1d, ConvTranspose2dArgs, DType, Device,
    MaxPool2dArgs, Result, Tensor,
};

/// Runs case `name`: `f` gets the inputs (tracking gradients) and the case's
/// given indices, and returns the output and, where PyTorch returned them, indices.
fn run(name: &str, f: impl Fn(&[Tensor], Option<&Tensor>) -> Result<(Tensor, Option<Tensor>)>) {
    let fixtures = load("conv_torch.json");
    let case = fixtures["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("case {name} exists"));
    let inputs: Vec<Tensor> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| tensor(v).requires_grad())
        .collect();
    let given = case.get("given_indices").map(indices);
    let (out, idx) = f(&inputs, given.as_ref()).unwrap();
    let want_out = tensor(&case["output"]);
    assert_eq!(out.dims(), want_out.dims(), "{name}: output shape");
    assert_close(
        name,
        "output",
        &out.to_vec::<f64>().unwrap(),
        &want_out.to_vec::<f64>().unwrap(),
    );
    match (idx, case.get("indices")) {
        (Some(got), Some(want)) => {
            let want = indices(want);
            assert_eq!(got.dtype(), DType::I64, "{name}: indices dtype");
            assert_eq!(got.dims(), want.dims(), "{name}: indices shape");
            assert_eq!(
                got.to_vec::<i64>().unwrap(),
                want.to_vec::<i64>().unwrap(),
                "{name}: indices"
            );
        }
        (None, None) => {}
        (got, want) => panic!(
            "{name}: indices returned {} but expected {}",
            got.is_some(),
            want.is_some()
        ),
    }
    let n = out.elem_count();
    let weight = Tensor::arange(0.0, n as f64, 1.0, DType::F64, &Device::cpu())
        .unwrap()
        .affine(if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 }, -1.0)
        .unwrap()
        .reshape(out.shape())
        .unwrap();
    let grads = out.mul(&weight).unwrap().sum_all().unwrap().backward().unwrap();
    for (i, (x, want)) in inputs.iter().zip(case["grads"].as_array().unwrap()).enumerate() {
        let g = grads.get(x).expect("gradient").to_vec::<f64>().unwrap();
        assert_close(name, &format!("grad {i}"), &g, &floats(want));
    }
}

fn conv2d(name: &str, args: Conv2dArgs) {
    run(name, |t, _| Ok((t[0].conv2d_with(&t[1], Some(&t[2]), &args)?, None)));
}

#[test]
fn conv2d_groups_stride_padding() {
    conv2d(
        "conv2d_groups2_s2_p1",
        Conv2dArgs::default().stride(2).padding(1).groups(2),
    );
}

#[test]
fn conv2d_depthwise_same_dilated() {
    conv2d(
        "conv2d_depthwise_same_d2",
        Conv2dArgs::default().padding(ConvPadding::Same).dilation(2).groups(3),
    );
}

#[test]
fn conv2d_dilation_stride_padding() {
    conv2d(
        "conv2d_dilation_stride_padding",
        Conv2dArgs::default().stride((2, 1)).padding((2, 1)).dilation((2, 3)),
    );
}

#[test]
fn conv2d_same_with_an_even_kernel_pads_bottom_right_more() {
    conv2d(
        "conv2d_same_even_kernel",
        Conv2dArgs::default().padding(ConvPadding::Same),
    );
}

#[test]
fn conv2d_valid() {
    conv2d("conv2d_valid", Conv2dArgs::default().padding(ConvPadding::Valid));
}

#[test]
fn conv2d_per_side_padding() {
    conv2d(
        "conv2d_sides_2_1_1_0",
        Conv2dArgs::default().stride((1, 2)).padding([2, 1, 1, 0]),
    );
}

#[test]
fn conv2d_four_groups_dilated_strided() {
    conv2d(
        "conv2d_groups4_dilation_stride",
        Conv2dArgs::default()
            .stride(2)
            .padding((1, 2))
            .dilation((3, 2))
            .groups(4),
    );
}

#[test]
fn conv1d_groups_dilation() {
    let args = Conv1dArgs::default().stride(2).padding(2).dilation(2).groups(2);
    run("conv1d_groups_dilation", |t, _| {
        Ok((t[0].conv1d(&t[1], Some(&t[2]), &args)?, None))
    });
}

#[test]
fn conv1d_same() {
    let args = Conv1dArgs::default().padding(ConvPadding1d::Same);
    run("conv1d_same", |t, _| {
        Ok((t[0].conv1d(&t[1], Some(&t[2]), &args)?, None))
    });
}

fn conv_transpose2d(name: &str, args: ConvTranspose2dArgs) {
    run(name, |t, _| {
        Ok((t[0].conv_transpose2d(&t[1], Some(&t[2]), &args)?, None))
    });
}

#[test]
fn conv_transpose2d_stride_padding_output_padding() {
    conv_transpose2d(
        "conv_transpose2d_s2_p1_op1",
        ConvTranspose2dArgs::default().stride(2).padding(1).output_padding(1),
    );
}

#[test]
fn conv_transpose2d_groups_dilation() {
    conv_transpose2d(
        "conv_transpose2d_groups_dilation",
        ConvTranspose2dArgs::default()
            .stride((2, 3))
            .padding((1, 0))
            .output_padding((1, 2))
            .groups(2)
            .dilation((2, 1)),
    );
}

#[test]
fn conv_transpose2d_output_padding_beyond_padding() {
    conv_transpose2d(
        "conv_transpose2d_output_padding_over_padding",
        ConvTranspose2dArgs::default().stride(3).output_padding(2),
    );
}

#[test]
fn conv_transpose2d_output_padding_below_dilation() {
    conv_transpose2d(
        "conv_transpose2d_output_padding_below_dilation",
        ConvTranspose2dArgs::default().padding(1).output_padding(2).dilation(3),
    );
}

fn max_pool_indices(name: &str, args: MaxPool2dArgs) {
    run(name, |t, _| {
        let (v, i) = t[0].max_pool2d_with_indices(&args)?;
        // The values alone agree with the values returned with the indices.
        assert_eq!(t[0].max_pool2d_with(&args)?.to_vec::<f64>()?, v.to_vec::<f64>()?);
        Ok((v, Some(i)))
    });
}

#[test]
fn max_pool2d_ceil_mode_dilation_indices() {
    max_pool_indices(
        "max_pool2d_ceil_dilation_indices",
        MaxPool2dArgs::new(3).stride(2).padding(1).dilation(2).ceil_mode(true),
    );
}

#[test]
fn max_pool2d_ceil_mode_indices() {
    max_pool_indices(
        "max_pool2d_ceil_indices",
        MaxPool2dArgs::new((3, 2)).stride(2).padding((1, 0)).ceil_mode(true),
    );
}

#[test]
fn max_pool2d_floor_mode_indices() {
    max_pool_indices(
        "max_pool2d_floor_indices",
        MaxPool2dArgs::new(3).stride((2, 1)).padding(1),
    );
}

fn avg_pool(name: &str, args: AvgPool2dArgs) {
    run(name, |t, _| Ok((t[0].avg_pool2d_with(&args)?, None)));
}

#[test]
fn avg_pool2d_ceil_mode_excluding_padding() {
    avg_pool(
        "avg_pool2d_ceil_exclude_pad",
        AvgPool2dArgs::new(3)
            .stride(2)
            .padding(1)
            .ceil_mode(true)
            .count_include_pad(false),
    );
}

#[test]
fn avg_pool2d_ceil_mode_including_padding() {
    avg_pool(
        "avg_pool2d_ceil_include_pad",
        AvgPool2dArgs::new(3).stride(2).padding(1).ceil_mode(true),
    );
}

#[test]
fn avg_pool2d_divisor_override() {
    avg_pool(
        "avg_pool2d_divisor_override",
        AvgPool2dArgs::new(2).stride(1).padding(1).divisor_override(Some(3)),
    );
}

#[test]
fn avg_pool2d_ceil_mode_rectangular() {
    avg_pool(
        "avg_pool2d_ceil_k2_s3",
        AvgPool2dArgs::new((2, 3)).stride(3).padding(1).ceil_mode(true),
    );
}

#[test]
fn max_pool1d_ceil_mode_dilation() {
    run("max_pool1d_ceil_dilation", |t, _| {
        Ok((t[0].max_pool1d(3, 2, 1, 2, true)?, None))
    });
}

#[test]
fn avg_pool1d_ceil_mode_excluding_padding() {
    run("avg_pool1d_ceil_exclude_pad", |t, _| {
        Ok((t[0].avg_pool1d(3, 2, 1, true, false)?, None))
    });
}

#[test]
fn max_unpool2d_with_output_size() {
    run("max_unpool2d_output_size", |t, idx| {
        Ok((t[0].max_unpool2d(idx.unwrap(), 2, 2, 0, Some([7, 5]))?, None))
    });
}

#[test]
fn max_unpool2d_overlapping_windows() {
    run("max_unpool2d_k3_s2_p1", |t, idx| {
        Ok((t[0].max_unpool2d(idx.unwrap(), 3, 2, 1, None)?, None))
    });
}
