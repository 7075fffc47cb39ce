//! Reading checkpoint and safetensors files without trusting them for sizes.
//!
//! `std::fs::read` reads until the source ends, so `Sequential::load("/dev/zero")`
//! would fill memory, and a large file would be read whole before its header
//! is even looked at. Here the fixed-size header is read first and checked;
//! only then is the declared rest read, and never more than declared:
//! - for a regular file the declared size must equal the file's size (from its
//!   metadata) before anything is allocated for the body, so a corrupt length
//!   field cannot ask for more memory than the file holds;
//! - for anything else (a FIFO, a character device, a socket) there is no size
//!   to compare with, so the buffer grows only as bytes really arrive, and
//!   reading stops at the declared length: a source that does not end is read
//!   one byte past the declaration, then refused.
//!
//! The buffer that holds the file is reserved and grown fallibly
//! ([`Error::OutOfMemory`] instead of an abort).

use super::CheckpointProblem;
use super::format::{self, HEADER_LEN, Header};
use crate::{Device, Error, Result};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The largest JSON header the safetensors crate itself accepts.
pub(crate) const SAFETENSORS_MAX_HEADER: u64 = 100_000_000;

/// How much is reserved up front for a source of unknown size; beyond it the
/// buffer grows (amortised) as bytes arrive.
const UNSIZED_INITIAL: usize = 1 << 20;

/// Size of the reads the buffer grows by.
const CHUNK: usize = 64 * 1024;

/// Opens `path` for reading; a folder is refused here because on some
/// platforms opening one succeeds and only the first read fails.
fn open(path: &Path, what: &str) -> Result<(File, Metadata)> {
    let context = || format!("reading {what} {}", path.display());
    let file = File::open(path).map_err(|e| Error::io(context(), e))?;
    let meta = file.metadata().map_err(|e| Error::io(context(), e))?;
    if meta.is_dir() {
        return Err(Error::io(
            context(),
            io::Error::new(io::ErrorKind::IsADirectory, "it is a folder, not a file"),
        ));
    }
    Ok((file, meta))
}

/// Fills `buf` from `r` as far as the source goes; returns the bytes read
/// (fewer than `buf.len()` only at the end of the source).
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The out-of-memory error for a buffer of `bytes`.
fn oom(bytes: usize) -> Error {
    Error::OutOfMemory {
        device: Device::Cpu,
        bytes,
    }
}

/// Appends at most `limit` bytes of `r` to `buf`, growing it fallibly and only
/// by what has really been read.
fn read_capped(r: &mut impl Read, buf: &mut Vec<u8>, limit: u64) -> std::result::Result<(), ReadError> {
    let mut chunk = vec![0u8; CHUNK];
    let mut left = limit;
    while left > 0 {
        let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        let n = match r.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        buf.try_reserve(n)
            .map_err(|_| ReadError::OutOfMemory(buf.len().saturating_add(n)))?;
        buf.extend_from_slice(&chunk[..n]);
        left -= n as u64;
    }
    Ok(())
}

/// Whether `r` has at least one more byte (it is consumed).
fn more_follows(r: &mut impl Read) -> io::Result<bool> {
    let mut one = [0u8; 1];
    Ok(read_up_to(r, &mut one)? == 1)
}

/// Why [`read_capped`] stopped early.
enum ReadError {
    Io(io::Error),
    OutOfMemory(usize),
}

impl ReadError {
    fn into_error(self, context: impl FnOnce() -> String) -> Error {
        match self {
            ReadError::Io(e) => Error::io(context(), e),
            ReadError::OutOfMemory(bytes) => oom(bytes),
        }
    }
}

