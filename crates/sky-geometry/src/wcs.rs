//! A gnomonic (TAN) world coordinate system for images of the sky.
//!
//! # Pixel conventions (read this before using any method)
//!
//! Two pixel frames appear in this module:
//!
//! * **Image pixels** (every public method that takes or returns `x`, `y`): the origin is the
//!   top-left *corner* of the top-left pixel, `x` grows to the right, `y` grows **downwards**, one
//!   unit per pixel. Pixel `(i, j)` (column `i`, row `j`, both 0-based, rows counted from the top as
//!   stored in JPEG/PNG files) covers `[i, i+1) × [j, j+1)` and its centre is `(i + 0.5, j + 0.5)`.
//!   The whole image spans `[0, width] × [0, height]`.
//! * **FITS pixels** (the stored `crpix` and the FITS keywords): 1-based, `y` grows **upwards**,
//!   the centre of the bottom-left pixel is `(1, 1)`; the image spans `[0.5, width + 0.5] ×
//!   [0.5, height + 0.5]`. AVM `Spatial.ReferencePixel` uses this convention.
//!
//! They are related by `fits_x = x + 0.5` and `fits_y = height + 0.5 − y`, so the centre of image
//! pixel `(i, j)` is FITS pixel `(i + 1, height − j)` — the mapping pyavm and the AVM standard use
//! for JPEG/PNG images.
//!
//! # Orientation
//!
//! The CD matrix maps FITS pixel offsets to intermediate world coordinates in degrees (`x` towards
//! increasing RA, i.e. East, `y` towards North). Built from AVM (`Scale`, `Rotation` = `CROTA2`) the
//! standard FITS relations hold (Calabretta & Greisen 2002, eq. 189):
//! `CD1_1 = CDELT1·cos ρ`, `CD1_2 = −CDELT2·sin ρ`, `CD2_1 = CDELT1·sin ρ`, `CD2_2 = CDELT2·cos ρ`
//! with `CDELT1 = −|Scale₀|` (East to the left) and `CDELT2 = +|Scale₁|`, as AVM 1.2 prescribes.
//! With that convention a rotation `ρ > 0` puts North `ρ°` **left** of (counter-clockwise from) the
//! image's vertical, so the ESA pages' "North is X° left of vertical" means `ρ = +X` and
//! "North is X° right of vertical" means `ρ = −X`.
//!
//! The projection itself (spherical rotation to the reference point and the gnomonic projection)
//! is the CDS `mapproj` crate's.

use mapproj::img2celestial::Img2Celestial;
use mapproj::img2proj::WcsImgXY2ProjXY;
use mapproj::zenithal::tan::Tan;
use mapproj::{CenteredProjection, ImgXY, LonLat};
use serde::{Deserialize, Serialize};

use crate::error::{InvalidWcs, Result};

/// Largest accepted image side, in pixels (a sanity bound against corrupt metadata).
pub const MAX_SIDE: u32 = 1 << 20;

/// Largest accepted reference-pixel coordinate (CRPIX), in pixels: sixteen times [`MAX_SIDE`].
/// A reference point may lie outside its image, but not a billion images away.
pub const MAX_REFERENCE_PIXEL: f64 = 16.0 * MAX_SIDE as f64;

/// Largest accepted |right ascension| before it is wrapped into [0°, 360°): one turn either way.
pub const MAX_RA_DEG: f64 = 360.0;

/// A TAN (gnomonic) world coordinate system attached to an image of `width × height` pixels.
///
/// See the [module documentation](self) for the pixel conventions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wcs {
    /// Sky position of the reference point, `[ra, dec]` in degrees (ICRS); `CRVAL1/2`.
    pub crval: [f64; 2],
    /// Reference point in FITS pixels (1-based, y up); `CRPIX1/2`.
    pub crpix: [f64; 2],
    /// Linear transform FITS pixel offsets → intermediate world coordinates, degrees per pixel:
    /// `cd[0] = [CD1_1, CD1_2]`, `cd[1] = [CD2_1, CD2_2]`.
    pub cd: [[f64; 2]; 2],
    /// Image width in pixels (`NAXIS1`).
    pub width: u32,
    /// Image height in pixels (`NAXIS2`).
    pub height: u32,
}

