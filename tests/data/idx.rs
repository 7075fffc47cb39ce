//! The IDX reader on well-formed and malformed files: every malformed file
//! gives `Error::Format` naming the file and the byte offset, never a panic
//! and never an allocation the file cannot back.

use crate::{gzip, scratch_dir};
use neurite::data::{IdxArray, IdxData, IdxType};
use neurite::{DType, Device, Error, Result};
use std::path::Path;

/// A valid raw file: u8, dims [2, 3, 4], a 16-byte header and 24 data bytes.
fn sample() -> Vec<u8> {
    let a = IdxArray::new(vec![2, 3, 4], IdxData::U8((0..24).collect())).unwrap();
    let b = a.to_bytes();
    assert_eq!(b.len(), 40);
    assert_eq!(b[..8], [0, 0, 8, 3, 0, 0, 0, 2]);
    b
}

/// Checks `r` is a format error for `path` at `offset` whose message contains `needle`.
fn expect_format(r: Result<IdxArray>, path: &Path, offset: u64, needle: &str) -> String {
    match r {
        Err(Error::Format { path: p, msg }) => {
            assert_eq!(p, path.display().to_string(), "{msg}");
            let full = format!("{p}: {msg}");
            assert!(
                msg.contains(&format!("byte offset {offset}")),
                "expected offset {offset}: {full}"
            );
            assert!(msg.contains(needle), "expected {needle:?}: {full}");
            full
        }
        Err(other) => panic!("expected Error::Format, got {other}"),
        Ok(a) => panic!("expected Error::Format, got dims {:?}", a.dims()),
    }
}

/// Writes `bytes` raw and gzipped under `dir` and checks both give the same
/// offset (the gzip one counted in the decompressed data).
fn both(dir: &Path, name: &str, bytes: &[u8], offset: u64, needle: &str) {
    let raw = dir.join(name);
    std::fs::write(&raw, bytes).unwrap();
    expect_format(IdxArray::read(&raw), &raw, offset, needle);
    let gz = dir.join(format!("{name}.gz"));
    std::fs::write(&gz, gzip(bytes)).unwrap();
    let msg = expect_format(IdxArray::read(&gz), &gz, offset, needle);
    assert!(msg.contains("decompressed"), "{msg}");
}

#[test]
fn well_formed_raw_and_gzip() {
    let dir = scratch_dir("idx-ok");
    let bytes = sample();
    std::fs::write(dir.join("a"), &bytes).unwrap();
    std::fs::write(dir.join("a.gz"), gzip(&bytes)).unwrap();
    for f in ["a", "a.gz"] {
        let a = IdxArray::read(dir.join(f)).unwrap();
        assert_eq!(a.dims(), &[2, 3, 4]);
        assert_eq!(a.elem_type(), IdxType::U8);
        assert_eq!(a.as_u8().unwrap(), (0..24).collect::<Vec<u8>>());
    }
    // Detection is by content, not by name.
    std::fs::write(dir.join("gz-without-suffix"), gzip(&bytes)).unwrap();
    assert_eq!(
        IdxArray::read(dir.join("gz-without-suffix")).unwrap().dims(),
        &[2, 3, 4]
    );
    let t = IdxArray::from_bytes(&bytes, "mem")
        .unwrap()
        .to_tensor(DType::F32, &Device::cpu())
        .unwrap();
    assert_eq!(t.dims(), &[2, 3, 4]);
    assert_eq!(t.to_vec::<f32>().unwrap()[23], 23.0);
}

