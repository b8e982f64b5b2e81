//! The crate's error type, and the pixel budget that refuses oversized requests.

use std::path::PathBuf;

/// Everything that can go wrong while computing sky geometry or fetching survey pixels.
#[derive(Debug, thiserror::Error)]
pub enum HipsError {
    /// A WCS could not be built or parsed (the message names the offending keyword or value).
    #[error("invalid WCS: {0}")]
    InvalidWcs(String),
    /// A request was malformed before anything was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The network failed (after retries).
    #[error("{url}: network error: {reason}")]
    Network {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The service answered with an error (hips2fits returns JSON `{title, description}`).
    #[error("{url}: HTTP {status}: {title}{}{description}", if title.is_empty() || description.is_empty() { "" } else { ": " })]
    Service {
        /// The URL requested.
        url: String,
        /// HTTP status.
        status: u16,
        /// Error title from the service.
        title: String,
        /// Error description from the service.
        description: String,
    },
    /// The server answered 2xx with something that is not what was asked for (a web page, JSON,
    /// an empty body, the wrong magic bytes).
    #[error("{url}: unexpected answer: {reason}")]
    BadResponse {
        /// The URL requested.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// A request asks for more pixels than the budget allows.
    #[error("{what}: {width}x{height} = {pixels} pixels is above the budget of {budget} pixels (raise --max-pixels)")]
    TooLarge {
        /// What was asked for.
        what: String,
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// width × height.
        pixels: u64,
        /// The budget.
        budget: u64,
    },
    /// A HiPS `properties` file is missing a key or has a bad value.
    #[error("{source_name}: bad HiPS properties: {reason}")]
    Properties {
        /// URL or file the properties came from.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// Bytes could not be decoded as an image (or an image could not be encoded).
    #[error("{what}: cannot decode image: {reason}")]
    Decode {
        /// What was being decoded (URL, file name).
        what: String,
        /// Decoder message.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl From<sky_geometry::InvalidWcs> for HipsError {
    fn from(e: sky_geometry::InvalidWcs) -> Self {
        HipsError::InvalidWcs(e.0)
    }
}

impl From<polite_http::HttpError> for HipsError {
    fn from(e: polite_http::HttpError) -> Self {
        match e {
            polite_http::HttpError::Failed { url, message, .. } => HipsError::Network { url, reason: message },
            polite_http::HttpError::Verify { url, message } => HipsError::BadResponse { url, reason: message },
            polite_http::HttpError::Io { path, source } => HipsError::Io { path, source },
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = HipsError> = std::result::Result<T, E>;

/// Default pixel budget of one cutout or reprojection (width × height): 100 megapixels. A request
/// above it is refused before anything is fetched or allocated.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// Refuse `width × height` above `budget` (the message names `what` and both numbers).
pub fn check_pixels(what: &str, width: u32, height: u32, budget: u64) -> Result<()> {
    let pixels = width as u64 * height as u64;
    if pixels > budget {
        return Err(HipsError::TooLarge {
            what: what.to_string(),
            width: width as u64,
            height: height as u64,
            pixels,
            budget,
        });
    }
    Ok(())
}