impl Wcs {
    /// A WCS from its FITS parameters, checking they describe a usable TAN projection.
    pub fn from_cd(crval: [f64; 2], crpix: [f64; 2], cd: [[f64; 2]; 2], width: u32, height: u32) -> Result<Wcs> {
        if !(crval[0].is_finite() && crval[0].abs() <= MAX_RA_DEG) {
            return Err(InvalidWcs(format!("reference right ascension {}° is not within ±360°", crval[0])));
        }
        let wcs = Wcs { crval: [crval[0].rem_euclid(360.0), crval[1]], crpix, cd, width, height };
        wcs.validate()?;
        Ok(wcs)
    }

    /// TAN WCS from the AVM `Spatial.*` tags (`ReferenceValue`, `ReferencePixel`,
    /// `ReferenceDimension`, `Scale`, `Rotation`), FITS pixel convention as AVM defines it.
    ///
    /// `reference_pixel` is in FITS pixels of an image of `reference_dimension` pixels; the result
    /// has that size (call [`Wcs::rescaled`] for a derived size such as a `screen` JPEG). The signs of
    /// `scale` are normalised to `[−|s₀|, +|s₁|]` as AVM 1.2 and pyavm do; `rotation_deg` is `CROTA2`.
    pub fn from_avm(
        reference_value: [f64; 2],
        reference_pixel: [f64; 2],
        reference_dimension: [f64; 2],
        scale: [f64; 2],
        rotation_deg: f64,
    ) -> Result<Wcs> {
        let dims = reference_dimension;
        if !dims.iter().all(|d| d.is_finite() && *d >= 1.0 && *d <= MAX_SIDE as f64) {
            return Err(InvalidWcs(format!("Spatial.ReferenceDimension {dims:?} is not a plausible image size")));
        }
        if !scale.iter().all(|s| s.is_finite() && *s != 0.0) {
            return Err(InvalidWcs(format!("Spatial.Scale {scale:?} must be two non-zero numbers")));
        }
        if !rotation_deg.is_finite() {
            return Err(InvalidWcs(format!("Spatial.Rotation {rotation_deg} is not a number")));
        }
        let cdelt = [-scale[0].abs(), scale[1].abs()];
        let (s, c) = rotation_deg.to_radians().sin_cos();
        let cd = [[cdelt[0] * c, -cdelt[1] * s], [cdelt[0] * s, cdelt[1] * c]];
        Wcs::from_cd(reference_value, reference_pixel, cd, dims[0].round() as u32, dims[1].round() as u32)
    }

    /// TAN WCS centred on (`ra_deg`, `dec_deg`) with square pixels, `fov_deg` across the image
    /// **width**, North `rotation_deg` left of vertical (East left, as on the sky).
    pub fn from_center(
        ra_deg: f64,
        dec_deg: f64,
        fov_deg: f64,
        width: u32,
        height: u32,
        rotation_deg: f64,
    ) -> Result<Wcs> {
        if !(fov_deg.is_finite() && fov_deg > 0.0 && fov_deg < 180.0) {
            return Err(InvalidWcs(format!("field of view {fov_deg}° must be in (0, 180)")));
        }
        if width == 0 || height == 0 {
            return Err(InvalidWcs(format!("image size {width}x{height} must be positive")));
        }
        let scale = fov_deg / width as f64;
        let crpix = [width as f64 / 2.0 + 0.5, height as f64 / 2.0 + 0.5];
        Wcs::from_avm([ra_deg, dec_deg], crpix, [width as f64, height as f64], [-scale, scale], rotation_deg)
    }

