//! [`TorchError`]: what goes wrong reading a checkpoint, with the byte offset in the file.
//!
//! The pickle's own errors stay [`crate::Error`]s (offset and opcode within the pickle), wrapped
//! with where the pickle starts in the file; everything about the container, the storages and
//! the tensors' views is a variant of its own, so a caller can tell a hostile file from an
//! unsupported one without parsing messages.

use std::fmt;

/// Everything that can go wrong opening a checkpoint or reading a tensor's data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TorchError {
    /// The file is none of the containers torch writes (ZIP, legacy, TAR).
    #[error("not a torch checkpoint: {0}")]
    UnknownFormat(String),
    /// A format torch writes that this reader does not read (yet): the TAR container.
    #[error("unsupported checkpoint: {0}")]
    Unsupported(String),
    /// The container is malformed at `offset` (a byte offset in the file).
    #[error("corrupt checkpoint at byte {offset}: {message}")]
    Corrupt {
        /// Where in the file.
        offset: u64,
        /// What is wrong there.
        message: String,
    },
    /// The pickle that starts at `pickle_start` in the file failed; the inner error has the
    /// offset and opcode within the pickle (a refused global is [`crate::ErrorKind::Forbidden`]).
    #[error("in the pickle at byte {pickle_start}: {error}")]
    Pickle {
        /// Where the pickle starts in the file.
        pickle_start: u64,
        /// The decoder's error.
        error: crate::Error,
    },
    /// A storage is named by the pickle but has no data in the container.
    #[error("storage {key:?} has no record in the checkpoint")]
    MissingStorage {
        /// The storage key of the persistent id.
        key: String,
    },
    /// A storage's record is shorter than its declared size.
    #[error("storage {key:?} needs {needed} bytes but its record at byte {offset} has {available}")]
    StorageTooSmall {
        /// The storage key.
        key: String,
        /// Bytes the pickle declares (numel times the element size).
        needed: u64,
        /// Bytes the record holds.
        available: u64,
        /// Where the record's data starts in the file.
        offset: u64,
    },
    /// A tensor's shape, strides and offset reach outside its storage.
    #[error("tensor view out of range: {0}")]
    ViewOutOfRange(String),
    /// A tensor or a storage of a kind this reader does not rebuild (quantized, sparse, ...).
    #[error("unsupported tensor: {0}")]
    UnsupportedTensor(String),
    /// A reduction that should build a tensor has arguments of the wrong shape.
    #[error("malformed tensor: {0}")]
    MalformedTensor(String),
    /// A global may not be added to the weights-only policy (its module is blocked).
    #[error("global '{0}' can never be allowed: its module is blocked")]
    Blocked(String),
    /// Reading the file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl TorchError {
    /// The container is malformed at `offset`.
    pub(crate) fn corrupt(offset: u64, message: impl fmt::Display) -> TorchError {
        TorchError::Corrupt { offset, message: message.to_string() }
    }

    /// A tensor reduction with bad arguments.
    pub(crate) fn malformed(message: impl fmt::Display) -> TorchError {
        TorchError::MalformedTensor(message.to_string())
    }

    /// The byte offset in the file where it went wrong, where known: for a pickle error, the
    /// pickle's start plus the offset within it.
    pub fn offset(&self) -> Option<u64> {
        match self {
            TorchError::Corrupt { offset, .. } | TorchError::StorageTooSmall { offset, .. } => Some(*offset),
            TorchError::Pickle { pickle_start, error } => Some(pickle_start + error.offset().unwrap_or(0)),
            _ => None,
        }
    }

    /// The decoder's error, for an error inside the pickle.
    pub fn pickle_error(&self) -> Option<&crate::Error> {
        match self {
            TorchError::Pickle { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A `Result` of [`TorchError`].
pub type TorchResult<T> = std::result::Result<T, TorchError>;
