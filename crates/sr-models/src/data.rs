//! Training data for super-resolution: HR-only images degraded on the fly (Stellarium by default)
//! or real LR/HR pairs from two folders, sampled as aligned random patches with flips and 90° turns.

use std::path::{Path, PathBuf};

use astro_image::image_io::load_image;
use astro_image::{ColorMode, ImageLimits, Planes};
use burn::prelude::*;
use dataset::PlanesTensor;
use dataset::degrade::{DegradationConfig, degrade};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Result, SrError};

/// An image kept as 8-bit RGB to hold a whole training set in memory (≈ 450 MB for Stellarium).
#[derive(Debug, Clone)]
pub struct StoredImage {
    /// Where it came from.
    pub path: PathBuf,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Interleaved RGB bytes.
    pub rgb: Vec<u8>,
}

impl StoredImage {
    /// Quantise planes (grey is expanded to RGB) into a stored image.
    pub fn from_planes(path: PathBuf, p: &Planes) -> Self {
        let p = p.to_rgb();
        let n = p.pixels();
        let mut rgb = vec![0u8; n * 3];
        for c in 0..3 {
            for (i, v) in p.plane(c).iter().enumerate() {
                rgb[i * 3 + c] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
        StoredImage { path, width: p.width, height: p.height, rgb }
    }

    /// Load an image file as RGB.
    pub fn load(path: &Path) -> Result<Self> {
        let p = load_image(path, ColorMode::Rgb, ImageLimits::default())?;
        Ok(StoredImage::from_planes(path.to_path_buf(), &p))
    }

    /// The `w`×`h` window at (`x`, `y`) as planes in [0, 1].
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Planes {
        let mut p = Planes::zeros(3, h, w);
        for c in 0..3 {
            let plane = p.plane_mut(c);
            for yy in 0..h {
                let row = (y + yy) * self.width;
                for xx in 0..w {
                    plane[yy * w + xx] = self.rgb[(row + x + xx) * 3 + c] as f32 / 255.0;
                }
            }
        }
        p
    }

    /// The whole image as planes.
    pub fn planes(&self) -> Planes {
        self.crop(0, 0, self.width, self.height)
    }
}

/// Cut an image into `side`×`side` tiles (edge tiles keep whatever is left when at least
/// `min_side` wide/high), so uniform sampling over tiles is sampling proportional to area.
pub fn tiles(img: &StoredImage, side: usize, min_side: usize) -> Vec<StoredImage> {
    if img.width <= side && img.height <= side {
        return vec![img.clone()];
    }
    let cuts = |len: usize| {
        let mut v = Vec::new();
        let mut at = 0;
        while at < len {
            let n = side.min(len - at);
            if n >= min_side {
                v.push((at, n));
            }
            at += side;
        }
        v
    };
    let mut out = Vec::new();
    for (y, h) in cuts(img.height) {
        for (x, w) in cuts(img.width) {
            let mut rgb = Vec::with_capacity(w * h * 3);
            for yy in y..y + h {
                let row = (yy * img.width + x) * 3;
                rgb.extend_from_slice(&img.rgb[row..row + w * 3]);
            }
            out.push(StoredImage { path: img.path.clone(), width: w, height: h, rgb });
        }
    }
    out
}

/// Where the clean (HR) training images come from: folders of photographs and/or the
/// Stellarium deep-sky set; each folder holds back every 10th file for validation.
#[derive(Debug, Clone, Default)]
pub struct HrSources {
    /// Folders of clean images (non-recursive).
    pub folders: Vec<PathBuf>,
    /// Whether to add the Stellarium deep-sky set's train split (validation split for validation).
    pub stellarium: bool,
    /// Seed of the Stellarium object-level split.
    pub split_seed: u64,
}

/// Clean images for training and validation, and a line saying what they are.
#[derive(Debug, Clone)]
pub struct HrData {
    /// Training images, tiled to `tile` px so sampling follows area.
    pub train: Vec<StoredImage>,
    /// Validation images (whole).
    pub validation: Vec<StoredImage>,
    /// What was loaded, for logs and model cards.
    pub description: String,
}

impl HrSources {
    /// Load every source; training images are tiled to `tile` px and tiles smaller than `patch` dropped.
    pub fn load(&self, tile: usize, patch: usize) -> Result<HrData> {
        let mut data = HrData { train: Vec::new(), validation: Vec::new(), description: String::new() };
        let mut parts = Vec::new();
        // Add one source's training and validation files; says how many images and tiles it gave.
        let mut add = |tr: &[PathBuf], val: &[PathBuf]| -> Result<String> {
            let before = data.train.len();
            data.train.extend(load_all(tr)?.iter().flat_map(|i| tiles(i, tile, patch)));
            data.validation.extend(load_all(val)?);
            Ok(format!("{} train images ({} tiles) / {} validation", tr.len(), data.train.len() - before, val.len()))
        };
        for dir in &self.folders {
            let (val, tr): (Vec<_>, Vec<_>) = image_files(dir)?.into_iter().enumerate().partition(|(i, _)| i % 10 == 9);
            let tr: Vec<PathBuf> = tr.into_iter().map(|(_, p)| p).collect();
            let val: Vec<PathBuf> = val.into_iter().map(|(_, p)| p).collect();
            parts.push(format!("{}: {}", dir.display(), add(&tr, &val)?));
        }
        if self.stellarium {
            let tr = stellarium_images("train", self.split_seed)?;
            let val = stellarium_images("validation", self.split_seed)?;
            parts.push(format!("Stellarium deep-sky set (split seed {}): {}", self.split_seed, add(&tr, &val)?));
        }
        if data.train.is_empty() {
            return Err(SrError::Data("no training images (give --hr-dir and/or --stellarium)".into()));
        }
        data.description = parts.join("; ");
        Ok(data)
    }
}

/// Load many images in parallel; the first failure names its file.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<StoredImage>> {
    paths.par_iter().map(|p| StoredImage::load(p)).collect()
}

/// Where training pairs come from.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum PairSource {
    /// Clean images; the LR side is made by `degrade` with this configuration.
    Degrade {
        /// The clean (HR) images.
        images: Vec<StoredImage>,
        /// How to make the low-resolution input.
        degradation: DegradationConfig,
    },
    /// Real pairs (LR, HR), HR exactly `scale` times the LR size.
    Paired {
        /// `(lr, hr)` images.
        pairs: Vec<(StoredImage, StoredImage)>,
    },
}

