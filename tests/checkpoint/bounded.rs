//! Loading from a path reads the fixed header first and then never more than
//! it declares: endless sources, FIFOs, huge sparse files, absurd declared
//! lengths and folders are refused at once, without reading them whole.

use crate::common::{problem, tiny_model, tmp_dir, values};
use neurite::checkpoint::CheckpointProblem as P;
use neurite::checkpoint::{self, SaveOptions, read_header, read_safetensors};
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::{Device, Error};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Far below the minutes (or the out-of-memory kill) an unbounded read of
/// these inputs takes, with room for a loaded machine.
const QUICK: Duration = Duration::from_secs(2);

/// Runs `f`, failing the test when it takes longer than [`QUICK`].
fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < QUICK, "{what} took {took:?}");
    out
}

fn tiny_bytes() -> Vec<u8> {
    tiny_model().to_checkpoint_bytes(&SaveOptions::default()).unwrap()
}

/// A checkpoint header (the first 48 bytes of a real one) declaring `body_len`.
fn header_declaring(body_len: u64) -> Vec<u8> {
    let mut h = tiny_bytes()[..48].to_vec();
    h[40..48].copy_from_slice(&body_len.to_le_bytes());
    h
}

/// Every path-based checkpoint loader, each giving its error (or `None` on success).
fn load_every_way(path: &Path) -> Vec<(&'static str, Option<Error>)> {
    let cpu = Device::cpu();
    let mut model = tiny_model();
    vec![
        ("Sequential::load", Sequential::load(path, &cpu).err()),
        ("load_weights", model.load_weights(path).err()),
        ("read_header", read_header(path).err()),
        ("load_training", checkpoint::load_training::<Vec<f64>>(path, &cpu).err()),
        (
            "load_training_into",
            checkpoint::load_training_into::<Vec<f64>, _>(path, tiny_model()).err(),
        ),
    ]
}

/// Every loader fails quickly, each with the problem `expected`.
fn assert_every_loader_refuses(path: &Path, expected: P, needle: &str) {
    for (name, err) in quick("loading", || load_every_way(path)) {
        let err = err.unwrap_or_else(|| panic!("{name} accepted {}", path.display()));
        assert_eq!(problem(&err), expected, "{name}: {err}");
        assert!(err.to_string().contains(needle), "{name}: {err}");
    }
}

/// A file of `len` bytes that starts with `start`; the rest is a hole, so the
/// file takes no disk space however large it is.
fn sparse_file(path: &Path, start: &[u8], len: u64) -> bool {
    let mut f = File::create(path).unwrap();
    f.write_all(start).unwrap();
    // Some file systems cannot hold files this large; the test is skipped there.
    f.set_len(len).is_ok()
}

#[test]
#[cfg(unix)]
fn dev_zero_is_not_a_checkpoint_and_is_not_read_past_its_header() {
    let zero = Path::new("/dev/zero");
    if !zero.exists() {
        eprintln!("skipped: no /dev/zero");
        return;
    }
    assert_every_loader_refuses(zero, P::BadMagic, "00, 00");
    let err = quick("read_safetensors", || read_safetensors(zero)).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err:?}");
}

#[test]
fn a_folder_is_refused_with_an_io_error() {
    let dir = tmp_dir("bounded-folder");
    for (name, err) in load_every_way(&dir) {
        match err {
            Some(Error::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::IsADirectory, "{name}")
            }
            other => panic!("{name}: expected an I/O error, got {other:?}"),
        }
    }
    assert!(matches!(read_safetensors(&dir), Err(Error::Io { .. })));
}

