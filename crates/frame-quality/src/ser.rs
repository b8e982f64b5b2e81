//! SER videos (the planetary capture standard): a memory-mapped streaming reader and an atomic writer.
//!
//! Layout: a 178-byte little-endian header, then `FrameCount` frames of
//! `width × height × planes × bytes` samples, then an optional trailer of one `u64` UTC timestamp
//! per frame. The `LittleEndian` header field is read *as written in practice*: 0 means the
//! 16-bit pixel data is little-endian (the spec says the opposite; capture software writes 0 for LE).
//!
//! Frames are read through a memory map, so a 4 GB video is never loaded whole: the OS pages in
//! only the frames being scored. A file whose header declares more frames than the data holds
//! (an interrupted capture) is opened with the complete frames only, and [`SerReader::truncated`]
//! reports the declared count; [`SerReader::open_strict`] refuses such files instead.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dataset::Planes;
use memmap2::Mmap;

use crate::error::{FrameError, Result, io_err};

/// Size of the fixed SER header in bytes.
pub const HEADER_LEN: usize = 178;
/// The FileID every SER file starts with.
pub const MAGIC: &[u8; 14] = b"LUCAM-RECORDER";
/// Largest accepted width or height (bigger values are a corrupt header, not a camera).
pub const MAX_SIDE: usize = 32_768;
/// Largest accepted frame size in bytes (1 GiB).
pub const MAX_FRAME_BYTES: usize = 1 << 30;

/// Which 2×2 colour-filter layout a Bayer sensor has (top-left pixel first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BayerPattern {
    /// R G / G B.
    Rggb,
    /// G R / B G.
    Grbg,
    /// G B / R G.
    Gbrg,
    /// B G / G R.
    Bggr,
}

impl BayerPattern {
    /// Colour channel (0 = R, 1 = G, 2 = B) of the sensor pixel at (x, y).
    #[inline]
    pub fn channel_at(self, x: usize, y: usize) -> usize {
        let cell = (y & 1) * 2 + (x & 1);
        let layout: [usize; 4] = match self {
            BayerPattern::Rggb => [0, 1, 1, 2],
            BayerPattern::Grbg => [1, 0, 2, 1],
            BayerPattern::Gbrg => [1, 2, 0, 1],
            BayerPattern::Bggr => [2, 1, 1, 0],
        };
        layout[cell]
    }
}

/// The SER `ColorID` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorId {
    /// One plane of grey samples.
    Mono,
    /// One plane of raw Bayer samples.
    Bayer(BayerPattern),
    /// Three interleaved planes, R first.
    Rgb,
    /// Three interleaved planes, B first.
    Bgr,
}

impl ColorId {
    /// Parse the numeric field (CMY Bayer layouts are refused: no camera in use writes them).
    pub fn from_code(code: i32) -> Option<ColorId> {
        Some(match code {
            0 => ColorId::Mono,
            8 => ColorId::Bayer(BayerPattern::Rggb),
            9 => ColorId::Bayer(BayerPattern::Grbg),
            10 => ColorId::Bayer(BayerPattern::Gbrg),
            11 => ColorId::Bayer(BayerPattern::Bggr),
            100 => ColorId::Rgb,
            101 => ColorId::Bgr,
            _ => return None,
        })
    }

    /// The numeric field value.
    pub fn code(self) -> i32 {
        match self {
            ColorId::Mono => 0,
            ColorId::Bayer(BayerPattern::Rggb) => 8,
            ColorId::Bayer(BayerPattern::Grbg) => 9,
            ColorId::Bayer(BayerPattern::Gbrg) => 10,
            ColorId::Bayer(BayerPattern::Bggr) => 11,
            ColorId::Rgb => 100,
            ColorId::Bgr => 101,
        }
    }

    /// Interleaved samples per pixel in the file (3 for RGB/BGR, else 1).
    pub fn planes_in_file(self) -> usize {
        match self {
            ColorId::Rgb | ColorId::Bgr => 3,
            _ => 1,
        }
    }

    /// Channels after decoding (1 for mono, 3 for Bayer and RGB/BGR).
    pub fn decoded_channels(self) -> usize {
        match self {
            ColorId::Mono => 1,
            _ => 3,
        }
    }
}

/// The 178-byte SER header.
#[derive(Debug, Clone, PartialEq)]
pub struct SerHeader {
    /// Camera series ID (unused, usually 0).
    pub lu_id: i32,
    /// Colour layout.
    pub color: ColorId,
    /// Whether 16-bit samples are little-endian (header field 0, as capture software writes it).
    pub little_endian: bool,
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Bits per sample as declared (1–16; ≤ 8 means one byte per sample).
    pub bit_depth: u32,
    /// Number of frames as declared.
    pub frame_count: usize,
    /// Observer name.
    pub observer: String,
    /// Camera name.
    pub instrument: String,
    /// Telescope name.
    pub telescope: String,
    /// Local start time, 100 ns ticks since 0001-01-01.
    pub date_time: i64,
    /// UTC start time, 100 ns ticks since 0001-01-01.
    pub date_time_utc: i64,
}

