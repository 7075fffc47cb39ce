//! One named tensor as stored in a checkpoint: dtype, shape, little-endian bytes.

use crate::{DType, Device, Result, Tensor};
use half::{bf16, f16};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The most dimensions a stored tensor may have (PyTorch's limit is 64 too).
pub(crate) const MAX_RANK: usize = 64;

/// A named tensor in a checkpoint body.
///
/// Dtypes are stored as explicit codes rather than through [`DType`]'s serde
/// derive, so that reordering that enum never changes the file format.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TensorRecord {
    pub name: String,
    /// The tensor's dtype in the model.
    pub dtype: u8,
    /// The dtype of `data`: the model's, or `F16`/`BF16` for `F32` tensors saved narrowed.
    pub stored: u8,
    pub shape: Vec<u64>,
    pub data: RawBytes,
}

/// A byte vector serialized as one length-prefixed byte string (serde's
/// default would write a sequence of separately encoded `u8`s).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawBytes(pub Vec<u8>);

impl Serialize for RawBytes {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<RawBytes, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = RawBytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<RawBytes, E> {
                Ok(RawBytes(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<RawBytes, E> {
                Ok(RawBytes(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<RawBytes, A::Error> {
                // serde caps the preallocation of its own containers; do the same.
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    v.push(b);
                }
                Ok(RawBytes(v))
            }
        }
        d.deserialize_byte_buf(BytesVisitor)
    }
}

/// The stable on-disk code of a dtype.
pub(crate) fn dtype_code(d: DType) -> u8 {
    match d {
        DType::F32 => 1,
        DType::F64 => 2,
        DType::F16 => 3,
        DType::BF16 => 4,
        DType::I64 => 5,
        DType::Bool => 6,
        DType::U8 => 7,
        DType::I8 => 8,
        DType::I32 => 9,
    }
}

/// The dtype of an on-disk code.
pub(crate) fn dtype_from_code(c: u8) -> Option<DType> {
    Some(match c {
        1 => DType::F32,
        2 => DType::F64,
        3 => DType::F16,
        4 => DType::BF16,
        5 => DType::I64,
        6 => DType::Bool,
        7 => DType::U8,
        8 => DType::I8,
        9 => DType::I32,
        _ => return None,
    })
}

/// Little-endian bytes of a tensor's elements, copied through the host.
pub(crate) fn tensor_le_bytes(t: &Tensor) -> Result<Vec<u8>> {
    fn le<T, const N: usize>(v: Vec<T>, f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len() * N);
        for x in v {
            out.extend_from_slice(&f(x));
        }
        out
    }
    Ok(match t.dtype() {
        DType::F32 => le(t.to_vec::<f32>()?, f32::to_le_bytes),
        DType::F64 => le(t.to_vec::<f64>()?, f64::to_le_bytes),
        DType::F16 => le(t.to_vec::<f16>()?, |x| x.to_bits().to_le_bytes()),
        DType::BF16 => le(t.to_vec::<bf16>()?, |x| x.to_bits().to_le_bytes()),
        DType::I64 => le(t.to_vec::<i64>()?, i64::to_le_bytes),
        DType::Bool => le(t.to_vec::<bool>()?, |x| [x as u8]),
        DType::U8 => t.to_vec::<u8>()?,
        DType::I8 => le(t.to_vec::<i8>()?, i8::to_le_bytes),
        DType::I32 => le(t.to_vec::<i32>()?, i32::to_le_bytes),
    })
}

/// Builds a CPU tensor of `dtype` from little-endian bytes whose length is
/// already known to be `elem_count(shape) * dtype.size_in_bytes()`.
pub(crate) fn tensor_from_le_bytes(bytes: &[u8], dtype: DType, shape: Vec<usize>) -> Result<Tensor> {
    fn parse<T, const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
        bytes
            .chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                f(a)
            })
            .collect()
    }
    let dev = Device::Cpu;
    match dtype {
        DType::F32 => Tensor::from_vec(parse(bytes, f32::from_le_bytes), shape, &dev),
        DType::F64 => Tensor::from_vec(parse(bytes, f64::from_le_bytes), shape, &dev),
        DType::F16 => Tensor::from_vec(parse(bytes, |a| f16::from_bits(u16::from_le_bytes(a))), shape, &dev),
        DType::BF16 => Tensor::from_vec(parse(bytes, |a| bf16::from_bits(u16::from_le_bytes(a))), shape, &dev),
        DType::I64 => Tensor::from_vec(parse(bytes, i64::from_le_bytes), shape, &dev),
        // Any nonzero byte reads as true (PyTorch and safetensors write 0 and 1).
        DType::Bool => Tensor::from_vec(parse(bytes, |a: [u8; 1]| a[0] != 0), shape, &dev),
        DType::U8 => Tensor::from_vec(bytes.to_vec(), shape, &dev),
        DType::I8 => Tensor::from_vec(parse(bytes, i8::from_le_bytes), shape, &dev),
        DType::I32 => Tensor::from_vec(parse(bytes, i32::from_le_bytes), shape, &dev),
    }
}

