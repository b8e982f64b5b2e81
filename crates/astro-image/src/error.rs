//! The image crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading, converting or writing images (each message names
/// the file; the fields are what the message shows).
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An image file could not be decoded (truncated, corrupt, or an unsupported format).
    #[error("{path}: cannot decode image: {reason}")]
    Decode { path: PathBuf, reason: String },
    /// An image is larger than the configured pixel budget.
    #[error("{path}: image is {width}x{height} = {pixels} pixels, above the budget of {budget} pixels")]
    TooLarge { path: PathBuf, width: u32, height: u32, pixels: u64, budget: u64 },
    /// An image's frames together are larger than the pixel budget (an animated GIF).
    #[error(
        "{path}: image is {width}x{height} x {frames} frames = {pixels} pixels, above the budget of {budget} pixels"
    )]
    AnimationTooLarge { path: PathBuf, width: u32, height: u32, frames: u64, pixels: u64, budget: u64 },
    /// An image has zero width or height.
    #[error("{path}: image has zero size ({width}x{height})")]
    Empty { path: PathBuf, width: u32, height: u32 },
    /// An image could not be encoded or saved.
    #[error("{path}: cannot save image: {reason}")]
    Encode { path: PathBuf, reason: String },
    /// An output cannot be written where it was asked for (missing folder, a folder in its place).
    #[error("{path}: {reason}")]
    Output { path: PathBuf, reason: String },
    /// An image buffer has the wrong shape for the requested operation.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A parameter is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Short alias used throughout the crate.
pub type Result<T> = std::result::Result<T, ImageError>;
