//! The one error type of `sr-models`.

use std::path::PathBuf;

/// Everything that can go wrong while loading, training or running a super-resolution model.
#[derive(Debug, thiserror::Error)]
pub enum SrError {
    /// An image could not be read, decoded or written (bad file, truncated file, pixel budget).
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A model or checkpoint file is not in our format or is damaged.
    #[error("{path}: not a valid {what}: {reason}")]
    BadModelFile {
        /// The file involved.
        path: PathBuf,
        /// "model file" or "checkpoint".
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A model file holds a different architecture or scale than the one asked for.
    #[error("{path}: model is {found}, but {wanted} was asked for")]
    WrongModel {
        /// The file involved.
        path: PathBuf,
        /// What the file holds.
        found: String,
        /// What the caller asked for.
        wanted: String,
    },
    /// An output would exceed the pixel budget.
    #[error("{name}: output of {width}x{height} pixels exceeds the budget of {max_pixels} pixels (raise --max-pixels)")]
    TooLarge {
        /// The input it came from.
        name: String,
        /// Output width.
        width: usize,
        /// Output height.
        height: usize,
        /// The budget.
        max_pixels: u64,
    },
    /// An input image is empty or has a shape the model cannot use.
    #[error("{name}: {reason}")]
    BadInput {
        /// The input involved.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A training data source is unusable.
    #[error("training data: {0}")]
    Data(String),
    /// Data-parallel training failed: a worker died, hung or the collective was misconfigured.
    #[error(transparent)]
    Parallel(#[from] ml_core::distributed::ParallelError),
    /// Training diverged: a loss turned NaN or infinite (the files on disk are from before it).
    #[error("training diverged at step {step}: {what} is {value}; {kept}")]
    Diverged {
        /// The step whose loss is not finite.
        step: usize,
        /// Which loss.
        what: &'static str,
        /// Its value.
        value: f64,
        /// What was kept on disk.
        kept: String,
    },
}

impl From<astro_image::ImageError> for SrError {
    /// Image errors arrive through the dataset crate's error, as before the image crate existed.
    fn from(e: astro_image::ImageError) -> Self {
        SrError::Dataset(dataset::DatasetError::Image(e))
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, SrError>;

impl SrError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SrError::Io { path: path.into(), source }
    }
}
