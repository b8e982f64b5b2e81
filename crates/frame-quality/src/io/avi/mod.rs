//! Uncompressed AVI videos as planetary capture software writes them (SharpCap, FireCapture,
//! ffmpeg's `rawvideo`), memory-mapped like SER.
//!
//! Layout: `RIFF 'AVI '` holding `LIST 'hdrl'` (`avih`, one `LIST 'strl'` per stream with `strh` and
//! `strf` = BITMAPINFOHEADER plus an optional palette), `LIST 'movi'` with one `##db`/`##dc` chunk per
//! video frame (optionally grouped in `LIST 'rec '`), and an optional `idx1` index. OpenDML (AVI 2.0)
//! files larger than 1 GB continue in `RIFF 'AVIX'` chunks, each with its own `LIST 'movi'`; their
//! frames are found by scanning those lists (the `indx`/`ix##` super-index is not needed for that).
//!
//! Frame formats read natively: `Y800`/`GREY`/`Y8  ` (8-bit mono), `Y16 ` (16-bit mono,
//! little-endian), BI_RGB 24-bit (BGR) and 32-bit (BGRA), BI_RGB 8-bit with a palette (a grey
//! palette gives mono frames, any other palette colour frames); the FourCCs `RGB `, `DIB ` and
//! `raw ` are read as BI_RGB. BI_RGB rows are bottom-up when `biHeight > 0` and padded to 4 bytes;
//! FourCC formats are top-down, with unpadded or 4-byte-padded rows. Any other codec is reported
//! by [`AviReader::open_any`] as [`AviOpen::NeedsDecoder`] (`source::open_source` then decodes
//! it with ffmpeg). Zero-length video chunks (dropped frames, "repeat the previous one") are
//! skipped. Every frame's chunk size is checked at open time: a chunk of another size, a file cut
//! inside a chunk and a damaged header are one-line errors naming the file (and the frame).

use std::fs::File;
use std::path::{Path, PathBuf};

use astro_image::Planes;
use memmap2::Mmap;

use crate::error::{FrameError, Result, io_err};
use crate::io::decode_scratch::DecodeScratch;
use crate::io::frame_source::FrameSource;

mod riff;

use riff::{bad, bad_frame, chunks, fourcc, fourcc_text, parse_hdrl, pixel_format, read_idx1, scan_movi, u32_at};

/// How the samples of one frame are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AviPixels {
    /// One byte per pixel, grey (`Y800`, `GREY`, `Y8  `).
    Mono8,
    /// Two bytes per pixel, grey, little-endian (`Y16 `).
    Mono16,
    /// BI_RGB 24-bit: blue, green, red bytes.
    Bgr24,
    /// BI_RGB 32-bit: blue, green, red, unused bytes.
    Bgra32,
    /// BI_RGB 8-bit: palette indices (`grey` when every entry has R = G = B).
    Palette8 {
        /// Whether the palette is grey (the frames are then mono).
        grey: bool,
    },
}

impl AviPixels {
    /// Bytes per pixel in the file.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            AviPixels::Mono8 | AviPixels::Palette8 { .. } => 1,
            AviPixels::Mono16 => 2,
            AviPixels::Bgr24 => 3,
            AviPixels::Bgra32 => 4,
        }
    }

    /// Channels after decoding (1 mono, 3 colour).
    pub fn channels(self) -> usize {
        match self {
            AviPixels::Mono8 | AviPixels::Mono16 | AviPixels::Palette8 { grey: true } => 1,
            _ => 3,
        }
    }
}

/// The video stream's format, from `strf` (BITMAPINFOHEADER).
#[derive(Debug, Clone, PartialEq)]
pub struct AviFormat {
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Whether the first stored row is the bottom of the picture (BI_RGB with `biHeight > 0`).
    pub bottom_up: bool,
    /// Sample layout.
    pub pixels: AviPixels,
    /// `biCompression` as text (`Y800`, `BI_RGB`, …).
    pub codec: String,
    /// Frames the main header (`avih`, or OpenDML `dmlh`) declares.
    pub declared_frames: usize,
}

/// What [`AviReader::open_any`] found.
#[derive(Debug)]
pub enum AviOpen {
    /// An uncompressed video, ready to read.
    Raw(AviReader),
    /// A codec this reader does not decode (MJPEG, H.264, RGB555, …): the caller needs ffmpeg.
    NeedsDecoder {
        /// The codec's FourCC or BI_* name.
        codec: String,
    },
}

/// A memory-mapped uncompressed AVI video that decodes one frame at a time.
#[derive(Debug)]
pub struct AviReader {
    path: PathBuf,
    mmap: Mmap,
    format: AviFormat,
    /// Byte offset and length of each frame's data.
    frames: Vec<(usize, usize)>,
    dropped: usize,
    /// Palette entries as RGB in [0, 1] (8-bit palette formats).
    palette: Vec<[f32; 3]>,
    /// Palette entries as luma in [0, 1].
    palette_luma: Vec<f32>,
}