impl SerHeader {
    /// A header for a new video with empty text fields.
    pub fn new(width: usize, height: usize, color: ColorId, bit_depth: u32) -> SerHeader {
        SerHeader {
            lu_id: 0,
            color,
            little_endian: true,
            width,
            height,
            bit_depth,
            frame_count: 0,
            observer: String::new(),
            instrument: String::new(),
            telescope: String::new(),
            date_time: 0,
            date_time_utc: 0,
        }
    }

    /// Bytes per sample: 1 for depth ≤ 8, else 2.
    pub fn bytes_per_sample(&self) -> usize {
        if self.bit_depth <= 8 { 1 } else { 2 }
    }

    /// Bytes per frame.
    pub fn frame_bytes(&self) -> usize {
        self.width * self.height * self.color.planes_in_file() * self.bytes_per_sample()
    }

    /// Parse and validate the header; `path` labels errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<SerHeader> {
        let bad = |reason: String| FrameError::BadHeader { path: path.to_path_buf(), reason };
        if bytes.len() < HEADER_LEN {
            if bytes.len() >= 14 && &bytes[..14] != MAGIC {
                return Err(FrameError::BadMagic {
                    path: path.to_path_buf(),
                    found: String::from_utf8_lossy(&bytes[..14]).into_owned(),
                });
            }
            return Err(bad(format!("file is {} bytes, shorter than the {HEADER_LEN}-byte header", bytes.len())));
        }
        if &bytes[..14] != MAGIC {
            return Err(FrameError::BadMagic {
                path: path.to_path_buf(),
                found: String::from_utf8_lossy(&bytes[..14]).into_owned(),
            });
        }
        let i32_at = |o: usize| i32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let i64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[o..o + 8]);
            i64::from_le_bytes(b)
        };
        let text = |o: usize| {
            let raw = &bytes[o..o + 40];
            let end = raw.iter().position(|&c| c == 0).unwrap_or(40);
            String::from_utf8_lossy(&raw[..end]).trim_end().to_string()
        };
        let color_code = i32_at(18);
        let color = ColorId::from_code(color_code)
            .ok_or_else(|| bad(format!("unsupported ColorID {color_code} (expected 0, 8-11, 100 or 101)")))?;
        let (w, h) = (i32_at(26), i32_at(30));
        if w <= 0 || h <= 0 || w as usize > MAX_SIDE || h as usize > MAX_SIDE {
            return Err(bad(format!("frame size {w}x{h} is zero, negative or above {MAX_SIDE}")));
        }
        let depth = i32_at(34);
        if !(1..=16).contains(&depth) {
            return Err(bad(format!("PixelDepthPerPlane {depth} outside 1..=16")));
        }
        let count = i32_at(38);
        if count < 0 {
            return Err(bad(format!("negative FrameCount {count}")));
        }
        let header = SerHeader {
            lu_id: i32_at(14),
            color,
            little_endian: i32_at(22) == 0,
            width: w as usize,
            height: h as usize,
            bit_depth: depth as u32,
            frame_count: count as usize,
            observer: text(42),
            instrument: text(82),
            telescope: text(122),
            date_time: i64_at(162),
            date_time_utc: i64_at(170),
        };
        if header.frame_bytes() > MAX_FRAME_BYTES {
            return Err(bad(format!("frame of {} bytes is above the 1 GiB limit", header.frame_bytes())));
        }
        Ok(header)
    }

    /// Serialise to the 178 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..14].copy_from_slice(MAGIC);
        let mut put_i32 = |o: usize, v: i32| b[o..o + 4].copy_from_slice(&v.to_le_bytes());
        put_i32(14, self.lu_id);
        put_i32(18, self.color.code());
        put_i32(22, if self.little_endian { 0 } else { 1 });
        put_i32(26, self.width as i32);
        put_i32(30, self.height as i32);
        put_i32(34, self.bit_depth as i32);
        put_i32(38, self.frame_count as i32);
        for (o, s) in [(42, &self.observer), (82, &self.instrument), (122, &self.telescope)] {
            let n = s.len().min(40);
            b[o..o + n].copy_from_slice(&s.as_bytes()[..n]);
        }
        b[162..170].copy_from_slice(&self.date_time.to_le_bytes());
        b[170..178].copy_from_slice(&self.date_time_utc.to_le_bytes());
        b
    }
}

/// A memory-mapped SER video that decodes one frame at a time.
#[derive(Debug)]
pub struct SerReader {
    path: PathBuf,
    header: SerHeader,
    mmap: Mmap,
    frames: usize,
    declared: usize,
    scale: f32,
    effective_depth: u32,
}

impl SerReader {
    /// Open a SER file; a truncated file is opened with its complete frames (see [`SerReader::truncated`]).
    pub fn open(path: &Path) -> Result<SerReader> {
        let file = File::open(path).map_err(io_err(path))?;
        // SAFETY: the map is read-only; a file truncated by another process while mapped would
        // fault, which is the documented risk of memmap2 and acceptable for capture files.
        let mmap = unsafe { Mmap::map(&file) }.map_err(io_err(path))?;
        let header = SerHeader::parse(&mmap[..mmap.len().min(HEADER_LEN)], path)?;
        let data_len = mmap.len() - HEADER_LEN;
        let available = data_len / header.frame_bytes();
        let frames = header.frame_count.min(available);
        if header.frame_count == 0 {
            return Err(FrameError::BadHeader {
                path: path.to_path_buf(),
                reason: "FrameCount is 0: the video declares no frames".into(),
            });
        }
        if frames == 0 {
            return Err(FrameError::Truncated { path: path.to_path_buf(), declared: header.frame_count, available });
        }
        if frames < header.frame_count {
            tracing::warn!(
                "{}: header declares {} frames, data holds {} complete frames; using those",
                path.display(),
                header.frame_count,
                frames
            );
        }
        let mut reader = SerReader {
            path: path.to_path_buf(),
            declared: header.frame_count,
            header,
            mmap,
            frames,
            scale: 1.0,
            effective_depth: 8,
        };
        reader.effective_depth = reader.infer_bit_depth();
        reader.scale = 1.0 / ((1u32 << reader.effective_depth) - 1) as f32;
        Ok(reader)
    }

