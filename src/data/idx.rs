//! IDX files, the format of MNIST, Fashion-MNIST and EMNIST, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (two zero bytes, a type code and the
//! rank), then `rank` big-endian `u32` dimensions, then the elements in
//! row-major order, big-endian. Every field is checked; a malformed file gives
//! [`Error::Format`] naming the file, the byte offset and what was wrong, and
//! no allocation is made beyond what the file can really hold.

use crate::{DType, Device, Error, Result, Tensor, WithDType};
use flate2::read::MultiGzDecoder;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Deflate cannot expand data by more than about 1032:1, so a gzip file of `n`
/// bytes never decompresses to more than `n * 1032`: the bound that rejects a
/// header claiming more data than the file could carry before anything is read.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// The element type named by the third byte of an IDX header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// `0x08`: unsigned byte (MNIST pixels and labels).
    U8,
    /// `0x09`: signed byte.
    I8,
    /// `0x0B`: big-endian 16-bit integer.
    I16,
    /// `0x0C`: big-endian 32-bit integer.
    I32,
    /// `0x0D`: big-endian 32-bit float.
    F32,
    /// `0x0E`: big-endian 64-bit float.
    F64,
}

impl IdxType {
    /// The type for a header's type code, if it is one of the six the format defines.
    pub fn from_code(code: u8) -> Option<IdxType> {
        Some(match code {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }

    /// The header's type code.
    pub fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }

    /// A short name for messages (`"u8"`).
    pub fn name(self) -> &'static str {
        match self {
            IdxType::U8 => "u8",
            IdxType::I8 => "i8",
            IdxType::I16 => "i16",
            IdxType::I32 => "i32",
            IdxType::F32 => "f32",
            IdxType::F64 => "f64",
        }
    }
}

/// The elements of an IDX file in the file's own element type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    U8(Vec<u8>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// The decoded content of one IDX file: its dimensions and elements.
///
/// ```no_run
/// use neurite::data::IdxArray;
/// # fn main() -> neurite::Result<()> {
/// let labels = IdxArray::read("data/mnist/train-labels-idx1-ubyte.gz")?;
/// assert_eq!(labels.dims(), &[6000]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: IdxData,
}

