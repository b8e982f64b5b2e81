//! Frame sources: anything that yields numbered frames one at a time (SER and AVI videos, other
//! videos through ffmpeg, folders of PNG/TIFF/FITS frames), and [`open_source`], which picks one.

use std::path::{Path, PathBuf};

use astro_image::{ColorMode, ImageLimits, Planes};

use crate::error::{FrameError, Result, io_err};
use crate::io::avi::{AviOpen, AviReader};
use crate::io::ffmpeg_source::DecodedVideo;
use crate::io::ser::SerReader;

use crate::io::decode_scratch::DecodeScratch;

use crate::io::frame_source::FrameSource;

impl FrameSource for SerReader {
    fn len(&self) -> usize {
        SerReader::len(self)
    }
    fn dims(&self) -> (usize, usize) {
        (self.header().width, self.header().height)
    }
    fn channels(&self) -> usize {
        self.header().color.decoded_channels()
    }
    fn name(&self) -> String {
        self.path().display().to_string()
    }
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, scratch: &mut DecodeScratch) -> Result<()> {
        SerReader::read_luma_into(self, index, out, &mut scratch.samples)
    }
    fn read_planes(&self, index: usize) -> Result<Planes> {
        SerReader::read_planes(self, index)
    }
    fn read_luma_binned2_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        SerReader::read_mono_binned2_into(self, index, out, scratch)
    }
    fn read_luma_binned2_noise_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        noise: &mut Vec<f32>,
        scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        SerReader::read_mono_binned2_noise_into(self, index, out, noise, scratch)
    }
    fn reads_block_noise(&self) -> bool {
        SerReader::reads_block_noise(self)
    }
    fn block_noise_var(&self, index: usize, x0: usize, y0: usize, bw: usize, bh: usize) -> Result<f32> {
        SerReader::block_noise_var(self, index, x0, y0, bw, bh)
    }
}

/// A folder of PNG/TIFF/FITS frames in natural order (`f2.png` before `f10.png`), all the same size.
///
/// FITS frames (`.fits`, `.fit`, `.fts`: 8/16/32/64-bit integers with BZERO/BSCALE/BLANK, 32/64-bit
/// floats; 2-D mono or 3-plane colour cubes) are flipped to top-down rows (FITS row 1 is the bottom)
/// and scaled to [0, 1] by one divisor for the whole folder, taken from the first FITS frame's
/// largest value: 1 for float data already within [0, 1], else the smallest `2^k − 1 ≥ max` (k ≥ 8),
/// so 12-bit data in 16-bit files uses 4095 and `BZERO = 32768` data 65535. Values outside [0, 1]
/// are clamped; BLANK and NaN samples become 0.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    dir: PathBuf,
    files: Vec<PathBuf>,
    width: usize,
    height: usize,
    channels: usize,
    /// Divisor that maps FITS physical values to [0, 1] (from the first FITS frame).
    fits_divisor: f64,
}

/// File extensions read from frame folders.
pub const FRAME_EXTENSIONS: &[&str] = &["png", "tif", "tiff", "fits", "fit", "fts"];

/// Width, height and channels of a frame file, from its header only.
fn frame_shape(path: &Path) -> Result<(usize, usize, Option<usize>)> {
    if astro_image::fits::has_fits_extension(path) {
        let s = astro_image::fits::read_fits_shape(path)?;
        Ok((s.width, s.height, Some(s.channels)))
    } else {
        let (w, h) = astro_image::image_io::image_dimensions(path)?;
        Ok((w as usize, h as usize, None))
    }
}

/// The divisor that maps a FITS frame's physical values to [0, 1] (see [`ImageFolder`]).
pub fn fits_divisor(img: &astro_image::fits::FitsImage) -> f64 {
    let max = img.data.iter().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let float = img.bitpix < 0;
    if max <= 0.0 || (float && max <= 1.0) {
        return 1.0;
    }
    let bits = (max + 1.0).log2().ceil().clamp(8.0, 64.0);
    2f64.powf(bits) - 1.0
}

