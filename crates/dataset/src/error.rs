//! The dataset crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading, converting or preparing images and catalogues.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An image could not be read, decoded, encoded or written (see `astro_image::ImageError`).
    #[error(transparent)]
    Image(#[from] astro_image::ImageError),
    /// A catalogue or manifest file is malformed.
    #[error("{path}: {reason}")]
    Catalog {
        /// The file involved.
        path: PathBuf,
        /// What is wrong (one line).
        reason: String,
    },
    /// A tensor or buffer has the wrong shape for the requested operation.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The Stellarium data set has not been fetched yet.
    #[error("Stellarium data not found at {path}: run datasets/stellarium/fetch.sh first")]
    MissingData {
        /// Where the data set was looked for.
        path: PathBuf,
    },
}

/// Short alias used throughout the crate.
pub type Result<T> = std::result::Result<T, DatasetError>;