impl IdxArray {
    /// Reads an IDX file, gzip-compressed (detected by its magic bytes `1f 8b`,
    /// not by the file name) or raw.
    ///
    /// Only regular files are read: the header is checked against the file's
    /// size before any data is read, and a device (`/dev/zero`) or a pipe has
    /// no size to check it against (opening a FIFO would also block until a
    /// writer appears), so those are refused up front with [`Error::Format`].
    pub fn read(path: impl AsRef<Path>) -> Result<IdxArray> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| Error::io(format!("opening IDX file {name}"), e))?;
        if !meta.is_file() {
            return Err(Error::Format {
                path: name,
                msg: format!(
                    "IDX file: not a regular file ({}); IDX data is read from regular files only, whose size bounds what the header may declare",
                    file_kind(&meta)
                ),
            });
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(format!("opening IDX file {name}"), e))?;
        let file_len = file
            .metadata()
            .map_err(|e| Error::io(format!("reading the size of IDX file {name}"), e))?
            .len();
        let mut reader = BufReader::new(file);
        let gzip = reader
            .fill_buf()
            .map_err(|e| Error::io(format!("reading IDX file {name}"), e))?
            .starts_with(&GZIP_MAGIC);
        if gzip {
            parse(&mut MultiGzDecoder::new(reader), &name, file_len, true)
        } else {
            parse(&mut reader, &name, file_len, false)
        }
    }

    /// Decodes IDX content held in memory (raw or gzip); `name` stands for the
    /// file in error messages.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<IdxArray> {
        let len = bytes.len() as u64;
        if bytes.starts_with(&GZIP_MAGIC) {
            parse(&mut MultiGzDecoder::new(bytes), name, len, true)
        } else {
            parse(&mut { bytes }, name, len, false)
        }
    }

    /// Builds an array from parts (for writing tests or converting data).
    pub fn new(dims: Vec<usize>, data: IdxData) -> Result<IdxArray> {
        let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let len = data_len(&data);
        let dims_ok = dims.iter().all(|&d| d >= 1 && d <= u32::MAX as usize);
        if dims.is_empty() || dims.len() > 255 || !dims_ok || count != Some(len) {
            return Err(Error::invalid(
                "IdxArray::new",
                format!("dims {dims:?} (rank 1 to 255, each 1 to 2^32-1) must hold exactly the {len} elements given"),
            ));
        }
        Ok(IdxArray { dims, data })
    }

    /// The dimensions, outermost (the item count) first.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements.
    pub fn data(&self) -> &IdxData {
        &self.data
    }

    /// Takes the elements out.
    pub fn into_data(self) -> IdxData {
        self.data
    }

    /// The element type.
    pub fn elem_type(&self) -> IdxType {
        match self.data {
            IdxData::U8(_) => IdxType::U8,
            IdxData::I8(_) => IdxType::I8,
            IdxData::I16(_) => IdxType::I16,
            IdxData::I32(_) => IdxType::I32,
            IdxData::F32(_) => IdxType::F32,
            IdxData::F64(_) => IdxType::F64,
        }
    }

    /// Number of elements.
    pub fn elem_count(&self) -> usize {
        data_len(&self.data)
    }

    /// The elements as bytes when the type is `u8`.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match &self.data {
            IdxData::U8(v) => Some(v),
            _ => None,
        }
    }

    /// The values converted to `dtype` (not rescaled) in a tensor of this
    /// array's dims. `I64` is refused for float data.
    pub fn to_tensor(&self, dtype: DType, device: &Device) -> Result<Tensor> {
        match dtype {
            DType::F32 => Tensor::from_vec(self.values::<f32>(), self.dims.clone(), device),
            DType::F64 => Tensor::from_vec(self.values::<f64>(), self.dims.clone(), device),
            DType::I64 => match self.elem_type() {
                IdxType::F32 | IdxType::F64 => Err(Error::invalid(
                    "IdxArray::to_tensor",
                    format!("{} data cannot be read as i64", self.elem_type().name()),
                )),
                _ => Tensor::from_vec(self.values::<i64>(), self.dims.clone(), device),
            },
            DType::F16 | DType::BF16 => {
                Tensor::from_vec(self.values::<f32>(), self.dims.clone(), device)?.to_dtype(dtype)
            }
            // The narrower integers wrap as a cast from i64 does; bool is "nonzero".
            DType::I32 | DType::I8 | DType::U8 => self.to_tensor(DType::I64, device)?.to_dtype(dtype),
            DType::Bool => Tensor::from_vec(self.values::<f64>(), self.dims.clone(), device)?.to_dtype(dtype),
        }
    }

    /// The elements converted to `T`.
    pub fn values<T: WithDType>(&self) -> Vec<T> {
        fn conv<S: Copy, T>(v: &[S], f: impl Fn(S) -> T) -> Vec<T> {
            v.iter().map(|&x| f(x)).collect()
        }
        match &self.data {
            IdxData::U8(v) => conv(v, |x| T::from_f64(x as f64)),
            IdxData::I8(v) => conv(v, |x| T::from_f64(x as f64)),
            IdxData::I16(v) => conv(v, |x| T::from_f64(x as f64)),
            IdxData::I32(v) => conv(v, |x| T::from_f64(x as f64)),
            IdxData::F32(v) => conv(v, |x| T::from_f64(x as f64)),
            IdxData::F64(v) => conv(v, T::from_f64),
        }
    }

    /// Encodes as raw (uncompressed) IDX bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0, 0, self.elem_type().code(), self.dims.len() as u8];
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        match &self.data {
            IdxData::U8(v) => out.extend_from_slice(v),
            IdxData::I8(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
            IdxData::I16(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
            IdxData::I32(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
            IdxData::F32(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
            IdxData::F64(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
        }
        out
    }
}

/// What a path that is not a regular file is, for messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

fn data_len(d: &IdxData) -> usize {
    match d {
        IdxData::U8(v) => v.len(),
        IdxData::I8(v) => v.len(),
        IdxData::I16(v) => v.len(),
        IdxData::I32(v) => v.len(),
        IdxData::F32(v) => v.len(),
        IdxData::F64(v) => v.len(),
    }
}

/// Reads up to `n` bytes, stopping early only at the end of the stream; the
/// buffer grows with the data that really arrives, never to `n` up front.
/// On a read error, returns the bytes read so far with the error.
fn read_upto(r: &mut dyn Read, n: u64) -> (Vec<u8>, Option<std::io::Error>) {
    let mut buf = Vec::new();
    match r.take(n).read_to_end(&mut buf) {
        Ok(_) => (buf, None),
        Err(e) => (buf, Some(e)),
    }
}

/// Builds the errors of one parse: every message names the file and the offset.
struct Ctx<'a> {
    name: &'a str,
    gzip: bool,
}

impl Ctx<'_> {
    fn err(&self, offset: u64, msg: impl std::fmt::Display) -> Error {
        let where_ = if self.gzip {
            format!("byte offset {offset} of the decompressed data")
        } else {
            format!("byte offset {offset}")
        };
        Error::Format {
            path: self.name.to_string(),
            msg: format!("IDX file, {where_}: {msg}"),
        }
    }

    /// A read error: corrupt compressed data is a format problem, a failing
    /// raw read an I/O one.
    fn read_err(&self, offset: u64, e: std::io::Error) -> Error {
        if self.gzip {
            self.err(offset, format!("the gzip data is corrupt or truncated ({e})"))
        } else {
            Error::io(format!("{}: reading IDX data at byte offset {offset}", self.name), e)
        }
    }
}

fn parse(r: &mut dyn Read, name: &str, source_len: u64, gzip: bool) -> Result<IdxArray> {
    let cx = Ctx { name, gzip };
    let (magic, e) = read_upto(r, 4);
    if let Some(e) = e {
        return Err(cx.read_err(magic.len() as u64, e));
    }
    if magic.len() < 4 {
        return Err(cx.err(
            magic.len() as u64,
            format!(
                "the file ends after {} bytes, inside the 4-byte magic number",
                magic.len()
            ),
        ));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(cx.err(
            0,
            format!(
                "bad magic number {:02x} {:02x} {:02x} {:02x}: an IDX file starts with two zero bytes (is this an IDX file?)",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    let ty = IdxType::from_code(magic[2]).ok_or_else(|| {
        cx.err(
            2,
            format!(
                "unknown element type code 0x{:02x}; IDX defines 0x08 (u8), 0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32) and 0x0E (f64)",
                magic[2]
            ),
        )
    })?;
    let rank = magic[3] as usize;
    if rank == 0 {
        return Err(cx.err(3, "rank 0: an IDX file needs at least one dimension"));
    }
    let header_len = 4 + 4 * rank as u64;
    let (dim_bytes, e) = read_upto(r, 4 * rank as u64);
    if let Some(e) = e {
        return Err(cx.read_err(4 + dim_bytes.len() as u64, e));
    }
    if dim_bytes.len() < 4 * rank {
        let got = 4 + dim_bytes.len() as u64;
        return Err(cx.err(
            got,
            format!(
                "the file ends after {got} bytes, inside the header ({rank} dimensions need {header_len} header bytes)"
            ),
        ));
    }
    let mut dims = Vec::with_capacity(rank);
    for (i, c) in dim_bytes.chunks_exact(4).enumerate() {
        // chunks_exact(4) yields 4-byte slices only.
        let d = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        if d == 0 {
            return Err(cx.err(
                4 + 4 * i as u64,
                format!("dimension {i} of {rank} is 0; every dimension must be at least 1"),
            ));
        }
        dims.push(d as usize);
    }
    let elem_size = ty.size_in_bytes() as u64;
    let payload = dims
        .iter()
        .try_fold(elem_size, |a, &d| a.checked_mul(d as u64))
        .ok_or_else(|| {
            cx.err(
                4,
                format!("dims {dims:?} of {} describe more bytes than fit in 64 bits", ty.name()),
            )
        })?;
    let end = header_len.saturating_add(payload);
    let describe = || {
        format!(
            "dims {dims:?} of {} need {payload} bytes of data after the {header_len}-byte header",
            ty.name()
        )
    };
    if gzip {
        let bound = source_len.saturating_mul(MAX_DEFLATE_RATIO);
        if end > bound {
            return Err(cx.err(
                4,
                format!(
                    "{}, more than a {source_len}-byte gzip file can decompress to (at most {bound} bytes)",
                    describe()
                ),
            ));
        }
    } else if end > source_len {
        return Err(cx.err(
            source_len,
            format!(
                "the file is truncated: it ends at byte {source_len} but {}, up to byte {end}",
                describe()
            ),
        ));
    }
    let (bytes, e) = read_upto(r, payload);
    if let Some(e) = e {
        return Err(cx.read_err(header_len + bytes.len() as u64, e));
    }
    if (bytes.len() as u64) < payload {
        let at = header_len + bytes.len() as u64;
        let what = if gzip { "decompressed data" } else { "file" };
        return Err(cx.err(
            at,
            format!(
                "the {what} is truncated: it ends at byte {at} but {}, up to byte {end}",
                describe()
            ),
        ));
    }
    let (extra, e) = read_upto(r, 1);
    if let Some(e) = e.filter(|_| extra.is_empty()) {
        // With gzip this is either bytes after the member that are not another
        // gzip member, or a damaged end of the stream (CRC, length): say both.
        return Err(if gzip {
            cx.err(
                end,
                format!(
                    "{} and ends at byte {end}, but the gzip file does not end cleanly there \
                     (trailing data, or a corrupt or truncated gzip trailer: {e})",
                    describe()
                ),
            )
        } else {
            cx.read_err(end, e)
        });
    }
    if !extra.is_empty() {
        let what = if gzip {
            "the decompressed data goes on".to_string()
        } else {
            format!("the file goes on for {} more bytes", source_len.saturating_sub(end))
        };
        return Err(cx.err(
            end,
            format!("trailing data: {} and ends at byte {end}, but {what}", describe()),
        ));
    }
    Ok(IdxArray {
        data: decode(ty, bytes),
        dims,
    })
}

/// Converts big-endian element bytes (a whole number of elements) to values.
fn decode(ty: IdxType, b: Vec<u8>) -> IdxData {
    // Every chunk below has exactly the element size, so the conversions to
    // fixed-size arrays cannot fail.
    macro_rules! be {
        ($t:ty, $n:expr) => {
            b.chunks_exact($n)
                .map(|c| <$t>::from_be_bytes(c.try_into().expect("chunk of element size")))
                .collect()
        };
    }
    match ty {
        IdxType::U8 => IdxData::U8(b),
        IdxType::I8 => IdxData::I8(b.iter().map(|&x| x as i8).collect()),
        IdxType::I16 => IdxData::I16(be!(i16, 2)),
        IdxType::I32 => IdxData::I32(be!(i32, 4)),
        IdxType::F32 => IdxData::F32(be!(f32, 4)),
        IdxType::F64 => IdxData::F64(be!(f64, 8)),
    }
}
