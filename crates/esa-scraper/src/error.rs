//! The crate's error type: one enum naming the thing that failed and why.

use std::path::PathBuf;

/// Everything that can go wrong while listing, parsing, downloading or recording archive images.
#[derive(Debug, thiserror::Error)]
pub enum EsaError {
    /// An HTTP request failed for good (after retries) or returned a non-success status.
    #[error("{url}: {message}")]
    Http {
        /// The URL that was requested.
        url: String,
        /// HTTP status, when the server answered.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
    /// A JSON document (feed page, metadata line) could not be parsed.
    #[error("{what}: malformed JSON: {message}")]
    Json {
        /// The document (URL or file) that was being parsed.
        what: String,
        /// The parser's message.
        message: String,
    },
    /// An HTML page lacks something the parser needs, or holds a value that cannot be read.
    #[error("{what}: {message}")]
    Html {
        /// The page (URL or id) that was being parsed.
        what: String,
        /// What is missing or wrong.
        message: String,
    },
    /// A coordinate, angle, size or other value could not be parsed.
    #[error("cannot parse {field} from {value:?}: {message}")]
    Value {
        /// The field name (e.g. "Position (RA)").
        field: String,
        /// The offending text.
        value: String,
        /// Why it is not acceptable.
        message: String,
    },
    /// The image has no embedded XMP packet, or the packet is not valid AVM.
    #[error("{what}: {message}")]
    Avm {
        /// The image (file or id).
        what: String,
        /// What is missing or wrong.
        message: String,
    },
    /// The record lacks the spatial fields needed to build a WCS.
    #[error("{id}: incomplete sky geometry: {message}")]
    Geometry {
        /// Image id.
        id: String,
        /// What is missing.
        message: String,
    },
    /// A downloaded file does not match the size or checksum the feed announced.
    #[error("{url}: verification failed: {message}")]
    Verify {
        /// The URL the file came from.
        url: String,
        /// Expected vs found.
        message: String,
    },
    /// The blacklist or another configuration input is invalid.
    #[error("{path}: {message}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A sky-geometry computation in `hips-client` failed.
    #[error("sky geometry: {0}")]
    Wcs(String),
}

impl EsaError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EsaError::Io { path: path.into(), source }
    }

    /// Build a value-parsing error.
    pub fn value(field: &str, value: &str, message: impl Into<String>) -> Self {
        EsaError::Value { field: field.to_string(), value: value.to_string(), message: message.into() }
    }

    /// Build an HTML error.
    pub fn html(what: impl Into<String>, message: impl Into<String>) -> Self {
        EsaError::Html { what: what.into(), message: message.into() }
    }

    /// Build an AVM error.
    pub fn avm(what: impl Into<String>, message: impl Into<String>) -> Self {
        EsaError::Avm { what: what.into(), message: message.into() }
    }

    /// Whether a retry could help (timeouts, connection errors, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            EsaError::Http { status: Some(s), .. } => *s == 429 || *s >= 500,
            EsaError::Http { status: None, .. } => true,
            _ => false,
        }
    }
}

impl From<polite_http::HttpError> for EsaError {
    fn from(e: polite_http::HttpError) -> Self {
        match e {
            polite_http::HttpError::Failed { url, status, message } => EsaError::Http { url, status, message },
            polite_http::HttpError::Verify { url, message } => EsaError::Verify { url, message },
            polite_http::HttpError::Io { path, source } => EsaError::Io { path, source },
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = EsaError> = std::result::Result<T, E>;
