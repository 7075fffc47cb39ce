//! Conv1d, Conv2d (groups, dilation), ConvTranspose2d, MaxUnpool2d and the
//! pooling layers' new options: forward against the functional ops, configs
//! (old ones still load), checkpoints and `#[derive(Module)]`.

use neurite::nn::{
    AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, Forward, LayerConfig, MaxPool2d, MaxUnpool2d, Module, Sequential,
    SequentialConfig,
};
use neurite::{Conv1dArgs, Conv2dArgs, ConvTranspose2dArgs, DType, Device, Tensor};

fn rand(dims: &[usize], seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    Tensor::from_vec(v, dims, &Device::cpu()).unwrap()
}

fn same(a: &Tensor, b: &Tensor) {
    assert_eq!(a.dims(), b.dims());
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
}

#[test]
fn layers_apply_their_functional_op() {
    let _g = crate::rng_lock();
    let x = rand(&[2, 4, 9, 8], 1);
    let conv = Conv2d::new(4, 6, 3)
        .with_groups(2)
        .with_dilation((2, 1))
        .with_padding(1)
        .with_stride(2);
    assert_eq!(conv.weight().dims(), &[6, 2, 3, 3]);
    assert_eq!((conv.in_channels(), conv.groups(), conv.dilation()), (4, 2, [2, 1]));
    let args = Conv2dArgs::default().groups(2).dilation((2, 1)).padding(1).stride(2);
    same(
        &conv.forward(&x).unwrap(),
        &x.conv2d_with(conv.weight(), conv.bias(), &args).unwrap(),
    );
    // Unbatched input.
    let x0 = x.narrow(0usize, 0, 1).unwrap().squeeze(0usize).unwrap();
    same(
        &conv.forward(&x0).unwrap(),
        &conv
            .forward(&x.narrow(0usize, 0, 1).unwrap())
            .unwrap()
            .squeeze(0usize)
            .unwrap(),
    );

    let up = ConvTranspose2d::new(4, 2, 3)
        .with_stride(2)
        .with_padding(1)
        .with_output_padding(1)
        .with_groups(2);
    assert_eq!(up.weight().dims(), &[4, 1, 3, 3]);
    let args = ConvTranspose2dArgs::default()
        .stride(2)
        .padding(1)
        .output_padding(1)
        .groups(2);
    let y = up.forward(&x).unwrap();
    assert_eq!(y.dims(), &[2, 2, 18, 16]);
    same(&y, &x.conv_transpose2d(up.weight(), up.bias(), &args).unwrap());

    let x1 = rand(&[2, 4, 12], 2);
    let c1 = Conv1d::new(4, 2, 3).with_groups(2).with_dilation(2).with_padding(2);
    assert_eq!(c1.weight().dims(), &[2, 2, 3]);
    let args = Conv1dArgs::default().groups(2).dilation(2).padding(2);
    same(
        &c1.forward(&x1).unwrap(),
        &x1.conv1d(c1.weight(), c1.bias(), &args).unwrap(),
    );

    let pool = MaxPool2d::new(2).with_ceil_mode(true);
    let (v, i) = pool.forward_with_indices(&x).unwrap();
    assert_eq!(v.dims(), &[2, 4, 5, 4]);
    let back = MaxUnpool2d::new(2).unpool(&v, &i, Some([9, 8])).unwrap();
    assert_eq!(back.dims(), &[2, 4, 9, 8]);
    assert!(
        MaxUnpool2d::new(2)
            .forward(&v)
            .unwrap_err()
            .to_string()
            .contains("indices")
    );
}

#[test]
fn bad_layer_hyperparameters_are_reported() {
    let _g = crate::rng_lock();
    let e = Conv2d::new(6, 4, 3).with_groups(4).validate().unwrap_err().to_string();
    assert!(
        e.contains("groups (4)") && e.contains("in_channels (6)") && e.contains("out_channels (4)"),
        "{e}"
    );
    assert!(Conv2d::new(4, 4, 3).with_dilation(0).validate().is_err());
    assert!(Conv1d::new(4, 4, 3).with_groups(3).validate().is_err());
    assert!(
        ConvTranspose2d::new(4, 4, 3)
            .with_stride(2)
            .with_output_padding(2)
            .validate()
            .is_err()
    );
    assert!(MaxPool2d::new(2).with_dilation(0).validate().is_err());
    assert!(AvgPool2d::new(2).with_divisor_override(Some(0)).validate().is_err());
    assert!(MaxUnpool2d::try_new(2, 0, 0).is_err());
}

