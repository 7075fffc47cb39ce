//! The crate's single error type and its `Result` alias.

use crate::{DType, Device, Shape};

/// Everything that can go wrong in neurite, with enough context to act on.
///
/// Messages name the operation, the shapes, dtypes or devices involved and
/// what was expected, so that a failing line of research code can be fixed
/// from the message alone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes that must agree do not (matmul inner dims, cat, ...).
    #[error("{op}: shape mismatch between {lhs} and {rhs}: {expected}")]
    ShapeMismatch {
        op: &'static str,
        lhs: Shape,
        rhs: Shape,
        expected: String,
    },
    /// Shapes that cannot be broadcast together.
    #[error("{op}: shapes {lhs} and {rhs} cannot be broadcast together")]
    BroadcastIncompatible { op: &'static str, lhs: Shape, rhs: Shape },
    /// Operands of different dtypes.
    #[error("{op}: dtype mismatch, {lhs:?} and {rhs:?} (cast one operand with `to_dtype`)")]
    DTypeMismatch { op: &'static str, lhs: DType, rhs: DType },
    /// Operands on different devices.
    #[error("{op}: device mismatch, {lhs} and {rhs} (move one operand with `to_device`)")]
    DeviceMismatch { op: &'static str, lhs: Device, rhs: Device },
    /// A dimension index outside `-rank..rank`.
    #[error("{op}: dimension {dim} is out of range for a tensor of shape {shape} (rank {rank})")]
    DimOutOfRange {
        op: &'static str,
        dim: i64,
        rank: usize,
        shape: Shape,
    },
    /// An element index outside the valid range of a dimension.
    #[error("{op}: index {index} is out of range for dimension {dim} of size {size}")]
    IndexOutOfRange {
        op: &'static str,
        index: i64,
        dim: usize,
        size: usize,
    },
    /// A reshape (or a constructor) given the wrong number of elements.
    #[error("{op}: cannot view {from_elems} elements (shape {from}) as shape {to} ({to_elems} elements)")]
    ElementCountMismatch {
        op: &'static str,
        from: Shape,
        from_elems: usize,
        to: Shape,
        to_elems: usize,
    },
    /// The op does not exist for this dtype (for example `exp` on integer indices).
    #[error("{op}: not supported for dtype {dtype:?}{hint}")]
    UnsupportedDType {
        op: &'static str,
        dtype: DType,
        hint: &'static str,
    },
    /// A hyperparameter or argument outside its valid range.
    #[error("{op}: invalid argument: {msg}")]
    InvalidArgument { op: &'static str, msg: String },
    /// `backward` called on something it cannot start from.
    #[error("backward: {0}")]
    Backward(String),
    /// The CUDA backend cannot be used: a library, the driver or the device is missing.
    #[error("CUDA unavailable: {0}")]
    CudaUnavailable(String),
    /// An error reported by the CUDA driver, cuBLAS, cuRAND or NVRTC.
    #[error("CUDA error in {op}: {msg}")]
    Cuda { op: &'static str, msg: String },
    /// An allocation the device cannot satisfy (host memory for the CPU).
    #[error("out of memory on {device}: asked for {bytes} bytes ({})", human_bytes(*bytes))]
    OutOfMemory { device: Device, bytes: usize },
    /// A size (element count, byte count, index range) that does not fit in
    /// the machine's address space: the product or sum overflows `usize`.
    #[error("{op}: size overflow: {detail}")]
    SizeOverflow { op: &'static str, detail: String },
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A file whose content is not what the reader expected.
    #[error("{path}: {msg}")]
    Format { path: String, msg: String },
    /// A checkpoint that cannot be loaded.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A checkpoint file that is damaged, of another format version or kind, or
    /// that does not fit the model it is loaded into; `problem` says which.
    #[error("checkpoint {path}: {problem}: {detail}")]
    BadCheckpoint {
        path: String,
        problem: crate::checkpoint::CheckpointProblem,
        detail: String,
    },
}

/// `bytes` in binary units, for messages: `4398046511104` is `4.0 TiB`.
fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Builds an [`Error::InvalidArgument`].
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument { op, msg: msg.into() }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_memory_names_the_size_in_binary_units() {
        let e = Error::OutOfMemory {
            device: Device::Cpu,
            bytes: 1 << 42,
        };
        assert_eq!(
            e.to_string(),
            "out of memory on cpu: asked for 4398046511104 bytes (4.0 TiB)"
        );
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
