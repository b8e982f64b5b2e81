//! Reading FITS images: float (BITPIX −32/−64) and integer (8/16/32/64-bit with BZERO/BSCALE/BLANK),
//! 2-D or 3-plane cubes, from the primary HDU or the first image extension.
//!
//! The HDU structure is parsed with `fitsrs`; samples are decoded here into physical values
//! (`raw·BSCALE + BZERO`, NaN where BLANK), channel-major, rows in file order (FITS row 1 is the
//! bottom of the picture). [`read_fits_shape`] reads only the headers (for checking a folder of
//! frames before any data is read). Writing (with the WCS of an upscaled image) lives in
//! `sr_models::fits`.

use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

use fitsrs::hdu::header::Bitpix;
use fitsrs::{Fits, HDU};

use crate::error::{ImageError, Result};

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
    if !bytes.starts_with(b"SIMPLE  =") {
        return Err(bad(path, "not a FITS file (no SIMPLE card)".into()));
    }
    let loc = locate(Cursor::new(&bytes[..]), path)?;
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
