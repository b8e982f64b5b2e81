//! The crate's error type.

/// A WCS could not be built or parsed (the message names the offending keyword or value).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid WCS: {0}")]
pub struct InvalidWcs(pub String);

/// Result alias for this crate.
pub type Result<T, E = InvalidWcs> = std::result::Result<T, E>;
