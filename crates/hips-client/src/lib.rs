//! Sky-survey counterparts (DSS, SDSS, Pan-STARRS…) from CDS HiPS services, aligned pixel-for-pixel
//! with a given image through hips2fits or native tiles with local reprojection.
//!
//! The crate owns the project's sky geometry: [`wcs::Wcs`] (a TAN world coordinate system built from
//! AVM tags or a centre/field of view) is used by `esa-scraper` for observation images and by the
//! survey clients here to request pixel-aligned cutouts.

pub mod error;
pub mod wcs;

pub use error::{HipsError, Result};
pub use wcs::Wcs;
