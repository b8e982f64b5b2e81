//! Image files ⇄ `f32` planes in [0, 1] (no tensors here: `dataset::PlanesTensor` converts to burn).
//!
//! PNG, JPEG and TIFF are read in 8 or 16 bits per sample (16-bit precision is kept), grey,
//! palette, RGB and RGBA alike. Images above a pixel budget are refused from their header,
//! before any pixel buffer is allocated.

use std::io::{BufRead, Cursor};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, ImageFormat, ImageReader, Luma, Rgb};

pub use crate::atomic::write_atomic;
use crate::error::{ImageError, Result};
pub use crate::planes::Planes;

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

/// How to map the file's colour layout to planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMode {
    /// Grey stays one plane, everything else becomes three (alpha is composited over black).
    #[default]
    Keep,
    /// Always three planes (grey is replicated).
    Rgb,
    /// Always one plane (ITU-R BT.601 luma).
    Luma,
}

impl Planes {
    /// Convert to an `image` crate buffer, 8 or 16 bits per sample.
    pub fn to_dynamic_image(&self, bit_depth: u8) -> Result<DynamicImage> {
        let (w, h) = (self.width as u32, self.height as u32);
        let shape_err = || ImageError::Shape(format!("{}x{}x{} planes", self.channels, h, w));
        let img = match (self.channels, bit_depth > 8) {
            (1, false) => DynamicImage::ImageLuma8(
                ImageBuffer::<Luma<u8>, _>::from_raw(w, h, self.to_interleaved_u8()).ok_or_else(shape_err)?,
            ),
            (1, true) => DynamicImage::ImageLuma16(
                ImageBuffer::<Luma<u16>, _>::from_raw(w, h, self.to_interleaved_u16()).ok_or_else(shape_err)?,
            ),
            (3, false) => DynamicImage::ImageRgb8(
                ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, self.to_interleaved_u8()).ok_or_else(shape_err)?,
            ),
            (3, true) => DynamicImage::ImageRgb16(
                ImageBuffer::<Rgb<u16>, _>::from_raw(w, h, self.to_interleaved_u16()).ok_or_else(shape_err)?,
            ),
            _ => return Err(shape_err()),
        };
        Ok(img)
    }

    /// Build planes from a decoded image.
    pub fn from_dynamic_image(img: &DynamicImage, mode: ColorMode) -> Planes {
        use image::ColorType as C;
        let bit_depth = match img.color() {
            C::L16 | C::La16 | C::Rgb16 | C::Rgba16 => 16,
            C::Rgb32F | C::Rgba32F => 32,
            _ => 8,
        };
        let grey = !img.color().has_color();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let n = w * h;
        let want_grey = match mode {
            ColorMode::Keep => grey,
            ColorMode::Rgb => false,
            ColorMode::Luma => true,
        };
        // Alpha is composited over black: sky backgrounds are dark.
        let rgba = img.to_rgba32f();
        let mut data = vec![0.0f32; if want_grey { n } else { 3 * n }];
        for (i, px) in rgba.pixels().enumerate() {
            let [r, g, b, a] = px.0;
            let (r, g, b) = (r * a, g * a, b * a);
            if want_grey {
                data[i] = if grey { r } else { crate::luma::bt601(r, g, b) };
            } else {
                data[i] = r;
                data[n + i] = g;
                data[2 * n + i] = b;
            }
        }
        let mut planes = Planes { width: w, height: h, channels: if want_grey { 1 } else { 3 }, data, bit_depth };
        planes.clamp01();
        planes
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
    let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    let declared = gate_bytes(&bytes, path, limits, frames)?;
    Ok((bytes, declared))
}

/// Read the dimensions of an image file from its header without decoding pixels.
///
/// A JPEG is also checked for completeness (its data must reach the EOI marker), so a truncated
/// download is refused here, before any decoder fills its missing half with grey.
pub fn image_dimensions(path: &Path) -> Result<(u32, u32)> {
    let reader = open_reader(path)?;
    if reader.format() == Some(ImageFormat::Jpeg) {
        let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
        jpeg_complete(&bytes).map_err(|reason| ImageError::Decode { path: path.to_path_buf(), reason })?;
    }
    reader.into_dimensions().map_err(|e| decode_err(path, e))
}

