//! Sky-survey counterparts (DSS, SDSS, Pan-STARRS…) from CDS HiPS services, aligned pixel-for-pixel
//! with a given image through hips2fits or native tiles with local reprojection.
//!
//! Cutouts are requested on a [`Wcs`] (a TAN world coordinate system owned by `sky-geometry`, the
//! same type `esa-scraper` gives each observation image), so survey pixels land on the image's grid.
//!
//! - [`wcs`]: the TAN WCS and its pixel conventions (re-exported from `sky-geometry`).
//! - [`Hips2FitsClient`], [`CutoutRequest`]: server-side cutouts (`wcs=` JSON), tiling of large
//!   requests, typed errors.
//! - [`HipsTileClient`]: HiPS `properties`, tile fetching and local reprojection (nearest/bilinear).
//! - [`survey`]: the survey catalogue (ids, URLs, scales, footprints, acknowledgements).
//! - [`phase_correlation`]: the residual shift of a cutout (training-pair filters live in
//!   `training-pairs`).
//! - [`check_body`], [`DiskCache`]: the response validator and an on-disk cache (HTTP itself:
//!   `polite-http`).
#![warn(missing_docs)]

mod align;
mod body;
mod cache;
mod error;
mod hips2fits;
mod sky_image;
pub mod survey;
mod tiles;

pub use align::{Shift, luminance, phase_correlation};
pub use body::{BodyFormat, check_body, check_size};
pub use cache::{DiskCache, write_atomic};
pub use error::{DEFAULT_MAX_PIXELS, HipsError, Result, check_pixels};
pub use hips2fits::{
    CutoutRequest, DEFAULT_HIPS2FITS_URL, DEFAULT_MAX_SIDE, Geometry, Hips2FitsClient, Stretch, service_error,
};
/// Retries, backoff, per-host rate limit and time bounds of every request (the project's one
/// polite client: `polite-http`).
pub use polite_http::Policy;

/// The pixel type (owned by `astro-image`; NaN = no data).
pub use astro_image::Planes;
/// The sky geometry every request is built from (owned by `sky-geometry`).
pub use sky_geometry::{Wcs, wcs};
pub use sky_image::{ImageFormat, decode_image, encode_image};
pub use survey::Survey;
pub use tiles::{HipsProperties, HipsTileClient, Sampling, cell_size_deg, tile_path};
