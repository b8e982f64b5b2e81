//! The decoding gate: what an untrusted image declares in its headers, checked against a pixel
//! budget before any pixel buffer is allocated (the image file's format sniffed from its content,
//! a GIF's frames walked without decompressing, a JPEG checked to reach its end-of-image marker),
//! and the decoder limits that hold a decoder to what the header declared.
//!
//! `image_io` decodes only what passed here, and re-exports all of it.

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, ImageReader};

use crate::error::{ImageError, Result};

/// Default pixel budget: 100 megapixels (an 8-bit RGB image of that size is 300 MB).
pub const DEFAULT_PIXEL_BUDGET: u64 = 100_000_000;

/// Limits applied while decoding untrusted images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted width × height.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits { max_pixels: DEFAULT_PIXEL_BUDGET }
    }
}

/// What an image declares in its headers, read before any pixel buffer is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// The format sniffed from the content.
    pub format: ImageFormat,
    /// Width in pixels (a GIF's logical screen).
    pub width: u32,
    /// Height in pixels (a GIF's logical screen).
    pub height: u32,
    /// Number of frames (1 except for animated GIFs).
    pub frames: u64,
    /// The largest single frame rectangle, in pixels (a GIF frame may declare more than its screen).
    pub largest_frame_pixels: u64,
}

impl Declared {
    /// Pixels of one frame as decoded (the larger of the screen and any frame rectangle).
    pub fn frame_pixels(&self) -> u64 {
        (self.width as u64 * self.height as u64).max(self.largest_frame_pixels)
    }
}

/// Which frames a caller is going to decode, for [`gate_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frames {
    /// Only the first frame (still-image readers).
    First,
    /// Every frame (animation readers such as `upscale` on a GIF): frames × pixels is charged.
    All,
}

/// The decoding gate every tool passes untrusted image bytes through before decoding them.
///
/// Reads the declared size from the headers (a GIF's logical screen, its frame rectangles and its
/// frame count, found by walking the block structure without decompressing anything), refuses a
/// zero size, refuses `frames × pixels` above `limits.max_pixels` (the message names the file, the
/// size and the frame count) and refuses a JPEG whose entropy-coded data ends before its EOI marker
/// (a truncated download the decoder would otherwise fill with grey). Costs one pass over `bytes`.
pub fn gate_bytes(bytes: &[u8], name: &Path, limits: ImageLimits, frames: Frames) -> Result<Declared> {
    let format = sniff(bytes, name)?;
    let declared = match format {
        ImageFormat::Gif => {
            let gif = gif_layout(bytes).map_err(|reason| ImageError::Decode { path: name.to_path_buf(), reason })?;
            Declared {
                format,
                width: gif.width,
                height: gif.height,
                frames: gif.frames,
                largest_frame_pixels: gif.largest_frame_pixels,
            }
        }
        _ => {
            if format == ImageFormat::Jpeg {
                jpeg_complete(bytes).map_err(|reason| ImageError::Decode { path: name.to_path_buf(), reason })?;
            }
            let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
                .into_dimensions()
                .map_err(|e| decode_err(name, e))?;
            Declared { format, width, height, frames: 1, largest_frame_pixels: width as u64 * height as u64 }
        }
    };
    check_budget(name, declared.width, declared.height, limits)?;
    if format == ImageFormat::Gif && declared.frames == 0 {
        return Err(ImageError::Decode { path: name.to_path_buf(), reason: "GIF has no frames".into() });
    }
    let charged = if frames == Frames::All { declared.frames } else { 1 };
    let pixels = declared.frame_pixels().saturating_mul(charged);
    if pixels > limits.max_pixels {
        return Err(ImageError::AnimationTooLarge {
            path: name.to_path_buf(),
            width: declared.width,
            height: declared.height,
            frames: charged,
            pixels,
            budget: limits.max_pixels,
        });
    }
    Ok(declared)
}

/// [`gate_bytes`] for a file: reads it once and returns its bytes with what it declares.
pub fn gate_file(path: &Path, limits: ImageLimits, frames: Frames) -> Result<(Vec<u8>, Declared)> {
    let bytes = read_regular(path)?;
    let declared = gate_bytes(&bytes, path, limits, frames)?;
    Ok((bytes, declared))
}

/// The format given by the content's magic bytes (never the extension).
pub fn sniff(head: &[u8], path: &Path) -> Result<ImageFormat> {
    match image::guess_format(head) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff | ImageFormat::Gif)) => Ok(f),
        Ok(other) => Err(ImageError::Decode {
            path: path.to_path_buf(),
            reason: format!("unsupported image format {other:?} (PNG, JPEG, TIFF or GIF expected)"),
        }),
        Err(_) => Err(ImageError::Decode {
            path: path.to_path_buf(),
            reason: "not a recognised image (PNG, JPEG, TIFF or GIF expected)".into(),
        }),
    }
}

fn check_budget(path: &Path, width: u32, height: u32, limits: ImageLimits) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { path: path.to_path_buf(), width, height });
    }
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels {
        return Err(ImageError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            pixels,
            budget: limits.max_pixels,
        });
    }
    Ok(())
}

/// Decoder limits matching a header already checked by [`gate_bytes`], so a lying header cannot
/// make the decoder allocate more.
///
/// `max_alloc` allows the largest decoded buffer (4 × f32 per pixel) plus one intermediate buffer
/// of the same size: the TIFF decoder reads a whole strip at once, and a valid single-strip float
/// image needs its full uncompressed size there (it was refused as "Memory limit exceeded" when the
/// allowance only covered the output buffer). Every decoder in the workspace should use these.
pub fn decoder_limits(width: u32, height: u32) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    let px = width as u64 * height as u64;
    limits.max_alloc = Some(px.saturating_mul(16).saturating_mul(2).saturating_add(1 << 20));
    limits
}

