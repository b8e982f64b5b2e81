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
//! - byte budgets: a body read into memory is bounded by [`Policy::max_body_bytes`], a download by
//!   its expected size or [`Policy::max_download_bytes`] (checked from `Content-Length` before
//!   reading, and while streaming);
//! - downloads streamed to `<file>.part`, verified (size, MD5 or SHA-256) and renamed;
//! - [`server_text`]: the one sanitiser for server text quoted in an error (one line, no escapes).
//!
//! The base URL of each service is the caller's (every client that uses this one takes it as an
//! argument, so tests point it at a local server). This crate knows nothing about what it fetches.
#![warn(missing_docs)]

mod client;
mod download;
mod error;
mod policy;
mod text;

pub use client::{Client, Response, parse_retry_after};
pub use download::{Downloaded, Expected, part_path};
pub use error::{HttpError, Result};
pub use policy::{DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_USER_AGENT, Policy};
pub use text::{MAX_SERVER_TEXT, server_text};
