//! Reading FITS images: float (BITPIX −32/−64) and integer (8/16/32/64-bit with BZERO/BSCALE/BLANK),
//! 2-D or 3-plane cubes, from the primary HDU or the first image extension.
//!
//! The HDU structure is parsed with `fitsrs`; samples are decoded here into physical values
//! (`raw·BSCALE + BZERO`, NaN where BLANK), channel-major, rows in file order (FITS row 1 is the
//! bottom of the picture). [`read_fits_shape`] reads only the headers (for checking a folder of
//! frames before any data is read). Writing: header cards ([`make_card`], [`fits_float`]),
//! headers and data units padded to blocks ([`write_header`], [`write_data`]) and whole float
//! images ([`encode_fits`]); what an upscaled image's header says lives in `sr_models::fits`.

use std::io::{BufReader, Cursor, Read, Seek, Write};
use std::path::Path;

use fitsrs::hdu::header::Bitpix;
use fitsrs::{Fits, HDU};

use crate::error::{ImageError, Result};
use crate::planes::Planes;

/// FITS block size in bytes (headers and data units are padded to it).
pub const BLOCK: usize = 2880;

/// File extensions of FITS images.
pub const FITS_EXTENSIONS: &[&str] = &["fits", "fit", "fts"];

/// True when the file starts like a FITS file (`SIMPLE  =`).
pub fn is_fits(path: &Path) -> bool {
    let mut head = [0u8; 9];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == b"SIMPLE  ="
}

/// True when the path has a FITS extension (`.fits`, `.fit`, `.fts`, any case).
pub fn has_fits_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| FITS_EXTENSIONS.iter().any(|f| f.eq_ignore_ascii_case(e)))
}

/// Geometry and sample type of a FITS image HDU, read from its header alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitsShape {
    /// NAXIS1.
    pub width: usize,
    /// NAXIS2.
    pub height: usize,
    /// NAXIS3 (1 or 3).
    pub channels: usize,
    /// BITPIX (8, 16, 32, 64, −32, −64).
    pub bitpix: i32,
    /// BSCALE (1 when absent).
    pub bscale: f64,
    /// BZERO (0 when absent).
    pub bzero: f64,
    /// BLANK (integer images).
    pub blank: Option<i64>,
}

/// A FITS image: physical values (NaN where blank), channel-major, rows in file order.
#[derive(Debug, Clone)]
pub struct FitsImage {
    /// NAXIS1.
    pub width: usize,
    /// NAXIS2.
    pub height: usize,
    /// NAXIS3 (1 or 3).
    pub channels: usize,
    /// `channels × height × width` physical values (`raw·BSCALE + BZERO`), NaN where blank.
    pub data: Vec<f64>,
    /// BITPIX of the file.
    pub bitpix: i32,
    /// BSCALE.
    pub bscale: f64,
    /// BZERO.
    pub bzero: f64,
    /// BLANK (integer images).
    pub blank: Option<i64>,
    /// The header's 80-byte cards, without END.
    pub cards: Vec<[u8; 80]>,
    /// Whether the image came from an IMAGE extension rather than the primary HDU.
    pub from_extension: bool,
}

impl FitsImage {
    /// The image as planes of physical values, rows flipped to top-down, NaN where blank
    /// (bit depth 8 or 16 for such integer files, else 32).
    pub fn to_planes(&self) -> Planes {
        let (w, h, c) = (self.width, self.height, self.channels);
        let n = w * h;
        let mut data = vec![0f32; c * n];
        for ch in 0..c {
            for y in 0..h {
                let src = &self.data[ch * n + (h - 1 - y) * w..ch * n + (h - y) * w];
                for (d, &v) in data[ch * n + y * w..ch * n + (y + 1) * w].iter_mut().zip(src) {
                    *d = v as f32;
                }
            }
        }
        let bit_depth = match self.bitpix {
            8 => 8,
            16 => 16,
            _ => 32,
        };
        Planes { width: w, height: h, channels: c, data, bit_depth }
    }
}

/// The keyword of a header card (columns 1–8, trailing blanks removed).
pub fn keyword(card: &[u8; 80]) -> String {
    String::from_utf8_lossy(&card[..8]).trim_end().to_string()
}