/// Configs written before these options existed still load, and layers with
/// default options still write them, so older builds read new files.
#[test]
fn old_configs_load_and_default_layers_write_them() {
    let _g = crate::rng_lock();
    let old = r#"{"layers":[
        {"Conv2d":{"in_channels":3,"out_channels":4,"kernel_size":[3,3],"stride":[1,1],"padding":[1,1],"bias":true}},
        {"MaxPool2d":{"kernel_size":[2,2],"stride":[2,2],"padding":[0,0]}},
        {"AvgPool2d":{"kernel_size":[2,2],"stride":[1,1],"padding":[1,1]}}
    ]}"#;
    let cfg: SequentialConfig = serde_json::from_str(old).unwrap();
    let model = Sequential::from_config(&cfg, &Device::cpu()).unwrap();
    assert_eq!(model.to_config().unwrap(), cfg);
    let y = model
        .forward(&Tensor::zeros((1, 3, 8, 8), DType::F32, &Device::cpu()).unwrap())
        .unwrap();
    assert_eq!(y.dims(), &[1, 4, 5, 5]);
}

#[test]
fn new_options_round_trip_through_configs_and_checkpoints() {
    let _g = crate::rng_lock();
    let model = Sequential::new()
        .add(Conv2d::new(4, 8, 3).with_groups(4).with_dilation(2).with_padding(2))
        .add(
            MaxPool2d::new(3)
                .with_stride(2)
                .with_dilation((1, 2))
                .with_ceil_mode(true),
        )
        .add(
            AvgPool2d::new(2)
                .with_ceil_mode(true)
                .with_count_include_pad(false)
                .with_divisor_override(Some(3)),
        )
        .add(
            ConvTranspose2d::new(8, 2, (3, 2))
                .with_stride(2)
                .with_output_padding((1, 0))
                .with_dilation((1, 2)),
        )
        .add(MaxUnpool2d::try_new(2, 2, 0).unwrap());
    let cfg = model.to_config().unwrap();
    assert!(matches!(
        cfg.layers[0],
        LayerConfig::Conv2dFull {
            groups: 4,
            dilation: [2, 2],
            ..
        }
    ));
    assert!(matches!(
        cfg.layers[3],
        LayerConfig::ConvTranspose2d {
            output_padding: [1, 0],
            ..
        }
    ));
    let json = serde_json::to_string(&cfg).unwrap();
    let back: SequentialConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let rebuilt = Sequential::from_config(&back, &Device::cpu()).unwrap();
    assert_eq!(rebuilt.to_config().unwrap(), cfg);
    assert_eq!(rebuilt.num_parameters(), model.num_parameters());

    let seq1 = Sequential::new().add(Conv1d::new(4, 6, 3).with_groups(2).with_stride(2).with_dilation(2));
    let dir = std::env::temp_dir().join(format!("neurite_conv_layers_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, m) in [("ops.ckpt", &model), ("conv1d.ckpt", &seq1)] {
        let path = dir.join(name);
        m.save(&path).unwrap();
        let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
        assert_eq!(loaded.to_config().unwrap(), m.to_config().unwrap());
        for ((na, a), (nb, b)) in loaded.named_parameters().iter().zip(m.named_parameters()) {
            assert_eq!(*na, nb);
            assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Module)]
struct Net {
    stem: Conv1d,
    depthwise: Conv2d,
    up: ConvTranspose2d,
}

#[test]
fn derived_modules_hold_the_new_layers() {
    let _g = crate::rng_lock();
    let net = Net {
        stem: Conv1d::new(2, 4, 3),
        depthwise: Conv2d::new(4, 4, 3).with_groups(4),
        up: ConvTranspose2d::new(4, 2, 2).with_groups(2),
    };
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "stem.weight",
            "stem.bias",
            "depthwise.weight",
            "depthwise.bias",
            "up.weight",
            "up.bias"
        ]
    );
    let shapes: Vec<Vec<usize>> = net.named_parameters().iter().map(|(_, t)| t.dims().to_vec()).collect();
    assert_eq!(shapes[2], [4, 1, 3, 3]);
    assert_eq!(shapes[4], [4, 1, 2, 2]);
    assert_eq!(shapes[5], [2]);
}