/// Load an image file into planes, refusing it when it exceeds `limits` (see [`gate_bytes`]).
pub fn load_image(path: &Path, mode: ColorMode, limits: ImageLimits) -> Result<Planes> {
    let (bytes, declared) = gate_file(path, limits, Frames::First)?;
    decode_declared(&bytes, path, declared, mode)
}

/// Decode an in-memory image (for example an upload); `name` labels errors.
pub fn load_image_bytes(bytes: &[u8], name: &str, mode: ColorMode, limits: ImageLimits) -> Result<Planes> {
    let path = PathBuf::from(name);
    let declared = gate_bytes(bytes, &path, limits, Frames::First)?;
    decode_declared(bytes, &path, declared, mode)
}

/// Decode an in-memory image whose fully transparent pixels mean "no data" (HiPS tiles mark
/// pixels outside a survey's footprint so): as [`load_image_bytes`] with [`ColorMode::Keep`], then
/// every pixel with alpha 0 becomes NaN in all channels.
pub fn load_image_bytes_masked(bytes: &[u8], name: &str, limits: ImageLimits) -> Result<Planes> {
    let path = PathBuf::from(name);
    let declared = gate_bytes(bytes, &path, limits, Frames::First)?;
    let img = decode_dynamic(bytes, &path, declared)?;
    let mut planes = Planes::from_dynamic_image(&img, ColorMode::Keep);
    if img.color().has_alpha() {
        use image::GenericImageView;
        let n = planes.pixels();
        // Pixels are read one at a time (8-bit RGBA view): no second full-size buffer.
        for (i, (_, _, px)) in img.pixels().enumerate() {
            if px.0[3] == 0 {
                for c in 0..planes.channels {
                    planes.data[c * n + i] = f32::NAN;
                }
            }
        }
    }
    Ok(planes)
}

fn decode_dynamic(bytes: &[u8], path: &Path, declared: Declared) -> Result<DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), declared.format);
    reader.limits(decoder_limits(declared.width, declared.height));
    reader.decode().map_err(|e| decode_err(path, e))
}

fn decode_declared(bytes: &[u8], path: &Path, declared: Declared, mode: ColorMode) -> Result<Planes> {
    Ok(Planes::from_dynamic_image(&decode_dynamic(bytes, path, declared)?, mode))
}

/// Save planes as PNG, JPEG or TIFF (chosen by extension), atomically.
///
/// `bit_depth` 16 writes 16-bit PNG/TIFF (JPEG is always 8-bit). The file is written to a
/// temporary name beside the target and renamed, so an existing file is never left half-written.
pub fn save_image(planes: &Planes, path: &Path, bit_depth: u8) -> Result<()> {
    let format = ImageFormat::from_path(path)
        .map_err(|e| ImageError::Encode { path: path.to_path_buf(), reason: e.to_string() })?;
    let depth = if format == ImageFormat::Jpeg { 8 } else { bit_depth };
    let img = planes.to_dynamic_image(depth)?;
    let mut bytes = Vec::new();
    let enc_err = |e: image::ImageError| ImageError::Encode { path: path.to_path_buf(), reason: e.to_string() };
    match format {
        ImageFormat::Jpeg => {
            let img = DynamicImage::ImageRgb8(img.to_rgb8());
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
            img.write_with_encoder(enc).map_err(enc_err)?;
        }
        ImageFormat::Png | ImageFormat::Tiff => {
            img.write_to(&mut Cursor::new(&mut bytes), format).map_err(enc_err)?;
        }
        other => {
            return Err(ImageError::Encode {
                path: path.to_path_buf(),
                reason: format!("unsupported output format {other:?} (use .png, .jpg or .tif)"),
            });
        }
    }
    write_atomic(path, &bytes)
}

