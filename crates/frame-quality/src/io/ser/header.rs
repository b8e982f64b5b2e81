//! The 178-byte SER header, its colour layouts (`ColorId`, `BayerPattern`) and the format's size limits.

use std::path::Path;

use crate::error::{FrameError, Result};

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
