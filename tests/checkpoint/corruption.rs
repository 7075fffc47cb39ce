//! Damaged files: truncation at every offset, single-bit flips everywhere,
//! wrong magic, newer versions, absurd lengths. Each gives its own error.

use crate::common::{fix_crc, problem, small_model, tiny_model, tmp_dir};
use neurite::checkpoint::format::{CHECKSUM_LEN, HEADER_LEN};
use neurite::checkpoint::{CheckpointProblem as P, SaveOptions, TrainingSnapshot, load_training_from_bytes};
use neurite::nn::{Module, Sequential};
use neurite::optim::{Sgd, SgdConfig};
use neurite::{Device, Error};

fn load(bytes: &[u8]) -> Result<Sequential, Error> {
    Sequential::from_checkpoint_bytes(bytes, &Device::cpu())
}

fn tiny_bytes() -> Vec<u8> {
    tiny_model().to_checkpoint_bytes(&SaveOptions::default()).unwrap()
}

#[test]
fn truncation_at_every_offset_is_reported_as_truncation() {
    for bytes in [
        tiny_bytes(),
        small_model().to_checkpoint_bytes(&SaveOptions::default()).unwrap(),
    ] {
        assert!(load(&bytes).is_ok());
        for cut in 0..bytes.len() {
            let err = load(&bytes[..cut]).unwrap_err();
            assert_eq!(problem(&err), P::Truncated, "cut at {cut} of {}: {err}", bytes.len());
        }
    }
}

#[test]
fn truncated_training_checkpoints_are_reported_too() {
    let model = tiny_model();
    let opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let history = vec![1.0f64, 2.0];
    let bytes = neurite::checkpoint::training_to_bytes(&TrainingSnapshot::new(&model, &opt, &history)).unwrap();
    assert!(load_training_from_bytes::<Vec<f64>>(&bytes, &Device::cpu()).is_ok());
    for cut in 0..bytes.len() {
        let err = load_training_from_bytes::<Vec<f64>>(&bytes[..cut], &Device::cpu())
            .err()
            .unwrap();
        assert_eq!(problem(&err), P::Truncated, "cut at {cut}");
    }
}

/// The problem a single-bit flip at `byte` must be reported as.
fn expected_for_flip(byte: usize, err: &Error) -> &'static [P] {
    match byte {
        0..8 => &[P::BadMagic],
        8..12 => &[P::UnsupportedVersion],
        // A longer declared body reads as truncation, a shorter one as extra bytes.
        40..48 => &[P::Truncated, P::LengthMismatch],
        _ => {
            let _ = err;
            &[P::ChecksumMismatch]
        }
    }
}

#[test]
fn every_single_bit_flip_is_detected_by_its_region() {
    for bytes in [
        tiny_bytes(),
        small_model().to_checkpoint_bytes(&SaveOptions::default()).unwrap(),
    ] {
        let mut flips = 0;
        for byte in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[byte] ^= 1 << bit;
                let err = load(&bad).unwrap_err();
                let p = problem(&err);
                assert!(
                    expected_for_flip(byte, &err).contains(&p),
                    "flip of bit {bit} of byte {byte}: {p:?} ({err})"
                );
                flips += 1;
            }
        }
        assert_eq!(flips, bytes.len() * 8);
    }
}

#[test]
fn wrong_magic_is_not_a_checkpoint() {
    let mut bytes = tiny_bytes();
    bytes[..8].copy_from_slice(b"PK\x03\x04abcd");
    let err = load(&bytes).unwrap_err();
    assert_eq!(problem(&err), P::BadMagic);
    assert!(err.to_string().contains("not a neurite checkpoint"), "{err}");
    // A safetensors file gets a hint.
    let st = neurite::checkpoint::safetensors_bytes(&tiny_model().named_tensors()).unwrap();
    let err = load(&st).unwrap_err();
    assert_eq!(problem(&err), P::BadMagic);
    assert!(err.to_string().contains("load_safetensors"), "{err}");
    // An empty file is a truncated one.
    assert_eq!(problem(&load(&[]).unwrap_err()), P::Truncated);
}

#[test]
fn a_newer_format_version_asks_for_a_newer_neurite() {
    let mut bytes = tiny_bytes();
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    fix_crc(&mut bytes);
    let err = load(&bytes).unwrap_err();
    assert_eq!(problem(&err), P::UnsupportedVersion);
    let msg = err.to_string();
    assert!(
        msg.contains("format version 7") && msg.contains("newer neurite"),
        "{msg}"
    );
}

#[test]
fn a_declared_length_far_beyond_the_file_is_caught_before_reading() {
    let dir = tmp_dir("far-length");
    let path = dir.join("m.ckpt");
    let mut bytes = tiny_bytes();
    bytes[40..48].copy_from_slice(&(1u64 << 60).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = Sequential::load(&path, &Device::cpu()).unwrap_err();
    assert_eq!(problem(&err), P::Truncated);
    assert!(err.to_string().contains("far beyond the file"), "{err}");
    bytes[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(load(&bytes).unwrap_err().to_string().contains("far beyond the file"));
}

#[test]
fn extra_bytes_after_the_checksum_are_a_length_mismatch() {
    let mut bytes = tiny_bytes();
    bytes.extend_from_slice(b"junk");
    let err = load(&bytes).unwrap_err();
    assert_eq!(problem(&err), P::LengthMismatch);
    assert!(err.to_string().contains("4 too many"), "{err}");
}

#[test]
fn a_damaged_body_is_a_checksum_mismatch() {
    let mut bytes = tiny_bytes();
    let mid = HEADER_LEN + (bytes.len() - HEADER_LEN - CHECKSUM_LEN) / 2;
    bytes[mid] = bytes[mid].wrapping_add(1);
    let err = load(&bytes).unwrap_err();
    assert_eq!(problem(&err), P::ChecksumMismatch);
    assert!(err.to_string().contains("CRC32"), "{err}");
}

#[test]
fn a_model_checkpoint_is_not_a_training_checkpoint() {
    let err = load_training_from_bytes::<()>(&tiny_bytes(), &Device::cpu())
        .err()
        .unwrap();
    assert_eq!(problem(&err), P::WrongKind);
    assert!(err.to_string().contains("Sequential::load"), "{err}");
}

#[test]
fn an_unknown_kind_behind_a_valid_checksum_is_reported() {
    let mut bytes = tiny_bytes();
    bytes[12] = 9;
    fix_crc(&mut bytes);
    assert_eq!(problem(&load(&bytes).unwrap_err()), P::WrongKind);
}

/// Random multi-byte damage with the checksum recomputed, as a crafted file
/// would have: every outcome is a model or an error, never a panic.
#[test]
fn crafted_random_damage_never_panics() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let good = small_model().to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let (mut ok, mut errs) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = good.clone();
        let edits = rng.random_range(1..6);
        for _ in 0..edits {
            let i = rng.random_range(HEADER_LEN..bytes.len() - CHECKSUM_LEN);
            bytes[i] = rng.random();
        }
        fix_crc(&mut bytes);
        match load(&bytes) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(matches!(problem(&e), P::Undecodable | P::InvalidContent | P::WrongKind));
                errs += 1;
            }
        }
    }
    assert!(errs > 1000, "{ok} loaded, {errs} refused");
}