/// One aligned training sample.
#[derive(Debug, Clone)]
pub struct SrSample {
    /// Low-resolution input.
    pub lr: Planes,
    /// High-resolution target.
    pub hr: Planes,
}

/// Random flips / transposition (the 8 symmetries of the square, `astro_image::dihedral`),
/// applied identically to LR and HR.
fn augment(p: &Planes, code: u8) -> Planes {
    astro_image::dihedral::dihedral_planes(p, code as usize)
}

/// Standard deviation of a patch's mean channel: used to skip empty-sky patches.
fn activity(p: &Planes) -> f32 {
    let n = p.pixels() as f32;
    let mut mean = 0.0;
    let mut sq = 0.0;
    for i in 0..p.pixels() {
        let v: f32 = (0..p.channels).map(|c| p.plane(c)[i]).sum::<f32>() / p.channels as f32;
        mean += v;
        sq += v * v;
    }
    mean /= n;
    (sq / n - mean * mean).max(0.0).sqrt()
}

impl PairSource {
    /// Number of images (or pairs).
    pub fn len(&self) -> usize {
        match self {
            PairSource::Degrade { images, .. } => images.len(),
            PairSource::Paired { pairs } => pairs.len(),
        }
    }

    /// Whether there is nothing to train on.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Check that every image can give an `hr_patch` crop at this scale.
    pub fn validate(&self, hr_patch: usize, scale: usize) -> Result<()> {
        if self.is_empty() {
            return Err(SrError::Data("no training images".into()));
        }
        if !hr_patch.is_multiple_of(scale) {
            return Err(SrError::Config(format!("patch {hr_patch} is not a multiple of the scale {scale}")));
        }
        match self {
            PairSource::Degrade { images, degradation } => {
                degradation.validate()?;
                if let Some(i) = images.iter().find(|i| i.width < hr_patch || i.height < hr_patch) {
                    return Err(SrError::Data(format!(
                        "{}: {}x{} is smaller than the {hr_patch}-pixel patch",
                        i.path.display(),
                        i.width,
                        i.height
                    )));
                }
            }
            PairSource::Paired { pairs } => {
                for (lr, hr) in pairs {
                    if hr.width != lr.width * scale || hr.height != lr.height * scale {
                        return Err(SrError::Data(format!(
                            "{} ({}x{}) is not ×{scale} of {} ({}x{})",
                            hr.path.display(),
                            hr.width,
                            hr.height,
                            lr.path.display(),
                            lr.width,
                            lr.height
                        )));
                    }
                    if hr.width < hr_patch || hr.height < hr_patch {
                        return Err(SrError::Data(format!("{} is smaller than the patch", hr.path.display())));
                    }
                }
            }
        }
        Ok(())
    }