    /// The same sky footprint for an image resampled to `width × height` pixels.
    ///
    /// The image edges keep their sky positions: FITS coordinates are scaled about the outer edge
    /// at 0.5, `crpix' = (crpix − 0.5)·s + 0.5`, and the CD columns are divided by `s`
    /// (`s = new / old` per axis). pyavm uses `crpix·s`, which differs by `0.5·(1 − s)` pixels.
    pub fn rescaled(&self, width: u32, height: u32) -> Wcs {
        let sx = width as f64 / self.width as f64;
        let sy = height as f64 / self.height as f64;
        Wcs {
            crval: self.crval,
            crpix: [(self.crpix[0] - 0.5) * sx + 0.5, (self.crpix[1] - 0.5) * sy + 0.5],
            cd: [[self.cd[0][0] / sx, self.cd[0][1] / sy], [self.cd[1][0] / sx, self.cd[1][1] / sy]],
            width,
            height,
        }
    }

    /// Image width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Image height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Sky position `(ra, dec)` in degrees (RA in `[0, 360)`) of the image point (`x`, `y`)
    /// (origin top-left corner, y down; see the module docs). `None` if the point does not project.
    pub fn pixel_to_sky(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        self.projector().pixel_to_sky(x, y)
    }

    /// Image point `(x, y)` (origin top-left corner, y down) of the sky position (`ra_deg`,
    /// `dec_deg`); `None` on the hemisphere opposite the reference point, where TAN is undefined.
    /// Points outside the image are returned too (check against `width`/`height`).
    pub fn sky_to_pixel(&self, ra_deg: f64, dec_deg: f64) -> Option<(f64, f64)> {
        self.projector().sky_to_pixel(ra_deg, dec_deg)
    }

    /// Sky position of the image centre (`width/2`, `height/2`).
    pub fn center(&self) -> (f64, f64) {
        self.pixel_to_sky(self.width as f64 / 2.0, self.height as f64 / 2.0).unwrap_or((self.crval[0], self.crval[1]))
    }

    /// Sky positions of the outer image corners: top-left, top-right, bottom-right, bottom-left.
    pub fn corners(&self) -> [(f64, f64); 4] {
        let (w, h) = (self.width as f64, self.height as f64);
        let p = self.projector();
        let at = |x: f64, y: f64| p.pixel_to_sky(x, y).unwrap_or((f64::NAN, f64::NAN));
        [at(0.0, 0.0), at(w, 0.0), at(w, h), at(0.0, h)]
    }

    /// Mean pixel size in degrees at the reference point, `sqrt(|det CD|)`.
    pub fn pixel_scale_deg(&self) -> f64 {
        self.det().abs().sqrt()
    }

    /// Field of view `(across the width, across the height)` in degrees at the reference scale.
    pub fn fov_deg(&self) -> (f64, f64) {
        let sx = self.cd[0][0].hypot(self.cd[1][0]);
        let sy = self.cd[0][1].hypot(self.cd[1][1]);
        (sx * self.width as f64, sy * self.height as f64)
    }

    /// `CROTA2` in degrees: how far North is left (counter-clockwise) of the image's vertical.
    pub fn rotation_deg(&self) -> f64 {
        // CD1_2 = −CDELT2·sin ρ, CD2_2 = CDELT2·cos ρ with CDELT2 > 0.
        (-self.cd[0][1]).atan2(self.cd[1][1]).to_degrees()
    }

    /// `true` when East is to the left of North as on the sky (a non-mirrored image, `det CD < 0`).
    pub fn is_sky_parity(&self) -> bool {
        self.det() < 0.0
    }

    /// The FITS header keywords as a JSON object: the form hips2fits takes in its `wcs=` parameter.
    pub fn to_fits_header_json(&self) -> serde_json::Value {
        serde_json::json!({
            "NAXIS": 2,
            "NAXIS1": self.width,
            "NAXIS2": self.height,
            "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN",
            "CUNIT1": "deg",
            "CUNIT2": "deg",
            "RADESYS": "ICRS",
            "CRVAL1": self.crval[0],
            "CRVAL2": self.crval[1],
            "CRPIX1": self.crpix[0],
            "CRPIX2": self.crpix[1],
            "CD1_1": self.cd[0][0],
            "CD1_2": self.cd[0][1],
            "CD2_1": self.cd[1][0],
            "CD2_2": self.cd[1][1],
        })
    }

