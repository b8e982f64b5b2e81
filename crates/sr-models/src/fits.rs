//! FITS in and out: float (BITPIX −32/−64) and integer (8/16/32/64-bit with BZERO/BSCALE/BLANK)
//! images, 2-D or 3-plane cubes, from the primary HDU or the first image extension.
//!
//! Data values are mapped linearly from their finite min/max to [0, 1] for the model and back
//! to the original units afterwards (nothing is clipped). NaN/BLANK pixels are fed to the model
//! as 0 and put back as NaN/BLANK on their nearest-upscaled footprint. The output is one primary
//! HDU with the input's BITPIX, BZERO/BSCALE and every header card kept, except NAXIS1/2 (new
//! size), the WCS pixel grid (CRPIXi → (CRPIXi − 0.5)·s + 0.5, CDELTi and CDi_j divided by s, so
//! the result overlays the same sky) and CHECKSUM/DATASUM (dropped: they would be stale).
//! Rows are processed in file order (FITS row 1 is the bottom of the picture); the WCS is
//! unaffected by that. Reading and the card/data-unit writers live in `astro_image::fits`; what an
//! upscaled header says is decided here.

use std::io::{BufWriter, Write};
use std::path::Path;

use astro_image::Planes;
#[cfg(test)]
use astro_image::fits::{BLOCK, align};
pub use astro_image::fits::{FitsImage, is_fits, read_fits};
use astro_image::fits::{
    SampleFormat, card_number, fits_float, keyword, make_card, text_card, write_data, write_header,
};
use burn::prelude::*;

use crate::enhancer::Enhancer;
use crate::error::{Result, SrError};
use crate::inference::upscale_tiled;
use crate::report::Report;
use astro_image::AtomicFile;

/// The comment of a numeric card, if any.
fn card_comment(card: &[u8; 80]) -> Option<String> {
    let text = String::from_utf8_lossy(&card[10..]);
    text.split_once('/').map(|(_, c)| c.trim().to_string()).filter(|c| !c.is_empty())
}

/// The header of `img` upscaled by `s` (see the module docs), ending with END.
fn upscaled_cards(img: &FitsImage, s: usize, blank: Option<i64>, note: &str) -> Vec<[u8; 80]> {
    let sf = s as f64;
    let mut out = Vec::with_capacity(img.cards.len() + 3);
    let mut has_blank = false;
    for card in &img.cards {
        let key = keyword(card);
        let comment = card_comment(card);
        let num = card_number(card);
        let new = match key.as_str() {
            "XTENSION" if img.from_extension => Some(make_card("SIMPLE", "T", Some("conforms to FITS standard"))),
            "PCOUNT" | "GCOUNT" if img.from_extension => continue,
            "CHECKSUM" | "DATASUM" => continue,
            "NAXIS1" => Some(make_card(&key, &(img.width * s).to_string(), comment.as_deref())),
            "NAXIS2" => Some(make_card(&key, &(img.height * s).to_string(), comment.as_deref())),
            "CRPIX1" | "CRPIX2" => num.map(|v| make_card(&key, &fits_float((v - 0.5) * sf + 0.5), comment.as_deref())),
            "CDELT1" | "CDELT2" | "CD1_1" | "CD1_2" | "CD2_1" | "CD2_2" => {
                num.map(|v| make_card(&key, &fits_float(v / sf), comment.as_deref()))
            }
            "BLANK" => {
                has_blank = true;
                None
            }
            _ => None,
        };
        out.push(new.unwrap_or(*card));
    }
    if let (Some(b), false) = (blank, has_blank) {
        out.push(make_card("BLANK", &b.to_string(), Some("undefined pixels")));
    }
    out.push(text_card(&format!("HISTORY {note}")));
    out.push(text_card("END"));
    out
}

