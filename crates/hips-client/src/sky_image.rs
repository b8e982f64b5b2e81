//! Survey pixels in memory: decoding JPEG/PNG/FITS (tiles or cutouts) and encoding results.
//!
//! Images are `astro_image::Planes` (NaN = no data) and always store rows **top-down** (row 0 is the top of the picture, as in JPEG and
//! PNG and as in the image-pixel convention of [`crate::wcs`]); FITS data, stored bottom-up, are
//! flipped on the way in and out.

use std::io::Cursor;

use crate::error::{HipsError, Result};
use crate::wcs::Wcs;
pub use astro_image::Planes;

/// Image file formats served by HiPS and hips2fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// JPEG (8-bit, lossy).
    Jpg,
    /// PNG (8-bit here).
    Png,
    /// FITS (physical values).
    Fits,
}

impl ImageFormat {
    /// The file extension and the hips2fits `format` value.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::Fits => "fits",
        }
    }

    /// Parse `jpg`/`jpeg`/`png`/`fits` (case-insensitive).
    pub fn parse(s: &str) -> Option<ImageFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(ImageFormat::Jpg),
            "png" => Some(ImageFormat::Png),
            "fits" | "fit" | "fts" => Some(ImageFormat::Fits),
            _ => None,
        }
    }
}

impl std::str::FromStr for ImageFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        ImageFormat::parse(s).ok_or_else(|| format!("unknown image format {s:?} (jpg, png or fits)"))
    }
}

/// Decode JPEG, PNG or FITS bytes (sniffed from the content); `name` labels errors.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<Planes> {
    if bytes.starts_with(b"SIMPLE  =") {
        return decode_fits(bytes, name);
    }
    // Transparent pixels of PNG tiles are "no data" (astro_image's masked loader).
    let limits = astro_image::ImageLimits { max_pixels: u64::MAX };
    astro_image::image_io::load_image_bytes_masked(bytes, name, limits).map_err(|e| decode_error(name, e))
}

/// An `astro_image` error as a [`HipsError::Decode`] of `name` (without naming it twice).
fn decode_error(name: &str, e: astro_image::ImageError) -> HipsError {
    HipsError::Decode { what: name.into(), reason: e.to_string().trim_start_matches(&format!("{name}: ")).to_string() }
}

/// Encode as 8-bit PNG or JPEG (values clamped to `[0, 1]`, NaN written as 0) or as FITS
/// (`BITPIX = -32`, NaN kept, WCS keywords added when `wcs` is given).
pub fn encode_image(img: &Planes, format: ImageFormat, wcs: Option<&Wcs>) -> Result<Vec<u8>> {
    match format {
        ImageFormat::Fits => Ok(encode_fits(img, wcs)),
        ImageFormat::Png | ImageFormat::Jpg => {
            let err = |e: image::ImageError| HipsError::Decode { what: "encoded image".into(), reason: e.to_string() };
            let img = img.to_dynamic_image(8).map_err(|e| decode_error("encoded image", e))?;
            let mut out = Vec::new();
            if format == ImageFormat::Jpg {
                let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95);
                img.write_with_encoder(enc).map_err(err)?;
            } else {
                img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).map_err(err)?;
            }
            Ok(out)
        }
    }
}

/// A float FITS file of `img` (`astro_image::fits`), with the WCS as TAN keywords when given.
fn encode_fits(img: &Planes, wcs: Option<&Wcs>) -> Vec<u8> {
    use astro_image::fits::{fits_float, make_card};
    let mut cards = Vec::new();
    if let Some(w) = wcs {
        let s = |t: &str| format!("'{t:<8}'");
        cards.push(make_card("CTYPE1", &s("RA---TAN"), None));
        cards.push(make_card("CTYPE2", &s("DEC--TAN"), None));
        cards.push(make_card("RADESYS", &s("ICRS"), None));
        for (k, v) in [
            ("CRVAL1", w.crval[0]),
            ("CRVAL2", w.crval[1]),
            ("CRPIX1", w.crpix[0]),
            ("CRPIX2", w.crpix[1]),
            ("CD1_1", w.cd[0][0]),
            ("CD1_2", w.cd[0][1]),
            ("CD2_1", w.cd[1][0]),
            ("CD2_2", w.cd[1][1]),
        ] {
            cards.push(make_card(k, &fits_float(v), None));
        }
    }
    astro_image::fits::encode_fits(img, &cards)
}

/// Decode FITS bytes (`astro_image::fits`: the first image HDU, physical values, NaN where blank).
fn decode_fits(bytes: &[u8], name: &str) -> Result<Planes> {
    let fits = astro_image::fits::decode_fits(bytes, std::path::Path::new(name)).map_err(|e| decode_error(name, e))?;
    Ok(fits.to_planes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(channels: usize, h: usize, w: usize) -> Planes {
        let mut img = Planes::no_data(channels, h, w);
        for c in 0..channels {
            for y in 0..h {
                for x in 0..w {
                    img.data[(c * h + y) * w + x] = (x + 3 * y + 7 * c) as f32 / 100.0;
                }
            }
        }
        img
    }

    #[test]
    fn fits_round_trip_keeps_values_and_top_down_rows() {
        let img = ramp(1, 5, 7);
        let wcs = Wcs::from_center(10.0, 20.0, 0.1, 7, 5, 0.0).unwrap();
        let bytes = encode_image(&img, ImageFormat::Fits, Some(&wcs)).unwrap();
        assert_eq!(bytes.len() % 2880, 0);
        // The first data row in the file is the bottom row of the picture.
        let first = f32::from_be_bytes(bytes[2880..2884].try_into().unwrap());
        assert_eq!(first, img.get(0, 4, 0));
        let back = decode_image(&bytes, "ramp.fits").unwrap();
        assert_eq!(back, img);
        let colour = ramp(3, 4, 6);
        assert_eq!(decode_image(&encode_image(&colour, ImageFormat::Fits, None).unwrap(), "c").unwrap(), colour);
    }

    #[test]
    fn png_round_trip_is_eight_bit_exact_and_garbage_is_refused() {
        let mut img = ramp(3, 6, 9);
        for v in &mut img.data {
            *v = (*v).min(1.0);
        }
        let bytes = encode_image(&img, ImageFormat::Png, None).unwrap();
        let back = decode_image(&bytes, "r.png").unwrap();
        let err = img.data.iter().zip(&back.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(err <= 0.5 / 255.0 + 1e-6, "{err}");
        let e = decode_image(b"<html>oops</html>", "tile.png").unwrap_err().to_string();
        assert!(e.contains("tile.png"), "{e}");
    }

    #[test]
    fn paste_and_coverage() {
        let mut big = Planes::no_data(1, 4, 4);
        assert_eq!(big.coverage(), 0.0);
        big.paste(&ramp(1, 2, 4), 0, 2).unwrap();
        assert_eq!(big.coverage(), 0.5);
        assert_eq!(big.get(0, 3, 1), ramp(1, 2, 4).get(0, 1, 1));
        assert!(big.paste(&ramp(1, 2, 4), 1, 2).is_err());
    }
}