    /// Parse FITS keywords (a JSON object as produced by [`Wcs::to_fits_header_json`], or any header
    /// with `CD`, `PC`+`CDELT` or `CDELT`+`CROTA2`). Only `RA---TAN`/`DEC--TAN` is accepted.
    pub fn from_fits_header_json(header: &serde_json::Value) -> Result<Wcs> {
        let obj = header.as_object().ok_or_else(|| InvalidWcs("FITS header JSON must be an object".into()))?;
        let num = |k: &str| -> Option<f64> {
            obj.get(k).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
        };
        let need = |k: &str| num(k).ok_or_else(|| InvalidWcs(format!("missing or non-numeric {k}")));
        let ctype = |k: &str| obj.get(k).and_then(|v| v.as_str()).unwrap_or("").trim().to_string();
        let (c1, c2) = (ctype("CTYPE1"), ctype("CTYPE2"));
        if c1 != "RA---TAN" || c2 != "DEC--TAN" {
            return Err(InvalidWcs(format!("CTYPE1/2 = {c1:?}/{c2:?}; only RA---TAN/DEC--TAN is supported")));
        }
        let dim = |k: &str| -> Result<u32> {
            let v = need(k)?;
            if v >= 1.0 && v <= MAX_SIDE as f64 && v.fract() == 0.0 {
                Ok(v as u32)
            } else {
                Err(InvalidWcs(format!("{k} = {v} is not a valid image side")))
            }
        };
        let (width, height) = (dim("NAXIS1")?, dim("NAXIS2")?);
        let crval = [need("CRVAL1")?, need("CRVAL2")?];
        let crpix = [need("CRPIX1")?, need("CRPIX2")?];
        let cd = if let (Some(a), Some(d)) = (num("CD1_1"), num("CD2_2")) {
            [[a, num("CD1_2").unwrap_or(0.0)], [num("CD2_1").unwrap_or(0.0), d]]
        } else {
            let cdelt = [need("CDELT1")?, need("CDELT2")?];
            if let (Some(p11), Some(p22)) = (num("PC1_1"), num("PC2_2")) {
                let (p12, p21) = (num("PC1_2").unwrap_or(0.0), num("PC2_1").unwrap_or(0.0));
                [[cdelt[0] * p11, cdelt[0] * p12], [cdelt[1] * p21, cdelt[1] * p22]]
            } else {
                let (s, c) = num("CROTA2").unwrap_or(0.0).to_radians().sin_cos();
                [[cdelt[0] * c, -cdelt[1] * s], [cdelt[0] * s, cdelt[1] * c]]
            }
        };
        Wcs::from_cd(crval, crpix, cd, width, height)
    }

    /// A reusable projector for many pixel↔sky conversions (avoids rebuilding the rotation).
    pub fn projector(&self) -> Projector {
        let img2proj = WcsImgXY2ProjXY::from_cd(
            self.crpix[0],
            self.crpix[1],
            self.cd[0][0],
            self.cd[0][1],
            self.cd[1][0],
            self.cd[1][1],
        );
        let mut proj = CenteredProjection::new(Tan::new());
        proj.set_proj_center_from_lonlat(&LonLat::new(self.crval[0].to_radians(), self.crval[1].to_radians()));
        Projector { inner: Img2Celestial::new(img2proj, proj), height: self.height as f64 }
    }

