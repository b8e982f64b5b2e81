//! The dso-classify crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading data, training, saving or running the classifier.
#[derive(Debug, thiserror::Error)]
pub enum DsoError {
    /// Image or catalogue access failed in the dataset crate.
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model card (JSON) is malformed.
    #[error("{path}: invalid model card: {reason}")]
    ModelCard {
        /// The file involved.
        path: PathBuf,
        /// What is wrong (one line).
        reason: String,
    },
    /// Weights could not be encoded or decoded.
    #[error("{what}: cannot load or save weights: {reason}")]
    Record {
        /// The weights involved (file or model).
        what: String,
        /// What is wrong (one line).
        reason: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Not enough labelled images to train or evaluate.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// Data-parallel training failed: a worker died, hung or the collective was misconfigured.
    #[error(transparent)]
    Parallel(#[from] ml_core::distributed::ParallelError),
}

impl From<astro_image::ImageError> for DsoError {
    /// Image errors arrive through the dataset crate's error, as before the image crate existed.
    fn from(e: astro_image::ImageError) -> Self {
        DsoError::Dataset(dataset::DatasetError::Image(e))
    }
}

/// Short alias used throughout the crate.
pub type Result<T> = std::result::Result<T, DsoError>;
