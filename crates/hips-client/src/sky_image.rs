//! Survey pixels in memory: decoding JPEG/PNG/FITS (tiles or cutouts) and encoding results.
//!
//! A [`SkyImage`] always stores rows **top-down** (row 0 is the top of the picture, as in JPEG and
//! PNG and as in the image-pixel convention of [`crate::wcs`]); FITS data, stored bottom-up, are
//! flipped on the way in and out.

use std::io::Cursor;

use crate::error::{HipsError, Result};
use crate::wcs::Wcs;

/// A channel-major `f32` image (`data[c][y][x]` flattened), rows top-down. JPEG/PNG samples are
/// in `[0, 1]`; FITS samples are physical values (`BSCALE`/`BZERO` applied). `NaN` marks pixels
/// with no data (outside a survey's footprint or a FITS `BLANK`).
#[derive(Debug, Clone, PartialEq)]
pub struct SkyImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Samples, `channels × height × width`.
    pub data: Vec<f32>,
}

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

impl SkyImage {
    /// An image filled with `NaN` (no data).
    pub fn empty(channels: usize, height: usize, width: usize) -> SkyImage {
        SkyImage { width, height, channels, data: vec![f32::NAN; channels * height * width] }
    }

    /// Number of pixels per plane.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// One plane.
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.pixels();
        &self.data[c * n..(c + 1) * n]
    }

    /// Sample at channel `c`, row `y` (from the top), column `x`.
    pub fn get(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.height + y) * self.width + x]
    }

    /// Fraction of pixels with data in every channel.
    pub fn coverage(&self) -> f64 {
        let n = self.pixels();
        if n == 0 {
            return 0.0;
        }
        let covered = (0..n).filter(|&i| (0..self.channels).all(|c| !self.data[c * n + i].is_nan())).count();
        covered as f64 / n as f64
    }

    /// Replace `NaN` (no data) by `value`.
    pub fn fill_nan(&mut self, value: f32) {
        for v in &mut self.data {
            if v.is_nan() {
                *v = value;
            }
        }
    }

    /// Three planes (grey replicated).
    pub fn to_rgb(&self) -> SkyImage {
        if self.channels == 3 {
            return self.clone();
        }
        let mut data = Vec::with_capacity(3 * self.pixels());
        for _ in 0..3 {
            data.extend_from_slice(self.plane(0));
        }
        SkyImage { channels: 3, data, ..*self }
    }

    /// Map physical values to `[0, 1]` between the `lo`/`hi` percentiles (per image, all channels
    /// together, NaN ignored), e.g. `(0.5, 99.5)` like hips2fits' default cuts. NaN stays NaN.
    pub fn stretched_linear(&self, lo_pct: f64, hi_pct: f64) -> SkyImage {
        let mut finite: Vec<f32> = self.data.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return self.clone();
        }
        finite.sort_by(|a, b| a.total_cmp(b));
        let pick = |p: f64| finite[((p / 100.0).clamp(0.0, 1.0) * (finite.len() - 1) as f64).round() as usize];
        let (lo, hi) = (pick(lo_pct), pick(hi_pct));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let data = self.data.iter().map(|&v| if v.is_nan() { v } else { ((v - lo) / span).clamp(0.0, 1.0) }).collect();
        SkyImage { data, ..*self }
    }

    /// Copy `src` into this image with its top-left corner at (`x0`, `y0`) (for stitching tiles).
    pub fn paste(&mut self, src: &SkyImage, x0: usize, y0: usize) -> Result<()> {
        if src.channels != self.channels || x0 + src.width > self.width || y0 + src.height > self.height {
            return Err(HipsError::Decode {
                what: "stitched cutout".into(),
                reason: format!(
                    "{}x{}x{} piece does not fit at ({x0}, {y0}) in {}x{}x{}",
                    src.channels, src.height, src.width, self.channels, self.height, self.width
                ),
            });
        }
        for c in 0..self.channels {
            for y in 0..src.height {
                let d = (c * self.height + y0 + y) * self.width + x0;
                let s = (c * src.height + y) * src.width;
                self.data[d..d + src.width].copy_from_slice(&src.data[s..s + src.width]);
            }
        }
        Ok(())
    }

    /// Decode JPEG, PNG or FITS bytes (sniffed from the content); `name` labels errors.
    pub fn decode(bytes: &[u8], name: &str) -> Result<SkyImage> {
        if bytes.starts_with(b"SIMPLE  =") {
            return decode_fits(bytes, name);
        }
        let img = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| HipsError::Decode { what: name.into(), reason: e.to_string() })?
            .decode()
            .map_err(|e| HipsError::Decode { what: name.into(), reason: e.to_string() })?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let n = w * h;
        let grey = !img.color().has_color();
        let has_alpha = img.color().has_alpha();
        let rgba = img.to_rgba32f();
        let channels = if grey { 1 } else { 3 };
        let mut data = vec![0.0f32; channels * n];
        for (i, px) in rgba.pixels().enumerate() {
            let [r, g, b, a] = px.0;
            // Transparent pixels of PNG tiles are "no data".
            if has_alpha && a == 0.0 {
                for c in 0..channels {
                    data[c * n + i] = f32::NAN;
                }
                continue;
            }
            if grey {
                data[i] = r;
            } else {
                data[i] = r;
                data[n + i] = g;
                data[2 * n + i] = b;
            }
        }
        Ok(SkyImage { width: w, height: h, channels, data })
    }

    /// Encode as 8-bit PNG or JPEG (values clamped to `[0, 1]`, NaN written as 0) or as FITS
    /// (`BITPIX = -32`, NaN kept, WCS keywords added when `wcs` is given).
    pub fn encode(&self, format: ImageFormat, wcs: Option<&Wcs>) -> Result<Vec<u8>> {
        match format {
            ImageFormat::Fits => Ok(self.encode_fits(wcs)),
            ImageFormat::Png | ImageFormat::Jpg => {
                let n = self.pixels();
                let to8 = |v: f32| if v.is_nan() { 0u8 } else { (v.clamp(0.0, 1.0) * 255.0).round() as u8 };
                let mut buf = Vec::with_capacity(n * self.channels);
                for i in 0..n {
                    for c in 0..self.channels {
                        buf.push(to8(self.data[c * n + i]));
                    }
                }
                let (w, h) = (self.width as u32, self.height as u32);
                let err =
                    |e: image::ImageError| HipsError::Decode { what: "encoded image".into(), reason: e.to_string() };
                let img = match self.channels {
                    1 => image::DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, buf).ok_or_else(|| {
                        HipsError::Decode { what: "encoded image".into(), reason: "buffer size".into() }
                    })?),
                    _ => image::DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, buf).ok_or_else(|| {
                        HipsError::Decode { what: "encoded image".into(), reason: "buffer size".into() }
                    })?),
                };
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

    fn encode_fits(&self, wcs: Option<&Wcs>) -> Vec<u8> {
        let mut cards: Vec<String> = Vec::new();
        let mut card = |k: &str, v: String| cards.push(format!("{k:<8}= {v:>20}"));
        card("SIMPLE", "T".into());
        card("BITPIX", "-32".into());
        card("NAXIS", if self.channels == 1 { "2".into() } else { "3".into() });
        card("NAXIS1", self.width.to_string());
        card("NAXIS2", self.height.to_string());
        if self.channels != 1 {
            card("NAXIS3", self.channels.to_string());
        }
        if let Some(w) = wcs {
            let s = |t: &str| format!("'{t:<8}'");
            card("CTYPE1", s("RA---TAN"));
            card("CTYPE2", s("DEC--TAN"));
            card("RADESYS", s("ICRS"));
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
                card(k, format!("{v:.15E}"));
            }
        }
        let mut header = String::new();
        for c in &cards {
            header.push_str(&format!("{c:<80}"));
        }
        header.push_str(&format!("{:<80}", "END"));
        while !header.len().is_multiple_of(2880) {
            header.push(' ');
        }
        let mut out = header.into_bytes();
        for c in 0..self.channels {
            // FITS rows run bottom-up.
            for y in (0..self.height).rev() {
                for x in 0..self.width {
                    out.extend_from_slice(&self.get(c, y, x).to_be_bytes());
                }
            }
        }
        while !out.len().is_multiple_of(2880) {
            out.push(0);
        }
        out
    }
}

