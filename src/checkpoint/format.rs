//! The checkpoint file layout: a fixed header, a codec-encoded body, a checksum.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"NEURITE\0"` |
//! | 8 | 4 | format version, `u32` little-endian ([`FORMAT_VERSION`]) |
//! | 12 | 2 | kind, `u16` LE: 1 = model, 2 = training |
//! | 14 | 2 | reserved, zero |
//! | 16 | 24 | version of the crate that wrote the file, UTF-8, NUL-padded |
//! | 40 | 8 | body length in bytes, `u64` LE |
//! | 48 | body length | body ([`super::codec`]) |
//! | end - 4 | 4 | CRC32 (IEEE, `crc32fast`) of everything before it, `u32` LE |
//!
//! [`decode_frame`] checks, in this order and before any decoding: the magic,
//! the format version, the declared length against the real size, and the
//! checksum. Each failure is its own [`CheckpointProblem`].

use super::CheckpointProblem;

/// The first eight bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"NEURITE\0";
/// The newest format version this build writes and reads.
///
/// Version 2 (neurite 0.1, wave 2) stores any module: its name and an optional
/// configuration. Version 1 bodies (always a `Sequential`) are still read.
pub const FORMAT_VERSION: u32 = 2;
/// Bytes before the body.
pub const HEADER_LEN: usize = 48;
/// Bytes after the body (the CRC32).
pub const CHECKSUM_LEN: usize = 4;
const CRATE_VERSION_LEN: usize = 24;

/// What a checkpoint holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckpointKind {
    /// A model: architecture, parameters and buffers.
    Model,
    /// A model plus optimizer, scheduler, RNG and data-loader state, counters and history.
    Training,
}

impl CheckpointKind {
    fn code(self) -> u16 {
        match self {
            CheckpointKind::Model => 1,
            CheckpointKind::Training => 2,
        }
    }

    fn from_code(code: u16) -> Option<CheckpointKind> {
        match code {
            1 => Some(CheckpointKind::Model),
            2 => Some(CheckpointKind::Training),
            _ => None,
        }
    }

    /// `"model"` or `"training"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointKind::Model => "model",
            CheckpointKind::Training => "training",
        }
    }
}

/// The decoded header of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The format version the file was written with.
    pub format_version: u32,
    /// Model or training checkpoint.
    pub kind: CheckpointKind,
    /// The version of neurite that wrote it (informational).
    pub crate_version: String,
    /// Length of the body in bytes.
    pub body_len: u64,
}