#[test]
fn a_huge_sparse_file_of_zeros_is_refused_by_its_first_bytes() {
    let dir = tmp_dir("bounded-sparse-zeros");
    let path = dir.join("zeros.ckpt");
    if !sparse_file(&path, &[], 1 << 40) {
        eprintln!("skipped: the file system cannot hold a 1 TiB sparse file");
        return;
    }
    assert_every_loader_refuses(&path, P::BadMagic, "00, 00");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_header_declaring_2_pow_62_bytes_is_refused_before_reading() {
    let dir = tmp_dir("bounded-2-62");
    // The header alone, and the same header in a 1 TiB sparse file: both far
    // smaller than what the header declares, whatever their real size.
    let small = dir.join("small.ckpt");
    std::fs::write(&small, header_declaring(1 << 62)).unwrap();
    assert_every_loader_refuses(&small, P::Truncated, "far beyond the file");
    let sparse = dir.join("sparse.ckpt");
    if sparse_file(&sparse, &header_declaring(1 << 62), 1 << 40) {
        assert_every_loader_refuses(&sparse, P::Truncated, "far beyond the file");
    }
    // Past what the header + checksum arithmetic can hold.
    std::fs::write(&small, header_declaring(u64::MAX)).unwrap();
    assert_every_loader_refuses(&small, P::Truncated, "far beyond the file");
    let _ = std::fs::remove_file(&sparse);
}

#[test]
fn a_huge_file_declaring_a_small_body_is_refused_before_reading() {
    let dir = tmp_dir("bounded-small-body");
    let path = dir.join("long.ckpt");
    let bytes = tiny_bytes();
    if !sparse_file(&path, &bytes, 1 << 40) {
        eprintln!("skipped: the file system cannot hold a 1 TiB sparse file");
        return;
    }
    assert_every_loader_refuses(&path, P::LengthMismatch, "too many");
    let _ = std::fs::remove_file(&path);
}

/// Whether a single allocation of `bytes` is refused here: the kernel's
/// overcommit heuristic refuses one beyond RAM + swap. Elsewhere (overcommit
/// always on, or no /proc) the allocation would succeed and the file would be
/// read for real, so the test that relies on this is skipped.
fn allocation_refused(bytes: u64) -> bool {
    let Ok(mode) = std::fs::read_to_string("/proc/sys/vm/overcommit_memory") else {
        return false;
    };
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return false;
    };
    let kib = |key: &str| -> Option<u64> {
        let line = meminfo.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let (Some(ram), Some(swap)) = (kib("MemTotal:"), kib("SwapTotal:")) else {
        return false;
    };
    matches!(mode.trim(), "0" | "2") && (ram + swap) * 1024 < bytes / 2
}

#[test]
fn a_header_matching_a_huge_sparse_file_fails_to_allocate_without_reading() {
    let len = 1u64 << 40;
    let dir = tmp_dir("bounded-sparse-valid");
    let path = dir.join("huge.ckpt");
    if !allocation_refused(len) || !sparse_file(&path, &header_declaring(len - 52), len) {
        eprintln!("skipped: a 1 TiB allocation might succeed here, or no 1 TiB sparse file");
        return;
    }
    let err = quick("loading", || Sequential::load(&path, &Device::cpu())).unwrap_err();
    assert!(
        matches!(err, Error::OutOfMemory { bytes, .. } if bytes as u64 == len),
        "{err:?}"
    );
    // The header alone is fine: it is all read_header looks at.
    let h = quick("read_header", || read_header(&path)).unwrap();
    assert_eq!(h.body_len, len - 52);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn read_header_reads_the_header_only() {
    let dir = tmp_dir("bounded-header-only");
    let path = dir.join("model.ckpt");
    let mut bytes = tiny_bytes();
    // Damage the body: the header is still readable, loading is not.
    bytes[60] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let h = read_header(&path).unwrap();
    assert_eq!(h.body_len, bytes.len() as u64 - 52);
    let err = Sequential::load(&path, &Device::cpu()).unwrap_err();
    assert_eq!(problem(&err), P::ChecksumMismatch, "{err}");
    // The size is still checked against the header.
    bytes.push(0);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(problem(&read_header(&path).unwrap_err()), P::LengthMismatch);
    // As is the kind.
    let mut bytes = tiny_bytes();
    bytes[12] = 9;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(problem(&read_header(&path).unwrap_err()), P::WrongKind);
}

#[test]
fn a_truncated_file_on_disk_is_truncated() {
    let dir = tmp_dir("bounded-truncated");
    let path = dir.join("model.ckpt");
    let bytes = tiny_bytes();
    for cut in [0, 5, 47, 48, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert_every_loader_refuses(&path, P::Truncated, "");
    }
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    assert_every_loader_refuses(&path, P::Truncated, "cut short");
}

#[test]
fn loading_from_disk_still_round_trips() {
    let dir = tmp_dir("bounded-roundtrip");
    let path = dir.join("model.ckpt");
    let model = Sequential::new()
        .add(Linear::new(300, 300))
        .add(ReLU)
        .add(Linear::new(300, 2));
    model.save(&path).unwrap();
    // Larger than one read chunk, so the body is read in several.
    assert!(std::fs::metadata(&path).unwrap().len() > 256 * 1024);
    let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
    assert_eq!(values(&loaded), values(&model));
    let st = dir.join("model.safetensors");
    model.save_safetensors(&st).unwrap();
    let mut back = Sequential::new()
        .add(Linear::new(300, 300))
        .add(ReLU)
        .add(Linear::new(300, 2));
    back.load_safetensors(&st).unwrap();
    assert_eq!(values(&back), values(&model));
}

/// A valid safetensors file of one 2-element f32 tensor.
fn small_safetensors() -> Vec<u8> {
    let t = neurite::Tensor::from_vec(vec![1f32, 2.0], 2, &Device::cpu()).unwrap();
    checkpoint::safetensors_bytes(&[("w".to_string(), t)]).unwrap()
}

#[test]
fn safetensors_lengths_are_bounded_before_reading() {
    let dir = tmp_dir("bounded-safetensors");
    let path = dir.join("w.safetensors");
    let format_msg = |r: neurite::Result<_>| match r {
        Err(Error::Format { msg, .. }) => msg,
        other => panic!("expected a format error, got {other:?}"),
    };
    // A header length above safetensors' own limit.
    let mut bytes = (1u64 << 62).to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(&path, &bytes).unwrap();
    assert!(format_msg(read_safetensors(&path)).contains("above the safetensors limit"));
    // Within the limit but past the end of the file.
    let mut bytes = 1000u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(&path, &bytes).unwrap();
    assert!(format_msg(read_safetensors(&path)).contains("has only 10"));
    // Fewer than 8 bytes.
    std::fs::write(&path, [1, 2, 3]).unwrap();
    assert!(format_msg(read_safetensors(&path)).contains("fewer than the 8-byte"));
    // A valid header in a 1 TiB sparse file: the data's declared end is not the file's.
    let good = small_safetensors();
    if sparse_file(&path, &good, 1 << 40) {
        let msg = quick("read_safetensors", || format_msg(read_safetensors(&path)));
        assert!(msg.contains(&format!("at byte {} of the file", good.len())), "{msg}");
    }
    // Cut short, and one byte too many.
    std::fs::write(&path, &good[..good.len() - 1]).unwrap();
    assert!(format_msg(read_safetensors(&path)).contains("data's end"));
    let mut long = good.clone();
    long.push(0);
    std::fs::write(&path, &long).unwrap();
    assert!(format_msg(read_safetensors(&path)).contains("data's end"));
    std::fs::write(&path, &good).unwrap();
    assert_eq!(read_safetensors(&path).unwrap().len(), 1);
    let _ = std::fs::remove_file(&path);
}

#[cfg(unix)]
mod fifo {
    use super::*;
    use std::path::PathBuf;
    use std::thread::JoinHandle;

    /// A FIFO in a fresh folder, or `None` where `mkfifo` is unavailable.
    fn make_fifo(name: &str) -> Option<PathBuf> {
        let path = tmp_dir(name).join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        match made {
            Ok(s) if s.success() => Some(path),
            _ => {
                eprintln!("skipped: mkfifo is unavailable");
                None
            }
        }
    }

    /// Writes `start` into the FIFO, then (with `endless`) zeros until the
    /// reader closes its end. Returns the bytes the reader accepted.
    fn feed(path: &Path, start: Vec<u8>, endless: bool) -> JoinHandle<u64> {
        let path = path.to_path_buf();
        std::thread::spawn(move || {
            // Blocks until the reader opens its end.
            let mut f = OpenOptions::new().write(true).open(&path).unwrap();
            let mut written = 0u64;
            if f.write_all(&start).is_err() {
                return written;
            }
            written += start.len() as u64;
            let zeros = vec![0u8; 4096];
            // Rust ignores SIGPIPE, so a closed reader ends this loop with an error.
            while endless && f.write_all(&zeros).is_ok() {
                written += zeros.len() as u64;
                assert!(written < 1 << 32, "the reader went on past the declared length");
            }
            written
        })
    }

    #[test]
    fn a_whole_checkpoint_through_a_fifo_loads() {
        let Some(path) = make_fifo("bounded-fifo-ok") else {
            return;
        };
        let model = tiny_model();
        let writer = feed(
            &path,
            model.to_checkpoint_bytes(&SaveOptions::default()).unwrap(),
            false,
        );
        let loaded = quick("loading", || Sequential::load(&path, &Device::cpu())).unwrap();
        writer.join().unwrap();
        assert_eq!(values(&loaded), values(&model));
    }

    #[test]
    fn an_endless_fifo_is_read_only_to_its_declared_length() {
        let Some(path) = make_fifo("bounded-fifo-endless") else {
            return;
        };
        let declared = 1u64 << 20;
        let writer = feed(&path, header_declaring(declared), true);
        let err = quick("loading", || Sequential::load(&path, &Device::cpu())).unwrap_err();
        assert_eq!(problem(&err), P::LengthMismatch, "{err}");
        assert!(err.to_string().contains("goes on past"), "{err}");
        writer.join().unwrap();
    }

    #[test]
    fn a_fifo_declaring_2_pow_62_bytes_then_ending_is_truncated() {
        let Some(path) = make_fifo("bounded-fifo-2-62") else {
            return;
        };
        let writer = feed(&path, header_declaring(1 << 62), false);
        let err = quick("loading", || Sequential::load(&path, &Device::cpu())).unwrap_err();
        assert_eq!(problem(&err), P::Truncated, "{err}");
        writer.join().unwrap();
        let writer = feed(&path, header_declaring(u64::MAX), true);
        let err = quick("loading", || Sequential::load(&path, &Device::cpu())).unwrap_err();
        assert_eq!(problem(&err), P::Truncated, "{err}");
        assert!(err.to_string().contains("more than this machine can address"), "{err}");
        writer.join().unwrap();
    }

    #[test]
    fn safetensors_through_a_fifo() {
        let Some(path) = make_fifo("bounded-fifo-safetensors") else {
            return;
        };
        let writer = feed(&path, small_safetensors(), false);
        let tensors = quick("read_safetensors", || read_safetensors(&path)).unwrap();
        writer.join().unwrap();
        assert_eq!(tensors["w"].to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
        // A source that does not end after the declared data.
        let writer = feed(&path, small_safetensors(), true);
        let err = quick("read_safetensors", || read_safetensors(&path)).unwrap_err();
        assert!(err.to_string().contains("goes on past"), "{err}");
        writer.join().unwrap();
    }
}
