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

mod debayer;
mod header;
mod samples;
mod writer;

pub use debayer::debayer_bilinear;
pub use header::{BayerPattern, ColorId, HEADER_LEN, MAGIC, MAX_FRAME_BYTES, MAX_SIDE, SerHeader};
pub use writer::SerWriter;

use std::fs::File;
use std::path::{Path, PathBuf};

use astro_image::Planes;
use memmap2::Mmap;

use crate::error::{FrameError, Result, io_err};
use samples::{BlockDiff, bin2_row_u16, sq_diff_sum_u16};

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
        scratch: &mut crate::io::decode_scratch::DecodeScratch,
    ) -> Result<(usize, usize)> {
        self.read_binned2(index, out, None, scratch)
    }

    /// [`SerReader::read_mono_binned2_into`] that also writes the noise map of
    /// the 2×2 binning with the checkerboard noise map (each block's squared checkerboard difference).
    pub fn read_mono_binned2_noise_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        noise: &mut Vec<f32>,
        scratch: &mut crate::io::decode_scratch::DecodeScratch,
    ) -> Result<(usize, usize)> {
        self.read_binned2(index, out, Some(noise), scratch)
    }

    fn read_binned2(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        noise: Option<&mut Vec<f32>>,
        scratch: &mut crate::io::decode_scratch::DecodeScratch,
    ) -> Result<(usize, usize)> {
        self.check_index(index)?;
        let (w, h) = (self.header.width, self.header.height);
        let (bw, bh) = (w / 2, h / 2);
        if matches!(self.header.color, ColorId::Rgb | ColorId::Bgr) {
            let mut full = std::mem::take(&mut scratch.full);
            self.read_luma_into(index, &mut full, &mut scratch.samples)?;
            let view = crate::pixels::ImageView::new(&full, w, h);
            let dims = match noise {
                Some(nz) => crate::pixels::bin2_with_noise(view, out, nz),
                None => crate::pixels::bin_into(view, 2, out),
            };
            scratch.full = full;
            return Ok(dims);
        }
        let bytes = self.raw_frame_unchecked(index);
        // Every block is written below, so buffers of the right size are not zeroed first.
        out.resize(bw * bh, 0.0);
        let mut noise = noise;
        if let Some(nz) = noise.as_deref_mut() {
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
                (None, _, _) => bin2_row_u16(r0, r1, le, k, o),
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
        let s = self.scale as f64;
        if bps == 2 {
            // 16-bit: the exact integer sum of the squared raw differences d (the checkerboard's
            // c = d/2, so c² = d²/4; the greens' d²/2). A frame holds at most 2^27 blocks of
            // d² < 2^34: no overflow.
            let (diff, per) = match greens {
                None => (BlockDiff::Checker, 0.25),
                Some(true) => (BlockDiff::AntiGreens, 0.5),
                Some(false) => (BlockDiff::DiagGreens, 0.5),
            };
            let mut total = 0u64;
            for by in y0..y0 + bh {
                let (r0, r1) = (4 * (by * w + x0), 2 * (2 * by + 1) * w + 4 * x0);
                total +=
                    sq_diff_sum_u16(&bytes[r0..r0 + 4 * bw], &bytes[r1..r1 + 4 * bw], self.header.little_endian, diff);
            }
            return Ok((total as f64 * per * s * s / (bw * bh) as f64) as f32);
        }
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
            let (mut out, mut nz, mut sc) =
                (Vec::new(), Vec::new(), crate::io::decode_scratch::DecodeScratch::default());
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
        let (mut out, mut nz, mut sc) = (Vec::new(), Vec::new(), crate::io::decode_scratch::DecodeScratch::default());
        let (bw, _) = r.read_mono_binned2_noise_into(1, &mut out, &mut nz, &mut sc).unwrap();
        let boxed = r.block_noise_var(1, 2, 1, 9, 6).unwrap();
        let map: f32 =
            (1..7).flat_map(|y| (2..11).map(move |x| (x, y))).map(|(x, y)| nz[y * bw + x]).sum::<f32>() / 54.0;
        assert!(map > 0.0 && (boxed / map - 1.0).abs() < 1e-4, "{boxed} vs {map}");
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