fn decode_fits(bytes: &[u8], name: &str) -> Result<SkyImage> {
    use fitsrs::{Fits, HDU, Pixels};
    let err = |reason: String| HipsError::Decode { what: name.into(), reason };
    let mut fits = Fits::from_reader(Cursor::new(bytes));
    let hdu = match fits.next() {
        Some(Ok(HDU::Primary(hdu))) => hdu,
        Some(Ok(_)) => return Err(err("first HDU is not an image".into())),
        Some(Err(e)) => return Err(err(format!("FITS header: {e}"))),
        None => return Err(err("empty FITS file".into())),
    };
    let header = hdu.get_header();
    let naxis = header.get_xtension().get_naxis().to_vec();
    let (w, h, channels) = match naxis.as_slice() {
        [w, h] => (*w as usize, *h as usize, 1usize),
        [w, h, c] if *c == 1 || *c == 3 => (*w as usize, *h as usize, *c as usize),
        other => return Err(err(format!("unsupported NAXISn {other:?} (2-D or 3-plane image expected)"))),
    };
    let scale: f64 = header.get_parsed::<Option<f64>>("BSCALE").ok().flatten().unwrap_or(1.0);
    let zero: f64 = header.get_parsed::<Option<f64>>("BZERO").ok().flatten().unwrap_or(0.0);
    let blank: Option<i64> = header.get_parsed::<Option<i64>>("BLANK").ok().flatten();
    let phys = |raw: f64, is_blank: bool| if is_blank { f32::NAN } else { (raw * scale + zero) as f32 };
    let raw: Vec<f32> = match fits.get_data(&hdu).pixels() {
        Pixels::U8(it) => it.map(|v| phys(v as f64, blank == Some(v as i64))).collect(),
        Pixels::I16(it) => it.map(|v| phys(v as f64, blank == Some(v as i64))).collect(),
        Pixels::I32(it) => it.map(|v| phys(v as f64, blank == Some(v as i64))).collect(),
        Pixels::I64(it) => it.map(|v| phys(v as f64, blank == Some(v))).collect(),
        Pixels::F32(it) => it.map(|v| phys(v as f64, false)).collect(),
        Pixels::F64(it) => it.map(|v| phys(v, false)).collect(),
    };
    let n = w * h;
    if raw.len() < channels * n {
        return Err(err(format!("truncated data: {} of {} samples", raw.len(), channels * n)));
    }
    let mut data = vec![0.0f32; channels * n];
    for c in 0..channels {
        for y in 0..h {
            let src = (c * h + (h - 1 - y)) * w;
            let dst = (c * h + y) * w;
            data[dst..dst + w].copy_from_slice(&raw[src..src + w]);
        }
    }
    Ok(SkyImage { width: w, height: h, channels, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(channels: usize, h: usize, w: usize) -> SkyImage {
        let mut img = SkyImage::empty(channels, h, w);
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
        let bytes = img.encode(ImageFormat::Fits, Some(&wcs)).unwrap();
        assert_eq!(bytes.len() % 2880, 0);
        // The first data row in the file is the bottom row of the picture.
        let first = f32::from_be_bytes(bytes[2880..2884].try_into().unwrap());
        assert_eq!(first, img.get(0, 4, 0));
        let back = SkyImage::decode(&bytes, "ramp.fits").unwrap();
        assert_eq!(back, img);
        let colour = ramp(3, 4, 6);
        assert_eq!(SkyImage::decode(&colour.encode(ImageFormat::Fits, None).unwrap(), "c").unwrap(), colour);
    }

    #[test]
    fn png_round_trip_is_eight_bit_exact_and_garbage_is_refused() {
        let mut img = ramp(3, 6, 9);
        for v in &mut img.data {
            *v = (*v).min(1.0);
        }
        let bytes = img.encode(ImageFormat::Png, None).unwrap();
        let back = SkyImage::decode(&bytes, "r.png").unwrap();
        let err = img.data.iter().zip(&back.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(err <= 0.5 / 255.0 + 1e-6, "{err}");
        let e = SkyImage::decode(b"<html>oops</html>", "tile.png").unwrap_err().to_string();
        assert!(e.contains("tile.png"), "{e}");
    }

    #[test]
    fn paste_and_coverage() {
        let mut big = SkyImage::empty(1, 4, 4);
        assert_eq!(big.coverage(), 0.0);
        big.paste(&ramp(1, 2, 4), 0, 2).unwrap();
        assert_eq!(big.coverage(), 0.5);
        assert_eq!(big.get(0, 3, 1), ramp(1, 2, 4).get(0, 1, 1));
        assert!(big.paste(&ramp(1, 2, 4), 1, 2).is_err());
    }
}
