//! Masks as data: serde (so they can ride in any serde container, a training
//! checkpoint's history included) and a file of their own.
//!
//! # Serde form
//! `{"masks": [{"name": "0.weight", "shape": [16, 8], "keep": "ff0f..."}]}`:
//! `keep` packs the flags eight to a byte, entry `8 * j + b` in bit `b` of
//! byte `j`, written as lowercase hex (two characters per byte), so a mask
//! costs an eighth of a byte per entry in binary codecs and a quarter in JSON.
//! Deserializing validates everything (hex, lengths against shapes with
//! checked arithmetic, unused bits zero, unique names), so a decoded value
//! is always a consistent [`PruningMasks`].
//!
//! # File
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"NEURMSK\0"` |
//! | 8 | 4 | format version, `u32` LE (1) |
//! | 12 | 4 | reserved, zero |
//! | 16 | 8 | body length, `u64` LE |
//! | 24 | body length | the serde form as JSON |
//! | end - 4 | 4 | CRC32 of everything before it, `u32` LE |
//!
//! The layout follows the crate's checkpoints (see [`crate::checkpoint`]):
//! written atomically, and read without trusting the file: only the header
//! is read until the declared length is checked against the file's size, the
//! checksum is checked before decoding, and any byte string gives masks or an
//! [`Error::BadCheckpoint`], never a panic or an unbounded allocation.

use super::masks::{Mask, PruningMasks};
use crate::checkpoint::{CheckpointProblem, write_atomic};
use crate::{Error, Result};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

const MAGIC: [u8; 8] = *b"NEURMSK\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 24;
const CHECKSUM_LEN: usize = 4;
/// More dims than any tensor of the crate has: a bound on what a crafted file can ask for.
const MAX_RANK: usize = 64;
const BYTES_LABEL: &str = "<bytes>";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MasksRecord {
    masks: Vec<MaskRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaskRecord {
    name: String,
    shape: Vec<usize>,
    keep: String,
}

fn pack(keep: &[bool]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(keep.len().div_ceil(8) * 2);
    for chunk in keep.chunks(8) {
        let byte = chunk.iter().enumerate().fold(0u8, |b, (i, k)| b | (u8::from(*k) << i));
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
    out
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// The flags of a record, every inconsistency reported.
fn unpack(r: &MaskRecord) -> std::result::Result<Vec<bool>, String> {
    let name = &r.name;
    if r.shape.len() > MAX_RANK {
        return Err(format!(
            "the mask of {name:?} has {} dims, more than {MAX_RANK}",
            r.shape.len()
        ));
    }
    let numel = r
        .shape
        .iter()
        .try_fold(1usize, |n, d| n.checked_mul(*d))
        .ok_or_else(|| format!("the shape {:?} of the mask of {name:?} overflows", r.shape))?;
    let want = numel.div_ceil(8).checked_mul(2).ok_or("a mask length overflows")?;
    let hex = r.keep.as_bytes();
    if hex.len() != want {
        return Err(format!(
            "the mask of {name:?} (shape {:?}, {numel} entries) needs {want} hex digits, it has {}",
            r.shape,
            hex.len()
        ));
    }
    let mut keep = Vec::new();
    keep.try_reserve_exact(numel)
        .map_err(|_| format!("no memory for the {numel} entries of the mask of {name:?}"))?;
    for (j, pair) in hex.chunks(2).enumerate() {
        let (Some(hi), Some(lo)) = (hex_digit(pair[0]), hex_digit(pair[1])) else {
            return Err(format!(
                "the mask of {name:?} holds a character that is not a lowercase hex digit"
            ));
        };
        let byte = (hi << 4) | lo;
        let used = (numel - 8 * j).min(8);
        if used < 8 && byte >> used != 0 {
            return Err(format!(
                "the unused bits of the last byte of the mask of {name:?} are not zero"
            ));
        }
        keep.extend((0..used).map(|b| byte & (1 << b) != 0));
    }
    Ok(keep)
}

impl Serialize for PruningMasks {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let record = MasksRecord {
            masks: self
                .masks
                .iter()
                .map(|m| MaskRecord {
                    name: m.name.clone(),
                    shape: m.shape.clone(),
                    keep: pack(&m.keep),
                })
                .collect(),
        };
        record.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PruningMasks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<PruningMasks, D::Error> {
        let record = MasksRecord::deserialize(d)?;
        let mut seen = HashSet::new();
        let mut masks = Vec::with_capacity(record.masks.len());
        for r in &record.masks {
            if !seen.insert(r.name.as_str()) {
                return Err(D::Error::custom(format!("the parameter {:?} has two masks", r.name)));
            }
            let keep = unpack(r).map_err(D::Error::custom)?;
            masks.push(Mask::new(r.name.clone(), r.shape.clone(), keep));
        }
        Ok(PruningMasks { masks })
    }
}

impl PruningMasks {
    /// The bytes [`PruningMasks::save`] writes (see the layout in the
    /// [module docs](self)).
    ///
    /// ```
    /// use neurite::nn::prune::{PruningMasks, l1_unstructured};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 4);
    /// let masks = l1_unstructured(&layer, "weight", 0.5)?;
    /// let bytes = masks.to_bytes()?;
    /// assert_eq!(PruningMasks::from_bytes(&bytes)?, masks);
    /// # Ok(()) }
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let body = serde_json::to_vec(self)
            .map_err(|e| Error::invalid("PruningMasks::to_bytes", format!("encoding the masks: {e}")))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CHECKSUM_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Masks from the bytes of a masks file. Any input gives masks or an
    /// [`Error::BadCheckpoint`] naming the problem; never a panic.
    ///
    /// ```
    /// use neurite::checkpoint::CheckpointProblem;
    /// use neurite::nn::prune::PruningMasks;
    /// let err = PruningMasks::from_bytes(b"not a masks file").unwrap_err();
    /// assert_eq!(err.checkpoint_problem(), Some(CheckpointProblem::BadMagic));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<PruningMasks> {
        decode(bytes, BYTES_LABEL)
    }

    /// Saves the masks to `path` atomically (a temporary file renamed over
    /// the target, as checkpoints are saved), to keep them next to a model
    /// or training checkpoint. To put them inside a training checkpoint
    /// instead, save them as (part of) its history:
    /// `TrainingSnapshot::new(&model, &opt, &(history, masks))`.
    ///
    /// ```
    /// use neurite::nn::prune::{PruningMasks, l1_unstructured};
    /// # fn main() -> neurite::Result<()> {
    /// let path = std::env::temp_dir().join(format!("neurite-doc-masks-{}.bin", std::process::id()));
    /// let layer = neurite::nn::Linear::new(4, 4);
    /// let masks = l1_unstructured(&layer, "weight", 0.5)?;
    /// masks.save(&path)?;
    /// assert_eq!(PruningMasks::load(&path)?, masks);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok(()) }
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_bytes()?)
    }

    /// Loads masks saved by [`PruningMasks::save`]. Errors with
    /// [`Error::BadCheckpoint`] on a damaged or foreign file (only its
    /// header is read until its declared length matches the file), and with
    /// [`Error::Io`] when it cannot be read. Check them against a model with
    /// [`PruningMasks::apply`].
    ///
    /// ```
    /// use neurite::nn::prune::PruningMasks;
    /// assert!(PruningMasks::load("/no/such/masks.bin").is_err());
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<PruningMasks> {
        let path = path.as_ref();
        let label = path.display().to_string();
        let bytes = read_bounded(path, &label)?;
        decode(&bytes, &label)
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// Checks a header: magic, version, reserved bytes. Returns the declared whole-file length.
fn check_header(h: &[u8], label: &str) -> Result<usize> {
    use CheckpointProblem as P;
    let magic = h.len().min(MAGIC.len());
    if h[..magic] != MAGIC[..magic] {
        let hint = if h.starts_with(b"NEURITE\0") {
            " (it is a neurite model or training checkpoint: load the masks from their own file)"
        } else {
            ""
        };
        return Err(P::BadMagic.at(label, format!("not a pruning-masks file{hint}")));
    }
    if h.len() < HEADER_LEN {
        return Err(P::Truncated.at(
            label,
            format!("{} bytes, fewer than the {HEADER_LEN}-byte header", h.len()),
        ));
    }
    let version = u32_at(h, 8);
    if version != VERSION {
        return Err(P::UnsupportedVersion.at(
            label,
            format!("masks format version {version}; this build reads version {VERSION}"),
        ));
    }
    if u32_at(h, 12) != 0 {
        return Err(P::InvalidContent.at(label, "the reserved header bytes are not zero"));
    }
    let body = u64_at(h, 16);
    body.checked_add((HEADER_LEN + CHECKSUM_LEN) as u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            P::Truncated.at(
                label,
                format!("a declared body of {body} bytes: a corrupt length field"),
            )
        })
}

