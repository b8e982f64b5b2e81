//! The dataset crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading, converting or preparing images and catalogues.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
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
    /// A catalogue or manifest file is malformed.
    #[error("{path}: {reason}")]
    Catalog { path: PathBuf, reason: String },
    /// A tensor or image buffer has the wrong shape for the requested operation.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The Stellarium data set has not been fetched yet.
    #[error("Stellarium data not found at {path}: run datasets/stellarium/fetch.sh first")]
    MissingData { path: PathBuf },
    /// No patch passed the empty-sky test (see `patches::PatchConfig`).
    #[error("{what}: no patch with structure found in {tries} tries (empty sky? lower min_std / min_signal_fraction)")]
    EmptySky { what: String, tries: usize },
}

/// Short alias used throughout the crate.
pub type Result<T> = std::result::Result<T, DatasetError>;
