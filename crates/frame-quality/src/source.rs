//! Frame sources: anything that yields numbered frames one at a time (SER videos, image folders).

use std::path::{Path, PathBuf};

use dataset::{ColorMode, ImageLimits, Planes};

use crate::error::{FrameError, Result, io_err};
use crate::ser::SerReader;

/// Per-thread buffers a source may use while decoding (reused across frames, so no per-frame allocation).
#[derive(Debug, Default)]
pub struct DecodeScratch {
    /// Colour samples before conversion to luma.
    pub samples: Vec<f32>,
    /// Full-resolution luma before binning.
    pub full: Vec<f32>,
}

/// A sequence of equally sized frames, read one at a time (never all in memory).
pub trait FrameSource: Sync + Send {
    /// Number of frames.
    fn len(&self) -> usize;
    /// Whether there are no frames.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Frame width and height.
    fn dims(&self) -> (usize, usize);
    /// Channels of [`FrameSource::read_planes`] (1 mono, 3 colour).
    fn channels(&self) -> usize;
    /// A name for messages (the file or folder).
    fn name(&self) -> String;
    /// Decode frame `index` as mono luma in [0, 1] into `out` (`width × height`, non-finite samples set to 0).
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, scratch: &mut DecodeScratch) -> Result<()>;
    /// Decode frame `index` as planes in [0, 1].
    fn read_planes(&self, index: usize) -> Result<Planes>;
    /// Decode frame `index` as mono luma already averaged over 2×2 blocks (`⌊w/2⌋ × ⌊h/2⌋`);
    /// returns the binned size. Sources override it to bin while decoding (one pass, no full-size buffer).
    fn read_luma_binned2_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        let mut full = std::mem::take(&mut scratch.full);
        self.read_luma_into(index, &mut full, scratch)?;
        let (w, h) = self.dims();
        let dims = crate::metrics::bin_into(crate::view::ImageView::new(&full, w, h), 2, out);
        scratch.full = full;
        Ok(dims)
    }
}

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
}

/// A folder of PNG/TIFF frames in natural order (`f2.png` before `f10.png`), all the same size.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    dir: PathBuf,
    files: Vec<PathBuf>,
    width: usize,
    height: usize,
    channels: usize,
}

/// File extensions read from frame folders.
pub const FRAME_EXTENSIONS: &[&str] = &["png", "tif", "tiff"];

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
        let (w, h) = dataset::image_io::image_dimensions(&files[0])?;
        for f in &files[1..] {
            let (fw, fh) = dataset::image_io::image_dimensions(f)?;
            if (fw, fh) != (w, h) {
                return Err(FrameError::SizeMismatch {
                    path: f.clone(),
                    width: fw as usize,
                    height: fh as usize,
                    expected_width: w as usize,
                    expected_height: h as usize,
                });
            }
        }
        let first = dataset::image_io::load_image(&files[0], ColorMode::Keep, ImageLimits::default())?;
        Ok(ImageFolder {
            dir: dir.to_path_buf(),
            files,
            width: w as usize,
            height: h as usize,
            channels: first.channels,
        })
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
        let mut p = dataset::image_io::load_image(path, mode, ImageLimits::default())?;
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

/// Open a SER file or a folder of frames by path.
pub fn open_source(path: &Path) -> Result<Box<dyn FrameSource>> {
    if path.is_dir() {
        return Ok(Box::new(ImageFolder::open(path)?));
    }
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("ser") => Ok(Box::new(SerReader::open(path)?)),
        _ if !path.exists() => Err(FrameError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        }),
        _ => Err(FrameError::Invalid(format!(
            "{}: unsupported input (expected a .ser video or a folder of PNG/TIFF frames)",
            path.display()
        ))),
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
            dataset::image_io::save_image(&p, &dir.path().join(name), 16).unwrap();
        }
        let folder = ImageFolder::open(dir.path()).unwrap();
        let names: Vec<_> =
            folder.files().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["f1.tif", "f2.png", "f10.png"]);
        let mut out = Vec::new();
        folder.read_luma_into(2, &mut out, &mut DecodeScratch::default()).unwrap();
        assert!((out[0] - 0.0).abs() < 1e-4, "f10.png was written first with value 0");
        let odd = Planes::zeros(1, 5, 5);
        dataset::image_io::save_image(&odd, &dir.path().join("f11.png"), 8).unwrap();
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