    /// Open a SER file, refusing it when the header declares more frames than the data holds.
    pub fn open_strict(path: &Path) -> Result<SerReader> {
        let reader = SerReader::open(path)?;
        if let Some(declared) = reader.truncated() {
            return Err(FrameError::Truncated { path: path.to_path_buf(), declared, available: reader.frames });
        }
        Ok(reader)
    }

    /// The parsed header.
    pub fn header(&self) -> &SerHeader {
        &self.header
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of complete, readable frames.
    pub fn len(&self) -> usize {
        self.frames
    }

    /// Whether the video holds no frames (never true for an opened reader).
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// `Some(declared)` when the header declares more frames than the file holds.
    pub fn truncated(&self) -> Option<usize> {
        (self.declared > self.frames).then_some(self.declared)
    }

    /// Bit depth used to normalise samples to [0, 1]: the header's, raised when sampled frames
    /// hold larger values (headers often say 16 for 12-bit data, or 8 for 10-bit data).
    pub fn effective_bit_depth(&self) -> u32 {
        self.effective_depth
    }

    fn infer_bit_depth(&self) -> u32 {
        let declared = self.header.bit_depth.max(1);
        if self.header.bytes_per_sample() == 1 {
            return 8;
        }
        let probes = self.frames.min(8);
        let mut max = 0u16;
        for p in 0..probes {
            let i = p * self.frames / probes;
            let bytes = self.raw_frame_unchecked(i);
            for c in bytes.chunks_exact(2) {
                max = max.max(self.u16_of(c));
            }
        }
        let needed = 16 - max.leading_zeros();
        declared.max(needed).clamp(9, 16)
    }

    #[inline]
    fn u16_of(&self, c: &[u8]) -> u16 {
        if self.header.little_endian { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }
    }

    fn raw_frame_unchecked(&self, index: usize) -> &[u8] {
        let fb = self.header.frame_bytes();
        let start = HEADER_LEN + index * fb;
        &self.mmap[start..start + fb]
    }

    /// The raw bytes of frame `index`, exactly as stored (for lossless export).
    pub fn raw_frame(&self, index: usize) -> Result<&[u8]> {
        self.check_index(index)?;
        Ok(self.raw_frame_unchecked(index))
    }

    fn check_index(&self, index: usize) -> Result<()> {
        if index >= self.frames {
            return Err(FrameError::FrameOutOfRange {
                source_name: self.path.display().to_string(),
                index,
                len: self.frames,
            });
        }
        Ok(())
    }

    /// Decode the samples of frame `index` (all interleaved planes) into `out`, scaled to [0, 1].
    pub fn read_samples_into(&self, index: usize, out: &mut Vec<f32>) -> Result<()> {
        self.check_index(index)?;
        let bytes = self.raw_frame_unchecked(index);
        out.clear();
        let scale = self.scale;
        if self.header.bytes_per_sample() == 1 {
            out.extend(bytes.iter().map(|&b| b as f32 * scale));
        } else if self.header.little_endian {
            out.extend(bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as f32 * scale));
        } else {
            out.extend(bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]) as f32 * scale));
        }
        Ok(())
    }

    /// Decode frame `index` to a mono luma image in [0, 1] (reusing `out`; `tmp` is scratch for colour data).
    pub fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, tmp: &mut Vec<f32>) -> Result<()> {
        match self.header.color {
            ColorId::Mono => self.read_samples_into(index, out),
            ColorId::Rgb | ColorId::Bgr => {
                self.read_samples_into(index, tmp)?;
                out.clear();
                let (wr, wb) = if self.header.color == ColorId::Rgb { (0.299, 0.114) } else { (0.114, 0.299) };
                out.extend(tmp.chunks_exact(3).map(|p| wr * p[0] + 0.587 * p[1] + wb * p[2]));
                Ok(())
            }
            ColorId::Bayer(pattern) => {
                self.read_samples_into(index, tmp)?;
                let rgb = debayer_bilinear(tmp, self.header.width, self.header.height, pattern);
                let n = self.header.width * self.header.height;
                out.clear();
                out.extend((0..n).map(|i| 0.299 * rgb[i] + 0.587 * rgb[n + i] + 0.114 * rgb[2 * n + i]));
                Ok(())
            }
        }
    }

    /// Decode frame `index` straight into 2×2 block means in [0, 1] (mono files; colour files go
    /// through full-resolution luma first). One pass over the raw bytes, no full-size buffer.
    pub fn read_mono_binned2_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        scratch: &mut crate::source::DecodeScratch,
    ) -> Result<(usize, usize)> {
        self.read_binned2(index, out, None, scratch)
    }

    /// [`SerReader::read_mono_binned2_into`] that also writes the noise map of
    /// [`crate::bandpass::bin2_with_noise`] (each block's squared checkerboard difference).
    pub fn read_mono_binned2_noise_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        noise: &mut Vec<f32>,
        scratch: &mut crate::source::DecodeScratch,
    ) -> Result<(usize, usize)> {
        self.read_binned2(index, out, Some(noise), scratch)
    }

    fn read_binned2(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        noise: Option<&mut Vec<f32>>,
        scratch: &mut crate::source::DecodeScratch,
    ) -> Result<(usize, usize)> {
        self.check_index(index)?;
        let (w, h) = (self.header.width, self.header.height);
        let (bw, bh) = (w / 2, h / 2);
        if matches!(self.header.color, ColorId::Rgb | ColorId::Bgr) {
            let mut full = std::mem::take(&mut scratch.full);
            self.read_luma_into(index, &mut full, &mut scratch.samples)?;
            let view = crate::view::ImageView::new(&full, w, h);
            let dims = match noise {
                Some(nz) => crate::bandpass::bin2_with_noise(view, out, nz),
                None => crate::metrics::bin_into(view, 2, out),
            };
            scratch.full = full;
            return Ok(dims);
        }
        let bytes = self.raw_frame_unchecked(index);
        out.clear();
        out.resize(bw * bh, 0.0);
        let mut noise = noise;
        if let Some(nz) = noise.as_deref_mut() {
            nz.clear();
            nz.resize(bw * bh, 0.0);
        }
        let k = self.scale * 0.25;
        let half = self.scale * 0.5;
        let bps = self.header.bytes_per_sample();
        let le = self.header.little_endian;
        let px = |c: &[u8]| -> u32 {
            if le { u16::from_le_bytes([c[0], c[1]]) as u32 } else { u16::from_be_bytes([c[0], c[1]]) as u32 }
        };
        let greens = self.bayer_greens();
        for by in 0..bh {
            let o = &mut out[by * bw..(by + 1) * bw];
            let nrow = noise.as_deref_mut().map(|nz| &mut nz[by * bw..(by + 1) * bw]);
            // The 2×2 blocks of this row pair as (top-left, top-right, bottom-left, bottom-right).
            let (r0, r1) = (2 * by * w * bps, (2 * by + 1) * w * bps);
            let (r0, r1) = (&bytes[r0..r0 + 2 * bw * bps], &bytes[r1..r1 + 2 * bw * bps]);
            // A Bayer file bins into superpixels (R + 2G + B)/4 straight from the mosaic, with no
            // demosaicing (its interpolation would correlate the noise); its noise comes from the
            // two greens of each block, the one same-colour pair there.
            match (nrow, greens, bps) {
                (Some(n), Some(anti), _) => {
                    for (bx, (o, n)) in o.iter_mut().zip(n.iter_mut()).enumerate() {
                        let (a0, a1, b0, b1) = self.quad(r0, r1, bx);
                        *o = (a0 + a1 + b0 + b1) * k;
                        let d = if anti { a1 - b0 } else { a0 - b1 } * self.scale;
                        *n = d * d * 0.5;
                    }
                }
                // Branch once per row, not per pixel: with or without the noise map, 8 or 16 bits.
                (None, _, 1) => {
                    for ((o, a), b) in o.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
                        *o = (a[0] as u32 + a[1] as u32 + b[0] as u32 + b[1] as u32) as f32 * k;
                    }
                }
                (None, _, _) => {
                    for ((o, a), b) in o.iter_mut().zip(r0.chunks_exact(4)).zip(r1.chunks_exact(4)) {
                        *o = (px(&a[..2]) + px(&a[2..]) + px(&b[..2]) + px(&b[2..])) as f32 * k;
                    }
                }
                (Some(n), None, 1) => {
                    for (((o, n), a), b) in o.iter_mut().zip(n).zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
                        let (a0, a1, b0, b1) = (a[0] as f32, a[1] as f32, b[0] as f32, b[1] as f32);
                        *o = (a0 + a1 + b0 + b1) * k;
                        let c = (a0 - a1 - b0 + b1) * half;
                        *n = c * c;
                    }
                }
                (Some(n), None, _) => {
                    for (((o, n), a), b) in o.iter_mut().zip(n).zip(r0.chunks_exact(4)).zip(r1.chunks_exact(4)) {
                        let (a0, a1, b0, b1) =
                            (px(&a[..2]) as f32, px(&a[2..]) as f32, px(&b[..2]) as f32, px(&b[2..]) as f32);
                        *o = (a0 + a1 + b0 + b1) * k;
                        let c = (a0 - a1 - b0 + b1) * half;
                        *n = c * c;
                    }
                }
            }
        }
        Ok((bw, bh))
    }

    /// For a Bayer file, where each 2×2 block's two greens sit: `Some(true)` on the anti-diagonal
    /// (RGGB, BGGR), `Some(false)` on the diagonal (GRBG, GBRG); `None` for other layouts.
    fn bayer_greens(&self) -> Option<bool> {
        match self.header.color {
            ColorId::Bayer(BayerPattern::Rggb | BayerPattern::Bggr) => Some(true),
            ColorId::Bayer(BayerPattern::Grbg | BayerPattern::Gbrg) => Some(false),
            _ => None,
        }
    }

    /// The raw samples (not scaled) of 2×2 block `bx` of a row pair, as
    /// (top-left, top-right, bottom-left, bottom-right).
    #[inline]
    fn quad(&self, r0: &[u8], r1: &[u8], bx: usize) -> (f32, f32, f32, f32) {
        if self.header.bytes_per_sample() == 1 {
            let (a, b) = (&r0[2 * bx..2 * bx + 2], &r1[2 * bx..2 * bx + 2]);
            (a[0] as f32, a[1] as f32, b[0] as f32, b[1] as f32)
        } else {
            let le = self.header.little_endian;
            let px =
                |c: &[u8]| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) } as f32;
            let (a, b) = (&r0[4 * bx..4 * bx + 4], &r1[4 * bx..4 * bx + 4]);
            (px(&a[..2]), px(&a[2..]), px(&b[..2]), px(&b[2..]))
        }
    }

    /// Whether [`SerReader::block_noise_var`] can read this file (mono and Bayer; RGB/BGR cannot).
    pub fn reads_block_noise(&self) -> bool {
        !matches!(self.header.color, ColorId::Rgb | ColorId::Bgr)
    }

    /// Mean of the noise map of [`SerReader::read_mono_binned2_noise_into`] over the 2×2 blocks
    /// `[x0, x0 + bw) × [y0, y0 + bh)` of frame `index`, read straight from the stored samples: the
    /// band-pass metric needs the noise on the planet's box only, not over the whole frame.
    pub fn block_noise_var(&self, index: usize, x0: usize, y0: usize, bw: usize, bh: usize) -> Result<f32> {
        self.check_index(index)?;
        let w = self.header.width;
        if !self.reads_block_noise() || bw == 0 || bh == 0 || 2 * (x0 + bw) > w || 2 * (y0 + bh) > self.header.height {
            return Err(FrameError::Invalid(format!(
                "{}: no block noise for a {bw}×{bh} box at ({x0}, {y0})",
                self.path.display()
            )));
        }
        let bytes = self.raw_frame_unchecked(index);
        let bps = self.header.bytes_per_sample();
        let greens = self.bayer_greens();
        let mut sum = 0.0f64;
        for by in y0..y0 + bh {
            let (r0, r1) = (2 * by * w * bps, (2 * by + 1) * w * bps);
            let (r0, r1) = (&bytes[r0..r0 + w * bps], &bytes[r1..r1 + w * bps]);
            let row: f32 = match (greens, bps) {
                // Mono 8-bit, the common case: straight over the bytes, so the loop vectorises.
                (None, 1) => {
                    let (a, b) = (&r0[2 * x0..2 * (x0 + bw)], &r1[2 * x0..2 * (x0 + bw)]);
                    a.chunks_exact(2)
                        .zip(b.chunks_exact(2))
                        .map(|(a, b)| {
                            let c = (a[0] as f32 - a[1] as f32 - b[0] as f32 + b[1] as f32) * 0.5;
                            c * c
                        })
                        .sum()
                }
                _ => (x0..x0 + bw)
                    .map(|bx| {
                        let (a0, a1, b0, b1) = self.quad(r0, r1, bx);
                        match greens {
                            None => {
                                let c = (a0 - a1 - b0 + b1) * 0.5;
                                c * c
                            }
                            Some(anti) => {
                                let d = if anti { a1 - b0 } else { a0 - b1 };
                                d * d * 0.5
                            }
                        }
                    })
                    .sum(),
            };
            sum += row as f64;
        }
        let s = self.scale as f64;
        Ok((sum * s * s / (bw * bh) as f64) as f32)
    }

    /// Decode frame `index` to planes: 1 channel for mono, 3 (RGB) for Bayer and RGB/BGR.
    pub fn read_planes(&self, index: usize) -> Result<Planes> {
        let mut samples = Vec::new();
        self.read_samples_into(index, &mut samples)?;
        let (w, h) = (self.header.width, self.header.height);
        let data = match self.header.color {
            ColorId::Mono => samples,
            ColorId::Bayer(pattern) => debayer_bilinear(&samples, w, h, pattern),
            ColorId::Rgb | ColorId::Bgr => {
                let n = w * h;
                let mut data = vec![0f32; 3 * n];
                let bgr = self.header.color == ColorId::Bgr;
                for (i, p) in samples.chunks_exact(3).enumerate() {
                    for c in 0..3 {
                        let src = if bgr { 2 - c } else { c };
                        data[c * n + i] = p[src];
                    }
                }
                data
            }
        };
        let channels = self.header.color.decoded_channels();
        let mut planes = Planes::from_vec(channels, h, w, data)?;
        planes.bit_depth = if self.header.bytes_per_sample() == 1 { 8 } else { 16 };
        Ok(planes)
    }

    /// Per-frame UTC timestamps from the trailer, when the file has one (100 ns ticks).
    pub fn timestamps(&self) -> Option<Vec<u64>> {
        let start = HEADER_LEN + self.declared.max(self.frames) * self.header.frame_bytes();
        let need = self.frames * 8;
        if self.truncated().is_some() || self.mmap.len() < start + need {
            return None;
        }
        let t = &self.mmap[start..start + need];
        Some(t.chunks_exact(8).map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect())
    }
}

