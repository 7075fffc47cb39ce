//! Weights as safetensors files, the format PyTorch, JAX and Hugging Face share.
//!
//! Names are those of [`Module::named_tensors`], which follow PyTorch's
//! `state_dict` (`"0.weight"`, `"1.running_mean"`, `"1.num_batches_tracked"`),
//! so a `torch.nn.Sequential` with the same layers exchanges weights by name.

use super::atomic;
use super::record::{checked_elem_count, tensor_from_le_bytes, tensor_le_bytes};
use crate::{DType, Error, Result, Tensor};
use safetensors::tensor::{Dtype as StDtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// One tensor's host bytes, as the safetensors writer wants them.
struct HostTensor {
    dtype: StDtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &HostTensor {
    fn dtype(&self) -> StDtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn to_st_dtype(d: DType) -> StDtype {
    match d {
        DType::F32 => StDtype::F32,
        DType::F64 => StDtype::F64,
        DType::F16 => StDtype::F16,
        DType::BF16 => StDtype::BF16,
        DType::I64 => StDtype::I64,
        DType::Bool => StDtype::BOOL,
        DType::U8 => StDtype::U8,
        DType::I8 => StDtype::I8,
        DType::I32 => StDtype::I32,
    }
}

fn from_st_dtype(d: StDtype) -> Option<DType> {
    Some(match d {
        StDtype::F32 => DType::F32,
        StDtype::F64 => DType::F64,
        StDtype::F16 => DType::F16,
        StDtype::BF16 => DType::BF16,
        StDtype::I64 => DType::I64,
        StDtype::BOOL => DType::Bool,
        StDtype::U8 => DType::U8,
        StDtype::I8 => DType::I8,
        StDtype::I32 => DType::I32,
        _ => return None,
    })
}

/// The bytes of a safetensors file holding `tensors` (copied through the host),
/// with the metadata `{"format": "pt"}` PyTorch loaders expect.
pub fn safetensors_bytes(tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let host = tensors
        .iter()
        .map(|(n, t)| {
            Ok((
                n.clone(),
                HostTensor {
                    dtype: to_st_dtype(t.dtype()),
                    shape: t.dims().to_vec(),
                    data: tensor_le_bytes(t)?,
                },
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(host.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
        .map_err(|e| Error::invalid("write_safetensors", e.to_string()))
}

/// Writes `tensors` to a safetensors file, atomically.
pub fn write_safetensors(path: impl AsRef<Path>, tensors: &[(String, Tensor)]) -> Result<()> {
    atomic::write_atomic(path.as_ref(), &safetensors_bytes(tensors)?)
}

/// Reads every tensor of a safetensors file, on the CPU, never reading past
/// the data its header declares (the header itself is at most 100 MB, as
/// safetensors allows). Files with dtypes
/// neurite has no counterpart for (`int32`, `uint8`, `bool`, fp8) are refused
/// with an error naming the tensor.
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<HashMap<String, Tensor>> {
    let path = path.as_ref();
    let bytes = super::read::read_safetensors_file(path)?;
    parse_safetensors(&bytes, &path.display().to_string())
}

/// [`read_safetensors`] from the bytes of a file; `label` names it in errors.
pub fn parse_safetensors(bytes: &[u8], label: &str) -> Result<HashMap<String, Tensor>> {
    let format_err = |msg: String| Error::Format {
        path: label.to_string(),
        msg,
    };
    let st = SafeTensors::deserialize(bytes).map_err(|e| format_err(format!("not a valid safetensors file: {e}")))?;
    let mut out = HashMap::with_capacity(st.len());
    for (name, view) in st.iter() {
        let dtype = from_st_dtype(view.dtype()).ok_or_else(|| {
            format_err(format!(
                "tensor {name:?} has dtype {:?}, which neurite does not support (f32, f64, f16, bf16, i64)",
                view.dtype()
            ))
        })?;
        if checked_elem_count(view.shape()).is_none() {
            return Err(format_err(format!(
                "tensor {name:?} has an impossible shape {:?}",
                view.shape()
            )));
        }
        // The reader has checked that the data fills the shape exactly.
        let t = tensor_from_le_bytes(view.data(), dtype, view.shape().to_vec())?;
        out.insert(name.to_string(), t);
    }
    Ok(out)
}
