//! The crate's error type.

/// Why a pair could not be built, or the manifest written.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// The record has no downloaded image.
    #[error("no downloaded image")]
    NoImage,
    /// The record's geometry or metadata is unusable.
    #[error(transparent)]
    Record(#[from] esa_scraper::EsaError),
    /// A survey cutout or a file write of `hips-client` failed.
    #[error(transparent)]
    Survey(#[from] hips_client::HipsError),
    /// An image could not be read, resized or written.
    #[error(transparent)]
    Image(#[from] astro_image::ImageError),
    /// `pair.json` could not be encoded.
    #[error("pair.json: {0}")]
    Json(#[from] serde_json::Error),
    /// The manifest could not be read, or a line of it is not a pair record.
    #[error("{}: {reason}", path.display())]
    Manifest {
        /// The manifest file.
        path: std::path::PathBuf,
        /// What is wrong (one line).
        reason: String,
    },
    /// A directory could not be listed.
    #[error("{path}: cannot list: {source}")]
    Io {
        /// The directory.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = PairError> = std::result::Result<T, E>;