/// Checks that a tensor of `dims` can exist: the product of its non-zero
/// dimensions (every stride) fits in `isize`. Returns the element count.
pub(crate) fn checked_elem_count(dims: &[usize]) -> Option<usize> {
    let mut nonzero: usize = 1;
    for &d in dims {
        if d != 0 {
            nonzero = nonzero.checked_mul(d).filter(|&p| p <= isize::MAX as usize)?;
        }
    }
    Some(if dims.contains(&0) { 0 } else { nonzero })
}

/// A checked view of a record: dtypes decoded, shape converted and consistent with the bytes.
pub(crate) struct CheckedRecord<'a> {
    pub name: &'a str,
    pub dtype: DType,
    pub stored: DType,
    pub shape: Vec<usize>,
    pub data: &'a [u8],
}

impl CheckedRecord<'_> {
    /// Element count (already checked not to overflow).
    pub fn elem_count(&self) -> usize {
        self.shape.iter().product()
    }

    /// The tensor on the CPU, in the model's dtype.
    pub fn to_tensor(&self) -> Result<Tensor> {
        let t = tensor_from_le_bytes(self.data, self.stored, self.shape.clone())?;
        if self.stored == self.dtype {
            Ok(t)
        } else {
            crate::no_grad(|| t.to_dtype(self.dtype))
        }
    }
}

impl TensorRecord {
    /// Copies `t` to the host; `F32` tensors are stored as `store_f32_as` (`F32`, `F16` or `BF16`).
    pub fn from_tensor(name: &str, t: &Tensor, store_f32_as: DType) -> Result<TensorRecord> {
        let stored = if t.dtype() == DType::F32 {
            store_f32_as
        } else {
            t.dtype()
        };
        let data = crate::no_grad(|| {
            let narrowed = if stored == t.dtype() {
                t.clone()
            } else {
                t.to_dtype(stored)?
            };
            tensor_le_bytes(&narrowed)
        })?;
        Ok(TensorRecord {
            name: name.to_string(),
            dtype: dtype_code(t.dtype()),
            stored: dtype_code(stored),
            shape: t.dims().iter().map(|&d| d as u64).collect(),
            data: RawBytes(data),
        })
    }

    /// Checks everything a later conversion relies on, so that it cannot fail
    /// or panic: known dtypes, an allowed narrowing, a rank and element count
    /// that fit, and exactly `elements * size` bytes.
    pub fn check(&self) -> std::result::Result<CheckedRecord<'_>, String> {
        let name = &self.name;
        if name.is_empty() {
            return Err("a tensor has an empty name".into());
        }
        let dtype =
            dtype_from_code(self.dtype).ok_or_else(|| format!("{name:?}: unknown dtype code {}", self.dtype))?;
        let stored =
            dtype_from_code(self.stored).ok_or_else(|| format!("{name:?}: unknown dtype code {}", self.stored))?;
        if stored != dtype && !(dtype == DType::F32 && matches!(stored, DType::F16 | DType::BF16)) {
            return Err(format!("{name:?}: a {dtype} tensor cannot be stored as {stored}"));
        }
        if self.shape.len() > MAX_RANK {
            return Err(format!(
                "{name:?}: rank {} is above the maximum of {MAX_RANK}",
                self.shape.len()
            ));
        }
        let shape = self
            .shape
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("{name:?}: dimension {d} does not fit in memory")))
            .collect::<std::result::Result<Vec<usize>, String>>()?;
        // Every partial product of the non-zero dims must fit, or stride
        // computations on the rebuilt shape would overflow.
        let elems = checked_elem_count(&shape)
            .ok_or_else(|| format!("{name:?}: shape {:?} has too many elements", self.shape))?;
        let expected = elems.checked_mul(stored.size_in_bytes());
        if expected != Some(self.data.0.len()) {
            return Err(format!(
                "{name:?}: shape {:?} of {stored} needs {} bytes, the record holds {}",
                self.shape,
                expected.map_or_else(|| "too many".to_string(), |e| e.to_string()),
                self.data.0.len()
            ));
        }
        Ok(CheckedRecord {
            name,
            dtype,
            stored,
            shape,
            data: &self.data.0,
        })
    }
}
