//! RIFF/AVI container parsing: chunk walking, the header list, the BITMAPINFOHEADER pixel format,
//! and the frame lists of `movi` and `idx1`.

use std::path::Path;

use super::AviPixels;
use crate::error::{FrameError, Result};
use crate::io::ser::{MAX_FRAME_BYTES, MAX_SIDE};

pub(super) fn fourcc(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

pub(super) fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o + 4).map(|s| u32::from_le_bytes(fourcc(s)))
}

pub(super) fn i32_at(b: &[u8], o: usize) -> Option<i32> {
    u32_at(b, o).map(|v| v as i32)
}

pub(super) fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

/// A FourCC for messages: printable ASCII as text, anything else as hex.
pub(super) fn fourcc_text(c: [u8; 4]) -> String {
    if c.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("'{}'", String::from_utf8_lossy(&c))
    } else {
        format!("0x{:08x}", u32::from_le_bytes(c))
    }
}

/// One RIFF chunk: its id, the offset of its data and the data length.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chunk {
    pub(super) id: [u8; 4],
    pub(super) data: usize,
    pub(super) size: usize,
}

/// The chunks between `start` and `end`; a chunk running past `end` is returned with `Err(chunk)`.
pub(super) fn chunks(
    bytes: &[u8],
    start: usize,
    end: usize,
) -> impl Iterator<Item = std::result::Result<Chunk, Chunk>> + '_ {
    let mut pos = start;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || pos + 8 > end {
            if !done && pos < end {
                done = true;
                // A few stray bytes after the last chunk: a header cut short.
                return Some(Err(Chunk { id: [0; 4], data: pos, size: end - pos }));
            }
            return None;
        }
        let id = fourcc(&bytes[pos..pos + 4]);
        let size = u32::from_le_bytes(fourcc(&bytes[pos + 4..pos + 8])) as usize;
        let c = Chunk { id, data: pos + 8, size };
        if c.data + size > end {
            done = true;
            return Some(Err(c));
        }
        pos = c.data + size + (size & 1);
        Some(Ok(c))
    })
}

pub(super) const BI_RGB: u32 = 0;

/// A damaged or unsupported container: `{path}: bad header: {reason}`.
pub(super) fn bad(path: &Path, reason: String) -> FrameError {
    FrameError::BadHeader { path: path.to_path_buf(), reason }
}

/// A frame that cannot be decoded: `{path}: cannot decode image: {reason}`.
pub(super) fn bad_frame(path: &Path, reason: String) -> FrameError {
    FrameError::from(astro_image::ImageError::Decode { path: path.to_path_buf(), reason })
}

/// What the header list says about the video stream.
pub(super) struct Hdrl {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) bottom_up: bool,
    pub(super) declared_frames: usize,
    /// Index of the video stream (the `##` of its `##db` chunks).
    pub(super) stream: usize,
    /// Offset and length of the video stream's `strf` data.
    pub(super) strf: Option<(usize, usize)>,
}

