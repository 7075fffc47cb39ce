//! Crash safety: a save that fails or is killed half-way never damages the
//! checkpoint already at the target path.

use crate::common::{tiny_model, tmp_dir, values};
use neurite::checkpoint::{SaveOptions, write_atomic_via};
use neurite::nn::{Linear, Module, Sequential};
use neurite::{Device, Error};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Passes `left` bytes through, then fails as a full disk would.
struct FailAfter<W> {
    inner: W,
    left: usize,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("injected failure: no space left on device"));
        }
        let n = buf.len().min(self.left);
        let n = self.inner.write(&buf[..n])?;
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp-"))
        .collect()
}

#[test]
fn a_write_failing_half_way_leaves_the_previous_checkpoint_intact() {
    let dir = tmp_dir("failing-writer");
    let path = dir.join("model.ckpt");
    let previous = tiny_model();
    previous.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();

    let next = Sequential::new().add(Linear::new(64, 64));
    let bytes = next.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    for cut in [0, 1, 47, bytes.len() / 2, bytes.len() - 1] {
        let err = write_atomic_via(&path, &bytes, |f| Box::new(FailAfter { inner: f, left: cut })).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "target untouched after a failure at {cut}"
        );
        let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
        assert_eq!(values(&loaded), values(&previous));
        assert!(temporaries(&dir).is_empty(), "the temporary file is removed");
    }
    // The same writer with room to spare succeeds and replaces the file.
    write_atomic_via(&path, &bytes, |f| {
        Box::new(FailAfter {
            inner: f,
            left: usize::MAX,
        })
    })
    .unwrap();
    assert_eq!(values(&Sequential::load(&path, &Device::cpu()).unwrap()), values(&next));
}

/// Writes through a throttle so that a save takes long enough to be killed in
/// the middle of it deterministically.
struct Slow<W> {
    inner: W,
}

impl<W: Write> Write for Slow<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(1 << 18);
        std::thread::sleep(Duration::from_millis(3));
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const CHILD_ENV: &str = "NEURITE_CHECKPOINT_CRASH_CHILD";

/// The child process of `a_process_killed_mid_save_leaves_the_previous_checkpoint_intact`:
/// saves a large model (32 MiB) to the target over and over until it is killed.
#[test]
#[ignore = "run by the crash test in a child process"]
fn child_saves_in_a_loop() {
    let Ok(target) = std::env::var(CHILD_ENV) else {
        return;
    };
    let model = Sequential::new()
        .add(Linear::new(2048, 2048))
        .add(Linear::new(2048, 2048));
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    loop {
        write_atomic_via(Path::new(&target), &bytes, |f| Box::new(Slow { inner: f })).unwrap();
    }
}

fn spawn_child(target: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::child_saves_in_a_loop",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until a temporary file with at least `min_len` bytes exists: a save is under way.
fn wait_for_partial_save(dir: &Path, min_len: u64) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Some(t) = temporaries(dir)
            .into_iter()
            .find(|t| std::fs::metadata(t).map(|m| m.len() >= min_len).unwrap_or(false))
        {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the child never started saving"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_process_killed_mid_save_leaves_the_previous_checkpoint_intact() {
    let dir = tmp_dir("killed-child");
    let path = dir.join("model.ckpt");
    let previous = tiny_model();
    previous.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();

    // Killed during its first save: the target must still be the previous file, byte for byte.
    let mut child = spawn_child(&path);
    let tmp = wait_for_partial_save(&dir, 4 << 20);
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no cleanup runs
    child.wait().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
    assert_eq!(values(&loaded), values(&previous));
    // The killed save leaves its partial temporary file beside the target,
    // until the next save to that target sees that its writer is dead.
    assert!(tmp.exists());
    previous.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert!(!tmp.exists(), "the stale temporary file is removed by the next save");
    }
    let _ = std::fs::remove_file(&tmp);

    // Killed in the middle of a later save: the target holds the last complete one.
    let mut child = spawn_child(&path);
    let start = Instant::now();
    while std::fs::metadata(&path).unwrap().len() == before.len() as u64 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the child never completed a save"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let tmp = wait_for_partial_save(&dir, 4 << 20);
    child.kill().unwrap();
    child.wait().unwrap();
    let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
    let dims: Vec<Vec<usize>> = neurite::nn::Module::named_parameters(&loaded)
        .iter()
        .map(|(_, t)| t.dims().to_vec())
        .collect();
    assert_eq!(dims, vec![vec![2048, 2048], vec![2048], vec![2048, 2048], vec![2048]]);
    let _ = std::fs::remove_file(&tmp);
}
