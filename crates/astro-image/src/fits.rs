//! Reading FITS images: float (BITPIX −32/−64) and integer (8/16/32/64-bit with BZERO/BSCALE/BLANK),
//! 2-D or 3-plane cubes, from the primary HDU or the first image extension.
//!
//! The HDU structure is walked here, header by header, with every declared size overflow-checked
//! and checked against the file's length before anything is allocated; samples are decoded here into physical values
//! (`raw·BSCALE + BZERO`, NaN where BLANK), channel-major, rows in file order (FITS row 1 is the
//! bottom of the picture). [`read_fits_shape`] reads only the headers (for checking a folder of
//! frames before any data is read). Writing: header cards ([`make_card`], [`fits_float`]),
//! headers and data units padded to blocks ([`write_header`], [`write_data`]) and whole float
//! images ([`encode_fits`]); what an upscaled image's header says lives in `sr_models::fits`.

use std::io::{BufReader, Cursor, Read, Seek, Write};
use std::path::Path;

use crate::error::{ImageError, Result};
use crate::planes::Planes;

/// FITS block size in bytes (headers and data units are padded to it).
pub const BLOCK: usize = 2880;

/// File extensions of FITS images.
pub const FITS_EXTENSIONS: &[&str] = &["fits", "fit", "fts"];

/// True when the file starts like a FITS file (`SIMPLE  =`).
pub fn is_fits(path: &Path) -> bool {
    let mut head = [0u8; 9];
    // Only a regular file is opened: opening a FIFO blocks until a writer comes.
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && &head == b"SIMPLE  ="
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
    /// Bytes of the image's data unit (`width × height × channels × |BITPIX|/8`, overflow-checked).
    data_len: usize,
}

/// The keywords of one HDU header that the walk needs.
#[derive(Default)]
struct Head {
    xtension: Option<String>,
    bitpix: Option<i32>,
    naxis: Vec<u64>,
    pcount: u64,
    gcount: u64,
    bscale: Option<f64>,
    bzero: Option<f64>,
    blank: Option<i64>,
}

/// The value text of a `KEY = value / comment` card (quotes kept), or `None`.
fn card_value(card: &[u8; 80]) -> Option<String> {
    if &card[8..10] != b"= " {
        return None;
    }
    let text = String::from_utf8_lossy(&card[10..]);
    let v = text.trim_start();
    if v.starts_with('\'') {
        return Some(v.split('\'').nth(1).unwrap_or("").trim_end().to_string());
    }
    Some(v.split('/').next().unwrap_or("").trim().to_string())
}

/// Largest number of axes a header may declare (the FITS standard's 999).
const MAX_NAXIS: u64 = 999;

/// Read one header from `start`: its cards up to END (block by block) and the keywords the walk
/// needs. Returns the header and the data unit's offset.
fn read_head<R: Read + Seek>(reader: &mut R, start: usize, index: usize, path: &Path) -> Result<(Head, usize)> {
    let damaged = |why: String| bad(path, format!("damaged FITS header in HDU {index}: {why}"));
    reader.seek(std::io::SeekFrom::Start(start as u64)).map_err(|e| damaged(e.to_string()))?;
    let mut head = Head { gcount: 1, ..Head::default() };
    let mut naxis_n: Option<u64> = None;
    let mut block = vec![0u8; BLOCK];
    let mut offset = start;
    loop {
        reader.read_exact(&mut block).map_err(|_| damaged("the header has no END card".into()))?;
        offset += BLOCK;
        for card in block.chunks_exact(80).filter_map(|c| <&[u8; 80]>::try_from(c).ok()) {
            let key = keyword(card);
            let int = |what: &str| -> Result<i64> {
                card_value(card)
                    .and_then(|v| v.parse::<i64>().ok())
                    .ok_or_else(|| damaged(format!("{what} is not an integer")))
            };
            let count = |what: &str| -> Result<u64> {
                card_value(card)
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| damaged(format!("{what} is not a non-negative integer")))
            };
            match key.as_str() {
                "END" => {
                    let n = naxis_n.ok_or_else(|| damaged("no NAXIS card".into()))?;
                    if head.naxis.len() as u64 != n || head.naxis.contains(&u64::MAX) {
                        return Err(damaged(format!("NAXIS = {n} but not every NAXISn card is there")));
                    }
                    if head.bitpix.is_none() {
                        return Err(damaged("no BITPIX card".into()));
                    }
                    return Ok((head, offset));
                }
                "BITPIX" => {
                    let b = int("BITPIX")?;
                    if ![8, 16, 32, 64, -32, -64].contains(&b) {
                        return Err(damaged(format!("BITPIX = {b} is not 8, 16, 32, 64, -32 or -64")));
                    }
                    head.bitpix = Some(b as i32);
                }
                "NAXIS" => {
                    let n = count("NAXIS")?;
                    if n > MAX_NAXIS {
                        return Err(damaged(format!("NAXIS = {n} is above {MAX_NAXIS}")));
                    }
                    naxis_n = Some(n);
                    head.naxis = vec![u64::MAX; n as usize];
                }
                "XTENSION" => head.xtension = card_value(card),
                "PCOUNT" => head.pcount = count("PCOUNT")?,
                "GCOUNT" => head.gcount = count("GCOUNT")?,
                "BSCALE" => head.bscale = card_number(card),
                "BZERO" => head.bzero = card_number(card),
                "BLANK" => head.blank = int("BLANK").ok(),
                k if k.starts_with("NAXIS") => {
                    let i: usize = k[5..].parse().map_err(|_| damaged(format!("{k} is not an axis keyword")))?;
                    let slot = (1..=head.naxis.len()).contains(&i).then(|| i - 1);
                    let slot = slot.ok_or_else(|| damaged(format!("{k} before NAXIS or beyond it")))?;
                    head.naxis[slot] = count(k)?;
                }
                _ => {}
            }
        }
    }
}