/// The numeric value of a `KEY = value / comment` card.
pub fn card_number(card: &[u8; 80]) -> Option<f64> {
    if &card[8..10] != b"= " {
        return None;
    }
    let text = String::from_utf8_lossy(&card[10..]);
    let value = text.split('/').next()?.trim().replace(['D', 'd'], "E");
    value.parse().ok()
}

/// `n` rounded up to a whole number of 2880-byte blocks.
pub fn align(n: usize) -> usize {
    n.div_ceil(BLOCK) * BLOCK
}

fn bad(path: &Path, reason: String) -> ImageError {
    ImageError::Decode { path: path.to_path_buf(), reason }
}

/// Where the first image HDU is: its header start, data offset, whether it is an extension, and its shape.
struct Located {
    header_start: usize,
    data_offset: usize,
    from_extension: bool,
    shape: FitsShape,
    bitpix: Bitpix,
}

fn locate<R>(reader: R, path: &Path) -> Result<Located>
where
    R: Read + Seek + std::fmt::Debug,
{
    let fits = Fits::from_reader(reader);
    let mut header_start = 0usize;
    for (index, hdu) in fits.enumerate() {
        let hdu = hdu.map_err(|e| bad(path, format!("damaged FITS header in HDU {index}: {e}")))?;
        let (off, size) = (hdu.get_data_unit_byte_offset() as usize, hdu.get_data_unit_byte_size() as usize);
        if let HDU::Primary(h) | HDU::XImage(h) = &hdu {
            let header = h.get_header();
            let x = header.get_xtension();
            let naxis: Vec<usize> = x.get_naxis().iter().map(|&n| n as usize).collect();
            let dims = match naxis.as_slice() {
                [w, h] => Some((*w, *h, 1)),
                [w, h, c] if *c == 1 || *c == 3 => Some((*w, *h, *c)),
                _ => None,
            };
            if let Some((width, height, channels)) = dims.filter(|(w, h, _)| *w > 0 && *h > 0) {
                let bscale = header.get_parsed::<Option<f64>>("BSCALE").ok().flatten().unwrap_or(1.0);
                let bzero = header.get_parsed::<Option<f64>>("BZERO").ok().flatten().unwrap_or(0.0);
                let blank = header.get_parsed::<Option<i64>>("BLANK").ok().flatten();
                let bitpix = x.get_bitpix();
                return Ok(Located {
                    header_start,
                    data_offset: off,
                    from_extension: index > 0,
                    shape: FitsShape { width, height, channels, bitpix: bitpix as i8 as i32, bscale, bzero, blank },
                    bitpix,
                });
            }
        }
        header_start = align(off + size);
    }
    Err(bad(path, "no image HDU (a 2-D image or a 3-plane cube) in this FITS file".into()))
}

/// The shape of the first image HDU, reading the headers only (data units are skipped).
pub fn read_fits_shape(path: &Path) -> Result<FitsShape> {
    let file = std::fs::File::open(path).map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    let len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut reader = BufReader::new(file);
    let mut head = [0u8; 9];
    if reader.read_exact(&mut head).is_err() || &head != b"SIMPLE  =" {
        return Err(bad(path, "not a FITS file (no SIMPLE card)".into()));
    }
    reader.rewind().map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    let loc = locate(reader, path)?;
    let s = loc.shape;
    let need = loc.data_offset + s.width * s.height * s.channels * loc.bitpix.byte_size();
    if len < need {
        return Err(bad(path, format!("truncated FITS file: data unit needs {need} bytes, the file has {len}")));
    }
    Ok(s)
}

/// Read the first image HDU (2-D, or 3-D with NAXIS3 = 1 or 3) of a FITS file.
pub fn read_fits(path: &Path) -> Result<FitsImage> {
    let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    decode_fits(&bytes, path)
}