#[test]
fn every_type_code_round_trips_big_endian() {
    let cases = [
        (IdxData::I8(vec![-128, -1, 0, 127]), 0x09u8),
        (IdxData::I16(vec![-300, 258, 0, i16::MAX]), 0x0B),
        (IdxData::I32(vec![-70_000, 1 << 24, 0, i32::MIN]), 0x0C),
        (IdxData::F32(vec![-1.5, 0.25, 1e30, 3.0]), 0x0D),
        (IdxData::F64(vec![-1.5, 0.1, 1e300, 3.0]), 0x0E),
        (IdxData::U8(vec![0, 1, 254, 255]), 0x08),
    ];
    for (data, code) in cases {
        let a = IdxArray::new(vec![2, 2], data.clone()).unwrap();
        let bytes = a.to_bytes();
        assert_eq!(bytes[2], code);
        assert_eq!(a.elem_type().code(), code);
        assert_eq!(IdxArray::from_bytes(&bytes, "raw").unwrap(), a);
        assert_eq!(IdxArray::from_bytes(&gzip(&bytes), "gz").unwrap(), a);
    }
    // Big-endian by hand: 258 = 0x0102 is stored as 01 02.
    let a = IdxArray::new(vec![1], IdxData::I16(vec![258])).unwrap();
    assert_eq!(a.to_bytes(), vec![0, 0, 0x0B, 1, 0, 0, 0, 1, 1, 2]);
    let a = IdxArray::from_bytes(&[0, 0, 0x0C, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe], "m").unwrap();
    assert_eq!(a.data(), &IdxData::I32(vec![-2]));
    let t = a.to_tensor(DType::I64, &Device::cpu()).unwrap();
    assert_eq!(t.to_vec::<i64>().unwrap(), vec![-2]);
    let f = IdxArray::new(vec![1], IdxData::F32(vec![1.0])).unwrap();
    assert!(f.to_tensor(DType::I64, &Device::cpu()).is_err());
}

#[test]
fn bad_magic_type_code_and_rank() {
    let dir = scratch_dir("idx-magic");
    let mut b = sample();
    b[0] = 0x12;
    both(&dir, "magic0", &b, 0, "magic");
    let mut b = sample();
    b[1] = 1;
    both(&dir, "magic1", &b, 0, "two zero bytes");
    let mut b = sample();
    b[2] = 0x07;
    both(&dir, "type", &b, 2, "type code 0x07");
    let mut b = sample();
    b[2] = 0x0A;
    both(&dir, "type0a", &b, 2, "0x0a");
    both(&dir, "rank0", &[0, 0, 8, 0, 1, 2, 3], 3, "rank 0");
    // A rank that does not match the dims: rank 2 reads [2, 3] and leaves 4
    // bytes of the third dimension plus the data as a wrong-sized payload.
    let mut b = sample();
    b[3] = 2;
    both(&dir, "rank-low", &b, 12 + 6, "trailing");
    // Rank 4 reads data bytes 00 01 02 03 as a fourth dimension of 66051.
    let mut b = sample();
    b[3] = 4;
    let raw = dir.join("rank-high");
    std::fs::write(&raw, &b).unwrap();
    expect_format(IdxArray::read(&raw), &raw, 40, "dims [2, 3, 4, 66051]");
    let gz = dir.join("rank-high.gz");
    std::fs::write(&gz, gzip(&b)).unwrap();
    expect_format(IdxArray::read(&gz), &gz, 4, "can decompress to");
}

#[test]
fn truncated_at_every_offset() {
    let dir = scratch_dir("idx-trunc");
    let full = sample();
    for len in 0..full.len() {
        let cut = &full[..len];
        let (offset, needle) = match len {
            0..=3 => (len as u64, "magic number"),
            4..=15 => (len as u64, "inside the header"),
            _ => (len as u64, "truncated"),
        };
        both(&dir, &format!("cut{len}"), cut, offset, needle);
    }
}

#[test]
fn truncated_or_corrupt_gzip_streams() {
    let dir = scratch_dir("idx-gzcut");
    // Incompressible-ish data so the compressed stream is long enough to cut.
    let mut x: u32 = 12345;
    let data: Vec<u8> = (0..4000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 24) as u8
        })
        .collect();
    let bytes = IdxArray::new(vec![4000], IdxData::U8(data)).unwrap().to_bytes();
    let gz = gzip(&bytes);
    for len in [2, 5, 10, 20, 100, gz.len() / 2, gz.len() - 8, gz.len() - 1] {
        let p = dir.join(format!("cut{len}.gz"));
        std::fs::write(&p, &gz[..len]).unwrap();
        match IdxArray::read(&p) {
            Err(Error::Format { path, msg }) => {
                assert_eq!(path, p.display().to_string());
                assert!(msg.contains("byte offset"), "{msg}");
            }
            other => panic!("cut at {len}: expected Error::Format, got {other:?}"),
        }
    }
    // A flipped byte in the middle fails the CRC or the deflate stream.
    let mut bad = gz.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    let p = dir.join("flipped.gz");
    std::fs::write(&p, &bad).unwrap();
    assert!(matches!(IdxArray::read(&p), Err(Error::Format { .. })));
}

