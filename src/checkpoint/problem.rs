//! What can be wrong with a checkpoint file, as a value tests and callers can match on.

use crate::Error;

/// The kind of problem behind an [`Error::BadCheckpoint`].
///
/// Each kind is detected at its own stage of loading: the header and the
/// checksum are checked before anything is decoded, then the decoded content
/// is validated, then it is matched against the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// The file ends before its header, or before the end its header declares.
    Truncated,
    /// The file does not start with the checkpoint magic bytes: not a neurite checkpoint.
    BadMagic,
    /// Written by a format version this build cannot read (a newer one, usually).
    UnsupportedVersion,
    /// The file holds more bytes than its header declares.
    LengthMismatch,
    /// The CRC32 over header and body does not match: the file is corrupt.
    ChecksumMismatch,
    /// A model checkpoint where a training checkpoint was asked for, or an unknown kind.
    WrongKind,
    /// The body passed the checksum but could not be decoded (a crafted file, or a
    /// history type other than the one it was saved with).
    Undecodable,
    /// The body decoded but its content is inconsistent (byte counts that do not
    /// match a shape, duplicate names, an architecture its tensors do not fit).
    InvalidContent,
    /// The checkpoint's tensors do not match the model they are loaded into.
    ArchitectureMismatch,
}

impl CheckpointProblem {
    /// A short description, used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointProblem::Truncated => "truncated file",
            CheckpointProblem::BadMagic => "not a neurite checkpoint (wrong magic bytes)",
            CheckpointProblem::UnsupportedVersion => "unsupported format version",
            CheckpointProblem::LengthMismatch => "length mismatch",
            CheckpointProblem::ChecksumMismatch => "checksum mismatch (corrupt file)",
            CheckpointProblem::WrongKind => "wrong checkpoint kind",
            CheckpointProblem::Undecodable => "undecodable body",
            CheckpointProblem::InvalidContent => "invalid content",
            CheckpointProblem::ArchitectureMismatch => "architecture mismatch",
        }
    }

    /// Builds the [`Error::BadCheckpoint`] for this problem in the file at `path`.
    pub fn at(self, path: &str, detail: impl Into<String>) -> Error {
        Error::BadCheckpoint {
            path: path.to_string(),
            problem: self,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The checkpoint problem behind this error, if it is an [`Error::BadCheckpoint`].
    pub fn checkpoint_problem(&self) -> Option<CheckpointProblem> {
        match self {
            Error::BadCheckpoint { problem, .. } => Some(*problem),
            _ => None,
        }
    }
}
