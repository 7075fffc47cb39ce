//! Padding, Upsample and adaptive pooling layers: values, configs (JSON and
//! checkpoints), derived modules and argument errors.

use neurite::checkpoint::SaveOptions;
use neurite::nn::{
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, CircularPad1d, CircularPad2d,
    ConstantPad1d, ConstantPad2d, Conv2d, Flatten, Forward, LayerConfig, Linear, Module, ReflectionPad1d,
    ReflectionPad2d, ReplicationPad1d, ReplicationPad2d, Sequential, Upsample, ZeroPad1d, ZeroPad2d,
};
use neurite::{DType, Device, Result, Tensor};

fn x4(shape: (usize, usize, usize, usize)) -> Tensor {
    let n = shape.0 * shape.1 * shape.2 * shape.3;
    Tensor::arange(0.0, n as f64, 1.0, DType::F32, &Device::cpu())
        .unwrap()
        .affine(0.1, -1.0)
        .unwrap()
        .reshape(shape)
        .unwrap()
}

fn image_model() -> Sequential {
    Sequential::new()
        .add(ReflectionPad2d::new(1))
        .add(Conv2d::new(1, 2, 3))
        .add(Upsample::scale(1.5).with_mode("bilinear").unwrap())
        .add(ZeroPad2d::new([1, 0, 0, 1]))
        .add(AdaptiveMaxPool2d::new((Some(5), None)))
        .add(ReplicationPad2d::new(2))
        .add(CircularPad2d::new([1, 1, 0, 1]))
        .add(ConstantPad2d::new(-1, 0.5))
        .add(AdaptiveAvgPool2d::new(3))
        .add(Flatten::new())
        .add(Linear::new(18, 3))
}

fn same(a: &Tensor, b: &Tensor) {
    assert_eq!(a.dims(), b.dims());
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
}

#[test]
fn layers_match_the_functional_forms() -> Result<()> {
    let x = x4((2, 3, 5, 6));
    same(
        &ZeroPad2d::new([1, 2, -1, 0]).forward(&x)?,
        &x.pad(&[1, 2, -1, 0], "constant", 0.0)?,
    );
    same(
        &ConstantPad2d::new(2, 3.0).forward(&x)?,
        &x.pad(&[2; 4], "constant", 3.0)?,
    );
    same(
        &ReflectionPad2d::new([4, 1, 2, 3]).forward(&x)?,
        &x.pad(&[4, 1, 2, 3], "reflect", 0.0)?,
    );
    same(
        &ReplicationPad2d::new(7).forward(&x)?,
        &x.pad(&[7; 4], "replicate", 0.0)?,
    );
    same(&CircularPad2d::new(2).forward(&x)?, &x.pad(&[2; 4], "circular", 0.0)?);
    let s = x.reshape((6, 5, 6))?;
    same(&ZeroPad1d::new(2).forward(&s)?, &s.pad(&[2, 2], "constant", 0.0)?);
    same(
        &ConstantPad1d::new([0, 3], -1.0).forward(&s)?,
        &s.pad(&[0, 3], "constant", -1.0)?,
    );
    same(&ReflectionPad1d::new(5).forward(&s)?, &s.pad(&[5, 5], "reflect", 0.0)?);
    same(
        &ReplicationPad1d::new([1, 9]).forward(&s)?,
        &s.pad(&[1, 9], "replicate", 0.0)?,
    );
    same(&CircularPad1d::new(6).forward(&s)?, &s.pad(&[6, 6], "circular", 0.0)?);
    same(
        &AdaptiveAvgPool2d::new((2, 4)).forward(&x)?,
        &x.adaptive_avg_pool2d((2, 4))?,
    );
    same(&AdaptiveAvgPool1d::new(4).forward(&s)?, &s.adaptive_avg_pool1d(4)?);
    same(&AdaptiveMaxPool1d::new(4).forward(&s)?, &s.adaptive_max_pool1d(4)?);
    let (v, i) = AdaptiveMaxPool2d::new(2).forward_with_indices(&x)?;
    same(&v, &x.adaptive_max_pool2d(2)?);
    // The input increases along rows and columns: each window's maximum is its last entry.
    assert_eq!(i.to_vec::<i64>()?[..4], [14, 17, 26, 29]);
    let (_, i1) = AdaptiveMaxPool1d::new(3).forward_with_indices(&s)?;
    assert_eq!(i1.to_vec::<i64>()?[..3], [1, 3, 5]);
    let up = Upsample::size([7, 8]).with_mode("bilinear")?.with_align_corners(true);
    same(
        &up.forward(&x)?,
        &x.interpolate(Some(&[7, 8]), None, "bilinear", Some(true))?,
    );
    assert_eq!(Upsample::scale(2.0).forward(&s)?.dims(), &[6, 5, 12]);
    Ok(())
}