/// Bytes of an HDU's data unit, `|BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn)`, with
/// every product checked: a header that declares more than fits in 64 bits is refused.
fn data_bytes(head: &Head, index: usize, path: &Path) -> Result<u64> {
    if head.naxis.is_empty() {
        return Ok(0);
    }
    let bytes_per = head.bitpix.unwrap_or(8).unsigned_abs() as u64 / 8;
    let declared = head.naxis.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" × ");
    let overflow =
        || bad(path, format!("HDU {index} declares {declared} samples of {bytes_per} bytes: more than 2^64 bytes"));
    let product = head.naxis.iter().try_fold(1u64, |p, &n| p.checked_mul(n)).ok_or_else(overflow)?;
    product
        .checked_add(head.pcount)
        .and_then(|v| v.checked_mul(head.gcount))
        .and_then(|v| v.checked_mul(bytes_per))
        .ok_or_else(overflow)
}

/// Walk the HDUs (headers only, data units skipped by their overflow-checked sizes) to the first
/// image: a primary HDU or IMAGE extension of 2 axes, or 3 with NAXIS3 = 1 or 3. `len` is the
/// byte length of the whole file; a data unit that claims to run past it ends the walk.
fn locate<R: Read + Seek>(mut reader: R, len: u64, path: &Path) -> Result<Located> {
    let mut header_start = 0usize;
    for index in 0.. {
        let (head, data_offset) = read_head(&mut reader, header_start, index, path)?;
        let size = data_bytes(&head, index, path)?;
        let is_image = index == 0 || head.xtension.as_deref().is_some_and(|x| x.trim() == "IMAGE");
        let dims = match head.naxis.as_slice() {
            [w, h] => Some((*w, *h, 1)),
            [w, h, c] if *c == 1 || *c == 3 => Some((*w, *h, *c)),
            _ => None,
        };
        if is_image && let Some((w, h, c)) = dims.filter(|(w, h, _)| *w > 0 && *h > 0) {
            let too_big = || bad(path, format!("image of {w} × {h} × {c} samples does not fit in memory"));
            let data_len = usize::try_from(size).map_err(|_| too_big())?;
            let bitpix = head.bitpix.unwrap_or(8);
            return Ok(Located {
                header_start,
                data_offset,
                from_extension: index > 0,
                shape: FitsShape {
                    width: usize::try_from(w).map_err(|_| too_big())?,
                    height: usize::try_from(h).map_err(|_| too_big())?,
                    channels: c as usize,
                    bitpix,
                    bscale: head.bscale.unwrap_or(1.0),
                    bzero: head.bzero.unwrap_or(0.0),
                    blank: head.blank,
                },
                data_len,
            });
        }
        let next = (data_offset as u64).checked_add(size).map(|e| e.div_ceil(BLOCK as u64) * BLOCK as u64);
        match next {
            Some(n) if n < len => header_start = n as usize,
            _ => break,
        }
    }
    Err(bad(path, "no image HDU (a 2-D image or a 3-plane cube) in this FITS file".into()))
}

/// `need` bytes (data offset + data unit) against the file's `len`, checked.
fn check_truncated(loc: &Located, len: u64, path: &Path) -> Result<usize> {
    let need = loc.data_offset.checked_add(loc.data_len).filter(|&n| n as u64 <= len);
    need.ok_or_else(|| {
        bad(
            path,
            format!(
                "truncated FITS file: data unit needs {} bytes, the file has {len}",
                loc.data_offset as u128 + loc.data_len as u128
            ),
        )
    })
}