/// Reads the checkpoint at `path`: the header, then exactly the length it
/// declares (see the module docs). The returned bytes still go through
/// [`format::decode_frame`], which reports a short read as
/// [`CheckpointProblem::Truncated`] and checks the checksum.
pub(crate) fn read_checkpoint(path: &Path) -> Result<Vec<u8>> {
    let label = path.display().to_string();
    let context = || format!("reading checkpoint {label}");
    let bad = |(problem, detail): (CheckpointProblem, String)| problem.at(&label, detail);
    let (mut file, meta) = open(path, "checkpoint")?;
    let mut header = [0u8; HEADER_LEN];
    let got = read_up_to(&mut file, &mut header).map_err(|e| Error::io(context(), e))?;
    let (_, body_len) = format::check_start(&header[..got]).map_err(bad)?;
    let (total, initial) = if meta.is_file() {
        let total = format::check_length(body_len, meta.len()).map_err(bad)?;
        (total, total)
    } else {
        let total = format::declared_len(body_len).map_err(bad)?;
        (total, total.min(UNSIZED_INITIAL))
    };
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(initial).map_err(|_| oom(initial))?;
    bytes.extend_from_slice(&header);
    read_capped(&mut file, &mut bytes, (total - HEADER_LEN) as u64).map_err(|e| e.into_error(context))?;
    // A regular file that grew since its size was taken, or a source that
    // does not end: either way the bytes past the declaration are not read.
    if bytes.len() == total && more_follows(&mut file).map_err(|e| Error::io(context(), e))? {
        return Err(CheckpointProblem::LengthMismatch.at(
            &label,
            format!(
                "the header declares a {body_len}-byte body ({total} bytes in all), but the file goes on \
                 past them"
            ),
        ));
    }
    Ok(bytes)
}

/// Reads and checks the header of the checkpoint at `path` and nothing else:
/// the magic, the version, the kind and, for a regular file, that its size is
/// the one the header declares. The body and the checksum are not read.
pub(crate) fn read_checkpoint_header(path: &Path) -> Result<Header> {
    let label = path.display().to_string();
    let bad = |(problem, detail): (CheckpointProblem, String)| problem.at(&label, detail);
    let (mut file, meta) = open(path, "checkpoint")?;
    let mut header = [0u8; HEADER_LEN];
    let got = read_up_to(&mut file, &mut header).map_err(|e| Error::io(format!("reading checkpoint {label}"), e))?;
    let decoded = format::decode_header(&header[..got]).map_err(bad)?;
    if meta.is_file() {
        format::check_length(decoded.body_len, meta.len()).map_err(bad)?;
    }
    Ok(decoded)
}

/// Where the data of a safetensors file ends, from its JSON header: the
/// largest end offset. Only used for sources of unknown size; the header is
/// validated properly (offsets contiguous, sizes matching shapes) when the
/// whole file is parsed.
fn safetensors_data_len(json: &[u8]) -> std::result::Result<u64, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        data_offsets: Option<(u64, u64)>,
    }
    let entries: std::collections::HashMap<String, Entry> =
        serde_json::from_slice(json).map_err(|e| format!("not a valid safetensors header: {e}"))?;
    Ok(entries
        .values()
        .filter_map(|e| e.data_offsets.map(|(_, end)| end))
        .max()
        .unwrap_or(0))
}

