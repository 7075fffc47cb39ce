//! The backend's host code, seen through the emulated driver's launch record.

use crate::cuda_emu::{Launch, clear_record, record};
use crate::{child, emulator, is_child};
use neurite::{DType, Device, Error, Tensor};
use std::sync::Mutex;

/// The launch record is per process: tests that read it take turns.
static RECORD: Mutex<()> = Mutex::new(());

fn recorded(f: impl FnOnce()) -> Vec<Launch> {
    let _turn = RECORD.lock().unwrap_or_else(|e| e.into_inner());
    neurite::backend::cuda::synchronize(0).unwrap();
    clear_record();
    f();
    neurite::backend::cuda::synchronize(0).unwrap();
    record()
}

#[test]
fn a_large_full_reduction_uses_many_blocks() {
    if !emulator("host_code::a_large_full_reduction_uses_many_blocks") {
        return;
    }
    let dev = Device::Cuda(0);
    let x = Tensor::ones(1 << 20, DType::F32, &dev).unwrap();
    let mut total = 0.0;
    let launches = recorded(|| total = x.sum_all().unwrap().to_scalar::<f32>().unwrap());
    assert_eq!(total, (1 << 20) as f32);
    let reduce: Vec<&Launch> = launches.iter().filter(|l| l.kernel.starts_with("reduce")).collect();
    assert!(!reduce.is_empty(), "no reduce kernel among {} launches", launches.len());
    assert!(
        reduce.iter().any(|l| l.grid[0] > 1),
        "sum_all of 2^20 elements ran on one block: {reduce:?}"
    );
}

#[test]
fn error_record_work_goes_to_the_crate_stream() {
    if !emulator("host_code::error_record_work_goes_to_the_crate_stream") {
        return;
    }
    let dev = Device::Cuda(0);
    let x = Tensor::ones((4, 3), DType::F32, &dev).unwrap();
    let ids = Tensor::from_vec(vec![0i64, 9], 2, &Device::cpu())
        .unwrap()
        .to_device(&dev)
        .unwrap();
    let mut err = None;
    let launches = recorded(|| {
        let r = x.index_select(0usize, &ids).and_then(|y| y.to_vec::<f32>());
        err = r.err();
    });
    assert!(
        matches!(err, Some(Error::IndexOutOfRange { index: 9, size: 4, .. })),
        "{err:?}"
    );
    let kernel_stream = launches
        .iter()
        .find(|l| l.kernel.starts_with("index_select"))
        .expect("index kernel")
        .stream;
    assert_ne!(kernel_stream, 0);
    // Every read and clear of the record is ordered with the kernels: same stream,
    // never the legacy default stream (0), which a non-blocking stream ignores.
    for l in launches
        .iter()
        .filter(|l| l.kernel.starts_with("memset") || l.kernel.starts_with("memcpy"))
    {
        assert_eq!(l.stream, kernel_stream, "{l:?} not on the crate's stream");
    }
    // The record was cleared: the next wait reports nothing.
    neurite::backend::cuda::synchronize(0).unwrap();
}

#[test]
fn a_driver_older_than_the_libraries_is_refused() {
    const NAME: &str = "host_code::a_driver_older_than_the_libraries_is_refused";
    if is_child(NAME) {
        crate::cuda_emu::install().unwrap();
        let err = Device::cuda(0).expect_err("a 570-series driver with NVRTC 13 must be refused");
        println!("error: {err}");
        let (best, reason) = Device::best_with_reason();
        assert_eq!(best, Device::Cpu);
        println!("reason: {}", reason.unwrap_or_default());
        return;
    }
    if !emulator(NAME) {
        return;
    }
    let (ok, out) = child(NAME, &[("NEURITE_EMU_DRIVER_VERSION", "12080")]);
    assert!(ok, "{out}");
    assert!(out.contains("12080") && out.contains("580"), "{out}");
    assert!(
        out.contains("cu12"),
        "the message should name the CUDA 12 wheels: {out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("reason:") && l.contains("12080")),
        "{out}"
    );
}

#[test]
fn training_work_never_uses_the_legacy_stream() {
    if !emulator("host_code::training_work_never_uses_the_legacy_stream") {
        return;
    }
    let dev = Device::Cuda(0);
    use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
    use neurite::optim::{Adam, AdamConfig, Optimizer};
    let model = Sequential::new()
        .add(Linear::new(8, 16))
        .add(ReLU)
        .add(Linear::new(16, 3));
    let model = model.into_device(&dev).unwrap();
    let mut opt = Adam::new(model.parameters(), AdamConfig::new(1e-2)).unwrap();
    let x = Tensor::ones((5, 8), DType::F32, &dev).unwrap();
    let y = Tensor::from_vec(vec![0i64, 1, 2, 0, 1], 5, &Device::cpu())
        .unwrap()
        .to_device(&dev)
        .unwrap();
    let launches = recorded(|| {
        for _ in 0..3 {
            let loss = neurite::loss::cross_entropy(&model.forward(&x).unwrap(), &y).unwrap();
            opt.step(&loss.backward().unwrap()).unwrap();
        }
    });
    assert!(launches.iter().any(|l| l.kernel.starts_with("cublas")), "no GEMM ran");
    let legacy: Vec<&Launch> = launches
        .iter()
        .filter(|l| l.stream == 0 && !l.kernel.starts_with("memcpyDtoH"))
        .collect();
    assert!(legacy.is_empty(), "work on the legacy stream: {legacy:?}");
}
