//! Still images in bounded memory: decoded once in their compact form (8/16-bit samples, cropped
//! to `f32` one tile at a time) and written band by band — PNG and TIFF stream to disk, JPEG
//! keeps one 8-bit output buffer.

use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use astro_image::image_io::{image_dimensions, sniff};
use astro_image::{ColorMode, ImageError, ImageLimits, Planes};
use image::{DynamicImage, ImageReader};

use crate::error::{Result, SrError};
use crate::inference::TileSource;

/// Output formats for still images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StillFormat {
    /// PNG, 8 or 16 bits, streamed.
    Png,
    /// JPEG, 8 bits, quality 95.
    Jpeg,
    /// TIFF, 8 or 16 bits, streamed in strips.
    Tiff,
}

impl StillFormat {
    /// The format named by a file extension (`png`, `jpg`/`jpeg`, `tif`/`tiff`).
    pub fn from_extension(ext: &str) -> Option<StillFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(StillFormat::Png),
            "jpg" | "jpeg" => Some(StillFormat::Jpeg),
            "tif" | "tiff" => Some(StillFormat::Tiff),
            _ => None,
        }
    }
}

/// A decoded still image that hands out tiles as planes.
#[derive(Debug)]
pub struct DecodedImage {
    img: DynamicImage,
    channels: usize,
    bit_depth: u8,
}

impl DecodedImage {
    /// Wrap a decoded image (grey stays one plane, alpha is composited over black).
    pub fn new(img: DynamicImage) -> Self {
        use image::ColorType as C;
        let bit_depth = match img.color() {
            C::L16 | C::La16 | C::Rgb16 | C::Rgba16 => 16,
            C::Rgb32F | C::Rgba32F => 32,
            _ => 8,
        };
        let channels = if img.color().has_color() { 3 } else { 1 };
        DecodedImage { img, channels, bit_depth }
    }
}

