//! Checkpoints move between devices: saved on the CPU, loaded on the GPU, and
//! the other way round. Without a GPU (or without `--features cuda`) the test
//! says why it was skipped; `NEURITE_REQUIRE_GPU=1` turns that into a failure.

use crate::common::{small_model, tmp_dir, values};
use neurite::nn::{Forward, Module, Sequential};
use neurite::{DType, Device, Tensor};

fn cuda() -> Option<Device> {
    crate::cuda_emu::install_if_requested("checkpoint devices");
    match Device::cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            if std::env::var("NEURITE_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("NEURITE_REQUIRE_GPU=1 but the GPU is unavailable: {e}");
            }
            eprintln!("checkpoint device test skipped: {e}");
            None
        }
    }
}

#[test]
fn cpu_saved_loads_on_cuda_and_cuda_saved_loads_on_cpu() {
    let Some(gpu) = cuda() else {
        return;
    };
    let dir = tmp_dir("devices");
    let mut model = small_model();
    model.eval();
    model.save(dir.join("cpu.ckpt")).unwrap();

    let on_gpu = Sequential::load(dir.join("cpu.ckpt"), &gpu).unwrap();
    for (n, t) in on_gpu.named_tensors() {
        assert!(t.device().is_cuda(), "{n} is on {}", t.device());
    }
    assert_eq!(values(&on_gpu), values(&model), "weights copied exactly");
    let x = Tensor::randn((6, 4), DType::F32, &Device::cpu()).unwrap();
    let want = model.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let got = on_gpu
        .forward(&x.to_device(&gpu).unwrap())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }

    on_gpu.save(dir.join("gpu.ckpt")).unwrap();
    let back = Sequential::load(dir.join("gpu.ckpt"), &Device::cpu()).unwrap();
    assert_eq!(values(&back), values(&model));
    assert_eq!(back.forward(&x).unwrap().to_vec::<f32>().unwrap(), want);

    // Loading weights into a model that lives on the GPU copies them there.
    let mut target = small_model().into_device(&gpu).unwrap();
    target.load_weights(dir.join("cpu.ckpt")).unwrap();
    assert_eq!(values(&target), values(&model));
    assert!(target.named_tensors().iter().all(|(_, t)| t.device().is_cuda()));
}
