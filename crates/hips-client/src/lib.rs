//! Sky-survey counterparts (DSS, SDSS, Pan-STARRS…) from CDS HiPS services, aligned pixel-for-pixel
//! with a given image through hips2fits or native tiles with local reprojection.
//!
//! The crate owns the project's sky geometry: [`wcs::Wcs`] (a TAN world coordinate system built from
//! AVM tags or a centre/field of view) is used by `esa-scraper` for observation images and by the
//! survey clients here to request pixel-aligned cutouts.
//!
//! - [`wcs`]: the TAN WCS and its pixel conventions.
//! - [`hips2fits`]: server-side cutouts (`wcs=` JSON), tiling of large requests, typed errors.
//! - [`tiles`]: HiPS `properties`, tile fetching and local reprojection (nearest/bilinear).
//! - [`survey`]: the survey catalogue (ids, URLs, scales, footprints, acknowledgements).
//! - [`pairs`], [`align`]: training-pair validation filters and phase-correlation alignment.
//! - [`http`], [`cache`]: polite HTTP (retries, backoff, rate limit) and an on-disk cache.

pub mod align;
pub mod cache;
pub mod error;
pub mod hips2fits;
pub mod http;
pub mod pairs;
pub mod sky_image;
pub mod survey;
pub mod tiles;
pub mod wcs;

pub use cache::DiskCache;
pub use error::{HipsError, Result};
pub use hips2fits::{CutoutRequest, Geometry, Hips2FitsClient};
pub use http::{HttpClient, RetryPolicy};
pub use sky_image::{ImageFormat, SkyImage};
pub use survey::Survey;
pub use tiles::{HipsTileClient, Sampling};
pub use wcs::Wcs;
