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
//! - [`body`], [`cache`]: the response validator and an on-disk cache (HTTP itself: `polite-http`).

pub mod align;
pub mod body;
pub mod cache;
pub mod error;
pub mod hips2fits;
pub mod pairs;
pub mod sky_image;
pub mod survey;
pub mod tiles;
pub mod wcs;

pub use body::{BodyFormat, check_body};
pub use cache::DiskCache;
pub use error::{HipsError, Result};
pub use hips2fits::{CutoutRequest, Geometry, Hips2FitsClient};
/// Retries, backoff, per-host rate limit and time bounds of every request (the project's one
/// polite client: `polite-http`).
pub use polite_http::Policy;

/// Default pixel budget of one cutout or reprojection (width × height): 100 megapixels. A request
/// above it is refused before anything is fetched or allocated.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// Refuse `width × height` above `budget` (the message names `what` and both numbers).
pub fn check_pixels(what: &str, width: u32, height: u32, budget: u64) -> Result<()> {
    let pixels = width as u64 * height as u64;
    if pixels > budget {
        return Err(HipsError::TooLarge {
            what: what.to_string(),
            width: width as u64,
            height: height as u64,
            pixels,
            budget,
        });
    }
    Ok(())
}
pub use sky_image::{ImageFormat, SkyImage};
pub use survey::Survey;
pub use tiles::{HipsTileClient, Sampling};
pub use wcs::Wcs;