impl TileSource for DecodedImage {
    fn width(&self) -> usize {
        self.img.width() as usize
    }
    fn height(&self) -> usize {
        self.img.height() as usize
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn bit_depth(&self) -> u8 {
        self.bit_depth
    }
    fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Planes> {
        let tile = self.img.crop_imm(x as u32, y as u32, w as u32, h as u32);
        Ok(Planes::from_dynamic_image(&tile, ColorMode::Keep))
    }
}

/// Decode a PNG/JPEG/TIFF file (format sniffed from its content), refusing it above `limits`.
pub fn load_still(path: &Path, limits: ImageLimits) -> Result<DecodedImage> {
    let (w, h) = image_dimensions(path)?;
    if w == 0 || h == 0 {
        return Err(ImageError::Empty { path: path.to_path_buf(), width: w, height: h }.into());
    }
    if w as u64 * h as u64 > limits.max_pixels {
        return Err(ImageError::TooLarge {
            path: path.to_path_buf(),
            width: w,
            height: h,
            pixels: w as u64 * h as u64,
            budget: limits.max_pixels,
        }
        .into());
    }
    let file = std::fs::File::open(path).map_err(|e| SrError::io(path, e))?;
    let mut reader = BufReader::new(file);
    // The chunks before the pixel data (a PNG's tRNS colour key among them).
    let mut head = Vec::with_capacity(64 * 1024);
    (&mut reader).take(64 * 1024).read_to_end(&mut head).map_err(|e| SrError::io(path, e))?;
    reader.rewind().map_err(|e| SrError::io(path, e))?;
    let format = sniff(&head[..head.len().min(16)], path)?;
    let mut r = ImageReader::with_format(reader, format);
    r.limits(astro_image::image_io::decoder_limits(w, h));
    let img = r.decode().map_err(|e| ImageError::Decode { path: path.to_path_buf(), reason: e.to_string() })?;
    let img =
        if format == image::ImageFormat::Png { astro_image::image_io::without_colour_key(&head, img) } else { img };
    Ok(DecodedImage::new(img))
}

/// The bands handed to a writer, and what produces them.
pub type BandRun<'a> = dyn FnOnce(&mut dyn FnMut(&Planes) -> Result<()>) -> Result<()> + 'a;

/// Write a `width`×`height` image of `channels` planes (1 or 3) at `bit_depth` (8 or 16) to
/// `file` as `format`, from the bands that `run` hands to its sink, top to bottom.
pub fn write_still(
    format: StillFormat,
    file: &mut std::fs::File,
    name: &Path,
    (width, height, channels): (usize, usize, usize),
    bit_depth: u8,
    run: Box<BandRun<'_>>,
) -> Result<()> {
    let enc = |reason: String| SrError::from(ImageError::Encode { path: name.to_path_buf(), reason });
    let sixteen = bit_depth > 8 && format != StillFormat::Jpeg;
    match format {
        StillFormat::Png => {
            let owned = file.try_clone().map_err(|x| SrError::io(name, x))?;
            let mut e = png::Encoder::new(BufWriter::new(owned), width as u32, height as u32);
            e.set_color(if channels == 1 { png::ColorType::Grayscale } else { png::ColorType::Rgb });
            e.set_depth(if sixteen { png::BitDepth::Sixteen } else { png::BitDepth::Eight });
            let writer = e.write_header().map_err(|x| enc(x.to_string()))?;
            let mut stream = writer.into_stream_writer().map_err(|x| enc(x.to_string()))?;
            run(&mut |band: &Planes| {
                let bytes: Vec<u8> = if sixteen {
                    band.to_interleaved_u16().iter().flat_map(|v| v.to_be_bytes()).collect()
                } else {
                    band.to_interleaved_u8()
                };
                stream.write_all(&bytes).map_err(|x| enc(x.to_string()))
            })?;
            stream.finish().map_err(|x| enc(x.to_string()))?;
        }
        StillFormat::Jpeg => {
            let mut buf: Vec<u8> = Vec::with_capacity(width * height * channels);
            run(&mut |band: &Planes| {
                buf.extend_from_slice(&band.to_interleaved_u8());
                Ok(())
            })?;
            let color = if channels == 1 { image::ExtendedColorType::L8 } else { image::ExtendedColorType::Rgb8 };
            let mut w = BufWriter::new(file);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, 95)
                .encode(&buf, width as u32, height as u32, color)
                .map_err(|x| enc(x.to_string()))?;
            w.flush().map_err(|x| enc(x.to_string()))?;
        }
        StillFormat::Tiff => {
            use tiff::encoder::colortype::{Gray8, Gray16, RGB8, RGB16};
            let dims = (width as u32, height as u32);
            let big = (width * height * channels * if sixteen { 2 } else { 1 }) as u64 > 3_900_000_000;
            let w = BufWriter::new(file);
            let r = match (channels, sixteen, big) {
                (1, false, false) => tiff_std::<Gray8, _>(w, dims, run, Planes::to_interleaved_u8),
                (1, true, false) => tiff_std::<Gray16, _>(w, dims, run, Planes::to_interleaved_u16),
                (_, false, false) => tiff_std::<RGB8, _>(w, dims, run, Planes::to_interleaved_u8),
                (_, true, false) => tiff_std::<RGB16, _>(w, dims, run, Planes::to_interleaved_u16),
                (1, false, true) => tiff_big::<Gray8, _>(w, dims, run, Planes::to_interleaved_u8),
                (1, true, true) => tiff_big::<Gray16, _>(w, dims, run, Planes::to_interleaved_u16),
                (_, false, true) => tiff_big::<RGB8, _>(w, dims, run, Planes::to_interleaved_u8),
                (_, true, true) => tiff_big::<RGB16, _>(w, dims, run, Planes::to_interleaved_u16),
            };
            r.map_err(|e| match e {
                TiffOr::Tiff(x) => enc(x.to_string()),
                TiffOr::Sr(x) => x,
            })?;
        }
    }
    Ok(())
}

/// An error of the TIFF encoder or of the band producer.
enum TiffOr {
    Tiff(tiff::TiffError),
    Sr(SrError),
}

impl From<tiff::TiffError> for TiffOr {
    fn from(e: tiff::TiffError) -> Self {
        TiffOr::Tiff(e)
    }
}