pub(super) fn parse_hdrl(bytes: &[u8], start: usize, end: usize, path: &Path) -> Result<Hdrl> {
    let mut out = Hdrl { width: 0, height: 0, bottom_up: false, declared_frames: 0, stream: 0, strf: None };
    let mut streams = 0usize;
    let mut dmlh = None;
    for c in chunks(bytes, start, end) {
        let c =
            c.map_err(|c| bad(path, format!("truncated header: chunk {} runs past its list", fourcc_text(c.id))))?;
        match (&c.id, bytes.get(c.data..c.data + 4)) {
            (b"avih", _) => out.declared_frames = u32_at(bytes, c.data + 16).unwrap_or(0) as usize,
            (b"LIST", Some(b"odml")) => {
                for d in chunks(bytes, c.data + 4, c.data + c.size).flatten() {
                    if d.id == *b"dmlh" {
                        dmlh = u32_at(bytes, d.data).map(|v| v as usize);
                    }
                }
            }
            (b"LIST", Some(b"strl")) => {
                let (mut vids, mut strf) = (false, None);
                for d in chunks(bytes, c.data + 4, c.data + c.size) {
                    let d = d.map_err(|d| {
                        bad(path, format!("truncated stream header: chunk {} runs past its list", fourcc_text(d.id)))
                    })?;
                    match &d.id {
                        b"strh" => vids = bytes.get(d.data..d.data + 4) == Some(b"vids"),
                        b"strf" => strf = Some((d.data, d.size)),
                        _ => {}
                    }
                }
                if vids && out.strf.is_none() {
                    let (s, n) =
                        strf.ok_or_else(|| bad(path, format!("video stream {streams} has no format (strf)")))?;
                    if n < 40 {
                        return Err(bad(
                            path,
                            format!("video format (strf) is {n} bytes, a BITMAPINFOHEADER needs 40"),
                        ));
                    }
                    let (w, h) = (i32_at(bytes, s + 4).unwrap_or(0), i32_at(bytes, s + 8).unwrap_or(0));
                    let (aw, ah) = (w.unsigned_abs() as usize, h.unsigned_abs() as usize);
                    if w <= 0 || h == 0 || aw > MAX_SIDE || ah > MAX_SIDE {
                        return Err(bad(path, format!("frame size {w}x{h} is zero, negative or above {MAX_SIDE}")));
                    }
                    if streams > 99 {
                        return Err(bad(path, "more than 100 streams".into()));
                    }
                    out.width = aw;
                    out.height = ah;
                    out.bottom_up = h > 0;
                    out.stream = streams;
                    out.strf = Some((s, n));
                }
                streams += 1;
            }
            _ => {}
        }
    }
    if let Some(n) = dmlh.filter(|&n| n > 0) {
        out.declared_frames = n;
    }
    Ok(out)
}

/// Pixel layout, codec name and palette of a BITMAPINFOHEADER; `Err(codec)` for codecs not read natively.
#[allow(clippy::type_complexity)]
pub(super) fn pixel_format(
    bytes: &[u8],
    (s, n): (usize, usize),
    path: &Path,
) -> Result<std::result::Result<(AviPixels, String, Vec<[f32; 3]>), String>> {
    let bi_size = (u32_at(bytes, s).unwrap_or(40) as usize).clamp(40, n);
    let bits = u16_at(bytes, s + 14).unwrap_or(0);
    let compression = u32_at(bytes, s + 16).unwrap_or(0);
    let cc = compression.to_le_bytes();
    let w = i32_at(bytes, s + 4).unwrap_or(0).unsigned_abs() as usize;
    let h = i32_at(bytes, s + 8).unwrap_or(0).unsigned_abs() as usize;
    let check_bits = |want: u16, name: &str| -> Result<()> {
        if bits != want {
            return Err(bad(path, format!("{name} frames need biBitCount {want}, the header says {bits}")));
        }
        Ok(())
    };
    let rgb_like = compression == BI_RGB || matches!(&cc, b"RGB " | b"DIB " | b"raw ");
    let (pixels, codec) = match &cc {
        b"Y800" | b"GREY" | b"Y8  " => {
            check_bits(8, "Y800")?;
            (AviPixels::Mono8, String::from_utf8_lossy(&cc).trim_end().to_string())
        }
        b"Y16 " => {
            check_bits(16, "Y16")?;
            (AviPixels::Mono16, "Y16".to_string())
        }
        _ if rgb_like => match bits {
            24 => (AviPixels::Bgr24, "BI_RGB".to_string()),
            32 => (AviPixels::Bgra32, "BI_RGB".to_string()),
            8 => (AviPixels::Palette8 { grey: true }, "BI_RGB".to_string()),
            _ => return Ok(Err(format!("BI_RGB {bits}-bit"))),
        },
        _ => return Ok(Err(fourcc_text(cc))),
    };
    if w.saturating_mul(h).saturating_mul(pixels.bytes_per_pixel()) > MAX_FRAME_BYTES {
        return Err(bad(
            path,
            format!("frame of {w}x{h} x {} bytes is above the 1 GiB limit", pixels.bytes_per_pixel()),
        ));
    }
    let mut palette = Vec::new();
    let mut pixels = pixels;
    if matches!(pixels, AviPixels::Palette8 { .. }) {
        let used = u32_at(bytes, s + 32).unwrap_or(0) as usize;
        let entries = if used == 0 || used > 256 { 256 } else { used };
        let avail = (n - bi_size) / 4;
        if avail == 0 {
            return Err(bad(path, "8-bit BI_RGB video without a palette".into()));
        }
        let entries = entries.min(avail);
        let p = &bytes[s + bi_size..s + bi_size + 4 * entries];
        palette = p.chunks_exact(4).map(|q| [q[2] as f32 / 255.0, q[1] as f32 / 255.0, q[0] as f32 / 255.0]).collect();
        let grey = palette.iter().all(|q| q[0] == q[1] && q[1] == q[2]);
        // Indices past the palette's end read as black.
        palette.resize(256, [0.0; 3]);
        pixels = AviPixels::Palette8 { grey };
    }
    Ok(Ok((pixels, codec, palette)))
}