#[test]
fn wrong_dims_zero_dims_and_overflow() {
    let dir = scratch_dir("idx-dims");
    // dims [2, 3, 5] need 30 data bytes; the file has 24.
    let mut b = sample();
    b[15] = 5;
    both(&dir, "wrong-dims", &b, 40, "truncated");
    // dims [2, 3, 3] need 18; the file has 24.
    let mut b = sample();
    b[15] = 3;
    both(&dir, "short-dims", &b, 34, "trailing data");
    let mut b = sample();
    b[11] = 0;
    both(&dir, "zero-dim", &b, 8, "dimension 1 of 3 is 0");
    // Five dims of 2^32 - 1 f64 elements overflow 64 bits.
    let mut b = vec![0, 0, 0x0E, 5];
    b.extend(std::iter::repeat_n(0xff, 20));
    both(&dir, "overflow", &b, 4, "64 bits");
}

#[test]
fn huge_declared_count_is_an_error_not_an_allocation() {
    let dir = scratch_dir("idx-huge");
    // 10^6 x 10^6 u8 = 10^12 bytes claimed by a 16-byte file.
    let mut b = vec![0, 0, 8, 2];
    b.extend(1_000_000u32.to_be_bytes());
    b.extend(1_000_000u32.to_be_bytes());
    b.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    let raw = dir.join("huge");
    std::fs::write(&raw, &b).unwrap();
    let msg = expect_format(IdxArray::read(&raw), &raw, 20, "1000000000000 bytes");
    assert!(msg.contains("truncated"), "{msg}");
    let gz = dir.join("huge.gz");
    std::fs::write(&gz, gzip(&b)).unwrap();
    let msg = expect_format(IdxArray::read(&gz), &gz, 4, "can decompress to");
    assert!(msg.contains("1000000000000"), "{msg}");
    // Also the largest u32 count of f64 (2^32 * 8 bytes) in memory.
    let mut b = vec![0, 0, 0x0E, 1];
    b.extend(u32::MAX.to_be_bytes());
    expect_format(IdxArray::from_bytes(&b, "mem"), Path::new("mem"), 8, "truncated");
}

#[test]
fn trailing_garbage() {
    let dir = scratch_dir("idx-trailing");
    let mut b = sample();
    b.extend([9, 9, 9]);
    both(&dir, "trailing", &b, 40, "trailing data");
    let raw = dir.join("trailing");
    let msg = expect_format(IdxArray::read(&raw), &raw, 40, "3 more bytes");
    assert!(msg.contains("3 more bytes"), "{msg}");
    // Garbage after a complete gzip member.
    let mut g = gzip(&sample());
    g.extend(b"garbage!");
    let p = dir.join("after-member.gz");
    std::fs::write(&p, &g).unwrap();
    expect_format(IdxArray::read(&p), &p, 40, "trailing data");
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = scratch_dir("idx-missing");
    let e = IdxArray::read(dir.join("nope")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let base = sample();
    let gz = gzip(&base);
    for i in 0..4000 {
        let bytes: Vec<u8> = match i % 3 {
            0 => (0..next() % 64).map(|_| next() as u8).collect(),
            1 => {
                let mut b = base.clone();
                for _ in 0..1 + next() % 4 {
                    let k = (next() % b.len() as u64) as usize;
                    b[k] = next() as u8;
                }
                b
            }
            _ => {
                let mut b = gz.clone();
                let k = (next() % b.len() as u64) as usize;
                b[k] = next() as u8;
                b
            }
        };
        // Either outcome is fine; a panic or an abort on allocation is not.
        if let Ok(a) = IdxArray::from_bytes(&bytes, "fuzz") {
            assert_eq!(a.elem_count(), a.dims().iter().product::<usize>());
        }
    }
}