    fn det(&self) -> f64 {
        self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0]
    }

    fn validate(&self) -> Result<()> {
        let [ra, dec] = self.crval;
        if !(ra.is_finite() && dec.is_finite() && (-90.0..=90.0).contains(&dec)) {
            return Err(InvalidWcs(format!("reference value ({ra}, {dec}) is not a sky position")));
        }
        if !self.crpix.iter().all(|v| v.abs() <= MAX_REFERENCE_PIXEL) {
            return Err(InvalidWcs(format!(
                "reference pixel {:?} is not within ±{MAX_REFERENCE_PIXEL} pixels",
                self.crpix
            )));
        }
        if self.width == 0 || self.height == 0 || self.width > MAX_SIDE || self.height > MAX_SIDE {
            return Err(InvalidWcs(format!("image size {}x{} is not plausible", self.width, self.height)));
        }
        let det = self.det();
        if !(det.is_finite() && det != 0.0) {
            return Err(InvalidWcs(format!("CD matrix {:?} is singular", self.cd)));
        }
        let scale = det.abs().sqrt();
        if scale * (self.width.max(self.height) as f64) >= 180.0 {
            return Err(InvalidWcs(format!(
                "{scale}°/px over {}x{} px spans more than a hemisphere",
                self.width, self.height
            )));
        }
        Ok(())
    }
}

/// Pixel↔sky conversions for one [`Wcs`], with the projection set up once (cheap to share across
/// threads).
pub struct Projector {
    inner: Img2Celestial<Tan, WcsImgXY2ProjXY>,
    height: f64,
}

impl Projector {
    /// See [`Wcs::pixel_to_sky`].
    pub fn pixel_to_sky(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let ll = self.inner.img2lonlat(&ImgXY::new(x + 0.5, self.height + 0.5 - y))?;
        let ra = ll.lon().to_degrees().rem_euclid(360.0);
        Some((if ra >= 360.0 { 0.0 } else { ra }, ll.lat().to_degrees()))
    }

    /// See [`Wcs::sky_to_pixel`].
    pub fn sky_to_pixel(&self, ra_deg: f64, dec_deg: f64) -> Option<(f64, f64)> {
        if !(ra_deg.is_finite() && dec_deg.is_finite() && (-90.0..=90.0).contains(&dec_deg)) {
            return None;
        }
        let xy = self.inner.lonlat2img(&LonLat::new(ra_deg.to_radians(), dec_deg.to_radians()))?;
        Some((xy.x() - 0.5, self.height + 0.5 - xy.y()))
    }
}

