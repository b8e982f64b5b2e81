//! The project's sky geometry, with one owner: [`Wcs`], a gnomonic (TAN) world coordinate system
//! built from AVM tags, a centre and field of view, or FITS headers (the projection is the CDS
//! `mapproj` crate's), and [`angular_distance_deg`] (the CDS `cdshealpix` haversine).
//!
//! Observation images (`esa-scraper`) and survey cutouts (`hips-client`) both describe their
//! pixels with it; this crate fetches nothing and reads no image.
//!
//! [`catalogue`] resolves deep-sky object names ("M 51", "NGC 185", "Horsehead Nebula") to
//! coordinates and a size from a bundled subset of OpenNGC (CC-BY-SA-4.0).
#![warn(missing_docs)]

pub mod catalogue;
mod error;
pub mod wcs;

pub use catalogue::{CatalogueError, DeepSkyObject, resolve};
pub use error::{InvalidWcs, Result};
pub use wcs::{MAX_RA_DEG, MAX_REFERENCE_PIXEL, MAX_SIDE, Projector, Wcs, angular_distance_deg};
