//! Image files ⇄ `f32` planes ⇄ burn tensors `[C, H, W]` in [0, 1].
//!
//! PNG, JPEG and TIFF are read in 8 or 16 bits per sample (16-bit precision is kept), grey,
//! palette, RGB and RGBA alike. Images above a pixel budget are refused from their header,
//! before any pixel buffer is allocated.

use std::io::{BufRead, Cursor};
use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData, backend::Backend};
use image::{DynamicImage, ImageBuffer, ImageFormat, ImageReader, Luma, Rgb};

use crate::error::{DatasetError, Result};

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

/// An image as `f32` planes in [0, 1], channel-major (`data[c][y][x]` flattened).
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Number of planes: 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Samples, `channels × height × width`, in [0, 1].
    pub data: Vec<f32>,
    /// Bits per sample of the source (8 or 16; 32 for float sources).
    pub bit_depth: u8,
}

impl Planes {
    /// A black image of the given size.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Planes { width, height, channels, data: vec![0.0; channels * height * width], bit_depth: 8 }
    }

    /// Wrap channel-major samples, checking the length.
    pub fn from_vec(channels: usize, height: usize, width: usize, data: Vec<f32>) -> Result<Self> {
        if data.len() != channels * height * width {
            return Err(DatasetError::Shape(format!("{} samples for {channels}x{height}x{width} planes", data.len())));
        }
        Ok(Planes { width, height, channels, data, bit_depth: 8 })
    }

    /// Number of pixels per plane.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// One plane as a slice.
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.pixels();
        &self.data[c * n..(c + 1) * n]
    }

    /// One plane as a mutable slice.
    pub fn plane_mut(&mut self, c: usize) -> &mut [f32] {
        let n = self.pixels();
        &mut self.data[c * n..(c + 1) * n]
    }

    /// Sample at channel `c`, row `y`, column `x`.
    pub fn get(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.height + y) * self.width + x]
    }

    /// Three planes: grey is replicated, RGB is returned as is.
    pub fn to_rgb(&self) -> Planes {
        if self.channels == 3 {
            return self.clone();
        }
        let mut data = Vec::with_capacity(3 * self.pixels());
        for _ in 0..3 {
            data.extend_from_slice(self.plane(0));
        }
        Planes { channels: 3, data, ..*self }
    }

    /// One plane: BT.601 luma of RGB, grey returned as is.
    pub fn to_luma(&self) -> Planes {
        if self.channels == 1 {
            return self.clone();
        }
        let (r, g, b) = (self.plane(0), self.plane(1), self.plane(2));
        let data = r.iter().zip(g).zip(b).map(|((r, g), b)| 0.299 * r + 0.587 * g + 0.114 * b).collect();
        Planes { channels: 1, data, ..*self }
    }

    /// Copy out the rectangle starting at (`x`, `y`) of size `w` × `h`.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Planes> {
        if x + w > self.width || y + h > self.height || w == 0 || h == 0 {
            return Err(DatasetError::Shape(format!(
                "crop {w}x{h}+{x}+{y} outside {}x{} image",
                self.width, self.height
            )));
        }
        let mut data = Vec::with_capacity(self.channels * w * h);
        for c in 0..self.channels {
            let p = self.plane(c);
            for row in y..y + h {
                data.extend_from_slice(&p[row * self.width + x..row * self.width + x + w]);
            }
        }
        Ok(Planes { width: w, height: h, channels: self.channels, data, bit_depth: self.bit_depth })
    }

    /// Clamp every sample to [0, 1] (NaN becomes 0).
    pub fn clamp01(&mut self) {
        for v in &mut self.data {
            *v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        }
    }

    /// Convert to a burn tensor of shape `[C, H, W]`.
    pub fn to_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 3> {
        let data = TensorData::new(self.data.clone(), [self.channels, self.height, self.width]);
        Tensor::from_data(data, device)
    }

    /// Build planes from a burn tensor of shape `[C, H, W]` (values are clamped to [0, 1]).
    pub fn from_tensor<B: Backend>(tensor: Tensor<B, 3>) -> Result<Planes> {
        let [c, h, w] = tensor.dims();
        if c != 1 && c != 3 {
            return Err(DatasetError::Shape(format!("tensor has {c} channels, expected 1 or 3")));
        }
        let data =
            tensor.into_data().convert::<f32>().to_vec::<f32>().map_err(|e| DatasetError::Shape(format!("{e:?}")))?;
        let mut planes = Planes::from_vec(c, h, w, data)?;
        planes.clamp01();
        Ok(planes)
    }

    /// Convert to an `image` crate buffer, 8 or 16 bits per sample.
    pub fn to_dynamic_image(&self, bit_depth: u8) -> Result<DynamicImage> {
        let (w, h) = (self.width as u32, self.height as u32);
        let interleave = |scale: f32| -> Vec<f32> {
            let n = self.pixels();
            let mut out = Vec::with_capacity(n * self.channels);
            for i in 0..n {
                for c in 0..self.channels {
                    let v = self.data[c * n + i];
                    out.push(if v.is_nan() { 0.0 } else { (v.clamp(0.0, 1.0) * scale).round() });
                }
            }
            out
        };
        let shape_err = || DatasetError::Shape(format!("{}x{}x{} planes", self.channels, h, w));
        let img = match (self.channels, bit_depth > 8) {
            (1, false) => DynamicImage::ImageLuma8(
                ImageBuffer::<Luma<u8>, _>::from_raw(w, h, interleave(255.0).into_iter().map(|v| v as u8).collect())
                    .ok_or_else(shape_err)?,
            ),
            (1, true) => DynamicImage::ImageLuma16(
                ImageBuffer::<Luma<u16>, _>::from_raw(
                    w,
                    h,
                    interleave(65535.0).into_iter().map(|v| v as u16).collect(),
                )
                .ok_or_else(shape_err)?,
            ),
            (3, false) => DynamicImage::ImageRgb8(
                ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, interleave(255.0).into_iter().map(|v| v as u8).collect())
                    .ok_or_else(shape_err)?,
            ),
            (3, true) => DynamicImage::ImageRgb16(
                ImageBuffer::<Rgb<u16>, _>::from_raw(w, h, interleave(65535.0).into_iter().map(|v| v as u16).collect())
                    .ok_or_else(shape_err)?,
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
                data[i] = if grey { r } else { 0.299 * r + 0.587 * g + 0.114 * b };
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
pub fn image_dimensions(path: &Path) -> Result<(u32, u32)> {
    let reader = open_reader(path)?;
    reader.into_dimensions().map_err(|e| decode_err(path, e))
}

/// Load an image file into planes, refusing it when it exceeds `limits`.
pub fn load_image(path: &Path, mode: ColorMode, limits: ImageLimits) -> Result<Planes> {
    let (w, h) = image_dimensions(path)?;
    check_budget(path, w, h, limits)?;
    let mut reader = open_reader(path)?;
    reader.limits(decoder_limits(w, h));
    let img = reader.decode().map_err(|e| decode_err(path, e))?;
    Ok(Planes::from_dynamic_image(&img, mode))
}

/// Decode an in-memory image (for example an upload); `name` labels errors.
pub fn load_image_bytes(bytes: &[u8], name: &str, mode: ColorMode, limits: ImageLimits) -> Result<Planes> {
    let path = PathBuf::from(name);
    let reader = bytes_reader(bytes, &path)?;
    let (w, h) = reader.into_dimensions().map_err(|e| decode_err(&path, e))?;
    check_budget(&path, w, h, limits)?;
    let mut reader = bytes_reader(bytes, &path)?;
    reader.limits(decoder_limits(w, h));
    let img = reader.decode().map_err(|e| decode_err(&path, e))?;
    Ok(Planes::from_dynamic_image(&img, mode))
}

/// Save planes as PNG, JPEG or TIFF (chosen by extension), atomically.
///
/// `bit_depth` 16 writes 16-bit PNG/TIFF (JPEG is always 8-bit). The file is written to a
/// temporary name beside the target and renamed, so an existing file is never left half-written.
pub fn save_image(planes: &Planes, path: &Path, bit_depth: u8) -> Result<()> {
    let format = ImageFormat::from_path(path)
        .map_err(|e| DatasetError::Encode { path: path.to_path_buf(), reason: e.to_string() })?;
    let depth = if format == ImageFormat::Jpeg { 8 } else { bit_depth };
    let img = planes.to_dynamic_image(depth)?;
    let mut bytes = Vec::new();
    let enc_err = |e: image::ImageError| DatasetError::Encode { path: path.to_path_buf(), reason: e.to_string() };
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
            return Err(DatasetError::Encode {
                path: path.to_path_buf(),
                reason: format!("unsupported output format {other:?} (use .png, .jpg or .tif)"),
            });
        }
    }
    write_atomic(path, &bytes)
}