    /// Draw one aligned, augmented sample (up to 10 tries to avoid a featureless patch).
    pub fn sample(&self, rng: &mut ChaCha8Rng, hr_patch: usize, scale: usize) -> Result<SrSample> {
        let lr_patch = hr_patch / scale;
        let mut best: Option<(f32, SrSample)> = None;
        for _ in 0..10 {
            let (lr, hr) = match self {
                PairSource::Degrade { images, degradation } => {
                    let img = &images[rng.random_range(0..images.len())];
                    let x = rng.random_range(0..=img.width - hr_patch);
                    let y = rng.random_range(0..=img.height - hr_patch);
                    let hr = img.crop(x, y, hr_patch, hr_patch);
                    let lr = degrade(&hr, degradation, scale, rng)?;
                    (lr, hr)
                }
                PairSource::Paired { pairs } => {
                    let (lr_img, hr_img) = &pairs[rng.random_range(0..pairs.len())];
                    let x = rng.random_range(0..=lr_img.width - lr_patch);
                    let y = rng.random_range(0..=lr_img.height - lr_patch);
                    (lr_img.crop(x, y, lr_patch, lr_patch), hr_img.crop(x * scale, y * scale, hr_patch, hr_patch))
                }
            };
            let code = rng.random_range(0..8u8);
            let sample = SrSample { lr: augment(&lr, code), hr: augment(&hr, code) };
            let a = activity(&sample.hr);
            if a > 0.04 {
                return Ok(sample);
            }
            if best.as_ref().is_none_or(|(b, _)| a > *b) {
                best = Some((a, sample));
            }
        }
        Ok(best.map(|(_, s)| s).expect("ten tries"))
    }

    /// Draw a batch as `[N, 3, h, w]` tensors (LR, HR).
    pub fn batch<B: Backend>(
        &self,
        rng: &mut ChaCha8Rng,
        batch: usize,
        hr_patch: usize,
        scale: usize,
        device: &B::Device,
    ) -> Result<(Tensor<B, 4>, Tensor<B, 4>)> {
        self.batch_shard(rng, batch, 0..batch, hr_patch, scale, device)
    }

    /// The samples `shard` of a batch of `batch`: the seeds of all `batch` samples are drawn from
    /// `rng` (so every data-parallel worker's `rng` stays in step), then only the shard's samples
    /// are cut and degraded, each from its own seed. The shards of all workers together are
    /// exactly the batch one worker would draw.
    pub fn batch_shard<B: Backend>(
        &self,
        rng: &mut ChaCha8Rng,
        batch: usize,
        shard: std::ops::Range<usize>,
        hr_patch: usize,
        scale: usize,
        device: &B::Device,
    ) -> Result<(Tensor<B, 4>, Tensor<B, 4>)> {
        use rand::{RngCore, SeedableRng};
        let seeds: Vec<u64> = (0..batch).map(|_| rng.next_u64()).collect();
        let samples = seeds[shard]
            .iter()
            .map(|&seed| self.sample(&mut ChaCha8Rng::seed_from_u64(seed), hr_patch, scale))
            .collect::<Result<Vec<_>>>()?;
        Ok(stack(&samples, device))
    }
}

/// Stack samples into `[N, C, h, w]` LR and HR tensors.
pub fn stack<B: Backend>(samples: &[SrSample], device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let lr = samples.iter().map(|s| s.lr.to_tensor::<B>(device).unsqueeze::<4>()).collect();
    let hr = samples.iter().map(|s| s.hr.to_tensor::<B>(device).unsqueeze::<4>()).collect();
    (Tensor::cat(lr, 0), Tensor::cat(hr, 0))
}

/// Fixed validation / test pairs: each image's centre crop (`side` px, a multiple of `scale`),
/// degraded with a per-image seed so every run and every model sees the same inputs.
pub fn fixed_pairs(
    images: &[StoredImage],
    degradation: &DegradationConfig,
    scale: usize,
    side: Option<usize>,
    seed: u64,
) -> Result<Vec<SrSample>> {
    use rand::SeedableRng;
    images
        .par_iter()
        .enumerate()
        .map(|(i, img)| {
            let (w, h) = match side {
                Some(s) => (s.min(img.width), s.min(img.height)),
                None => (img.width, img.height),
            };
            let (w, h) = (w / scale * scale, h / scale * scale);
            let (w, h) = (w / 2 * 2, h / 2 * 2);
            let hr = img.crop((img.width - w) / 2, (img.height - h) / 2, w, h);
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(i as u64 * 7919));
            let lr = degrade(&hr, degradation, scale, &mut rng)?;
            Ok(SrSample { lr, hr })
        })
        .collect()
}

/// The Stellarium deep-sky images of one split (`train`, `validation`, `test`), split by object with `seed`.
pub fn stellarium_images(part: &str, seed: u64) -> Result<Vec<PathBuf>> {
    let set = dataset::stellarium::StellariumSet::locate()?;
    let manifest = set.manifest()?;
    let split = dataset::stellarium_split(&manifest, seed);
    let items = match part {
        "train" => split.train,
        "validation" | "val" => split.validation,
        "test" => split.test,
        other => return Err(SrError::Config(format!("unknown split '{other}' (train, validation, test)"))),
    };
    Ok(items.into_iter().map(|i| i.path).collect())
}

