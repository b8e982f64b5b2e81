//! The project's one polite blocking HTTP client, shared by every crate that fetches from public
//! services (`esa-scraper` for the ESA archives, `hips-client` for CDS HiPS and hips2fits).
//!
//! - a descriptive `User-Agent` ([`DEFAULT_USER_AGENT`], configurable);
//! - a rate limit **per host** ([`Policy::requests_per_second`]): requests to one host are spaced,
//!   requests to different hosts are not;
//! - retries of network errors, 408, 429 and 5xx with exponential backoff, honouring `Retry-After`
//!   given as seconds or as an HTTP-date ([`parse_retry_after`]), capped at
//!   [`Policy::max_retry_after`] (a longer wish is logged and waited only that long);
//! - time bounds: connect timeout, read timeout (the longest silence from a server), a total per
//!   attempt and a deadline over all attempts; every wait before a retry is logged with its reason;
//! - downloads streamed to `<file>.part`, verified (size, MD5 or SHA-256) and renamed.
//!
//! The base URL of each service is the caller's (every client that uses this one takes it as an
//! argument, so tests point it at a local server). This crate knows nothing about what it fetches.
#![warn(missing_docs)]

mod client;
mod download;
mod policy;

pub use client::{Client, Response, parse_retry_after};
pub use download::{Downloaded, Expected, part_path};
pub use policy::{DEFAULT_USER_AGENT, Policy};

use std::path::PathBuf;

/// What can go wrong with a request, after the retries the [`Policy`] allows.
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