/// A FITS frame as planes in [0, 1], rows flipped to top-down; NaN where blank.
fn fits_planes(img: &astro_image::fits::FitsImage, divisor: f64, mode: ColorMode) -> Result<Planes> {
    let top_down = img.to_planes();
    let (w, h, c) = (img.width, img.height, img.channels);
    let n = w * h;
    let mut data = top_down.data.clone();
    data.iter_mut().for_each(|v| *v = ((*v as f64) / divisor).clamp(0.0, 1.0) as f32);
    if c == 3 && mode == ColorMode::Luma {
        let luma: Vec<f32> = (0..n).map(|i| astro_image::luma::bt601(data[i], data[n + i], data[2 * n + i])).collect();
        data = luma;
    }
    if c == 1 && mode == ColorMode::Rgb {
        data = data.repeat(3);
    }
    let channels = match mode {
        ColorMode::Luma => 1,
        ColorMode::Rgb => 3,
        ColorMode::Keep => c,
    };
    let mut p = Planes::from_vec(channels, h, w, data)?;
    p.bit_depth = top_down.bit_depth;
    Ok(p)
}

impl ImageFolder {
    /// List the frames of `dir` and check that they all have the size of the first (header reads only).
    pub fn open(dir: &Path) -> Result<ImageFolder> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| FRAME_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            })
            .collect();
        if files.is_empty() {
            return Err(FrameError::Empty(dir.to_path_buf()));
        }
        files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
        let (w, h, first_channels) = frame_shape(&files[0])?;
        for f in &files[1..] {
            let (fw, fh, _) = frame_shape(f)?;
            if (fw, fh) != (w, h) {
                return Err(FrameError::SizeMismatch {
                    path: f.clone(),
                    width: fw,
                    height: fh,
                    expected_width: w,
                    expected_height: h,
                });
            }
        }
        let fits_divisor = match files.iter().find(|f| astro_image::fits::has_fits_extension(f)) {
            Some(f) => fits_divisor(&astro_image::fits::read_fits(f)?),
            None => 1.0,
        };
        let channels = match first_channels {
            Some(c) => c,
            None => astro_image::image_io::load_image(&files[0], ColorMode::Keep, ImageLimits::default())?.channels,
        };
        Ok(ImageFolder { dir: dir.to_path_buf(), files, width: w, height: h, channels, fits_divisor })
    }

    /// The frame files in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn load(&self, index: usize, mode: ColorMode) -> Result<Planes> {
        let path = self.files.get(index).ok_or_else(|| FrameError::FrameOutOfRange {
            source_name: self.dir.display().to_string(),
            index,
            len: self.files.len(),
        })?;
        let mut p = if astro_image::fits::has_fits_extension(path) {
            fits_planes(&astro_image::fits::read_fits(path)?, self.fits_divisor, mode)?
        } else {
            astro_image::image_io::load_image(path, mode, ImageLimits::default())?
        };
        if (p.width, p.height) != (self.width, self.height) {
            return Err(FrameError::SizeMismatch {
                path: path.clone(),
                width: p.width,
                height: p.height,
                expected_width: self.width,
                expected_height: self.height,
            });
        }
        sanitize(&mut p.data);
        Ok(p)
    }
}

/// Replace NaN and ±∞ samples by 0 (FITS/TIFF float frames carry NaN for dead pixels); returns how many.
pub fn sanitize(data: &mut [f32]) -> usize {
    let mut n = 0;
    for v in data.iter_mut() {
        if !v.is_finite() {
            *v = 0.0;
            n += 1;
        }
    }
    n
}

impl FrameSource for ImageFolder {
    fn len(&self) -> usize {
        self.files.len()
    }
    fn dims(&self) -> (usize, usize) {
        (self.width, self.height)
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn name(&self) -> String {
        self.dir.display().to_string()
    }
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, _scratch: &mut DecodeScratch) -> Result<()> {
        let p = self.load(index, ColorMode::Luma)?;
        out.clear();
        out.extend_from_slice(&p.data);
        Ok(())
    }
    fn read_planes(&self, index: usize) -> Result<Planes> {
        self.load(index, ColorMode::Keep)
    }
}

