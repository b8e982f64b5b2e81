//! Sky-survey counterparts (DSS, SDSS, Pan-STARRS…) from CDS HiPS services, aligned pixel-for-pixel
//! with a given image through hips2fits or native tiles with local reprojection.
//!
//! Cutouts are requested on a [`Wcs`] (a TAN world coordinate system owned by `sky-geometry`, the
//! same type `esa-scraper` gives each observation image), so survey pixels land on the image's grid.
//!
//! - [`wcs`]: the TAN WCS and its pixel conventions (re-exported from `sky-geometry`).
//! - [`hips2fits`]: server-side cutouts (`wcs=` JSON), tiling of large requests, typed errors.
//! - [`tiles`]: HiPS `properties`, tile fetching and local reprojection (nearest/bilinear).
//! - [`survey`]: the survey catalogue (ids, URLs, scales, footprints, acknowledgements).
//! - [`align`]: phase-correlation alignment (training-pair filters live in `training-pairs`).
//! - [`body`], [`cache`]: the response validator and an on-disk cache (HTTP itself: `polite-http`).
#![warn(missing_docs)]

pub mod align;
pub mod body;
pub mod cache;
pub mod error;
pub mod hips2fits;
pub mod sky_image;
pub mod survey;
pub mod tiles;

pub use body::{BodyFormat, check_body};
pub use cache::DiskCache;
pub use error::{DEFAULT_MAX_PIXELS, HipsError, Result, check_pixels};
pub use hips2fits::{CutoutRequest, Geometry, Hips2FitsClient};
/// Retries, backoff, per-host rate limit and time bounds of every request (the project's one
/// polite client: `polite-http`).
pub use polite_http::Policy;

/// The pixel type (owned by `astro-image`; NaN = no data).
pub use astro_image::Planes;
/// The sky geometry every request is built from (owned by `sky-geometry`).
pub use sky_geometry::{Wcs, wcs};
pub use sky_image::{ImageFormat, decode_image, encode_image};
pub use survey::Survey;
pub use tiles::{HipsTileClient, Sampling};