/// Bilinear demosaic of a Bayer mosaic in [0, 1] to RGB planes (`3 × h × w`, channel-major).
///
/// Each output channel takes the pixel itself where the sensor saw that colour, otherwise the mean
/// of the 3×3 neighbours that did (edges clamp), which is the classic bilinear interpolation.
pub fn debayer_bilinear(raw: &[f32], width: usize, height: usize, pattern: BayerPattern) -> Vec<f32> {
    let n = width * height;
    let mut out = vec![0f32; 3 * n];
    for y in 0..height {
        for x in 0..width {
            let own = pattern.channel_at(x, y);
            let mut sum = [0f32; 3];
            let mut cnt = [0u32; 3];
            for dy in -1i64..=1 {
                let yy = y as i64 + dy;
                if yy < 0 || yy >= height as i64 {
                    continue;
                }
                for dx in -1i64..=1 {
                    let xx = x as i64 + dx;
                    if xx < 0 || xx >= width as i64 {
                        continue;
                    }
                    let c = pattern.channel_at(xx as usize, yy as usize);
                    sum[c] += raw[yy as usize * width + xx as usize];
                    cnt[c] += 1;
                }
            }
            let i = y * width + x;
            for c in 0..3 {
                out[c * n + i] = if c == own {
                    raw[i]
                } else if cnt[c] > 0 {
                    sum[c] / cnt[c] as f32
                } else {
                    0.0
                };
            }
        }
    }
    out
}

