//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while computing sky geometry or fetching survey pixels.
#[derive(Debug, thiserror::Error)]
pub enum HipsError {
    /// A WCS could not be built or parsed (the message names the offending keyword or value).
    #[error("invalid WCS: {0}")]
    InvalidWcs(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = HipsError> = std::result::Result<T, E>;
