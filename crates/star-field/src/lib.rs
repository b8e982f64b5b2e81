//! The stars of a sky image treated as stars, not as texture (prettify v2, issue #25).
//!
//! - `background`: the sky level map and pixel noise, from a mesh of sigma-clipped medians.
//! - `detect`: point sources as peaks of a matched-filtered image.
//! - `photometry`: each star's position, shape (adaptive second moments), flux per channel
//!   (PSF fit, brightest first on the residual image), saturation; the [`StarField`] of an image.
//! - `starless`: the extended signal alone — fitted stars subtracted, residuals bounded by the
//!   local sky, saturated stars and their halos inpainted (what StarNet users call starless).
//! - `render`: every measured star drawn again at any scale as a round Moffat profile of the
//!   same flux and colour, optional diffraction spikes; saturated stars keep their own pixels.
//! - [`dream`]: the declared "what a deeper telescope would add" layer — faint stars from the
//!   field's own extrapolated counts, faint Sérsic galaxies from a published count slope —
//!   seeded, with a mask and a list of every added source.
//!
//! Only `dream` is a public module; the rest is private behind the `pub use`s below.
//!
//! Pixel convention: planes are row-major, pixel (x, y) covers [x, x+1) × [y, y+1) and its
//! centre is (x + 0.5, y + 0.5) in continuous coordinates; star positions are in that frame minus
//! 0.5 (so an integer position is a pixel centre), as `dataset::stars` reports them.
#![warn(missing_docs)]

mod background;
mod detect;
pub mod dream;
mod photometry;
mod render;
mod starless;

pub use astro_image::Planes;
pub use background::Background;
pub use detect::{MAX_STARS, Peak, find_peaks};
pub use photometry::{FieldPsf, MAX_FIT_RADIUS, MAX_HALO_RADIUS, Star, StarField};
pub use render::{RenderOptions, render_stars, saturated_layer};
pub use starless::starless;
