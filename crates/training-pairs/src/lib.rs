//! Training pairs: an observation image (from `esa-scraper`) and its survey counterparts (from
//! `hips-client`) on exactly the same pixel grid, judged by validation filters that each record a
//! verdict and a reason.
//!
//! - the filters ([`judge`], [`check_survey`], [`black_mask`], [`is_grey`]: grey-only, black masks,
//!   empty/saturated cutouts, size, misalignment by phase correlation), [`PairRecord`] (the
//!   `pair.json` contract) and [`CutoutSource`] (hips2fits or native tiles);
//! - [`build_all`] and [`write_manifest`]: the pair directories and `manifest.jsonl` that
//!   `build-dataset` writes and `train-srgan` reads, resumable, with a summary;
//! - [`Manifest`]: the one reader of `manifest.jsonl`, resolving each record's files against the
//!   manifest's folder.
//!
//! Errors are typed ([`PairError`]). It owns neither sky geometry (`sky-geometry`) nor fetching (`hips-client`, `polite-http`).
//! It does not depend on burn: images are read, resized and written through `astro-image`.
#![warn(missing_docs)]

mod build;
mod error;
mod filters;
mod manifest;

pub use build::{BuildOptions, BuildSummary, Progress, build_all, read_records, write_manifest};
pub use error::{PairError, Result};
pub use filters::{
    CutoutSource, FilterConfig, PairRecord, PairSurvey, SurveyCheck, Verdict, black_mask, check_survey, is_grey, judge,
};
pub use manifest::Manifest;
