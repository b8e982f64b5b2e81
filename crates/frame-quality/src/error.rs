//! The frame-quality crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading videos, scoring, training, aligning or stacking frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a SER video (wrong magic bytes).
    #[error("{path}: not a SER video (file ID {found:?}, expected \"LUCAM-RECORDER\")")]
    BadMagic {
        /// The file involved.
        path: PathBuf,
        /// The file ID found instead.
        found: String,
    },
    /// A header field is out of range or inconsistent.
    #[error("{path}: bad header: {reason}")]
    BadHeader {
        /// The file involved.
        path: PathBuf,
        /// What is wrong (one line).
        reason: String,
    },
    /// The header promises more frames than the file holds (strict mode, or no complete frame at all).
    #[error("{path}: truncated: header declares {declared} frames but the data holds only {available} complete frames")]
    Truncated {
        /// The file involved.
        path: PathBuf,
        /// Frames the header declares.
        declared: usize,
        /// Complete frames the data holds.
        available: usize,
    },
    /// A frame index is past the end of the input.
    #[error("{source_name}: frame {index} out of range (input has {len} frames)")]
    FrameOutOfRange {
        /// The input (file or folder) named.
        source_name: String,
        /// The frame asked for.
        index: usize,
        /// Frames the input has.
        len: usize,
    },
    /// A frame in a folder has a different size from the first frame.
    #[error("{path}: frame is {width}x{height}, but the sequence is {expected_width}x{expected_height}")]
    SizeMismatch {
        /// The file involved.
        path: PathBuf,
        /// This frame's width.
        width: usize,
        /// This frame's height.
        height: usize,
        /// The sequence's width (its first frame).
        expected_width: usize,
        /// The sequence's height.
        expected_height: usize,
    },
    /// An input holds no frames at all.
    #[error("{0}: no frames found")]
    Empty(PathBuf),
    /// An unknown quality metric name.
    #[error("unknown metric '{name}' (expected one of: {known})")]
    UnknownMetric {
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },
    /// An argument or configuration value is out of range.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A model file could not be read, parsed or used.
    #[error("model {path}: {reason}")]
    Model {
        /// The file involved.
        path: PathBuf,
        /// What is wrong (one line).
        reason: String,
    },
    /// Training a learned ranker failed.
    #[error("training failed: {0}")]
    Training(String),
    /// Image decoding or encoding failed (from the dataset crate).
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// Data-parallel training failed: a worker died, hung or the collective was misconfigured.
    #[error(transparent)]
    Parallel(#[from] ml_core::distributed::ParallelError),
}

impl From<astro_image::ImageError> for FrameError {
    /// Image errors arrive through the dataset crate's error, as before the image crate existed.
    fn from(e: astro_image::ImageError) -> Self {
        FrameError::Dataset(dataset::DatasetError::Image(e))
    }
}

/// Short alias used throughout the crate.
pub type Result<T> = std::result::Result<T, FrameError>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> FrameError + '_ {
    move |source| FrameError::Io { path: path.to_path_buf(), source }
}