/// Write the header of `img` upscaled by `s` and `data` (physical values of the new size,
/// NaN where blank) as one primary HDU with the image's BITPIX.
pub fn write_upscaled(img: &FitsImage, w: &mut dyn Write, s: usize, data: &[f64], note: &str) -> std::io::Result<()> {
    let int_blank = |min: i64| if data.iter().any(|v| v.is_nan()) { Some(img.blank.unwrap_or(min)) } else { img.blank };
    let blank = match img.bitpix {
        8 => int_blank(0),
        16 => int_blank(i16::MIN as i64),
        32 => int_blank(i32::MIN as i64),
        64 => int_blank(i64::MIN),
        _ => None,
    };
    write_header(w, &upscaled_cards(img, s, blank, note))?;
    write_data(
        w,
        SampleFormat { bitpix: img.bitpix, bscale: img.bscale, bzero: img.bzero, blank },
        data.iter().copied(),
    )
}

/// Upscale a FITS image into a FITS file (see the module docs), atomically.
pub fn enhance_fits<B: Backend>(
    enhancer: &Enhancer<'_, B>,
    input: &Path,
    output: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let Enhancer { model, config, tiling, max_output_pixels, device } = *enhancer;
    let img = read_fits(input)?;
    let s = config.scale();
    let (w, h, c) = (img.width, img.height, img.channels);
    crate::report::check_output(input, w * s, h * s, 1, max_output_pixels)?;
    let mut out = AtomicFile::create(output)?;
    // Linear map of the finite range to [0, 1]; blank pixels enter the model as 0.
    let (lo, hi) = img
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (lo, span) = if lo.is_finite() { (lo, if hi > lo { hi - lo } else { 1.0 }) } else { (0.0, 1.0) };
    let norm: Vec<f32> = img.data.iter().map(|&v| if v.is_finite() { ((v - lo) / span) as f32 } else { 0.0 }).collect();
    let mut planes = Planes::from_vec(c, h, w, norm)?;
    planes.bit_depth = 32;
    let up = upscale_tiled(model, config, &planes, tiling, device, progress)?;
    let (ow, oh) = (w * s, h * s);
    let mut data = Vec::with_capacity(c * ow * oh);
    for ch in 0..c {
        let src = &img.data[ch * w * h..(ch + 1) * w * h];
        let plane = up.plane(ch);
        for y in 0..oh {
            for x in 0..ow {
                let blank = !src[(y / s) * w + x / s].is_finite();
                data.push(if blank { f64::NAN } else { lo + plane[y * ow + x] as f64 * span });
            }
        }
    }
    let note = format!("upscaled x{s} by prettier-space upscale ({})", config.describe());
    {
        let file = out.file();
        let mut bw = BufWriter::new(file);
        write_upscaled(&img, &mut bw, s, &data, &note).map_err(|e| SrError::io(output, e))?;
        bw.flush().map_err(|e| SrError::io(output, e))?;
    }
    out.commit()?;
    Ok(Report { input: (w, h), output: (ow, oh), frames: 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cards: &[(&str, &str)]) -> Vec<u8> {
        let mut h: Vec<u8> = cards.iter().flat_map(|(k, v)| make_card(k, v, Some("test"))).collect();
        let mut end = [b' '; 80];
        end[..3].copy_from_slice(b"END");
        h.extend(end);
        h.resize(align(h.len()), b' ');
        h
    }

    #[test]
    fn integer_fits_with_blank_and_wcs_round_trips_through_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i16.fits");
        let mut bytes = header(&[
            ("SIMPLE", "T"),
            ("BITPIX", "16"),
            ("NAXIS", "2"),
            ("NAXIS1", "3"),
            ("NAXIS2", "2"),
            ("BZERO", "32768.0"),
            ("BSCALE", "2.0"),
            ("BLANK", "-32768"),
            ("CRPIX1", "2.0"),
            ("CRPIX2", "1.5"),
            ("CD1_1", "-0.001"),
            ("CD2_2", "0.001"),
            ("OBJECT", "'M31     '"),
        ]);
        for v in [-32768i16, 0, 1, 2, -3, 4] {
            bytes.extend(v.to_be_bytes());
        }
        bytes.resize(align(bytes.len()), 0);
        std::fs::write(&path, &bytes).unwrap();
        let img = read_fits(&path).unwrap();
        assert_eq!((img.width, img.height, img.channels, img.bitpix), (3, 2, 1, 16));
        assert!(img.data[0].is_nan());
        assert_eq!(&img.data[1..], &[32768.0, 32770.0, 32772.0, 32762.0, 32776.0]);
        let mut out = Vec::new();
        let up: Vec<f64> = (0..24).map(|i| if i == 0 { f64::NAN } else { 32768.0 + 2.0 * i as f64 }).collect();
        write_upscaled(&img, &mut out, 2, &up, "test").unwrap();
        assert_eq!(out.len() % BLOCK, 0);
        let back_path = dir.path().join("back.fits");
        std::fs::write(&back_path, &out).unwrap();
        let back = read_fits(&back_path).unwrap();
        assert_eq!((back.width, back.height, back.bitpix), (6, 4, 16));
        assert!(back.data[0].is_nan());
        assert_eq!(back.data[5], 32778.0);
        let find = |k: &str| back.cards.iter().find(|c| keyword(c) == k).and_then(card_number);
        assert_eq!(find("CRPIX1"), Some(3.5));
        assert_eq!(find("CRPIX2"), Some(2.5));
        assert_eq!(find("CD1_1"), Some(-0.0005));
        assert!(back.cards.iter().any(|c| keyword(c) == "OBJECT"));
    }

    #[test]
    fn a_fits_without_an_image_hdu_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.fits");
        std::fs::write(&path, header(&[("SIMPLE", "T"), ("BITPIX", "8"), ("NAXIS", "0")])).unwrap();
        let e = read_fits(&path).unwrap_err().to_string();
        assert!(e.contains("empty.fits") && e.contains("no image HDU"), "{e}");
    }

    #[test]
    fn a_three_plane_cube_in_an_image_extension_becomes_a_primary_hdu() {
        use crate::model::{GeneratorConfig, LightSrConfig};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cube.fits");
        let mut bytes = header(&[("SIMPLE", "T"), ("BITPIX", "8"), ("NAXIS", "0"), ("EXTEND", "T")]);
        bytes.extend(header(&[
            ("XTENSION", "'IMAGE   '"),
            ("BITPIX", "-64"),
            ("NAXIS", "3"),
            ("NAXIS1", "12"),
            ("NAXIS2", "10"),
            ("NAXIS3", "3"),
            ("PCOUNT", "0"),
            ("GCOUNT", "1"),
            ("CRPIX1", "6.5"),
            ("CRPIX2", "5.5"),
        ]));
        for i in 0..360 {
            bytes.extend((-5.0 + (i as f64 * 0.37).sin() * 20.0).to_be_bytes());
        }
        bytes.resize(align(bytes.len()), 0);
        std::fs::write(&path, &bytes).unwrap();
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(4).with_blocks(1));
        let d = Default::default();
        let g = cfg.init::<burn::backend::Flex>(&d).unwrap();
        let out = dir.path().join("cube-x2.fits");
        let r =
            enhance_fits(&Enhancer::new(&g, &cfg, &d).with_max_output_pixels(u64::MAX), &path, &out, &mut |_, _| {})
                .unwrap();
        assert_eq!(r.output, (24, 20));
        let back = read_fits(&out).unwrap();
        assert_eq!((back.width, back.height, back.channels, back.bitpix), (24, 20, 3, -64));
        assert!(!back.from_extension);
        let keys: Vec<String> = back.cards.iter().map(keyword).collect();
        assert_eq!(keys[0], "SIMPLE");
        assert!(!keys.iter().any(|k| k == "PCOUNT" || k == "GCOUNT" || k == "XTENSION"), "{keys:?}");
        let find = |k: &str| back.cards.iter().find(|c| keyword(c) == k).and_then(card_number);
        assert_eq!((find("CRPIX1"), find("CRPIX2")), (Some(12.5), Some(10.5)));
        assert!(back.data.iter().all(|v| (-25.0..=15.0).contains(v)), "values left the input's range");
    }
}