/// Writes a SER video to a temporary file and renames it into place on [`SerWriter::finish`].
///
/// Dropping a writer without finishing removes the temporary file, so an existing video at the
/// target path is never replaced by a half-written one.
pub struct SerWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    header: SerHeader,
    written: usize,
    timestamps: Vec<u64>,
}

impl SerWriter {
    /// Start a new video at `path` with the frame geometry of `header` (its frame count is ignored).
    pub fn create(path: &Path, header: SerHeader) -> Result<SerWriter> {
        if header.width == 0 || header.height == 0 || !(1..=16).contains(&header.bit_depth) {
            return Err(FrameError::Invalid(format!(
                "SER writer: bad geometry {}x{} at {} bits",
                header.width, header.height, header.bit_depth
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header.to_bytes()).map_err(io_err(&tmp))?;
        Ok(SerWriter { path: path.to_path_buf(), tmp, out: Some(out), header, written: 0, timestamps: Vec::new() })
    }

    /// The header being written.
    pub fn header(&self) -> &SerHeader {
        &self.header
    }

    /// Append one frame of raw bytes (exactly `header.frame_bytes()` long, already in file order).
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() != self.header.frame_bytes() {
            return Err(FrameError::Invalid(format!(
                "SER writer: frame of {} bytes, expected {}",
                bytes.len(),
                self.header.frame_bytes()
            )));
        }
        let out = self.out.as_mut().ok_or_else(|| FrameError::Invalid("SER writer already finished".into()))?;
        out.write_all(bytes).map_err(io_err(&self.tmp))?;
        self.written += 1;
        Ok(())
    }

    /// Append one frame given as planes in [0, 1] (1 channel for mono/Bayer, 3 for RGB/BGR), quantised to the header's depth.
    pub fn write_planes(&mut self, planes: &Planes) -> Result<()> {
        let h = &self.header;
        let want = h.color.planes_in_file();
        if planes.width != h.width || planes.height != h.height || planes.channels != want {
            return Err(FrameError::Invalid(format!(
                "SER writer: frame is {}x{}x{}, video is {}x{}x{}",
                planes.width, planes.height, planes.channels, h.width, h.height, want
            )));
        }
        let max = ((1u32 << h.bit_depth) - 1) as f32;
        let n = h.width * h.height;
        let bps = h.bytes_per_sample();
        let mut bytes = Vec::with_capacity(h.frame_bytes());
        for i in 0..n {
            for k in 0..want {
                let c = if h.color == ColorId::Bgr { 2 - k } else { k };
                let v = planes.data[c * n + i];
                let v = if v.is_finite() { (v.clamp(0.0, 1.0) * max).round() as u16 } else { 0 };
                if bps == 1 {
                    // Depth ≤ 8 is stored MSB-aligned in one byte.
                    bytes.push((v << (8 - h.bit_depth)) as u8);
                } else if h.little_endian {
                    bytes.extend_from_slice(&v.to_le_bytes());
                } else {
                    bytes.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
        self.write_raw(&bytes)
    }

    /// Record a UTC timestamp for the frame just written (written as a trailer when every frame has one).
    pub fn push_timestamp(&mut self, ticks: u64) {
        self.timestamps.push(ticks);
    }

    /// Patch the frame count, write the trailer, flush and rename into place; returns the frame count.
    pub fn finish(mut self) -> Result<usize> {
        let mut out = self.out.take().ok_or_else(|| FrameError::Invalid("SER writer already finished".into()))?;
        if !self.timestamps.is_empty() && self.timestamps.len() == self.written {
            for t in &self.timestamps {
                out.write_all(&t.to_le_bytes()).map_err(io_err(&self.tmp))?;
            }
        }
        let mut file =
            out.into_inner().map_err(|e| FrameError::Io { path: self.tmp.clone(), source: e.into_error() })?;
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(38)).map_err(io_err(&self.tmp))?;
        file.write_all(&(self.written as i32).to_le_bytes()).map_err(io_err(&self.tmp))?;
        file.sync_all().map_err(io_err(&self.tmp))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path))?;
        Ok(self.written)
    }
}

impl Drop for SerWriter {
    fn drop(&mut self) {
        if self.out.is_some() {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_mono(path: &Path, w: usize, h: usize, depth: u32, frames: usize) {
        let mut wr = SerWriter::create(path, SerHeader::new(w, h, ColorId::Mono, depth)).unwrap();
        for f in 0..frames {
            let mut p = Planes::zeros(1, h, w);
            for (i, v) in p.data.iter_mut().enumerate() {
                *v = ((i + f) % 7) as f32 / 6.0;
            }
            wr.write_planes(&p).unwrap();
            wr.push_timestamp(1000 + f as u64);
        }
        assert_eq!(wr.finish().unwrap(), frames);
    }

    #[test]
    fn round_trips_mono_8_and_16_bit_with_timestamps() {
        let dir = tempfile::tempdir().unwrap();
        for depth in [8, 12, 16] {
            let path = dir.path().join(format!("m{depth}.ser"));
            write_mono(&path, 5, 4, depth, 3);
            let r = SerReader::open(&path).unwrap();
            assert_eq!((r.header().width, r.header().height, r.len()), (5, 4, 3));
            assert_eq!(r.timestamps(), Some(vec![1000, 1001, 1002]));
            let p = r.read_planes(2).unwrap();
            for (i, v) in p.data.iter().enumerate() {
                let want = ((i + 2) % 7) as f32 / 6.0;
                assert!((v - want).abs() < 0.01, "depth {depth} px {i}: {v} vs {want}");
            }
        }
    }

    #[test]
    fn big_endian_flag_and_rgb_bgr_order_are_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("be.ser");
        let mut header = SerHeader::new(2, 1, ColorId::Bgr, 16);
        header.little_endian = false;
        let mut wr = SerWriter::create(&path, header).unwrap();
        let p = Planes::from_vec(3, 1, 2, vec![1.0, 0.0, 0.5, 0.5, 0.0, 1.0]).unwrap();
        wr.write_planes(&p).unwrap();
        wr.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // First stored sample is blue of pixel 0 (0.0), big-endian.
        assert_eq!(&bytes[HEADER_LEN..HEADER_LEN + 2], &[0, 0]);
        // Third is red of pixel 0 (1.0 = 0xFFFF).
        assert_eq!(&bytes[HEADER_LEN + 4..HEADER_LEN + 6], &[0xFF, 0xFF]);
        let r = SerReader::open(&path).unwrap();
        let back = r.read_planes(0).unwrap();
        for (a, b) in back.data.iter().zip(&p.data) {
            assert!((a - b).abs() < 1e-3);
        }
    }

    #[test]
    fn truncated_file_keeps_complete_frames_and_strict_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ser");
        write_mono(&path, 8, 8, 8, 4);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(HEADER_LEN + 2 * 64 + 10);
        std::fs::write(&path, &bytes).unwrap();
        let r = SerReader::open(&path).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.truncated(), Some(4));
        assert!(r.timestamps().is_none());
        assert!(r.read_planes(2).is_err());
        let err = SerReader::open_strict(&path).unwrap_err().to_string();
        assert!(err.contains("declares 4 frames") && err.contains("only 2"), "{err}");
        bytes.truncate(HEADER_LEN + 10);
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(SerReader::open(&path), Err(FrameError::Truncated { available: 0, .. })));
    }