/// Great-circle distance between two sky positions `(ra, dec)` in degrees, in degrees (the
/// haversine formula of `cdshealpix`, accurate at all scales).
pub fn angular_distance_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    cdshealpix::haversine_dist(a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians()).to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCSEC: f64 = 1.0 / 3600.0;

    /// Standard gnomonic projection written out independently (Calabretta & Greisen 2002).
    fn gnomonic(ra0: f64, de0: f64, ra: f64, de: f64) -> (f64, f64) {
        let (ra0, de0, ra, de) = (ra0.to_radians(), de0.to_radians(), ra.to_radians(), de.to_radians());
        let cosc = de0.sin() * de.sin() + de0.cos() * de.cos() * (ra - ra0).cos();
        let xi = de.cos() * (ra - ra0).sin() / cosc;
        let eta = (de0.cos() * de.sin() - de0.sin() * de.cos() * (ra - ra0).cos()) / cosc;
        (xi.to_degrees(), eta.to_degrees())
    }

    fn m51() -> Wcs {
        // Values in the style of an ESA/Hubble AVM record (heic0506a-like).
        Wcs::from_avm([202.4696, 47.1952], [3200.5, 2100.25], [6000.0, 4000.0], [-1.2e-5, 1.2e-5], 17.5).unwrap()
    }

    #[test]
    fn pixel_sky_pixel_round_trip_is_exact_to_micro_pixels() {
        for wcs in [
            m51(),
            Wcs::from_center(10.0, -30.0, 0.5, 800, 600, -75.0).unwrap(),
            Wcs::from_center(0.01, 0.0, 2.0, 1000, 1000, 0.0).unwrap(),
            Wcs::from_center(123.0, 89.95, 0.2, 500, 300, 33.0).unwrap(),
        ] {
            for &(x, y) in &[(0.0, 0.0), (0.5, 0.5), (17.25, 400.75), (wcs.width as f64, wcs.height as f64)] {
                let (ra, dec) = wcs.pixel_to_sky(x, y).unwrap();
                assert!((0.0..360.0).contains(&ra) && (-90.0..=90.0).contains(&dec));
                let (x2, y2) = wcs.sky_to_pixel(ra, dec).unwrap();
                assert!((x - x2).abs() < 1e-6 && (y - y2).abs() < 1e-6, "{x},{y} -> {ra},{dec} -> {x2},{y2}");
            }
        }
    }

    #[test]
    fn reference_pixel_maps_to_reference_value_in_fits_convention() {
        let w = m51();
        // FITS (3200.5, 2100.25) = image (3200, 4000 + 0.5 − 2100.25).
        let (ra, dec) = w.pixel_to_sky(3200.0, 4000.5 - 2100.25).unwrap();
        assert!(angular_distance_deg((ra, dec), (202.4696, 47.1952)) < 1e-9);
        // The centre of the bottom-left pixel is FITS (1, 1): image (0.5, height − 0.5).
        let w2 = Wcs::from_avm([50.0, 20.0], [1.0, 1.0], [100.0, 80.0], [-1e-3, 1e-3], 0.0).unwrap();
        let (ra, dec) = w2.pixel_to_sky(0.5, 79.5).unwrap();
        assert!(angular_distance_deg((ra, dec), (50.0, 20.0)) < 1e-9);
    }

    #[test]
    fn agrees_with_an_independent_gnomonic_formula() {
        let w = Wcs::from_center(83.8221, -5.3911, 1.0, 1000, 800, 0.0).unwrap();
        let s = 1.0 / 1000.0;
        for &(x, y) in &[(0.0, 0.0), (250.0, 700.0), (999.0, 1.0), (500.0, 400.0)] {
            let (ra, dec) = w.pixel_to_sky(x, y).unwrap();
            let (xi, eta) = gnomonic(83.8221, -5.3911, ra, dec);
            // East (xi > 0) is to the left, North (eta > 0) is up.
            let (ex, ey) = (500.0 - xi / s, 400.0 - eta / s);
            assert!((ex - x).abs() < 1e-6 && (ey - y).abs() < 1e-6, "({x},{y}) vs ({ex},{ey})");
        }
    }

    #[test]
    fn agrees_with_the_cds_wcs_crate_reading_our_fits_keywords() {
        for w in [m51(), Wcs::from_center(359.99, -60.0, 0.3, 640, 480, -120.0).unwrap()] {
            let params: wcs::params::WCSParams = serde_json::from_value(w.to_fits_header_json()).unwrap();
            let other = wcs::WCS::new(&params).unwrap();
            for &(x, y) in &[(0.5, 0.5), (100.0, 200.0), (w.width as f64 - 3.0, w.height as f64 - 0.5)] {
                let (ra, dec) = w.pixel_to_sky(x, y).unwrap();
                // The wcs crate takes FITS pixels and returns radians.
                let ll = other.unproj(&wcs::ImgXY::new(x + 0.5, w.height as f64 + 0.5 - y)).unwrap();
                let d = angular_distance_deg((ra, dec), (ll.lon().to_degrees(), ll.lat().to_degrees()));
                assert!(d < 1e-3 * ARCSEC, "({x},{y}): {d} deg apart");
            }
        }
    }

    #[test]
    fn fits_header_json_round_trips_and_reads_cdelt_crota_headers() {
        let w = m51();
        assert_eq!(Wcs::from_fits_header_json(&w.to_fits_header_json()).unwrap(), w);
        let h = serde_json::json!({
            "NAXIS1": 6000, "NAXIS2": 4000, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
            "CRVAL1": 202.4696, "CRVAL2": 47.1952, "CRPIX1": 3200.5, "CRPIX2": 2100.25,
            "CDELT1": -1.2e-5, "CDELT2": 1.2e-5, "CROTA2": 17.5
        });
        let r = Wcs::from_fits_header_json(&h).unwrap();
        for i in 0..2 {
            for j in 0..2 {
                assert!((r.cd[i][j] - w.cd[i][j]).abs() < 1e-18);
            }
        }
        let bad = serde_json::json!({"NAXIS1": 10, "NAXIS2": 10, "CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN"});
        let err = Wcs::from_fits_header_json(&bad).unwrap_err().to_string();
        assert!(err.contains("RA---SIN"), "{err}");
    }

    #[test]
    fn rotation_sign_puts_north_left_of_vertical_for_positive_rotation() {
        for rot in [-60.0, -10.0, 0.0, 25.0, 90.0, 150.0] {
            let w = Wcs::from_center(150.0, 2.0, 0.1, 1000, 1000, rot).unwrap();
            let (ra, dec) = w.center();
            let (x0, y0) = w.sky_to_pixel(ra, dec).unwrap();
            let (x1, y1) = w.sky_to_pixel(ra, dec + 0.01).unwrap();
            // Angle of North from the image's up direction, positive towards the left.
            let left_of_vertical = (-(x1 - x0)).atan2(-(y1 - y0)).to_degrees();
            assert!((left_of_vertical - rot).abs() < 1e-6, "rot {rot}: north at {left_of_vertical}");
            assert!((w.rotation_deg() - rot).abs() < 1e-9);
            // East is 90° counter-clockwise from North on the sky: to the left when rot = 0.
            let (xe, ye) = w.sky_to_pixel(ra + 0.01 / dec.to_radians().cos(), dec).unwrap();
            let east = (-(xe - x0)).atan2(-(ye - y0)).to_degrees();
            let diff = (east - (rot + 90.0) + 180.0).rem_euclid(360.0) - 180.0;
            assert!(diff.abs() < 1e-3, "rot {rot}: east at {east}, expected {}", rot + 90.0);
            assert!(w.is_sky_parity());
        }
    }

    #[test]
    fn rescaling_keeps_the_sky_footprint() {
        let w = m51();
        let small = w.rescaled(1500, 1000);
        assert_eq!((small.width(), small.height()), (1500, 1000));
        assert!((small.pixel_scale_deg() / w.pixel_scale_deg() - 4.0).abs() < 1e-12);
        for (a, b) in w.corners().iter().zip(small.corners().iter()) {
            assert!(angular_distance_deg(*a, *b) < 1e-9, "{a:?} vs {b:?}");
        }
        // A pixel centre of the small image is the centre of the 4×4 block in the large one.
        let (ra, dec) = small.pixel_to_sky(10.5, 20.5).unwrap();
        let (x, y) = w.sky_to_pixel(ra, dec).unwrap();
        assert!((x - 42.0).abs() < 1e-6 && (y - 82.0).abs() < 1e-6, "{x},{y}");
        assert!(angular_distance_deg(w.center(), small.center()) < 1e-9);
    }

    #[test]
    fn from_center_has_the_requested_centre_scale_and_fov() {
        let w = Wcs::from_center(266.4168, -29.0078, 0.25, 1200, 900, 0.0).unwrap();
        assert!(angular_distance_deg(w.center(), (266.4168, -29.0078)) < 1e-9);
        assert!((w.pixel_scale_deg() - 0.25 / 1200.0).abs() < 1e-15);
        let (fx, fy) = w.fov_deg();
        assert!((fx - 0.25).abs() < 1e-12 && (fy - 0.25 * 900.0 / 1200.0).abs() < 1e-12);
        // Left and right edge centres are fov apart on the sky (TAN: tan-distortion is tiny here).
        let l = w.pixel_to_sky(0.0, 450.0).unwrap();
        let r = w.pixel_to_sky(1200.0, 450.0).unwrap();
        assert!((angular_distance_deg(l, r) - 0.25).abs() < 1e-5);
        // East is left: the left edge has the larger RA.
        assert!(l.0 > r.0);
    }

    #[test]
    fn crossing_ra_zero_wraps_cleanly() {
        let w = Wcs::from_center(0.0, 10.0, 0.2, 400, 400, 0.0).unwrap();
        let (ra_left, _) = w.pixel_to_sky(10.0, 200.0).unwrap();
        let (ra_right, _) = w.pixel_to_sky(390.0, 200.0).unwrap();
        assert!(ra_left > 0.0 && ra_left < 0.2, "{ra_left}");
        assert!(ra_right > 359.8 && ra_right < 360.0, "{ra_right}");
        let (x, _) = w.sky_to_pixel(359.95, 10.0).unwrap();
        let (x2, _) = w.sky_to_pixel(-0.05, 10.0).unwrap();
        assert!((x - x2).abs() < 1e-9 && x > 200.0, "{x} {x2}");
        assert_eq!(w.crval[0], 0.0);
        let w2 = Wcs::from_center(-0.5, 10.0, 0.2, 400, 400, 0.0).unwrap();
        assert!((w2.crval[0] - 359.5).abs() < 1e-12);
    }

    #[test]
    fn works_at_and_around_the_celestial_poles() {
        for dec0 in [90.0, -90.0, 89.99] {
            let w = Wcs::from_center(45.0, dec0, 0.1, 600, 600, 30.0).unwrap();
            let c = w.center();
            assert!((c.1 - dec0).abs() < 1e-9);
            for &(x, y) in &[(0.0, 0.0), (300.0, 10.0), (599.0, 599.0), (300.0, 300.0)] {
                let (ra, dec) = w.pixel_to_sky(x, y).unwrap();
                assert!(dec.abs() <= 90.0);
                let (x2, y2) = w.sky_to_pixel(ra, dec).unwrap();
                assert!((x - x2).abs() < 1e-5 && (y - y2).abs() < 1e-5, "pole {dec0}: ({x},{y}) -> ({x2},{y2})");
            }
            // Every corner is 0.05·√2° (half diagonal) from the pole-centred reference.
            for corner in w.corners() {
                let d = angular_distance_deg(corner, c);
                assert!((d - 0.05 * 2f64.sqrt()).abs() < 1e-5, "{d}");
            }
        }
    }

    #[test]
    fn far_hemisphere_does_not_project_and_bad_inputs_are_refused() {
        let w = Wcs::from_center(10.0, 0.0, 1.0, 100, 100, 0.0).unwrap();
        assert!(w.sky_to_pixel(190.0, 0.0).is_none());
        assert!(w.sky_to_pixel(10.0, 95.0).is_none());
        assert!(Wcs::from_center(10.0, 0.0, 0.0, 100, 100, 0.0).is_err());
        assert!(Wcs::from_center(10.0, 91.0, 1.0, 100, 100, 0.0).is_err());
        assert!(Wcs::from_avm([1.0, 2.0], [1.0, 1.0], [0.0, 10.0], [-1e-4, 1e-4], 0.0).is_err());
        let e = Wcs::from_avm([1.0, 2.0], [1.0, 1.0], [10.0, 10.0], [0.0, 1e-4], 0.0).unwrap_err();
        assert!(e.to_string().contains("Spatial.Scale"), "{e}");
        assert!(Wcs::from_avm([f64::NAN, 2.0], [1.0, 1.0], [10.0, 10.0], [-1e-4, 1e-4], 0.0).is_err());
    }

    #[test]
    fn avm_scale_signs_are_normalised_and_serde_round_trips() {
        let a = Wcs::from_avm([10.0, 20.0], [50.0, 50.0], [100.0, 100.0], [1e-4, -1e-4], 5.0).unwrap();
        let b = Wcs::from_avm([10.0, 20.0], [50.0, 50.0], [100.0, 100.0], [-1e-4, 1e-4], 5.0).unwrap();
        assert_eq!(a, b);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Wcs>(&json).unwrap(), a);
    }
}