/// Reads the safetensors file at `path` without reading past what it
/// declares: the 8-byte header length is bounded by safetensors' own limit
/// ([`SAFETENSORS_MAX_HEADER`]) and, for a regular file, by its size; the end
/// of the data the JSON header declares must then be the end of a regular
/// file before the data is allocated, and bounds what is read from any other
/// source. The returned bytes are validated by the safetensors parser.
pub(crate) fn read_safetensors_file(path: &Path) -> Result<Vec<u8>> {
    let label = path.display().to_string();
    let context = || format!("reading {label}");
    let format_err = |msg: String| Error::Format {
        path: label.clone(),
        msg: format!("not a valid safetensors file: {msg}"),
    };
    let (mut file, meta) = open(path, "safetensors file")?;
    let size = meta.is_file().then_some(meta.len());
    let mut len_field = [0u8; 8];
    let got = read_up_to(&mut file, &mut len_field).map_err(|e| Error::io(context(), e))?;
    if got < len_field.len() {
        return Err(format_err(format!(
            "it has {got} bytes, fewer than the 8-byte header length"
        )));
    }
    let header_len = u64::from_le_bytes(len_field);
    if header_len > SAFETENSORS_MAX_HEADER {
        return Err(format_err(format!(
            "its header length field declares {header_len} bytes, above the safetensors limit of \
             {SAFETENSORS_MAX_HEADER}"
        )));
    }
    // At most 100 MB + 8: no overflow, and a bounded reservation.
    let header_end = 8 + header_len;
    if let Some(size) = size
        && header_end > size
    {
        return Err(format_err(format!(
            "its header length field declares {header_len} bytes, but the file has only {size} in all"
        )));
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(header_end as usize)
        .map_err(|_| oom(header_end as usize))?;
    bytes.extend_from_slice(&len_field);
    read_capped(&mut file, &mut bytes, header_len).map_err(|e| e.into_error(context))?;
    if (bytes.len() as u64) < header_end {
        return Err(format_err(format!("it ends inside its {header_len}-byte header")));
    }
    let data_len = safetensors_data_len(&bytes[8..]).map_err(format_err)?;
    let total = header_end.checked_add(data_len);
    match (size, total) {
        (Some(size), Some(total)) if total == size => {
            let total = usize::try_from(total).map_err(|_| oom(usize::MAX))?;
            bytes.try_reserve_exact(total - bytes.len()).map_err(|_| oom(total))?;
        }
        (Some(size), _) => {
            return Err(format_err(format!(
                "its header places the data's end at byte {} of the file, which has {size}",
                total.map_or_else(|| "beyond 2^64".to_string(), |t| t.to_string())
            )));
        }
        // Any other source: read until the data's declared end, growing as bytes arrive.
        (None, _) => {}
    }
    read_capped(&mut file, &mut bytes, data_len).map_err(|e| e.into_error(context))?;
    if more_follows(&mut file).map_err(|e| Error::io(context(), e))? {
        return Err(format_err(format!(
            "it goes on past the {} bytes its header and data take",
            bytes.len()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that never ends and counts what is read from it.
    struct Endless {
        byte: u8,
        served: u64,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(self.byte);
            self.served += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn read_capped_stops_at_the_limit_of_an_endless_source() {
        let mut src = Endless { byte: 7, served: 0 };
        let mut buf = Vec::new();
        assert!(read_capped(&mut src, &mut buf, 200_000).is_ok());
        assert_eq!(buf.len(), 200_000);
        assert_eq!(src.served, 200_000, "not a byte past the limit is read");
        assert!(buf.iter().all(|&b| b == 7));
        assert!(more_follows(&mut src).unwrap());
        assert_eq!(src.served, 200_001);
    }

    #[test]
    fn read_capped_stops_at_the_end_of_a_short_source() {
        let data = vec![3u8; 1000];
        let mut buf = vec![1u8, 2];
        assert!(read_capped(&mut &data[..], &mut buf, 1 << 40).is_ok());
        assert_eq!(buf.len(), 1002);
        assert_eq!(&buf[..3], &[1, 2, 3]);
    }

    #[test]
    fn read_up_to_handles_short_sources() {
        let mut header = [0u8; HEADER_LEN];
        assert_eq!(read_up_to(&mut &b"NEURITE"[..], &mut header).unwrap(), 7);
        assert_eq!(&header[..7], b"NEURITE");
    }

    #[test]
    fn safetensors_data_end_is_the_largest_offset() {
        let json = br#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},
            "a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        assert_eq!(safetensors_data_len(json), Ok(12));
        assert_eq!(safetensors_data_len(b"{}"), Ok(0));
        assert!(safetensors_data_len(b"[1,2]").is_err());
    }
}