    #[test]
    fn wrong_magic_and_absurd_headers_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ser");
        std::fs::write(&path, b"RIFF....AVI LIST and more bytes").unwrap();
        let err = SerReader::open(&path).unwrap_err().to_string();
        assert!(err.contains("not a SER video"), "{err}");
        for (w, h, depth) in [(0i32, 10i32, 8i32), (10, -3, 8), (100_000, 10, 8), (10, 10, 0), (10, 10, 33)] {
            let mut header = SerHeader::new(10, 10, ColorId::Mono, 8).to_bytes();
            header[26..30].copy_from_slice(&w.to_le_bytes());
            header[30..34].copy_from_slice(&h.to_le_bytes());
            header[34..38].copy_from_slice(&depth.to_le_bytes());
            std::fs::write(&path, header).unwrap();
            let err = SerReader::open(&path).unwrap_err().to_string();
            assert!(err.contains("bad header"), "{w}x{h}@{depth}: {err}");
        }
    }

    #[test]
    fn twelve_bit_data_under_a_sixteen_bit_header_is_detected_and_wrong_low_depth_is_raised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.ser");
        // Header says 10 bits, data reaches 4000 (12 bits).
        let mut wr = SerWriter::create(&path, SerHeader::new(2, 2, ColorId::Mono, 16)).unwrap();
        let v: u16 = 4000;
        let frame: Vec<u8> = (0..4).flat_map(|_| v.to_le_bytes()).collect();
        wr.write_raw(&frame).unwrap();
        wr.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[34..38].copy_from_slice(&10i32.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let r = SerReader::open(&path).unwrap();
        assert_eq!(r.effective_bit_depth(), 12);
        let p = r.read_planes(0).unwrap();
        assert!(p.data.iter().all(|&x| x <= 1.0 && x > 0.9));
    }

    #[test]
    fn bayer_bins_into_superpixels_and_its_noise_comes_from_the_greens() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let dir = tempfile::tempdir().unwrap();
        let (w, h, sigma) = (64, 48, 0.02f32);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let noise = Normal::new(0.0f32, sigma).unwrap();
        for (pattern, depth) in [(BayerPattern::Rggb, 16), (BayerPattern::Gbrg, 8), (BayerPattern::Bggr, 16)] {
            // A smooth, strongly coloured scene (R 0.7, G 0.4, B 0.15) with white noise.
            let mut p = Planes::zeros(1, h, w);
            for y in 0..h {
                for x in 0..w {
                    let c = [0.7f32, 0.4, 0.15][pattern.channel_at(x, y)];
                    p.data[y * w + x] = c + 0.05 * (x as f32 / 15.0).sin() + noise.sample(&mut rng);
                }
            }
            let path = dir.path().join(format!("{pattern:?}.ser"));
            let mut wr = SerWriter::create(&path, SerHeader::new(w, h, ColorId::Bayer(pattern), depth)).unwrap();
            wr.write_planes(&p).unwrap();
            wr.finish().unwrap();
            let r = SerReader::open(&path).unwrap();
            let (mut out, mut nz, mut sc) = (Vec::new(), Vec::new(), crate::source::DecodeScratch::default());
            let (bw, bh) = r.read_mono_binned2_noise_into(0, &mut out, &mut nz, &mut sc).unwrap();
            assert_eq!((bw, bh), (w / 2, h / 2));
            // Superpixels: the block means of the mosaic, (R + 2G + B)/4 (not a demosaiced luma).
            let (x, y) = (7, 5);
            let quad = (p.data[2 * y * w + 2 * x] + p.data[2 * y * w + 2 * x + 1])
                + (p.data[(2 * y + 1) * w + 2 * x] + p.data[(2 * y + 1) * w + 2 * x + 1]);
            let q = 1.0 / ((1u32 << depth) - 1) as f32;
            assert!(
                (out[y * bw + x] - quad / 4.0).abs() < 2.0 * q,
                "{pattern:?}: {} vs {}",
                out[y * bw + x],
                quad / 4.0
            );
            // The greens' difference sees the noise, not the colour (the checkerboard R − 2G + B would see 0.05²).
            let est = nz.iter().sum::<f32>() / nz.len() as f32;
            assert!((est / (sigma * sigma) - 1.0).abs() < 0.2, "{pattern:?}: noise {est} vs {}", sigma * sigma);
            // The box reader agrees with the map, on the whole frame and on a box.
            let whole = r.block_noise_var(0, 0, 0, bw, bh).unwrap();
            assert!((whole / est - 1.0).abs() < 1e-4, "{whole} vs {est}");
            let boxed = r.block_noise_var(0, 3, 5, 10, 7).unwrap();
            let map: f32 =
                (5..12).flat_map(|y| (3..13).map(move |x| (x, y))).map(|(x, y)| nz[y * bw + x]).sum::<f32>() / 70.0;
            assert!((boxed / map - 1.0).abs() < 1e-4, "{boxed} vs {map}");
            assert!(r.block_noise_var(0, 30, 0, 4, 4).is_err(), "a box past the frame is refused");
        }
    }

    #[test]
    fn mono_block_noise_equals_the_noise_map_mean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.ser");
        write_mono(&path, 40, 30, 8, 2);
        let r = SerReader::open(&path).unwrap();
        let (mut out, mut nz, mut sc) = (Vec::new(), Vec::new(), crate::source::DecodeScratch::default());
        let (bw, _) = r.read_mono_binned2_noise_into(1, &mut out, &mut nz, &mut sc).unwrap();
        let boxed = r.block_noise_var(1, 2, 1, 9, 6).unwrap();
        let map: f32 =
            (1..7).flat_map(|y| (2..11).map(move |x| (x, y))).map(|(x, y)| nz[y * bw + x]).sum::<f32>() / 54.0;
        assert!(map > 0.0 && (boxed / map - 1.0).abs() < 1e-4, "{boxed} vs {map}");
    }

    #[test]
    fn debayer_recovers_flat_colours() {
        // A flat colour (R=0.8, G=0.5, B=0.2) seen through each Bayer pattern demosaics back to itself.
        for pattern in [BayerPattern::Rggb, BayerPattern::Grbg, BayerPattern::Gbrg, BayerPattern::Bggr] {
            let (w, h) = (6, 4);
            let col = [0.8f32, 0.5, 0.2];
            let raw: Vec<f32> = (0..w * h).map(|i| col[pattern.channel_at(i % w, i / w)]).collect();
            let rgb = debayer_bilinear(&raw, w, h, pattern);
            for c in 0..3 {
                assert!(rgb[c * w * h..(c + 1) * w * h].iter().all(|&v| (v - col[c]).abs() < 1e-6));
            }
        }
    }

    #[test]
    fn dropped_writer_leaves_existing_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.ser");
        write_mono(&path, 4, 4, 8, 2);
        let before = std::fs::read(&path).unwrap();
        {
            let mut wr = SerWriter::create(&path, SerHeader::new(4, 4, ColorId::Mono, 8)).unwrap();
            wr.write_raw(&[0u8; 16]).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