/// Every survey image (DSS, SDSS, 2MASS, Pan-STARRS; see `SurveyOrigin`) of the Stellarium set:
/// real inputs for prettify's evaluation, never training data.
pub fn stellarium_survey_images() -> Result<Vec<PathBuf>> {
    let set = dataset::stellarium::StellariumSet::locate()?;
    Ok(set.manifest()?.into_iter().filter(|m| m.survey().is_some()).map(|m| m.path).collect())
}

/// Keep only the outreach (non-survey) images of a list of Stellarium images.
pub fn outreach_only(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let set = dataset::stellarium::StellariumSet::locate()?;
    let survey: std::collections::HashSet<PathBuf> =
        set.manifest()?.into_iter().filter(|m| m.survey().is_some()).map(|m| m.path).collect();
    Ok(paths.into_iter().filter(|p| !survey.contains(p)).collect())
}

/// Image files directly inside a folder (png, jpg, jpeg, tif, tiff), sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| SrError::io(dir, e))?;
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "tif" | "tiff"))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(SrError::Data(format!("{}: no images (png, jpg, tif) in this folder", dir.display())));
    }
    Ok(out)
}

/// Real pairs from two folders, matched by file stem (`lr/M31.png` ↔ `hr/M31.png`).
pub fn paired_folders(lr_dir: &Path, hr_dir: &Path) -> Result<Vec<(StoredImage, StoredImage)>> {
    let lr = image_files(lr_dir)?;
    let hr = image_files(hr_dir)?;
    let stem = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut pairs = Vec::new();
    for l in &lr {
        if let Some(h) = hr.iter().find(|h| stem(h) == stem(l)) {
            pairs.push((l.clone(), h.clone()));
        }
    }
    if pairs.is_empty() {
        return Err(SrError::Data(format!(
            "no file names in common between {} and {}",
            lr_dir.display(),
            hr_dir.display()
        )));
    }
    pairs.par_iter().map(|(l, h)| Ok((StoredImage::load(l)?, StoredImage::load(h)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ramp(w: usize, h: usize) -> StoredImage {
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, ((x * y) % 256) as u8]);
            }
        }
        StoredImage { path: "ramp".into(), width: w, height: h, rgb }
    }

    #[test]
    fn augmentations_are_the_eight_square_symmetries() {
        let p = ramp(4, 4).planes();
        let mut seen = std::collections::HashSet::new();
        for code in 0..8 {
            let a = augment(&p, code);
            let key: Vec<u32> = a.data.iter().map(|v| (v * 1000.0) as u32).collect();
            seen.insert(key);
        }
        assert_eq!(seen.len(), 8);
    }

    #[test]
    fn tiles_cover_the_image_and_keep_pixels() {
        let img = ramp(10, 7);
        let t = tiles(&img, 4, 2);
        // Columns 0-3, 4-7, 8-9; rows 0-3, 4-6.
        assert_eq!(t.len(), 6);
        assert_eq!((t[5].width, t[5].height), (2, 3));
        assert_eq!(t[4].crop(1, 2, 1, 1).data, img.crop(5, 6, 1, 1).data);
        assert_eq!(tiles(&img, 4, 3).len(), 4, "strips narrower than min_side are dropped");
        assert_eq!(tiles(&img, 16, 3).len(), 1);
    }

    #[test]
    fn paired_samples_stay_aligned() {
        // HR = LR upsampled ×2 by pixel replication: every sampled HR patch must equal its LR patch replicated.
        let lr = ramp(16, 12);
        let mut hr_rgb = Vec::new();
        for y in 0..24 {
            for x in 0..32 {
                let i = ((y / 2) * 16 + x / 2) * 3;
                hr_rgb.extend_from_slice(&lr.rgb[i..i + 3]);
            }
        }
        let hr = StoredImage { path: "hr".into(), width: 32, height: 24, rgb: hr_rgb };
        let src = PairSource::Paired { pairs: vec![(lr, hr)] };
        src.validate(8, 2).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..20 {
            let s = src.sample(&mut rng, 8, 2).unwrap();
            assert_eq!((s.lr.width, s.hr.width), (4, 8));
            for c in 0..3 {
                for y in 0..8 {
                    for x in 0..8 {
                        assert_eq!(s.hr.get(c, y, x), s.lr.get(c, y / 2, x / 2));
                    }
                }
            }
        }
        assert!(src.validate(8, 4).is_err(), "a ×2 pair used as ×4 is refused");
    }
}