impl AviReader {
    /// Open an uncompressed AVI; a compressed one is an error that names its codec.
    pub fn open(path: &Path) -> Result<AviReader> {
        match AviReader::open_any(path)? {
            AviOpen::Raw(r) => Ok(r),
            AviOpen::NeedsDecoder { codec } => Err(bad(
                path,
                format!(
                    "codec {codec} is not uncompressed video (open it with source::open_source, which uses ffmpeg)"
                ),
            )),
        }
    }

    /// Open an AVI: [`AviOpen::Raw`] for the formats read natively, [`AviOpen::NeedsDecoder`] otherwise.
    pub fn open_any(path: &Path) -> Result<AviOpen> {
        let file = File::open(path).map_err(io_err(path))?;
        // SAFETY: read-only map; a file truncated by another process while mapped would fault,
        // the documented risk of memmap2, as for SER.
        let mmap = unsafe { Mmap::map(&file) }.map_err(io_err(path))?;
        let bytes = &mmap[..];
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"AVI " {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(12)]).escape_debug().to_string();
            return Err(bad(path, format!("not a RIFF AVI file (starts with \"{head}\")")));
        }
        let riff_end = (u32_at(bytes, 4).unwrap_or(0) as usize + 8).min(bytes.len());
        let mut hdrl = None;
        let mut movi = None;
        let mut idx1 = None;
        for c in chunks(bytes, 12, riff_end) {
            let c = match c {
                Ok(c) => c,
                // The first RIFF cut short: keep what is there (the movi scan reports a cut frame).
                Err(c) if c.id == *b"LIST" && bytes.get(c.data..c.data + 4) == Some(b"movi") => {
                    movi = Some((c.data + 4, bytes.len()));
                    break;
                }
                Err(c) => {
                    if hdrl.is_none() {
                        let what = if c.size < 8 && c.data + c.size == riff_end {
                            format!("a chunk header at byte {}", c.data)
                        } else {
                            format!("chunk {} at byte {}", fourcc_text(c.id), c.data - 8)
                        };
                        return Err(bad(path, format!("truncated AVI: the file ends inside the header ({what})")));
                    }
                    break;
                }
            };
            match (&c.id, bytes.get(c.data..c.data + 4)) {
                (b"LIST", Some(b"hdrl")) if hdrl.is_none() => hdrl = Some((c.data + 4, c.data + c.size)),
                (b"LIST", Some(b"movi")) if movi.is_none() => movi = Some((c.data + 4, c.data + c.size)),
                (b"idx1", _) => idx1 = Some((c.data, c.data + c.size)),
                _ => {}
            }
        }
        let (hs, he) = hdrl.ok_or_else(|| bad(path, "no header list (LIST 'hdrl'): damaged or not a video".into()))?;
        let header = parse_hdrl(bytes, hs, he, path)?;
        let Some(strf) = header.strf else {
            return Err(bad(path, "no video stream (no 'vids' stream header with a format)".into()));
        };
        let (pixels, codec, palette) = match pixel_format(bytes, strf, path)? {
            Ok(x) => x,
            Err(codec) => return Ok(AviOpen::NeedsDecoder { codec }),
        };
        let (w, h) = (header.width, header.height);
        let format = AviFormat {
            width: w,
            height: h,
            bottom_up: header.bottom_up && codec == "BI_RGB",
            pixels,
            codec,
            declared_frames: header.declared_frames,
        };
        let (movi_start, movi_end) = movi.ok_or_else(|| bad(path, "no frame list (LIST 'movi')".into()))?;
        let stream = header.stream;
        let is_frame = |id: &[u8; 4]| {
            id[0] == b'0' + (stream / 10) as u8
                && id[1] == b'0' + (stream % 10) as u8
                && (&id[2..] == b"db" || &id[2..] == b"dc")
        };
        let mut frames = Vec::new();
        // The first RIFF: idx1 when it is consistent with the data, else a scan of the movi list.
        let indexed = idx1.and_then(|(s, e)| read_idx1(bytes, s, e, movi_start, &is_frame));
        match indexed {
            Some(list) => frames = list,
            None => {
                if idx1.is_some() {
                    tracing::warn!(
                        "{}: idx1 does not match the frame data; scanning the frames instead",
                        path.display()
                    );
                }
                scan_movi(bytes, movi_start, movi_end.min(bytes.len()), &is_frame, &mut frames, path)?;
            }
        }
        // OpenDML continuation: RIFF 'AVIX' chunks after the first RIFF, each with a movi list.
        let mut pos = riff_end + (riff_end & 1);
        while pos + 12 <= bytes.len() {
            let id = fourcc(&bytes[pos..pos + 4]);
            let size = u32::from_le_bytes(fourcc(&bytes[pos + 4..pos + 8])) as usize;
            if id != *b"RIFF" || &bytes[pos + 8..pos + 12] != b"AVIX" {
                break;
            }
            let end = (pos + 8 + size).min(bytes.len());
            for c in chunks(bytes, pos + 12, end) {
                let (Ok(c) | Err(c)) = c;
                if c.id == *b"LIST" && bytes.get(c.data..c.data + 4) == Some(b"movi") {
                    scan_movi(bytes, c.data + 4, (c.data + c.size).min(bytes.len()), &is_frame, &mut frames, path)?;
                }
            }
            pos = pos + 8 + size + (size & 1);
        }
        // Some writers' idx1 also lists the AVIX frames: keep each chunk once, in file order.
        frames.sort_unstable_by_key(|f| f.0);
        frames.dedup_by_key(|f| f.0);
        let dropped = frames.iter().filter(|f| f.1 == 0).count();
        frames.retain(|f| f.1 > 0);
        if dropped > 0 {
            tracing::info!("{}: {dropped} zero-length (dropped) frames skipped", path.display());
        }
        if frames.is_empty() {
            return Err(FrameError::Empty(path.to_path_buf()));
        }
        let bpp = pixels.bytes_per_pixel();
        let tight = w * bpp * h;
        let padded = (w * bpp).div_ceil(4) * 4 * h;
        let rgb = format.codec == "BI_RGB";
        for (i, &(off, len)) in frames.iter().enumerate() {
            if len != padded && (rgb || len != tight) {
                let want = if rgb || tight == padded { format!("{padded}") } else { format!("{tight} or {padded}") };
                return Err(bad_frame(
                    path,
                    format!(
                        "frame {i} (chunk at byte {}) holds {len} bytes, but a {w}x{h} {} frame needs {want}",
                        off - 8,
                        format.codec
                    ),
                ));
            }
        }
        let palette_luma = palette.iter().map(|p| astro_image::luma::bt601(p[0], p[1], p[2])).collect();
        Ok(AviOpen::Raw(AviReader { path: path.to_path_buf(), mmap, format, frames, dropped, palette, palette_luma }))
    }

    /// The stream format.
    pub fn format(&self) -> &AviFormat {
        &self.format
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of (non-empty) frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether there are no frames (never true for an opened reader).
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Zero-length (dropped) frame chunks that were skipped.
    pub fn dropped_frames(&self) -> usize {
        self.dropped
    }

    /// The stored bytes of frame `index` (rows as in the file, with their padding).
    pub fn raw_frame(&self, index: usize) -> Result<&[u8]> {
        let &(off, len) = self.frames.get(index).ok_or_else(|| FrameError::FrameOutOfRange {
            source_name: self.path.display().to_string(),
            index,
            len: self.frames.len(),
        })?;
        Ok(&self.mmap[off..off + len])
    }

    /// Picture row `y` (0 = top) of a frame's bytes.
    #[inline]
    fn row<'a>(&self, frame: &'a [u8], y: usize) -> &'a [u8] {
        let h = self.format.height;
        let stride = frame.len() / h;
        let stored = if self.format.bottom_up { h - 1 - y } else { y };
        let n = self.format.width * self.format.pixels.bytes_per_pixel();
        &frame[stored * stride..stored * stride + n]
    }

    /// Decode frame `index` as planes in [0, 1]: 1 channel for mono, 3 (RGB) for colour.
    pub fn read_planes(&self, index: usize) -> Result<Planes> {
        let frame = self.raw_frame(index)?;
        let (w, h) = (self.format.width, self.format.height);
        let n = w * h;
        let channels = self.format.pixels.channels();
        let mut data = vec![0f32; channels * n];
        for y in 0..h {
            let row = self.row(frame, y);
            let o = y * w;
            match self.format.pixels {
                AviPixels::Mono8 => {
                    for (d, &b) in data[o..o + w].iter_mut().zip(row) {
                        *d = b as f32 / 255.0;
                    }
                }
                AviPixels::Mono16 => {
                    for (d, c) in data[o..o + w].iter_mut().zip(row.chunks_exact(2)) {
                        *d = u16::from_le_bytes([c[0], c[1]]) as f32 / 65535.0;
                    }
                }
                AviPixels::Palette8 { grey: true } => {
                    for (d, &b) in data[o..o + w].iter_mut().zip(row) {
                        *d = self.palette_luma[b as usize];
                    }
                }
                AviPixels::Palette8 { grey: false } => {
                    for (x, &b) in row.iter().enumerate() {
                        let p = self.palette[b as usize];
                        for c in 0..3 {
                            data[c * n + o + x] = p[c];
                        }
                    }
                }
                AviPixels::Bgr24 | AviPixels::Bgra32 => {
                    let bpp = self.format.pixels.bytes_per_pixel();
                    for (x, px) in row.chunks_exact(bpp).enumerate() {
                        for c in 0..3 {
                            data[c * n + o + x] = px[2 - c] as f32 / 255.0;
                        }
                    }
                }
            }
        }
        let mut planes = Planes::from_vec(channels, h, w, data)?;
        planes.bit_depth = if self.format.pixels == AviPixels::Mono16 { 16 } else { 8 };
        Ok(planes)
    }

    /// Decode frame `index` as mono luma in [0, 1] into `out` (`width × height`).
    pub fn read_luma_into(&self, index: usize, out: &mut Vec<f32>) -> Result<()> {
        let frame = self.raw_frame(index)?;
        let (w, h) = (self.format.width, self.format.height);
        out.clear();
        out.reserve(w * h);
        for y in 0..h {
            let row = self.row(frame, y);
            match self.format.pixels {
                AviPixels::Mono8 => out.extend(row.iter().map(|&b| b as f32 * (1.0 / 255.0))),
                AviPixels::Mono16 => {
                    out.extend(row.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as f32 * (1.0 / 65535.0)))
                }
                AviPixels::Palette8 { .. } => out.extend(row.iter().map(|&b| self.palette_luma[b as usize])),
                AviPixels::Bgr24 | AviPixels::Bgra32 => {
                    let bpp = self.format.pixels.bytes_per_pixel();
                    out.extend(
                        row.chunks_exact(bpp)
                            .map(|p| astro_image::luma::bt601(p[2] as f32, p[1] as f32, p[0] as f32) * (1.0 / 255.0)),
                    )
                }
            }
        }
        Ok(())
    }

    /// Decode frame `index` straight into 2×2 block means of luma (`⌊w/2⌋ × ⌊h/2⌋`), one pass.
    pub fn read_luma_binned2_into(&self, index: usize, out: &mut Vec<f32>) -> Result<(usize, usize)> {
        let frame = self.raw_frame(index)?;
        let (w, h) = (self.format.width, self.format.height);
        let (bw, bh) = (w / 2, h / 2);
        out.clear();
        out.resize(bw * bh, 0.0);
        let bpp = self.format.pixels.bytes_per_pixel();
        for by in 0..bh {
            let (r0, r1) = (self.row(frame, 2 * by), self.row(frame, 2 * by + 1));
            let o = &mut out[by * bw..(by + 1) * bw];
            let pairs = o.iter_mut().zip(r0.chunks_exact(2 * bpp)).zip(r1.chunks_exact(2 * bpp));
            match self.format.pixels {
                AviPixels::Mono8 => {
                    for ((o, a), b) in pairs {
                        *o = (a[0] as u32 + a[1] as u32 + b[0] as u32 + b[1] as u32) as f32 * (0.25 / 255.0);
                    }
                }
                AviPixels::Mono16 => {
                    let px = |c: &[u8]| u16::from_le_bytes([c[0], c[1]]) as u32;
                    for ((o, a), b) in pairs {
                        *o = (px(&a[..2]) + px(&a[2..]) + px(&b[..2]) + px(&b[2..])) as f32 * (0.25 / 65535.0);
                    }
                }
                AviPixels::Palette8 { .. } => {
                    let l = &self.palette_luma;
                    for ((o, a), b) in pairs {
                        *o = 0.25 * (l[a[0] as usize] + l[a[1] as usize] + l[b[0] as usize] + l[b[1] as usize]);
                    }
                }
                AviPixels::Bgr24 | AviPixels::Bgra32 => {
                    let luma = |p: &[u8]| astro_image::luma::bt601(p[2] as f32, p[1] as f32, p[0] as f32);
                    for ((o, a), b) in pairs {
                        let s = luma(&a[..bpp]) + luma(&a[bpp..]) + luma(&b[..bpp]) + luma(&b[bpp..]);
                        *o = s * (0.25 / 255.0);
                    }
                }
            }
        }
        Ok((bw, bh))
    }
}

impl FrameSource for AviReader {
    fn len(&self) -> usize {
        self.frames.len()
    }
    fn dims(&self) -> (usize, usize) {
        (self.format.width, self.format.height)
    }
    fn channels(&self) -> usize {
        self.format.pixels.channels()
    }
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, _scratch: &mut DecodeScratch) -> Result<()> {
        AviReader::read_luma_into(self, index, out)
    }
    fn read_planes(&self, index: usize) -> Result<Planes> {
        AviReader::read_planes(self, index)
    }
    fn read_luma_binned2_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        _scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        AviReader::read_luma_binned2_into(self, index, out)
    }
}