/// Decode the first image HDU of FITS bytes held in memory (`path` names them in errors).
pub fn decode_fits(bytes: &[u8], path: &Path) -> Result<FitsImage> {
    if !bytes.starts_with(b"SIMPLE  =") {
        return Err(bad(path, "not a FITS file (no SIMPLE card)".into()));
    }
    let loc = locate(Cursor::new(bytes), path)?;
    let FitsShape { width: w, height: h, channels: c, bscale, bzero, blank, .. } = loc.shape;
    let off = loc.data_offset;
    let n = w * h * c;
    let need = off + n * loc.bitpix.byte_size();
    if bytes.len() < need {
        return Err(bad(
            path,
            format!("truncated FITS file: data unit needs {need} bytes, the file has {}", bytes.len()),
        ));
    }
    let raw = &bytes[off..need];
    let int = |v: i64| if blank == Some(v) { f64::NAN } else { v as f64 * bscale + bzero };
    let be4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
    let be8 = |b: &[u8]| [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
    let data: Vec<f64> = match loc.bitpix {
        Bitpix::U8 => raw.iter().map(|&v| int(v as i64)).collect(),
        Bitpix::I16 => raw.chunks_exact(2).map(|b| int(i16::from_be_bytes([b[0], b[1]]) as i64)).collect(),
        Bitpix::I32 => raw.chunks_exact(4).map(|b| int(i32::from_be_bytes(be4(b)) as i64)).collect(),
        Bitpix::I64 => raw.chunks_exact(8).map(|b| int(i64::from_be_bytes(be8(b)))).collect(),
        Bitpix::F32 => raw.chunks_exact(4).map(|b| f32::from_be_bytes(be4(b)) as f64 * bscale + bzero).collect(),
        Bitpix::F64 => raw.chunks_exact(8).map(|b| f64::from_be_bytes(be8(b)) * bscale + bzero).collect(),
    };
    let cards: Vec<[u8; 80]> = bytes[loc.header_start..off]
        .chunks_exact(80)
        .filter_map(|c| <[u8; 80]>::try_from(c).ok())
        .take_while(|c| keyword(c) != "END")
        .collect();
    Ok(FitsImage {
        width: w,
        height: h,
        channels: c,
        data,
        bitpix: loc.shape.bitpix,
        bscale,
        bzero,
        blank,
        cards,
        from_extension: loc.from_extension,
    })
}

/// A `KEY     =                VALUE / comment` header card (non-ASCII dropped, cut at 80 columns).
pub fn make_card(key: &str, value: &str, comment: Option<&str>) -> [u8; 80] {
    let mut s = format!("{key:<8}= {value:>20}");
    if let Some(c) = comment {
        s.push_str(" / ");
        s.push_str(c);
    }
    text_card(&s)
}

/// A card holding `text` as it is (HISTORY, COMMENT, END), blank-padded to 80 columns.
pub fn text_card(text: &str) -> [u8; 80] {
    let mut card = [b' '; 80];
    for (d, b) in card.iter_mut().zip(text.bytes().filter(|b| b.is_ascii() && !b.is_ascii_control())) {
        *d = b;
    }
    card
}

/// A float for a header card: short decimal when it fits in 20 columns, else exponent form.
pub fn fits_float(v: f64) -> String {
    let d = format!("{v}");
    if d.len() <= 20 && d.parse::<f64>().ok() == Some(v) {
        if d.contains(['.', 'e', 'E']) { d } else { format!("{d}.0") }
    } else {
        format!("{v:.13E}")
    }
}

/// Write header `cards` (END is added when missing), blank-padded to a whole block.
pub fn write_header(w: &mut dyn Write, cards: &[[u8; 80]]) -> std::io::Result<()> {
    let mut header: Vec<u8> = cards.concat();
    if cards.last().is_none_or(|c| keyword(c) != "END") {
        header.extend_from_slice(&text_card("END"));
    }
    header.resize(align(header.len()), b' ');
    w.write_all(&header)
}

/// Sample layout of a data unit being written: BITPIX, the physical = raw·BSCALE + BZERO map,
/// and the BLANK value NaN becomes in integer files.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleFormat {
    /// BITPIX (8, 16, 32, 64, −32, −64).
    pub bitpix: i32,
    /// BSCALE.
    pub bscale: f64,
    /// BZERO.
    pub bzero: f64,
    /// BLANK (integer files; 0 when NaN arrives without one).
    pub blank: Option<i64>,
}