#[test]
fn configs_rebuild_every_layer() -> Result<()> {
    let model = image_model();
    let x = x4((2, 1, 6, 6));
    let y = model.forward(&x)?;
    assert_eq!(y.dims(), &[2, 3]);
    let json = serde_json::to_string(&model.to_config()?).unwrap();
    let mut copy = Sequential::from_config(&serde_json::from_str(&json).unwrap(), &Device::cpu())?;
    copy.load_named_tensors(&model.named_tensors().into_iter().collect())?;
    same(&copy.forward(&x)?, &y);
    let names: Vec<String> = (0..model.len()).map(|i| copy.layer(i).unwrap().name()).collect();
    assert_eq!(names[0], "ReflectionPad2d");
    assert_eq!(names[7], "ConstantPad2d");
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default())?;
    same(
        &Sequential::from_checkpoint_bytes(&bytes, &Device::cpu())?.forward(&x)?,
        &y,
    );

    let seq = Sequential::new()
        .add(ZeroPad1d::new(1))
        .add(ConstantPad1d::new([2, 0], 4.0))
        .add(ReflectionPad1d::new(2))
        .add(ReplicationPad1d::new(1))
        .add(CircularPad1d::new([0, 3]))
        .add(Upsample::size(vec![20]).with_mode("linear")?)
        .add(AdaptiveMaxPool1d::new(9))
        .add(AdaptiveAvgPool1d::new(4));
    let s = x4((2, 3, 1, 5)).reshape((2, 3, 5))?;
    let want = seq.forward(&s)?;
    assert_eq!(want.dims(), &[2, 3, 4]);
    let bytes = seq.to_checkpoint_bytes(&SaveOptions::default())?;
    same(
        &Sequential::from_checkpoint_bytes(&bytes, &Device::cpu())?.forward(&s)?,
        &want,
    );
    Ok(())
}

#[test]
fn bad_configs_are_errors() {
    let bad = [
        LayerConfig::Padding {
            layer: "ZeroPad3d".into(),
            padding: vec![1; 6],
            value: 0.0,
        },
        LayerConfig::Padding {
            layer: "ZeroPad2d".into(),
            padding: vec![1; 3],
            value: 0.0,
        },
        LayerConfig::Upsample {
            size: Some(vec![2]),
            scale_factor: Some(vec![2.0]),
            mode: "nearest".into(),
            align_corners: None,
        },
        LayerConfig::Upsample {
            size: None,
            scale_factor: Some(vec![2.0]),
            mode: "trilinear".into(),
            align_corners: None,
        },
    ];
    for cfg in bad {
        assert!(cfg.build(&Device::cpu()).is_err(), "{cfg:?} built");
    }
}

#[test]
fn upsample_arguments_are_checked() {
    let x = x4((1, 1, 2, 2));
    assert!(Upsample::new(None, None, "nearest", None).is_err());
    assert!(Upsample::new(Some(vec![2]), Some(vec![2.0]), "nearest", None).is_err());
    assert!(Upsample::new(Some(vec![2]), None, "bicubic", None).is_err());
    assert!(Upsample::new(Some(vec![2]), None, "nearest", Some(true)).is_err());
    let err = Upsample::scale(2.0)
        .with_align_corners(false)
        .forward(&x)
        .unwrap_err()
        .to_string();
    assert!(err.contains("align_corners"), "{err}");
    assert!(Upsample::scales(vec![0.0]).forward(&x).is_err());
    assert!(Upsample::size(vec![3, 0]).forward(&x).is_err());
    assert!(Upsample::scale(2.0).with_mode("linear").unwrap().forward(&x).is_err());
    assert!(AdaptiveAvgPool2d::new(0).forward(&x).is_err());
    assert!(AdaptiveMaxPool1d::new(2).forward(&x).is_err());
    assert!(ReflectionPad2d::new(2).forward(&x).is_err());
}

#[derive(Module)]
struct Decoder {
    up: Upsample,
    pad: ReflectionPad2d,
    conv: Conv2d,
    pool: AdaptiveAvgPool2d,
}

impl Forward for Decoder {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.pool
            .forward(&self.conv.forward(&self.pad.forward(&self.up.forward(x)?)?)?)
    }
}

#[test]
fn derived_modules_hold_resampling_layers() -> Result<()> {
    let mut m = Decoder {
        up: Upsample::scale(2.0),
        pad: ReflectionPad2d::new(1),
        conv: Conv2d::new(2, 4, 3),
        pool: AdaptiveAvgPool2d::new((1, 1)),
    };
    let names: Vec<String> = m.named_tensors().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["conv.weight", "conv.bias"]);
    m.eval();
    let x = x4((3, 2, 3, 4)).requires_grad();
    let y = m.forward(&x)?;
    assert_eq!(y.dims(), &[3, 4, 1, 1]);
    let g = y.sum_all()?.backward()?;
    assert_eq!(g.get(&x).unwrap().dims(), x.dims());
    assert!(g.get(&m.conv.named_tensors()[0].1).is_some());
    Ok(())
}
