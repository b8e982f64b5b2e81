//! The project's sky geometry, with one owner: [`Wcs`], a gnomonic (TAN) world coordinate system
//! built from AVM tags, a centre and field of view, or FITS headers (the projection is the CDS
//! `mapproj` crate's), and [`angular_distance_deg`] (the CDS `cdshealpix` haversine).
//!
//! Observation images (`esa-scraper`) and survey cutouts (`hips-client`) both describe their
//! pixels with it; this crate fetches nothing and reads no image.
#![warn(missing_docs)]

pub mod wcs;

pub use wcs::{MAX_SIDE, Projector, Wcs, angular_distance_deg};

/// A WCS could not be built or parsed (the message names the offending keyword or value).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid WCS: {0}")]
pub struct InvalidWcs(pub String);

/// Result alias for this crate.
pub type Result<T, E = InvalidWcs> = std::result::Result<T, E>;