/// Rows per TIFF strip.
const STRIP_ROWS: usize = 64;

macro_rules! tiff_writer {
    ($name:ident, $kind:ty) => {
        fn $name<C, W>(
            w: W,
            (width, height): (u32, u32),
            run: Box<BandRun<'_>>,
            conv: fn(&Planes) -> Vec<C::Inner>,
        ) -> std::result::Result<(), TiffOr>
        where
            C: tiff::encoder::colortype::ColorType,
            [C::Inner]: tiff::encoder::TiffValue,
            C::Inner: Copy,
            W: Write + Seek,
        {
            let mut enc = tiff::encoder::TiffEncoder::<W, $kind>::new_generic(w)?;
            let mut image = enc.new_image::<C>(width, height)?;
            image.rows_per_strip(STRIP_ROWS as u32)?;
            let row_samples = width as usize * C::SAMPLE_FORMAT.len();
            let mut pending: Vec<C::Inner> = Vec::with_capacity(row_samples * STRIP_ROWS);
            let mut failure: Option<tiff::TiffError> = None;
            let r = run(&mut |band: &Planes| {
                pending.extend(conv(band));
                while pending.len() >= row_samples * STRIP_ROWS {
                    let rest = pending.split_off(row_samples * STRIP_ROWS);
                    if let Err(e) = image.write_strip(&pending) {
                        failure = Some(e);
                        return Err(SrError::Config("TIFF strip".into()));
                    }
                    pending = rest;
                }
                Ok(())
            });
            if let Some(e) = failure {
                return Err(TiffOr::Tiff(e));
            }
            r.map_err(TiffOr::Sr)?;
            if !pending.is_empty() {
                image.write_strip(&pending)?;
            }
            image.finish()?;
            Ok(())
        }
    };
}

tiff_writer!(tiff_std, tiff::encoder::TiffKindStandard);
tiff_writer!(tiff_big, tiff::encoder::TiffKindBig);

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(c: usize, h: usize, w: usize) -> Planes {
        let mut p = Planes::zeros(c, h, w);
        for (i, v) in p.data.iter_mut().enumerate() {
            *v = ((i * 7919) % 65536) as f32 / 65535.0;
        }
        p.bit_depth = 16;
        p
    }

    #[test]
    fn streamed_png_and_tiff_keep_sixteen_bits_and_jpeg_is_eight() {
        let dir = tempfile::tempdir().unwrap();
        for (c, name) in [(3, "a.png"), (1, "g.png"), (3, "a.tif"), (1, "g.tiff"), (3, "a.jpg")] {
            let p = gradient(c, 150, 37);
            let path = dir.path().join(name);
            let fmt = StillFormat::from_extension(path.extension().unwrap().to_str().unwrap()).unwrap();
            let mut f = std::fs::File::create(&path).unwrap();
            let src = p.clone();
            write_still(
                fmt,
                &mut f,
                &path,
                (37, 150, c),
                16,
                Box::new(move |sink: &mut dyn FnMut(&Planes) -> Result<()>| {
                    // Bands of uneven heights, as the tiler produces them.
                    let mut y = 0;
                    for k in [10usize, 65, 1, 74] {
                        let mut band = Planes::zeros(c, k, 37);
                        for ch in 0..c {
                            band.plane_mut(ch).copy_from_slice(&src.plane(ch)[y * 37..(y + k) * 37]);
                        }
                        sink(&band)?;
                        y += k;
                    }
                    Ok(())
                }),
            )
            .unwrap();
            drop(f);
            let back = load_still(&path, ImageLimits::default()).unwrap();
            assert_eq!((back.width(), back.height(), back.channels()), (37, 150, c), "{name}");
            let q = back.crop(0, 0, 37, 150).unwrap();
            if fmt == StillFormat::Jpeg {
                assert_eq!(back.bit_depth(), 8);
            } else {
                assert_eq!(back.bit_depth(), 16, "{name}");
                let max = p.data.iter().zip(&q.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                assert!(max < 1.0 / 65535.0, "{name}: {max}");
            }
        }
    }
}