fn decode(bytes: &[u8], label: &str) -> Result<PruningMasks> {
    use CheckpointProblem as P;
    let want = check_header(bytes, label)?;
    if bytes.len() != want {
        return Err(length_error(want, bytes.len() as u64, label));
    }
    let end = want - CHECKSUM_LEN;
    let (stored, computed) = (u32_at(bytes, end), crc32fast::hash(&bytes[..end]));
    if stored != computed {
        return Err(P::ChecksumMismatch.at(
            label,
            format!("stored CRC32 {stored:08x}, computed {computed:08x}: the file is damaged"),
        ));
    }
    serde_json::from_slice(&bytes[HEADER_LEN..end]).map_err(|e| {
        let problem = if e.is_data() { P::InvalidContent } else { P::Undecodable };
        problem.at(label, e.to_string())
    })
}

/// The file at `path`, read only as far as its header declares, and only
/// once that length matches the file's size (when it has one).
fn read_bounded(path: &Path, label: &str) -> Result<Vec<u8>> {
    let io = |e| Error::io(format!("reading the pruning masks {label}"), e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a folder, not a file",
        )));
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    (&mut file)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(io)?;
    let want = check_header(&header, label)?;
    if meta.is_file() && meta.len() != want as u64 {
        // Refused before anything is allocated for a body the file cannot hold.
        return Err(length_error(want, meta.len(), label));
    }
    let mut bytes = header;
    if meta.is_file() {
        bytes
            .try_reserve_exact(want - HEADER_LEN)
            .map_err(|_| Error::OutOfMemory {
                device: crate::Device::Cpu,
                bytes: want,
            })?;
    }
    // A source without a size (a FIFO) grows the buffer only as bytes arrive,
    // and one byte past the declaration is enough to report it.
    let rest = (want - HEADER_LEN) as u64 + 1;
    (&mut file).take(rest).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// The error for an input of `have` bytes where the header declares `want`.
fn length_error(want: usize, have: u64, label: &str) -> Error {
    use CheckpointProblem as P;
    let (problem, what) = if have < want as u64 {
        (P::Truncated, "the file was cut short")
    } else {
        (P::LengthMismatch, "bytes follow the declared end")
    };
    problem.at(
        label,
        format!("the header declares {want} bytes in all, there are {have}: {what}"),
    )
}
