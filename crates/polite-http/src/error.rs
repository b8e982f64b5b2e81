//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong with a request, after the retries the [`Policy`](crate::Policy) allows.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request failed for good: network error, time bound, or a status that is not success.
    #[error("{url}: {message}")]
    Failed {
        /// The URL that was requested.
        url: String,
        /// HTTP status, when the server answered.
        status: Option<u16>,
        /// What went wrong (one line, with the attempts made).
        message: String,
    },
    /// A download does not match the size or checksum it was expected to have.
    #[error("{url}: {message}")]
    Verify {
        /// The URL that was downloaded.
        url: String,
        /// What does not match.
        message: String,
    },
    /// A local file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl HttpError {
    pub(crate) fn failed(url: &str, status: Option<u16>, message: impl Into<String>) -> HttpError {
        HttpError::Failed { url: url.into(), status, message: message.into() }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> HttpError {
        HttpError::Io { path: path.into(), source }
    }
}

/// Result alias for this crate.
pub type Result<T, E = HttpError> = std::result::Result<T, E>;