/// Write bytes to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_err = |source| DatasetError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|source| DatasetError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(e)
    })
}

fn open_reader(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    let io_err = |source| DatasetError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut reader = std::io::BufReader::new(file);
    let head = reader.fill_buf().map_err(io_err)?.to_vec();
    Ok(ImageReader::with_format(reader, sniff(&head, path)?))
}

fn bytes_reader<'a>(bytes: &'a [u8], path: &Path) -> Result<ImageReader<Cursor<&'a [u8]>>> {
    Ok(ImageReader::with_format(Cursor::new(bytes), sniff(bytes, path)?))
}

/// The format given by the content's magic bytes (never the extension).
pub fn sniff(head: &[u8], path: &Path) -> Result<ImageFormat> {
    match image::guess_format(head) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff | ImageFormat::Gif)) => Ok(f),
        Ok(other) => Err(DatasetError::Decode {
            path: path.to_path_buf(),
            reason: format!("unsupported image format {other:?} (PNG, JPEG, TIFF or GIF expected)"),
        }),
        Err(_) => Err(DatasetError::Decode {
            path: path.to_path_buf(),
            reason: "not a recognised image (PNG, JPEG, TIFF or GIF expected)".into(),
        }),
    }
}

fn check_budget(path: &Path, width: u32, height: u32, limits: ImageLimits) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(DatasetError::Empty { path: path.to_path_buf(), width, height });
    }
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels {
        return Err(DatasetError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            pixels,
            budget: limits.max_pixels,
        });
    }
    Ok(())
}