fn open_reader(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    let io_err = |source| ImageError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut reader = std::io::BufReader::new(file);
    let head = reader.fill_buf().map_err(io_err)?.to_vec();
    Ok(ImageReader::with_format(reader, sniff(&head, path)?))
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

fn decode_err(path: &Path, e: image::ImageError) -> ImageError {
    ImageError::Decode { path: path.to_path_buf(), reason: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_bytes_turn_transparent_pixels_into_no_data() {
        let img = image::RgbaImage::from_fn(3, 2, |x, y| {
            image::Rgba([60 * x as u8, 100, 200, if (x, y) == (1, 0) { 0 } else { 255 }])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
        let p = load_image_bytes_masked(&bytes, "tile.png", ImageLimits { max_pixels: 100 }).unwrap();
        assert_eq!((p.channels, p.width, p.height), (3, 3, 2));
        assert!((0..3).all(|c| p.get(c, 0, 1).is_nan()), "the transparent pixel is no data");
        assert_eq!(p.get(0, 1, 2), 120.0 / 255.0);
        assert_eq!(p.get(2, 0, 0), 200.0 / 255.0);
        let e = load_image_bytes_masked(b"<html>", "tile.png", ImageLimits { max_pixels: 100 }).unwrap_err();
        assert!(e.to_string().contains("tile.png"), "{e}");
        let e = load_image_bytes_masked(&bytes, "tile.png", ImageLimits { max_pixels: 5 }).unwrap_err();
        assert!(e.to_string().contains("budget"), "{e}");
    }

    fn gradient(c: usize, h: usize, w: usize) -> Planes {
        let mut p = Planes::zeros(c, h, w);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    p.data[(ch * h + y) * w + x] = ((x * 37 + y * 101 + ch * 11) % 65536) as f32 / 65535.0;
                }
            }
        }
        p
    }

    #[test]
    fn sixteen_bit_png_and_tiff_round_trip_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = gradient(3, 40, 50);
        for name in ["a.png", "a.tif"] {
            let path = dir.path().join(name);
            save_image(&p, &path, 16).unwrap();
            let q = load_image(&path, ColorMode::Keep, ImageLimits::default()).unwrap();
            assert_eq!(q.bit_depth, 16, "{name}");
            assert_eq!((q.channels, q.height, q.width), (3, 40, 50));
            let max_err = p.data.iter().zip(&q.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(max_err < 1.0 / 65535.0, "{name}: 16-bit precision lost, max err {max_err}");
        }
    }

    #[test]
    fn grey_eight_bit_png_and_jpeg_load_as_expected() {
        let dir = tempfile::tempdir().unwrap();
        let p = gradient(1, 32, 32);
        let png = dir.path().join("g.png");
        save_image(&p, &png, 8).unwrap();
        let q = load_image(&png, ColorMode::Keep, ImageLimits::default()).unwrap();
        assert_eq!((q.channels, q.bit_depth), (1, 8));
        let max_err = p.data.iter().zip(&q.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(max_err <= 0.5 / 255.0 + 1e-6, "{max_err}");
        let rgb = load_image(&png, ColorMode::Rgb, ImageLimits::default()).unwrap();
        assert_eq!(rgb.channels, 3);
        assert_eq!(rgb.plane(0), rgb.plane(2));
        let jpg = dir.path().join("g.jpg");
        save_image(&p.to_rgb(), &jpg, 8).unwrap();
        let j = load_image(&jpg, ColorMode::Keep, ImageLimits::default()).unwrap();
        assert_eq!((j.width, j.height), (32, 32));
    }

    #[test]
    fn rgba_is_composited_over_black() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rgba.png");
        let img = image::RgbaImage::from_fn(4, 4, |x, _| image::Rgba([200, 100, 50, if x < 2 { 255 } else { 0 }]));
        img.save(&path).unwrap();
        let p = load_image(&path, ColorMode::Keep, ImageLimits::default()).unwrap();
        assert_eq!(p.channels, 3);
        assert!((p.get(0, 0, 0) - 200.0 / 255.0).abs() < 1e-6);
        assert_eq!(p.get(0, 0, 3), 0.0);
    }

    #[test]
    fn refuses_oversized_truncated_and_non_images_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.png");
        save_image(&gradient(1, 100, 100), &path, 8).unwrap();
        let err = load_image(&path, ColorMode::Keep, ImageLimits { max_pixels: 5000 }).unwrap_err();
        assert!(matches!(err, ImageError::TooLarge { pixels: 10000, .. }), "{err}");
        assert!(err.to_string().contains("big.png"));

        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.png");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = load_image(&cut, ColorMode::Keep, ImageLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::Decode { .. }), "{err}");
        assert!(err.to_string().contains("cut.png"));

        let txt = dir.path().join("notes.png");
        std::fs::write(&txt, b"hello, this is not an image").unwrap();
        let err = load_image(&txt, ColorMode::Keep, ImageLimits::default()).unwrap_err();
        assert!(err.to_string().contains("notes.png") && err.to_string().contains("not a recognised image"), "{err}");
    }

    /// A GIF of `frames` 1×1 frames on a `w`×`h` logical screen (tiny file, big declared size).
    fn gif_bomb(w: u16, h: u16, frames: usize) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
        for _ in 0..frames {
            b.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00]);
        }
        b.push(0x3B);
        b
    }

    #[test]
    fn gif_logical_screen_bomb_is_refused_from_its_header() {
        let bytes = gif_bomb(30000, 30000, 1);
        assert!(bytes.len() < 100);
        let err = load_image_bytes(&bytes, "bomb.gif", ColorMode::Rgb, ImageLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::TooLarge { width: 30000, height: 30000, .. }), "{err}");
        assert!(err.to_string().contains("bomb.gif"), "{err}");
        let err = gate_bytes(&bytes, Path::new("bomb.gif"), ImageLimits::default(), Frames::All).unwrap_err();
        assert!(err.to_string().contains("30000x30000"), "{err}");
    }

    #[test]
    fn gif_frames_times_pixels_are_charged_and_named() {
        let bytes = gif_bomb(500, 500, 3000);
        let limits = ImageLimits { max_pixels: 25_000_000 };
        let d = gate_bytes(&bytes, Path::new("anim.gif"), limits, Frames::First).unwrap();
        assert_eq!((d.width, d.height, d.frames), (500, 500, 3000));
        let err = gate_bytes(&bytes, Path::new("anim.gif"), limits, Frames::All).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("anim.gif") && msg.contains("3000 frames") && msg.contains("750000000"), "{msg}");
        assert!(!msg.contains('\n'));
        // A small real animation passes, and the first frame decodes.
        let ok = gif_bomb(4, 4, 3);
        assert_eq!(gate_bytes(&ok, Path::new("ok.gif"), limits, Frames::All).unwrap().frames, 3);
        let p = load_image_bytes(&ok, "ok.gif", ColorMode::Rgb, limits).unwrap();
        assert_eq!((p.width, p.height), (4, 4));
    }

    #[test]
    fn truncated_jpeg_is_refused_not_filled_with_grey() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        save_image(&gradient(3, 256, 256), &path, 8).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(jpeg_complete(&bytes).is_ok());
        // Cut inside the entropy-coded data: the header is whole, the pixels are not.
        let cut = dir.path().join("half.jpg");
        std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
        for err in
            [load_image(&cut, ColorMode::Rgb, ImageLimits::default()).unwrap_err(), image_dimensions(&cut).unwrap_err()]
        {
            let msg = err.to_string();
            assert!(msg.contains("half.jpg") && msg.contains("truncated JPEG"), "{msg}");
        }
        // Trailing bytes after EOI are tolerated (cameras append them).
        let mut extra = bytes.clone();
        extra.extend_from_slice(b"trailer");
        assert!(jpeg_complete(&extra).is_ok());
    }

    /// A valid uncompressed RGB float32 TIFF with all rows in one strip.
    fn single_strip_f32_tiff(w: u32, h: u32) -> Vec<u8> {
        let data_len = w * h * 12;
        let entries: Vec<(u16, u16, u32, u32)> = vec![
            (256, 4, 1, w),                       // ImageWidth
            (257, 4, 1, h),                       // ImageLength
            (258, 3, 3, 8 + 2 + 13 * 12 + 4),     // BitsPerSample -> offset of 3 shorts
            (259, 3, 1, 1),                       // Compression none
            (262, 3, 1, 2),                       // RGB
            (273, 4, 1, 0),                       // StripOffsets (patched)
            (277, 3, 1, 3),                       // SamplesPerPixel
            (278, 4, 1, h),                       // RowsPerStrip: the whole image
            (279, 4, 1, data_len),                // StripByteCounts
            (284, 3, 1, 1),                       // PlanarConfiguration chunky
            (339, 3, 3, 8 + 2 + 13 * 12 + 4 + 6), // SampleFormat -> offset of 3 shorts
            (282, 5, 1, 0),                       // XResolution (patched)
            (283, 5, 1, 0),                       // YResolution (patched)
        ];
        let ifd_end = 8 + 2 + entries.len() as u32 * 12 + 4;
        let (bits_at, fmt_at, res_at) = (ifd_end, ifd_end + 6, ifd_end + 12);
        let strip_at = res_at + 8;
        let mut b = b"II*\0".to_vec();
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        let mut sorted = entries.clone();
        sorted.sort_by_key(|e| e.0);
        for (tag, typ, count, value) in sorted {
            let value = match tag {
                258 => bits_at,
                339 => fmt_at,
                273 => strip_at,
                282 | 283 => res_at,
                _ => value,
            };
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&typ.to_le_bytes());
            b.extend_from_slice(&count.to_le_bytes());
            if typ == 3 && count == 1 {
                b.extend_from_slice(&(value as u16).to_le_bytes());
                b.extend_from_slice(&[0, 0]);
            } else {
                b.extend_from_slice(&value.to_le_bytes());
            }
        }
        b.extend_from_slice(&0u32.to_le_bytes());
        for v in [32u16, 32, 32, 3, 3, 3] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&72u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        assert_eq!(b.len() as u32, strip_at);
        for i in 0..w * h * 3 {
            b.extend_from_slice(&((i % 97) as f32 / 96.0).to_le_bytes());
        }
        b
    }

    #[test]
    fn single_strip_float32_tiff_is_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("float.tif");
        std::fs::write(&path, single_strip_f32_tiff(300, 200)).unwrap();
        let p = load_image(&path, ColorMode::Keep, ImageLimits::default()).unwrap();
        assert_eq!((p.channels, p.height, p.width, p.bit_depth), (3, 200, 300, 32));
        assert!((p.get(0, 0, 1) - 3.0 / 96.0).abs() < 1e-6);
        // The defect: an allowance covering only the output buffer refuses the single strip.
        let bytes = std::fs::read(&path).unwrap();
        let mut old = decoder_limits(300, 200);
        old.max_alloc = Some(300 * 200 * 16);
        let mut r = ImageReader::with_format(Cursor::new(&bytes[..]), ImageFormat::Tiff);
        r.limits(old);
        assert!(r.decode().unwrap_err().to_string().contains("limit"));
    }

    #[test]
    fn save_is_atomic_and_keeps_the_old_file_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        save_image(&gradient(3, 8, 8), &path, 8).unwrap();
        let before = std::fs::read(&path).unwrap();
        // Wrong channel count cannot be encoded: the existing file must survive untouched.
        let bad = Planes { channels: 2, ..Planes::zeros(2, 8, 8) };
        assert!(save_image(&bad, &path, 8).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(leftovers.len(), 1, "temporary files left behind");
    }
}
