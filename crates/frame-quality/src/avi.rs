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

use dataset::Planes;
use memmap2::Mmap;

use crate::error::{FrameError, Result, io_err};
use crate::ser::{MAX_FRAME_BYTES, MAX_SIDE};
use crate::source::{DecodeScratch, FrameSource};

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

fn fourcc(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o + 4).map(|s| u32::from_le_bytes(fourcc(s)))
}

fn i32_at(b: &[u8], o: usize) -> Option<i32> {
    u32_at(b, o).map(|v| v as i32)
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

/// A FourCC for messages: printable ASCII as text, anything else as hex.
fn fourcc_text(c: [u8; 4]) -> String {
    if c.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("'{}'", String::from_utf8_lossy(&c))
    } else {
        format!("0x{:08x}", u32::from_le_bytes(c))
    }
}

/// One RIFF chunk: its id, the offset of its data and the data length.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    id: [u8; 4],
    data: usize,
    size: usize,
}

/// The chunks between `start` and `end`; a chunk running past `end` is returned with `Err(chunk)`.
fn chunks(bytes: &[u8], start: usize, end: usize) -> impl Iterator<Item = std::result::Result<Chunk, Chunk>> + '_ {
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

const BI_RGB: u32 = 0;

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

/// A damaged or unsupported container: `{path}: bad header: {reason}`.
fn bad(path: &Path, reason: String) -> FrameError {
    FrameError::BadHeader { path: path.to_path_buf(), reason }
}

/// A frame that cannot be decoded: `{path}: cannot decode image: {reason}`.
fn bad_frame(path: &Path, reason: String) -> FrameError {
    FrameError::from(dataset::ImageError::Decode { path: path.to_path_buf(), reason })
}

/// What the header list says about the video stream.
struct Hdrl {
    width: usize,
    height: usize,
    bottom_up: bool,
    declared_frames: usize,
    /// Index of the video stream (the `##` of its `##db` chunks).
    stream: usize,
    /// Offset and length of the video stream's `strf` data.
    strf: Option<(usize, usize)>,
}

fn parse_hdrl(bytes: &[u8], start: usize, end: usize, path: &Path) -> Result<Hdrl> {
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
fn pixel_format(
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
fn scan_movi(
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
fn read_idx1(
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