/// The video frames of a `movi` list (descending into `LIST 'rec '`), appended to `frames`.
pub(super) fn scan_movi(
    bytes: &[u8],
    start: usize,
    end: usize,
    is_frame: &dyn Fn(&[u8; 4]) -> bool,
    frames: &mut Vec<(usize, usize)>,
    path: &Path,
) -> Result<()> {
    for c in chunks(bytes, start, end) {
        match c {
            Ok(c) if c.id == *b"LIST" && bytes.get(c.data..c.data + 4) == Some(b"rec ") => {
                scan_movi(bytes, c.data + 4, c.data + c.size, is_frame, frames, path)?;
            }
            Ok(c) if is_frame(&c.id) => frames.push((c.data, c.size)),
            Ok(_) => {}
            Err(c) => {
                let have = end.saturating_sub(c.data);
                let what = if is_frame(&c.id) {
                    format!("frame {} is cut short ({have} of {} bytes)", frames.len(), c.size)
                } else if c.id == [0; 4] {
                    format!("a chunk header at byte {} is cut short", c.data)
                } else {
                    format!(
                        "chunk {} at byte {} is cut short ({have} of {} bytes)",
                        fourcc_text(c.id),
                        c.data - 8,
                        c.size
                    )
                };
                return Err(bad_frame(
                    path,
                    format!("truncated AVI: {what}; {} complete frames before it", frames.len()),
                ));
            }
        }
    }
    Ok(())
}

/// The video frames listed in `idx1`, or `None` when the index does not match the data.
pub(super) fn read_idx1(
    bytes: &[u8],
    start: usize,
    end: usize,
    movi_start: usize,
    is_frame: &dyn Fn(&[u8; 4]) -> bool,
) -> Option<Vec<(usize, usize)>> {
    let entries: Vec<([u8; 4], usize, usize)> = bytes[start..end]
        .chunks_exact(16)
        .map(|e| {
            (fourcc(e), u32::from_le_bytes(fourcc(&e[8..])) as usize, u32::from_le_bytes(fourcc(&e[12..])) as usize)
        })
        .filter(|(id, _, _)| is_frame(id))
        .collect();
    let first = entries.first()?;
    // Offsets are relative to the 'movi' FourCC (the usual case) or absolute (some writers).
    let base = [movi_start - 4, 0].into_iter().find(|&b| bytes.get(b + first.1..b + first.1 + 4) == Some(&first.0))?;
    let mut out = Vec::with_capacity(entries.len());
    for (id, off, size) in entries {
        let at = base + off;
        let head = bytes.get(at..at + 8)?;
        if fourcc(head) != id || u32::from_le_bytes(fourcc(&head[4..])) as usize != size || at + 8 + size > bytes.len()
        {
            return None;
        }
        out.push((at + 8, size));
    }
    Some(out)
}
