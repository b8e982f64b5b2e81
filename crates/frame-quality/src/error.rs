//! The frame-quality crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading videos, scoring, training, aligning or stacking frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is not a SER video (wrong magic bytes).
    #[error("{path}: not a SER video (file ID {found:?}, expected \"LUCAM-RECORDER\")")]
    BadMagic { path: PathBuf, found: String },
    /// A header field is out of range or inconsistent.
    #[error("{path}: bad header: {reason}")]
    BadHeader { path: PathBuf, reason: String },
    /// The header promises more frames than the file holds (strict mode, or no complete frame at all).
    #[error("{path}: truncated: header declares {declared} frames but the data holds only {available} complete frames")]
    Truncated { path: PathBuf, declared: usize, available: usize },
    /// A frame index is past the end of the input.
    #[error("{source_name}: frame {index} out of range (input has {len} frames)")]
    FrameOutOfRange { source_name: String, index: usize, len: usize },
    /// A frame in a folder has a different size from the first frame.
    #[error("{path}: frame is {width}x{height}, but the sequence is {expected_width}x{expected_height}")]
    SizeMismatch { path: PathBuf, width: usize, height: usize, expected_width: usize, expected_height: usize },
    /// An input holds no frames at all.
    #[error("{0}: no frames found")]
    Empty(PathBuf),
    /// An unknown quality metric name.
    #[error("unknown metric '{name}' (expected one of: {known})")]
    UnknownMetric { name: String, known: String },
    /// An argument or configuration value is out of range.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A model file could not be read, parsed or used.
    #[error("model {path}: {reason}")]
    Model { path: PathBuf, reason: String },
    /// Training a learned ranker failed.
    #[error("training failed: {0}")]
    Training(String),
    /// Image decoding or encoding failed (from the dataset crate).
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
}

impl From<dataset::ImageError> for FrameError {
    /// Image errors arrive through the dataset crate's error, as before the image crate existed.
    fn from(e: dataset::ImageError) -> Self {
        FrameError::Dataset(dataset::DatasetError::Image(e))
    }
}

/// Short alias used throughout the crate.
pub type Result<T> = std::result::Result<T, FrameError>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> FrameError + '_ {
    move |source| FrameError::Io { path: path.to_path_buf(), source }
}