/// Decoder limits matching the header we already checked, so a lying header cannot allocate more.
fn decoder_limits(width: u32, height: u32) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // 4 channels × 4 bytes (f32 conversion) plus the decoded buffer, with slack.
    limits.max_alloc = Some((width as u64 * height as u64 * 16).max(1 << 20) * 2);
    limits
}

fn decode_err(path: &Path, e: image::ImageError) -> DatasetError {
    DatasetError::Decode { path: path.to_path_buf(), reason: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(err, DatasetError::TooLarge { pixels: 10000, .. }), "{err}");
        assert!(err.to_string().contains("big.png"));

        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.png");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = load_image(&cut, ColorMode::Keep, ImageLimits::default()).unwrap_err();
        assert!(matches!(err, DatasetError::Decode { .. }), "{err}");
        assert!(err.to_string().contains("cut.png"));

        let txt = dir.path().join("notes.png");
        std::fs::write(&txt, b"hello, this is not an image").unwrap();
        let err = load_image(&txt, ColorMode::Keep, ImageLimits::default()).unwrap_err();
        assert!(err.to_string().contains("notes.png") && err.to_string().contains("not a recognised image"), "{err}");
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

    #[test]
    fn tensor_round_trip_keeps_layout() {
        type B = burn::backend::Flex;
        let p = gradient(3, 5, 7);
        let t = p.to_tensor::<B>(&Default::default());
        assert_eq!(t.dims(), [3, 5, 7]);
        let q = Planes::from_tensor(t).unwrap();
        assert_eq!(p.data, q.data);
    }
}