/// A GIF's structure as declared: logical screen, frame count, largest frame rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GifLayout {
    width: u32,
    height: u32,
    frames: u64,
    largest_frame_pixels: u64,
}

/// Walk a GIF's blocks (header, colour tables, extensions, image descriptors, data sub-blocks)
/// without decompressing anything. A stream cut short ends the walk: the frames seen so far count.
fn gif_layout(b: &[u8]) -> std::result::Result<GifLayout, String> {
    if b.len() < 13 || !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return Err("not a GIF87a/GIF89a stream".into());
    }
    let width = u16::from_le_bytes([b[6], b[7]]) as u32;
    let height = u16::from_le_bytes([b[8], b[9]]) as u32;
    let mut at = 13usize;
    if b[10] & 0x80 != 0 {
        at += 3 << ((b[10] & 7) + 1);
    }
    let (mut frames, mut largest) = (0u64, 0u64);
    // Skip data sub-blocks starting at `at`; returns the position after the terminator.
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let len = *b.get(at)? as usize;
            at += 1;
            if len == 0 {
                return Some(at);
            }
            at += len;
        }
    };
    while let Some(&tag) = b.get(at) {
        match tag {
            0x21 => match skip_sub_blocks(at + 2) {
                Some(next) => at = next,
                None => break,
            },
            0x2C => {
                let Some(d) = b.get(at + 1..at + 10) else { break };
                let fw = u16::from_le_bytes([d[4], d[5]]) as u64;
                let fh = u16::from_le_bytes([d[6], d[7]]) as u64;
                frames += 1;
                largest = largest.max(fw * fh);
                at += 10;
                if d[8] & 0x80 != 0 {
                    at += 3 << ((d[8] & 7) + 1);
                }
                // LZW minimum code size, then the image data sub-blocks.
                match skip_sub_blocks(at + 1) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            0x3B => break,
            other => return Err(format!("damaged GIF: unknown block 0x{other:02x} at byte {at}")),
        }
    }
    Ok(GifLayout { width, height, frames, largest_frame_pixels: largest })
}

/// Check that a JPEG's data reaches its end-of-image marker: walk the marker segments and the
/// entropy-coded scans (stuffed `FF 00` bytes and restart markers are data); running out of bytes
/// before `FF D9` means the file was truncated.
pub fn jpeg_complete(b: &[u8]) -> std::result::Result<(), String> {
    const TRUNCATED: &str = "truncated JPEG: the data ends before the end-of-image marker";
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG (no start-of-image marker)".into());
    }
    let mut at = 2usize;
    loop {
        // Find the next marker (fill bytes 0xFF may precede it).
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(at), b.get(at + 1)) else {
            return Err(TRUNCATED.into());
        };
        at += 2;
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let (Some(&hi), Some(&lo)) = (b.get(at), b.get(at + 1)) else {
            return Err(TRUNCATED.into());
        };
        let len = u16::from_be_bytes([hi, lo]) as usize;
        if len < 2 {
            return Err(format!("damaged JPEG: segment length {len} at byte {at}"));
        }
        at += len;
        if at > b.len() {
            return Err(TRUNCATED.into());
        }
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is neither stuffing nor a restart.
            loop {
                match (b.get(at), b.get(at + 1)) {
                    (Some(&0xFF), Some(&next)) if next == 0x00 || (0xD0..=0xD7).contains(&next) || next == 0xFF => {
                        at += if next == 0xFF { 1 } else { 2 };
                    }
                    (Some(&0xFF), Some(_)) => break,
                    (Some(_), _) => at += 1,
                    (None, _) => return Err(TRUNCATED.into()),
                }
            }
        }
    }
}

/// A decoder error as one line naming the file. The image crate names grey or palette samples it
/// cannot decode (a grey 32-bit float TIFF) only as "color type Unknown(32)"; that case says what
/// the file holds and what to save it as instead (issue #29 item 26).
/// Open `path` for reading only if it is a regular file: a FIFO (or socket, device) would block
/// the reader for ever, waiting for a writer (issue #29 item 16), and a folder is no image.
pub fn open_regular(path: &Path) -> Result<std::fs::File> {
    let io_err = |source| ImageError::Io { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "is a folder, not a file"
        } else {
            "is not a regular file (a FIFO, socket or device); only regular files are read"
        };
        return Err(io_err(std::io::Error::new(std::io::ErrorKind::InvalidInput, what)));
    }
    std::fs::File::open(path).map_err(io_err)
}

/// The whole of a regular file (see [`open_regular`]).
pub fn read_regular(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?
        .read_to_end(&mut bytes)
        .map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    Ok(bytes)
}

pub(crate) fn decode_err(path: &Path, e: image::ImageError) -> ImageError {
    use image::error::{ImageError as E, UnsupportedErrorKind as K};
    let reason = match &e {
        E::Unsupported(u) => match u.kind() {
            K::Color(image::ExtendedColorType::Unknown(bits)) => format!(
                "{bits}-bit grey (or palette) samples are not supported, such as a grey 32-bit float TIFF; \
                 save it as 8/16-bit grey, as RGB float, or as FITS"
            ),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    };
    ImageError::Decode { path: path.to_path_buf(), reason }
}
