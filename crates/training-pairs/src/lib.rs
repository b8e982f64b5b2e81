//! Training pairs: an observation image (from `esa-scraper`) and its survey counterparts (from
//! `hips-client`) on exactly the same pixel grid, judged by validation filters that each record a
//! verdict and a reason.
//!
//! - [`filters`]: the filters (grey-only, black masks, empty/saturated cutouts, size,
//!   misalignment by phase correlation), [`filters::PairRecord`] (the `pair.json` contract) and
//!   [`filters::CutoutSource`] (hips2fits or native tiles).
//! - [`build`]: the pair directories and `manifest.jsonl` that `build-dataset` writes and
//!   `train-srgan` reads, resumable, with a summary.
//! - [`manifest`]: the one reader of `manifest.jsonl` ([`Manifest`]), resolving each record's files
//!   against the manifest's folder.
//!
//! Errors are typed ([`PairError`]). It owns neither sky geometry (`sky-geometry`) nor fetching (`hips-client`, `polite-http`).
#![warn(missing_docs)]

pub mod build;
mod error;
pub mod filters;
pub mod manifest;

pub use build::{BuildOptions, BuildSummary, Progress, build_all, read_records, write_manifest};
pub use error::{PairError, Result};
pub use filters::{CutoutSource, FilterConfig, PairRecord, PairSurvey, Verdict};
pub use manifest::Manifest;