/// Open a video or a folder of frames by path: `.ser` (SER), `.avi` (uncompressed AVI read
/// natively, compressed AVI through ffmpeg), other video extensions (`.mp4`, `.mkv`, `.mov`,
/// `.webm`, `.m4v`) through ffmpeg, a folder of PNG/TIFF/FITS frames; files with another extension
/// are recognised by their first bytes (SER, RIFF AVI).
pub fn open_source(path: &Path) -> Result<Box<dyn FrameSource>> {
    if path.is_dir() {
        return Ok(Box::new(ImageFolder::open(path)?));
    }
    if !path.exists() {
        return Err(FrameError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        });
    }
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    let mut magic = [0u8; 14];
    let got = {
        use std::io::Read;
        // A FIFO, socket or device is refused by name here, not opened (it could block forever).
        let mut f = astro_image::image_io::open_regular(path)?;
        let mut n = 0;
        while n < magic.len() {
            match f.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(path)(e)),
            }
        }
        n
    };
    let magic = &magic[..got];
    let is_avi = magic.len() >= 12 && &magic[..4] == b"RIFF" && &magic[8..12] == b"AVI ";
    match ext.as_deref() {
        Some("ser") => Ok(Box::new(SerReader::open(path)?)),
        Some("avi") => open_avi(path),
        _ if is_avi => open_avi(path),
        _ if magic.starts_with(crate::io::ser::MAGIC) => Ok(Box::new(SerReader::open(path)?)),
        _ if astro_image::video::is_video_path(path) => Ok(Box::new(DecodedVideo::open(path)?)),
        _ => Err(FrameError::Invalid(format!(
            "{}: unsupported input (expected a .ser or .avi video, a video ffmpeg can read (.mp4, .mkv, .mov, \
             .webm), or a folder of PNG/TIFF/FITS frames)",
            path.display()
        ))),
    }
}

/// An AVI: uncompressed formats natively, anything else through ffmpeg.
fn open_avi(path: &Path) -> Result<Box<dyn FrameSource>> {
    match AviReader::open_any(path)? {
        AviOpen::Raw(r) => Ok(Box::new(r)),
        AviOpen::NeedsDecoder { codec } => {
            tracing::info!("{}: codec {codec} is compressed; decoding it with ffmpeg", path.display());
            Ok(Box::new(DecodedVideo::open(path)?))
        }
    }
}

/// Compare strings so that embedded numbers sort by value ("frame2" < "frame10").
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (&a[..na], &b[..nb]);
                let ta: &[u8] = &da[da.iter().take_while(|&&c| c == b'0').count()..];
                let tb: &[u8] = &db[db.iter().take_while(|&&c| c == b'0').count()..];
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb)).then_with(|| na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_sorts_numbers_by_value() {
        let mut v = vec!["f10.png", "f2.png", "f1.png", "f02b.png", "g.png"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["f1.png", "f2.png", "f02b.png", "f10.png", "g.png"]);
    }

    #[test]
    fn folder_reads_in_natural_order_and_refuses_mixed_sizes() {
        let dir = tempfile::tempdir().unwrap();
        for (i, name) in ["f10.png", "f2.png", "f1.tif"].iter().enumerate() {
            let p = Planes::from_vec(1, 3, 4, vec![i as f32 / 4.0; 12]).unwrap();
            astro_image::image_io::save_image(&p, &dir.path().join(name), 16).unwrap();
        }
        let folder = ImageFolder::open(dir.path()).unwrap();
        let names: Vec<_> =
            folder.files().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["f1.tif", "f2.png", "f10.png"]);
        let mut out = Vec::new();
        folder.read_luma_into(2, &mut out, &mut DecodeScratch::default()).unwrap();
        assert!((out[0] - 0.0).abs() < 1e-4, "f10.png was written first with value 0");
        let odd = Planes::zeros(1, 5, 5);
        astro_image::image_io::save_image(&odd, &dir.path().join("f11.png"), 8).unwrap();
        let err = ImageFolder::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("f11.png") && err.contains("5x5") && err.contains("4x3"), "{err}");
    }

    #[test]
    fn sanitize_replaces_non_finite() {
        let mut v = vec![1.0, f32::NAN, f32::INFINITY, -0.5];
        assert_eq!(sanitize(&mut v), 2);
        assert_eq!(v, [1.0, 0.0, 0.0, -0.5]);
    }

    #[test]
    fn unknown_inputs_are_named() {
        let err = open_source(Path::new("/nonexistent/x.avi")).err().unwrap().to_string();
        assert!(err.contains("/nonexistent/x.avi"), "{err}");
    }
}
