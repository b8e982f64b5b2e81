//! Image files ⇄ `f32` planes in [0, 1] (no tensors here: `dataset::PlanesTensor` converts to burn).
//!
//! PNG, JPEG and TIFF are read in 8 or 16 bits per sample (16-bit precision is kept), grey,
//! palette, RGB and RGBA alike. Images above a pixel budget are refused from their header,
//! before any pixel buffer is allocated: every load passes [`gate_bytes`] first (the gate, its
//! limits and the header walks live in `decode_gate` and are re-exported here).

use std::io::{BufRead, Cursor};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, ImageFormat, ImageReader, Luma, Rgb};

pub use crate::atomic::write_atomic;
use crate::decode_gate::decode_err;
pub use crate::decode_gate::{
    DEFAULT_PIXEL_BUDGET, Declared, Frames, ImageLimits, decoder_limits, gate_bytes, gate_file, jpeg_complete,
    open_regular, read_regular, sniff,
};
use crate::error::{ImageError, Result};
pub use crate::planes::Planes;

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

/// Read the dimensions of an image file from its header without decoding pixels.
///
/// A JPEG is also checked for completeness (its data must reach the EOI marker), so a truncated
/// download is refused here, before any decoder fills its missing half with grey.
pub fn image_dimensions(path: &Path) -> Result<(u32, u32)> {
    let reader = open_reader(path)?;
    if reader.format() == Some(ImageFormat::Jpeg) {
        let bytes = crate::decode_gate::read_regular(path)?;
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
    let img = decode_dynamic(bytes, path, declared)?;
    let img = if declared.format == ImageFormat::Png { without_colour_key(bytes, img) } else { img };
    Ok(Planes::from_dynamic_image(&img, mode))
}

/// A decoded PNG without the alpha a tRNS colour key gave it: a grey or RGB PNG has no alpha of
/// its own, and compositing the key over black would turn, in Stellarium's survey PNGs (which
/// declare pure white transparent), burnt-out star cores black. `head`: the file's first bytes
/// (through its chunks before the image data).
pub fn without_colour_key(head: &[u8], img: DynamicImage) -> DynamicImage {
    if !img.color().has_alpha() || !png_colour_key(head) {
        return img;
    }
    match img.color() {
        image::ColorType::La8 => DynamicImage::ImageLuma8(img.to_luma8()),
        image::ColorType::La16 => DynamicImage::ImageLuma16(img.to_luma16()),
        image::ColorType::Rgba16 => DynamicImage::ImageRgb16(img.to_rgb16()),
        _ => DynamicImage::ImageRgb8(img.to_rgb8()),
    }
}

/// Whether PNG `bytes` are grey or RGB (IHDR colour type 0 or 2) with a tRNS chunk: their only
/// transparency is a colour key.
fn png_colour_key(bytes: &[u8]) -> bool {
    if bytes.len() < 33 || !matches!(bytes[25], 0 | 2) {
        return false;
    }
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        match &bytes[at + 4..at + 8] {
            b"tRNS" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => at = at.saturating_add(12).saturating_add(len),
        }
    }
    false
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
    let file = crate::decode_gate::open_regular(path)?;
    let mut reader = std::io::BufReader::new(file);
    let head = reader.fill_buf().map_err(io_err)?.to_vec();
    Ok(ImageReader::with_format(reader, sniff(&head, path)?))
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
    fn a_png_colour_key_is_not_coverage() {
        // An RGB PNG whose tRNS declares white transparent: white stays white (a star's core).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.png");
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, 2, 1);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_trns(vec![0, 255, 0, 255, 0, 255]);
            let mut w = enc.write_header().unwrap();
            w.write_image_data(&[255, 255, 255, 10, 20, 30]).unwrap();
        }
        std::fs::write(&path, &bytes).unwrap();
        let p = load_image(&path, ColorMode::Keep, ImageLimits::default()).unwrap();
        assert_eq!(p.channels, 3);
        assert!((0..3).all(|c| p.get(c, 0, 0) == 1.0), "white became {}", p.get(0, 0, 0));
        assert!((p.get(2, 0, 1) - 30.0 / 255.0).abs() < 1e-6);
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
