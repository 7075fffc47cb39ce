//! Shared helpers: the serial lock, data sets, a capturing writer, scripted callbacks.

use neurite::data::Dataset;
use neurite::nn::Module;
use neurite::train::{Callback, CallbackContext, Logs};
use neurite::{DType, Device, Result, Tensor};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

/// Serialises the tests that use the global random generator.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A test that failed while holding the lock leaves nothing to repair.
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("neurite-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temporary directory");
    dir
}

/// XOR-like data: `per_corner` noisy points around each corner of
/// `(±1, ±1)`, class 1 where the signs differ. Classes as `I64` `(N,)`.
pub fn xor_data(per_corner: usize, noise: f64) -> Result<Dataset> {
    let n = 4 * per_corner;
    let jitter = Tensor::randn((n, 2), DType::F32, &Device::cpu())?
        .mul_scalar(noise)?
        .to_vec2::<f32>()?;
    let corners = [(-1.0f32, -1.0f32), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)];
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = corners[i % 4];
        x.push(a + jitter[i][0]);
        x.push(b + jitter[i][1]);
        y.push(i64::from((a > 0.0) != (b > 0.0)));
    }
    Dataset::new(
        Tensor::from_vec(x, (n, 2), &Device::cpu())?,
        Tensor::from_vec(y, n, &Device::cpu())?,
    )
}

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Inserts `values[epoch]` under `name` into every epoch's logs: a monitored
/// value the test controls.
pub struct Script {
    pub name: String,
    pub values: Vec<f64>,
}

impl Script {
    pub fn new(name: &str, values: &[f64]) -> Script {
        Script {
            name: name.into(),
            values: values.to_vec(),
        }
    }
}

impl Callback for Script {
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        logs.insert(self.name.clone(), self.values[epoch]);
        Ok(())
    }
}

/// The values of every parameter and buffer of a model, by name.
pub fn weights(model: &dyn Module) -> Vec<(String, Vec<f64>)> {
    model
        .named_tensors()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec::<f64>().unwrap()))
        .collect()
}

/// Records the model's weights at the end of every epoch.
#[derive(Default)]
pub struct WeightRecorder {
    pub per_epoch: Vec<Vec<(String, Vec<f64>)>>,
}

impl Callback for WeightRecorder {
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        self.per_epoch.push(weights(ctx.model));
        Ok(())
    }
}