/// Frames `body` as a complete checkpoint file: header, body, checksum.
pub fn encode_frame(kind: CheckpointKind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CHECKSUM_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&kind.code().to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    let mut version = [0u8; CRATE_VERSION_LEN];
    let v = env!("CARGO_PKG_VERSION").as_bytes();
    let n = v.len().min(CRATE_VERSION_LEN);
    version[..n].copy_from_slice(&v[..n]);
    out.extend_from_slice(&version);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Checks the start of a file, the only part read before anything is
/// allocated for the body: the magic (a prefix of it when the file is that
/// short), a whole header, and a readable format version. Returns the format
/// version and the declared body length.
pub(crate) fn check_start(bytes: &[u8]) -> Result<(u32, u64), (CheckpointProblem, String)> {
    use CheckpointProblem as P;
    let n = bytes.len();
    let magic_len = n.min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        let hint = if n >= 9 && bytes[8] == b'{' {
            " (it looks like a safetensors file: load it with load_safetensors)"
        } else {
            ""
        };
        return Err((
            P::BadMagic,
            format!(
                "the file starts with {:02x?}, a checkpoint with {:02x?}{hint}",
                &bytes[..magic_len],
                MAGIC
            ),
        ));
    }
    if n < HEADER_LEN {
        return Err((
            P::Truncated,
            format!("the file has {n} bytes, fewer than the {HEADER_LEN}-byte header"),
        ));
    }
    let format_version = u32_at(bytes, 8);
    if format_version == 0 || format_version > FORMAT_VERSION {
        let writer = crate_version(bytes);
        return Err((
            P::UnsupportedVersion,
            format!(
                "format version {format_version} (written by neurite {writer:?}); this build \
                 (neurite {}) reads versions 1 to {FORMAT_VERSION}: load it with a newer neurite",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    Ok((format_version, u64_at(bytes, 40)))
}

/// The whole file size a declared body length implies (header, body,
/// checksum), when this machine can hold it in memory.
fn expected_len(body_len: u64) -> Option<usize> {
    body_len
        .checked_add((HEADER_LEN + CHECKSUM_LEN) as u64)
        .and_then(|e| usize::try_from(e).ok())
}

/// [`expected_len`], or the error for a length no file read into memory can have.
pub(crate) fn declared_len(body_len: u64) -> Result<usize, (CheckpointProblem, String)> {
    expected_len(body_len).ok_or_else(|| {
        (
            CheckpointProblem::Truncated,
            format!(
                "the header declares a {body_len}-byte body, more than this machine can address: \
                 a corrupt length field"
            ),
        )
    })
}

/// Checks the declared body length against the real size `n` of the file
/// (checked arithmetic: any `u64` is a possible field value). Returns the size.
pub(crate) fn check_length(body_len: u64, n: u64) -> Result<usize, (CheckpointProblem, String)> {
    use CheckpointProblem as P;
    let expected = expected_len(body_len).map(|e| e as u64);
    match expected {
        Some(e) if e == n => Ok(e as usize),
        Some(e) if e < n => Err((
            P::LengthMismatch,
            format!(
                "the header declares a {body_len}-byte body, so the file should have {e} bytes, \
                 but it has {n} ({} too many)",
                n - e
            ),
        )),
        _ => {
            let far = expected.is_none_or(|e| e > n.saturating_mul(2).saturating_add(1024));
            let what = if far {
                "the declared length is far beyond the file: a corrupt length field or a badly truncated file"
            } else {
                "the file was cut short"
            };
            Err((
                P::Truncated,
                format!(
                    "the header declares a {body_len}-byte body, but only {} byte(s) follow the header, \
                     including the {CHECKSUM_LEN}-byte checksum; {what}",
                    n.saturating_sub(HEADER_LEN as u64)
                ),
            ))
        }
    }
}

/// The header of a file whose start passed [`check_start`]. The kind is
/// checked last, after the checksum where there is one, so that damage to
/// its bytes reads as damage rather than as an unknown kind.
fn header_of(bytes: &[u8], format_version: u32, body_len: u64) -> Result<Header, (CheckpointProblem, String)> {
    let code = u16_at(bytes, 12);
    let kind = CheckpointKind::from_code(code).ok_or_else(|| {
        (
            CheckpointProblem::WrongKind,
            format!("unknown checkpoint kind code {code}"),
        )
    })?;
    Ok(Header {
        format_version,
        kind,
        crate_version: crate_version(bytes),
        body_len,
    })
}

/// Decodes the fixed header alone: magic, version and kind. Neither the
/// declared length nor the checksum is checked (see [`decode_frame`]).
pub fn decode_header(bytes: &[u8]) -> Result<Header, (CheckpointProblem, String)> {
    let (format_version, body_len) = check_start(bytes)?;
    header_of(bytes, format_version, body_len)
}

/// Checks the frame of a whole checkpoint file and returns its header and body.
///
/// Nothing is decoded and nothing is allocated here: the body is a slice of
/// `bytes`, returned only once the magic, version, length and checksum are right.
pub fn decode_frame(bytes: &[u8]) -> Result<(Header, &[u8]), (CheckpointProblem, String)> {
    let (format_version, body_len) = check_start(bytes)?;
    let n = check_length(body_len, bytes.len() as u64)?;
    let end = n - CHECKSUM_LEN;
    let stored = u32_at(bytes, end);
    let computed = crc32fast::hash(&bytes[..end]);
    if stored != computed {
        return Err((
            CheckpointProblem::ChecksumMismatch,
            format!("stored CRC32 {stored:08x}, computed {computed:08x}: the file is damaged"),
        ));
    }
    let header = header_of(bytes, format_version, body_len)?;
    Ok((header, &bytes[HEADER_LEN..end]))
}

/// The writer's crate version, for messages (lossy: the field is not trusted).
fn crate_version(bytes: &[u8]) -> String {
    let field = &bytes[16..16 + CRATE_VERSION_LEN];
    let len = field.iter().position(|&b| b == 0).unwrap_or(CRATE_VERSION_LEN);
    String::from_utf8_lossy(&field[..len]).into_owned()
}