/// The shape of the first image HDU, reading the headers only (data units are skipped).
pub fn read_fits_shape(path: &Path) -> Result<FitsShape> {
    let file = crate::decode_gate::open_regular(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::new(file);
    let mut head = [0u8; 9];
    if reader.read_exact(&mut head).is_err() || &head != b"SIMPLE  =" {
        return Err(bad(path, "not a FITS file (no SIMPLE card)".into()));
    }
    let loc = locate(reader, len, path)?;
    check_truncated(&loc, len, path)?;
    Ok(loc.shape)
}

/// The shape of the first image HDU of FITS bytes held in memory, from the headers alone
/// (`path` names them in errors); the data unit must be complete.
pub fn fits_shape_bytes(bytes: &[u8], path: &Path) -> Result<FitsShape> {
    if !bytes.starts_with(b"SIMPLE  =") {
        return Err(bad(path, "not a FITS file (no SIMPLE card)".into()));
    }
    let loc = locate(Cursor::new(bytes), bytes.len() as u64, path)?;
    check_truncated(&loc, bytes.len() as u64, path)?;
    Ok(loc.shape)
}

/// Read the first image HDU (2-D, or 3-D with NAXIS3 = 1 or 3) of a FITS file.
pub fn read_fits(path: &Path) -> Result<FitsImage> {
    let bytes = crate::decode_gate::read_regular(path)?;
    decode_fits(&bytes, path)
}

/// Decode the first image HDU of FITS bytes held in memory (`path` names them in errors).
pub fn decode_fits(bytes: &[u8], path: &Path) -> Result<FitsImage> {
    if !bytes.starts_with(b"SIMPLE  =") {
        return Err(bad(path, "not a FITS file (no SIMPLE card)".into()));
    }
    let loc = locate(Cursor::new(bytes), bytes.len() as u64, path)?;
    let FitsShape { width: w, height: h, channels: c, bscale, bzero, blank, bitpix } = loc.shape;
    let off = loc.data_offset;
    let need = check_truncated(&loc, bytes.len() as u64, path)?;
    let raw = &bytes[off..need];
    let int = |v: i64| if blank == Some(v) { f64::NAN } else { v as f64 * bscale + bzero };
    let be4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
    let be8 = |b: &[u8]| [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
    let data: Vec<f64> = match bitpix {
        8 => raw.iter().map(|&v| int(v as i64)).collect(),
        16 => raw.chunks_exact(2).map(|b| int(i16::from_be_bytes([b[0], b[1]]) as i64)).collect(),
        32 => raw.chunks_exact(4).map(|b| int(i32::from_be_bytes(be4(b)) as i64)).collect(),
        64 => raw.chunks_exact(8).map(|b| int(i64::from_be_bytes(be8(b)))).collect(),
        -32 => raw.chunks_exact(4).map(|b| f32::from_be_bytes(be4(b)) as f64 * bscale + bzero).collect(),
        _ => raw.chunks_exact(8).map(|b| f64::from_be_bytes(be8(b)) * bscale + bzero).collect(),
    };
    check_representable(&data, w, h, path)?;
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
        bitpix,
        bscale,
        bzero,
        blank,
        cards,
        from_extension: loc.from_extension,
    })
}

/// Largest magnitude a pixel may have: every tool computes in 32-bit floats.
pub const MAX_PIXEL_MAGNITUDE: f64 = f32::MAX as f64;

/// Refuse physical values a 32-bit float cannot hold: ±Inf (FITS marks missing pixels with NaN or
/// BLANK, so an infinity is not "no data") and finite values beyond ±3.4e38 (they would become
/// infinities, and every stretch of the image NaN). The message gives the count and the first.
fn check_representable(data: &[f64], w: usize, h: usize, path: &Path) -> Result<()> {
    let outside = |v: &f64| v.is_infinite() || v.abs() > MAX_PIXEL_MAGNITUDE;
    let Some(first) = data.iter().position(outside) else { return Ok(()) };
    let count = data.iter().filter(|v| outside(v)).count();
    let (c, y, x) = (first / (w * h), (first / w) % h, first % w);
    let v = data[first];
    let what = if v.is_infinite() {
        format!("{v} (FITS marks missing pixels with NaN or BLANK, not infinity)")
    } else {
        format!("{v:e}, beyond the ±3.4e38 of the 32-bit floats every tool computes in")
    };
    Err(bad(
        path,
        format!("{count} pixel value(s) out of range; the first, at x {x}, FITS row {} of plane {c}, is {what}", y + 1),
    ))
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