/// Write physical values (`data`, in file order; NaN = blank) as a data unit, zero-padded to a
/// whole block. Integer samples are rounded and clamped to the type's range.
pub fn write_data(w: &mut dyn Write, format: SampleFormat, data: impl IntoIterator<Item = f64>) -> std::io::Result<()> {
    let SampleFormat { bitpix, bscale, bzero, blank } = format;
    let raw = |v: f64, lo: f64, hi: f64| -> i64 {
        if v.is_nan() { blank.unwrap_or(0) } else { ((v - bzero) / bscale).round().clamp(lo, hi) as i64 }
    };
    let mut written = 0usize;
    let mut buf = Vec::with_capacity(1 << 16);
    for v in data {
        match bitpix {
            8 => buf.push(raw(v, 0.0, 255.0) as u8),
            16 => buf.extend((raw(v, i16::MIN as f64, i16::MAX as f64) as i16).to_be_bytes()),
            32 => buf.extend((raw(v, i32::MIN as f64, i32::MAX as f64) as i32).to_be_bytes()),
            64 => buf.extend(raw(v, i64::MIN as f64, i64::MAX as f64).to_be_bytes()),
            -32 => buf.extend((((v - bzero) / bscale) as f32).to_be_bytes()),
            _ => buf.extend(((v - bzero) / bscale).to_be_bytes()),
        }
        if buf.len() >= 1 << 16 {
            w.write_all(&buf)?;
            written += buf.len();
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    written += buf.len();
    w.write_all(&vec![0u8; align(written) - written])
}

/// Encode planes as a single-HDU float FITS file (`BITPIX = -32`, NaN kept, rows bottom-up as
/// FITS wants), with `extra` cards (a WCS, for instance) after the structural ones.
pub fn encode_fits(img: &Planes, extra: &[[u8; 80]]) -> Vec<u8> {
    let mut cards = vec![
        make_card("SIMPLE", "T", None),
        make_card("BITPIX", "-32", None),
        make_card("NAXIS", if img.channels == 1 { "2" } else { "3" }, None),
        make_card("NAXIS1", &img.width.to_string(), None),
        make_card("NAXIS2", &img.height.to_string(), None),
    ];
    if img.channels != 1 {
        cards.push(make_card("NAXIS3", &img.channels.to_string(), None));
    }
    cards.extend_from_slice(extra);
    let mut out = Vec::with_capacity(align((cards.len() + 1) * 80) + align(img.data.len() * 4));
    // Rows bottom-up, streamed: no second copy of the image.
    let data = (0..img.channels)
        .flat_map(|c| (0..img.height).rev().map(move |y| img.plane(c)[y * img.width..(y + 1) * img.width].iter()))
        .flatten()
        .map(|&v| v as f64);
    let format = SampleFormat { bitpix: -32, bscale: 1.0, bzero: 0.0, blank: None };
    // Writing into a Vec cannot fail.
    let _ = write_header(&mut out, &cards).and_then(|_| write_data(&mut out, format, data));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_planes_round_trip_with_nan_and_extra_cards() {
        let mut img = Planes::zeros(3, 4, 5);
        img.data.iter_mut().enumerate().for_each(|(i, v)| *v = i as f32 / 7.0);
        img.data[6] = f32::NAN;
        img.bit_depth = 32;
        let bytes = encode_fits(&img, &[make_card("CRPIX1", &fits_float(2.5), Some("ref"))]);
        assert_eq!(bytes.len() % BLOCK, 0);
        let back = decode_fits(&bytes, Path::new("mem.fits")).unwrap();
        assert_eq!((back.width, back.height, back.channels, back.bitpix), (5, 4, 3, -32));
        assert!(back.cards.iter().any(|c| keyword(c) == "CRPIX1" && card_number(c) == Some(2.5)));
        let planes = back.to_planes();
        assert!(planes.data[6].is_nan());
        let same = img.data.iter().zip(&planes.data).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
        assert!(same, "planes differ after a round trip");
        let e = decode_fits(b"<html>", Path::new("x.fits")).unwrap_err().to_string();
        assert!(e.contains("x.fits") && e.contains("not a FITS file"), "{e}");
    }

    #[test]
    fn integer_data_units_scale_clamp_and_mark_blanks() {
        let format = SampleFormat { bitpix: 16, bscale: 2.0, bzero: 32768.0, blank: Some(-32768) };
        let mut out = Vec::new();
        write_data(&mut out, format, [32768.0, 32770.0, f64::NAN, 1e9]).unwrap();
        assert_eq!(out.len(), BLOCK);
        let v: Vec<i16> = out[..8].chunks(2).map(|b| i16::from_be_bytes([b[0], b[1]])).collect();
        assert_eq!(v, vec![0, 1, -32768, i16::MAX]);
    }
}
