//! Aligned HR/LR training patches, augmentation, a burn `Batcher` and an on-the-fly dataset.
//!
//! Alignment: with the MATLAB `imresize` convention LR pixel `j` is the centre of HR pixels
//! `j·s .. (j+1)·s`, so an LR crop at `(x, y)` of size `p` matches the HR crop at `(s·x, s·y)` of
//! size `s·p`. Flips and quarter turns are applied identically to both.
//!
//! Empty sky: most of a deep-sky photograph is dark background, and patches of it teach a model
//! nothing. A candidate HR patch is kept when the standard deviation of its luma is at least
//! [`PatchConfig::min_std`] **and** at least [`PatchConfig::min_signal_fraction`] of its pixels
//! are brighter than the patch's median (its background) by [`PatchConfig::signal_threshold`].
//! After [`PatchConfig::max_tries`] rejected candidates sampling fails with
//! [`DatasetError::EmptySky`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::degrade::{DegradationConfig, degrade};
use crate::error::{DatasetError, Result};
use crate::image_io::{ColorMode, ImageLimits, Planes, load_image};

/// How patches are cut, augmented and filtered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatchConfig {
    /// Side of the LR patch in pixels (default 48; the HR patch is `scale` times larger).
    pub lr_size: usize,
    /// Super-resolution factor (default 4; 1 for same-size translation).
    pub scale: usize,
    /// Random horizontal flips (default on).
    pub flips: bool,
    /// Random quarter turns (default on).
    pub rotations: bool,
    /// Minimum standard deviation of the HR patch luma (default 0.02, about 5 grey levels).
    pub min_std: f32,
    /// Minimum fraction of HR pixels above background + `signal_threshold` (default 0.01).
    pub min_signal_fraction: f32,
    /// How far above the patch median a pixel must be to count as signal (default 0.05).
    pub signal_threshold: f32,
    /// Candidates tried before giving up on an image (default 50).
    pub max_tries: usize,
    /// Extra LR pixels degraded around the patch so blur and resampling see real neighbours
    /// instead of padding (default 12: covers a 3″ DSS seeing halo at ×4).
    pub margin: usize,
}

impl Default for PatchConfig {
    fn default() -> Self {
        PatchConfig {
            lr_size: 48,
            scale: 4,
            flips: true,
            rotations: true,
            min_std: 0.02,
            min_signal_fraction: 0.01,
            signal_threshold: 0.05,
            max_tries: 50,
            margin: 12,
        }
    }
}

impl PatchConfig {
    /// Check sizes and thresholds.
    pub fn validate(&self) -> Result<()> {
        if self.lr_size == 0 || self.scale == 0 || self.max_tries == 0 {
            return Err(DatasetError::Config(format!(
                "patch lr_size ({}), scale ({}) and max_tries ({}) must be at least 1",
                self.lr_size, self.scale, self.max_tries
            )));
        }
        for (name, v) in [
            ("min_std", self.min_std),
            ("min_signal_fraction", self.min_signal_fraction),
            ("signal_threshold", self.signal_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(DatasetError::Config(format!("patch {name} = {v} must be in [0, 1]")));
            }
        }
        Ok(())
    }

    /// Side of the HR patch.
    pub fn hr_size(&self) -> usize {
        self.lr_size * self.scale
    }
}

/// One training example: a low-resolution input and its high-resolution target.
#[derive(Debug, Clone, PartialEq)]
pub struct SrItem {
    /// Degraded input, `lr_size²`.
    pub lr: Planes,
    /// Clean target, `(scale · lr_size)²`.
    pub hr: Planes,
}

/// How much a patch shows: luma standard deviation and fraction of pixels above background.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Structure {
    /// Standard deviation of the luma.
    pub std: f32,
    /// Fraction of pixels brighter than the median by the threshold.
    pub signal_fraction: f32,
}

/// Measure a patch's [`Structure`]; `threshold` is the height above the median that counts.
pub fn structure(patch: &Planes, threshold: f32) -> Structure {
    let luma = if patch.channels == 3 { patch.to_luma().data } else { patch.plane(0).to_vec() };
    let n = luma.len().max(1) as f64;
    let mean = luma.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (luma.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt() as f32;
    let mut sorted = luma.clone();
    let mid = sorted.len() / 2;
    let median = if sorted.is_empty() { 0.0 } else { *sorted.select_nth_unstable_by(mid, f32::total_cmp).1 };
    let above = luma.iter().filter(|&&v| v > median + threshold).count();
    Structure { std, signal_fraction: above as f32 / n as f32 }
}

/// Mirror left–right.
pub fn flip_horizontal(p: &Planes) -> Planes {
    let mut out = p.clone();
    for (dst, src) in out.data.chunks_mut(p.width).zip(p.data.chunks(p.width)) {
        for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
            *d = *s;
        }
    }
    out
}

/// Rotate a quarter turn counter-clockwise (NumPy's `rot90`): `out[i][j] = in[j][w - 1 - i]`.
pub fn rot90(p: &Planes) -> Planes {
    let (w, h) = (p.width, p.height);
    let mut data = Vec::with_capacity(p.data.len());
    for c in 0..p.channels {
        let plane = p.plane(c);
        for i in 0..w {
            for j in 0..h {
                data.push(plane[j * w + (w - 1 - i)]);
            }
        }
    }
    Planes { width: h, height: w, data, ..*p }
}

/// Apply an element of the dihedral group: optional horizontal flip, then `quarter_turns` × 90°.
pub fn dihedral(p: &Planes, flip: bool, quarter_turns: u8) -> Planes {
    let mut out = if flip { flip_horizontal(p) } else { p.clone() };
    for _ in 0..quarter_turns % 4 {
        out = rot90(&out);
    }
    out
}

/// Cuts aligned, augmented, non-empty HR/LR patches.
#[derive(Debug, Clone)]
pub struct PatchSampler {
    config: PatchConfig,
}

impl PatchSampler {
    /// A sampler with a checked configuration.
    pub fn new(config: PatchConfig) -> Result<Self> {
        config.validate()?;
        Ok(PatchSampler { config })
    }

    /// The configuration.
    pub fn config(&self) -> &PatchConfig {
        &self.config
    }

    /// Whether an HR patch passes the empty-sky test.
    pub fn has_structure(&self, hr_patch: &Planes) -> bool {
        let s = structure(hr_patch, self.config.signal_threshold);
        s.std >= self.config.min_std && s.signal_fraction >= self.config.min_signal_fraction
    }

    fn augment(&self, item: SrItem, rng: &mut ChaCha8Rng) -> SrItem {
        let flip = self.config.flips && rng.random::<bool>();
        let turns = if self.config.rotations { rng.random_range(0..4u8) } else { 0 };
        if !flip && turns == 0 {
            return item;
        }
        SrItem { lr: dihedral(&item.lr, flip, turns), hr: dihedral(&item.hr, flip, turns) }
    }

    /// Cut a patch from an existing pair (`lr` must be `hr` shrunk `scale` times, rounding down).
    pub fn sample_pair(&self, lr: &Planes, hr: &Planes, rng: &mut ChaCha8Rng) -> Result<SrItem> {
        let (p, s) = (self.config.lr_size, self.config.scale);
        if lr.width < p || lr.height < p || hr.width < lr.width * s || hr.height < lr.height * s {
            return Err(DatasetError::Shape(format!(
                "LR {}x{} / HR {}x{} cannot give {p}px patches at ×{s}",
                lr.width, lr.height, hr.width, hr.height
            )));
        }
        for _ in 0..self.config.max_tries {
            let (x, y) = (rng.random_range(0..=lr.width - p), rng.random_range(0..=lr.height - p));
            let hr_patch = hr.crop(x * s, y * s, p * s, p * s)?;
            if self.has_structure(&hr_patch) {
                let item = SrItem { lr: lr.crop(x, y, p, p)?, hr: hr_patch };
                return Ok(self.augment(item, rng));
            }
        }
        Err(DatasetError::EmptySky { what: format!("{}x{} image", hr.width, hr.height), tries: self.config.max_tries })
    }

    /// Pick a non-empty HR patch, degrade it with `margin` LR pixels of context, and crop both.
    ///
    /// Much cheaper than degrading the whole image; the margin keeps blur kernels and resampling
    /// from seeing the window's padding inside the patch.
    pub fn sample_degraded(
        &self,
        hr: &Planes,
        degradation: &DegradationConfig,
        rng: &mut ChaCha8Rng,
    ) -> Result<SrItem> {
        let (p, s) = (self.config.lr_size, self.config.scale);
        if hr.width < p * s || hr.height < p * s {
            return Err(DatasetError::Shape(format!(
                "{}x{} image is smaller than a {}px HR patch",
                hr.width,
                hr.height,
                p * s
            )));
        }
        // Context around the patch, as much as fits (in LR pixels).
        let mx = self.config.margin.min((hr.width / s - p) / 2);
        let my = self.config.margin.min((hr.height / s - p) / 2);
        let (ww, wh) = ((p + 2 * mx) * s, (p + 2 * my) * s);
        for _ in 0..self.config.max_tries {
            let (x0, y0) = (rng.random_range(0..=hr.width - ww), rng.random_range(0..=hr.height - wh));
            let hr_patch = hr.crop(x0 + mx * s, y0 + my * s, p * s, p * s)?;
            if !self.has_structure(&hr_patch) {
                continue;
            }
            let window = hr.crop(x0, y0, ww, wh)?;
            let lr_window = degrade(&window, degradation, s, rng)?;
            let item = SrItem { lr: lr_window.crop(mx, my, p, p)?, hr: hr_patch };
            return Ok(self.augment(item, rng));
        }
        Err(DatasetError::EmptySky { what: format!("{}x{} image", hr.width, hr.height), tries: self.config.max_tries })
    }
}

/// A batch of aligned patches as NCHW tensors in [0, 1].
#[derive(Debug, Clone)]
pub struct SrBatch<B: Backend> {
    /// Inputs `[N, C, p, p]`.
    pub lr: Tensor<B, 4>,
    /// Targets `[N, C, s·p, s·p]`.
    pub hr: Tensor<B, 4>,
}

/// Stacks [`SrItem`]s into an [`SrBatch`] (burn's `Batcher`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SrBatcher {
    /// Convert every item to this many channels (1: luma, 3: RGB); `None` keeps them as they are.
    pub channels: Option<usize>,
}

impl SrBatcher {
    /// A batcher that converts items to `channels` (1 or 3).
    pub fn with_channels(channels: usize) -> Self {
        SrBatcher { channels: Some(channels) }
    }

    fn convert(&self, p: &Planes) -> Planes {
        match self.channels {
            Some(1) => p.to_luma(),
            Some(3) => p.to_rgb(),
            _ => p.clone(),
        }
    }

    fn stack<B: Backend>(&self, planes: Vec<Planes>, what: &str, device: &B::Device) -> Result<Tensor<B, 4>> {
        let first = planes.first().ok_or_else(|| DatasetError::Shape("cannot batch zero items".into()))?;
        let (c, h, w) = (first.channels, first.height, first.width);
        let mut data = Vec::with_capacity(planes.len() * c * h * w);
        for (i, p) in planes.iter().enumerate() {
            if (p.channels, p.height, p.width) != (c, h, w) {
                return Err(DatasetError::Shape(format!(
                    "{what} {i} is {}x{}x{}, item 0 is {c}x{h}x{w}",
                    p.channels, p.height, p.width
                )));
            }
            data.extend_from_slice(&p.data);
        }
        Ok(Tensor::from_data(TensorData::new(data, [planes.len(), c, h, w]), device))
    }

    /// Stack items, reporting mismatched shapes or an empty list as an error.
    pub fn try_batch<B: Backend>(&self, items: Vec<SrItem>, device: &B::Device) -> Result<SrBatch<B>> {
        let (lr, hr): (Vec<Planes>, Vec<Planes>) =
            items.iter().map(|it| (self.convert(&it.lr), self.convert(&it.hr))).unzip();
        Ok(SrBatch { lr: self.stack(lr, "LR item", device)?, hr: self.stack(hr, "HR item", device)? })
    }
}

impl<B: Backend> Batcher<B, SrItem, SrBatch<B>> for SrBatcher {
    /// Panics when items disagree in shape (the patch sampler never produces such items).
    fn batch(&self, items: Vec<SrItem>, device: &B::Device) -> SrBatch<B> {
        match self.try_batch(items, device) {
            Ok(batch) => batch,
            Err(e) => panic!("SrBatcher: {e}"),
        }
    }
}

/// Where an HR image comes from.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Memory(Arc<Planes>),
}

/// HR images degraded on the fly into patches: item `i` is patch `i mod k` of image `i / k`
/// (`k` = patches per image), drawn from a ChaCha8 stream fixed by `(seed, i)`.
///
/// The same index always gives the same item; change the seed (e.g. per epoch) for new draws.
#[derive(Debug, Clone)]
pub struct SrDataset {
    sources: Vec<Source>,
    degradation: DegradationConfig,
    sampler: PatchSampler,
    patches_per_image: usize,
    seed: u64,
    limits: ImageLimits,
}

impl SrDataset {
    /// Images read from `paths` at every `get` (RGB, default pixel budget).
    pub fn from_paths(
        paths: Vec<PathBuf>,
        degradation: DegradationConfig,
        patch: PatchConfig,
        seed: u64,
    ) -> Result<Self> {
        Self::new(paths.into_iter().map(Source::File).collect(), degradation, patch, seed)
    }

    /// Images already in memory.
    pub fn in_memory(
        images: Vec<Planes>,
        degradation: DegradationConfig,
        patch: PatchConfig,
        seed: u64,
    ) -> Result<Self> {
        Self::new(images.into_iter().map(|p| Source::Memory(Arc::new(p))).collect(), degradation, patch, seed)
    }

    fn new(sources: Vec<Source>, degradation: DegradationConfig, patch: PatchConfig, seed: u64) -> Result<Self> {
        degradation.validate()?;
        let sampler = PatchSampler::new(patch)?;
        Ok(SrDataset { sources, degradation, sampler, patches_per_image: 1, seed, limits: ImageLimits::default() })
    }

    /// Draw `k` patches from each image per pass (default 1).
    pub fn with_patches_per_image(mut self, k: usize) -> Self {
        self.patches_per_image = k.max(1);
        self
    }

    /// Use another seed (for example `base_seed + epoch`).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Pixel budget for images read from files.
    pub fn with_limits(mut self, limits: ImageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Decode every file now and keep the planes in memory.
    pub fn load_all(mut self) -> Result<Self> {
        for s in &mut self.sources {
            if let Source::File(path) = s {
                *s = Source::Memory(Arc::new(load_image(path, ColorMode::Rgb, self.limits)?));
            }
        }
        Ok(self)
    }

    /// Number of HR images.
    pub fn images(&self) -> usize {
        self.sources.len()
    }

    /// Item `index`, or why it could not be made (unreadable file, empty sky, too small).
    pub fn try_get(&self, index: usize) -> Result<SrItem> {
        let len = self.len();
        if index >= len {
            return Err(DatasetError::Config(format!("item {index} is out of range (dataset has {len} items)")));
        }
        self.item_from(index / self.patches_per_image, index)
    }

    /// Patch number `index` (its random stream) cut from image `image`.
    fn item_from(&self, image: usize, index: usize) -> Result<SrItem> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64);
        let (image, name) = match &self.sources[image] {
            Source::File(path) => (Arc::new(load_image(path, ColorMode::Rgb, self.limits)?), path.as_path()),
            Source::Memory(p) => (p.clone(), Path::new("<memory>")),
        };
        self.sampler.sample_degraded(&image, &self.degradation, &mut rng).map_err(|e| match e {
            DatasetError::EmptySky { what, tries } => {
                DatasetError::EmptySky { what: format!("{} ({what})", name.display()), tries }
            }
            DatasetError::Shape(reason) => DatasetError::Shape(format!("{}: {reason}", name.display())),
            other => other,
        })
    }
}

impl Dataset<SrItem> for SrDataset {
    /// The item; when its image fails (unreadable, empty sky, too small) a warning names it and
    /// the next image that works stands in, because burn's data loaders end an epoch at the first
    /// `None`. `None` only when the index is out of range or no image works.
    fn get(&self, index: usize) -> Option<SrItem> {
        if index >= self.len() {
            return None;
        }
        let n = self.sources.len();
        let first = index / self.patches_per_image;
        for attempt in 0..n {
            match self.item_from((first + attempt) % n, index) {
                Ok(item) => return Some(item),
                Err(e) => tracing::warn!("item {index}: {e}"),
            }
        }
        None
    }

    fn len(&self) -> usize {
        self.sources.len() * self.patches_per_image
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resize::imresize;
    use crate::stellarium::StellariumSet;

    type B = burn::backend::Flex;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// Deterministic texture: every pixel distinct, smooth enough for bicubic.
    fn texture(c: usize, h: usize, w: usize) -> Planes {
        let mut p = Planes::zeros(c, h, w);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let (fx, fy) = (x as f32, y as f32);
                    p.data[(ch * h + y) * w + x] = 0.5
                        + 0.2 * (fx * 0.13 + ch as f32).sin() * (fy * 0.07).cos()
                        + 0.1 * (fx * 0.05 + fy * 0.11).sin();
                }
            }
        }
        p
    }

    fn stellarium_images(names: &[&str]) -> Vec<PathBuf> {
        let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
        names.iter().map(|n| set.nebulae_dir.join(n)).collect()
    }

    /// max |LR − imresize(HR)| over the patch interior (`border` LR pixels left out).
    fn interior_error(item: &SrItem, scale: usize, border: usize) -> f32 {
        let p = item.lr.width;
        let expected = imresize(&item.hr, p, p);
        let mut max = 0.0f32;
        for c in 0..item.lr.channels {
            for y in border..p - border {
                for x in border..p - border {
                    max = max.max((item.lr.get(c, y, x) - expected.get(c, y, x)).abs());
                }
            }
        }
        assert_eq!(item.hr.width, p * scale);
        max
    }

    #[test]
    fn dihedral_transforms_are_correct() {
        let p = Planes::from_vec(1, 2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        // [[1 2 3] [4 5 6]] turned a quarter counter-clockwise is [[3 6] [2 5] [1 4]].
        let r = rot90(&p);
        assert_eq!((r.width, r.height), (2, 3));
        assert_eq!(r.data, vec![3.0, 6.0, 2.0, 5.0, 1.0, 4.0]);
        assert_eq!(flip_horizontal(&p).data, vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        let t = texture(3, 5, 7);
        assert_eq!(dihedral(&t, false, 4), t);
        assert_eq!(flip_horizontal(&flip_horizontal(&t)), t);
        assert_eq!(dihedral(&dihedral(&t, false, 1), false, 3), t);
        // All eight elements are distinct on a generic image.
        let sq = texture(1, 6, 6);
        let all: Vec<Planes> = (0..8).map(|i| dihedral(&sq, i >= 4, (i % 4) as u8)).collect();
        for i in 0..8 {
            for j in 0..i {
                assert_ne!(all[i], all[j], "{i} == {j}");
            }
        }
    }

    #[test]
    fn lr_and_hr_stay_aligned_through_flips_and_rotations() {
        let hr = texture(3, 192, 160);
        let cfg =
            PatchConfig { lr_size: 16, scale: 4, min_std: 0.0, min_signal_fraction: 0.0, ..PatchConfig::default() };
        let sampler = PatchSampler::new(cfg).unwrap();
        let bicubic = DegradationConfig::bicubic();
        // Whole-image degradation then aligned crops.
        let lr = degrade(&hr, &bicubic, 4, &mut rng(0)).unwrap();
        let mut r = rng(1);
        for _ in 0..16 {
            let item = sampler.sample_pair(&lr, &hr, &mut r).unwrap();
            let err = interior_error(&item, 4, 3);
            assert!(err < 1e-5, "whole-image pair misaligned: {err}");
        }
        // Window degradation with margin.
        for _ in 0..16 {
            let item = sampler.sample_degraded(&hr, &bicubic, &mut r).unwrap();
            let err = interior_error(&item, 4, 3);
            assert!(err < 1e-5, "windowed pair misaligned: {err}");
        }
        // The check can fail: a mirrored HR patch does not match its LR patch.
        let item = sampler.sample_pair(&lr, &hr, &mut rng(2)).unwrap();
        let wrong = SrItem { lr: item.lr.clone(), hr: flip_horizontal(&item.hr) };
        assert!(interior_error(&wrong, 4, 3) > 1e-2, "the alignment check cannot fail");
    }

    #[test]
    fn augmentation_applies_one_dihedral_transform_to_both() {
        let hr = texture(3, 96, 96);
        let lr = degrade(&hr, &DegradationConfig::bicubic(), 2, &mut rng(0)).unwrap();
        let base =
            PatchConfig { lr_size: 12, scale: 2, min_std: 0.0, min_signal_fraction: 0.0, ..PatchConfig::default() };
        let plain = PatchSampler::new(PatchConfig { flips: false, rotations: false, ..base }).unwrap();
        let aug = PatchSampler::new(base).unwrap();
        let mut seen = std::collections::HashSet::new();
        for seed in 0..24 {
            let a = aug.sample_pair(&lr, &hr, &mut rng(seed)).unwrap();
            let b = plain.sample_pair(&lr, &hr, &mut rng(seed)).unwrap();
            let g = (0..8u8)
                .find(|&g| dihedral(&b.hr, g >= 4, g % 4) == a.hr)
                .expect("augmented HR is not a dihedral transform of the crop");
            assert_eq!(dihedral(&b.lr, g >= 4, g % 4), a.lr, "LR got a different transform than HR");
            seen.insert(g);
        }
        assert!(seen.len() >= 6, "only transforms {seen:?} drawn in 24 tries");
    }

    #[test]
    fn real_stellarium_patches_are_aligned_and_augmented() {
        let paths = stellarium_images(&["m42.png", "m31.png"]);
        let hr = load_image(&paths[0], ColorMode::Rgb, ImageLimits::default()).unwrap();
        let sampler = PatchSampler::new(PatchConfig { lr_size: 24, ..PatchConfig::default() }).unwrap();
        let mut r = rng(5);
        for _ in 0..8 {
            let item = sampler.sample_degraded(&hr, &DegradationConfig::bicubic(), &mut r).unwrap();
            assert_eq!((item.lr.width, item.hr.width, item.lr.channels), (24, 96, 3));
            assert!(sampler.has_structure(&item.hr));
            let err = interior_error(&item, 4, 3);
            assert!(err < 1e-4, "M42 patch misaligned: {err}");
        }
        // Survey-like degradation on real data: sizes hold and LR stays close to bicubic LR.
        let dss = DegradationConfig { jpeg: None, ..DegradationConfig::dss() };
        let item = sampler.sample_degraded(&hr, &dss, &mut r).unwrap();
        assert_eq!((item.lr.width, item.lr.height, item.hr.width), (24, 24, 96));
        let bic = imresize(&item.hr, 24, 24);
        let mae = item.lr.data.iter().zip(&bic.data).map(|(a, b)| (a - b).abs()).sum::<f32>() / bic.data.len() as f32;
        assert!(mae > 0.005 && mae < 0.3, "DSS degradation MAE vs bicubic {mae}");
    }

    #[test]
    fn empty_sky_is_skipped_and_all_black_fails_clearly() {
        let sampler =
            PatchSampler::new(PatchConfig { lr_size: 8, scale: 2, max_tries: 20, ..PatchConfig::default() }).unwrap();
        let black = Planes::zeros(3, 64, 64);
        let err = sampler.sample_degraded(&black, &DegradationConfig::bicubic(), &mut rng(0)).unwrap_err();
        assert!(matches!(err, DatasetError::EmptySky { tries: 20, .. }), "{err}");
        assert!(err.to_string().contains("no patch with structure"), "{err}");
        let lr = Planes::zeros(3, 32, 32);
        assert!(matches!(sampler.sample_pair(&lr, &black, &mut rng(0)), Err(DatasetError::EmptySky { .. })));
        // Black sky with one bright galaxy in a corner: every accepted patch overlaps the galaxy.
        let mut sky = Planes::zeros(1, 128, 128);
        for y in 0..128 {
            for x in 0..128 {
                let (dx, dy) = (x as f32 - 100.0, y as f32 - 100.0);
                sky.data[y * 128 + x] = 0.8 * (-(dx * dx + dy * dy) / 200.0).exp();
            }
        }
        assert!(!sampler.has_structure(&sky.crop(0, 0, 16, 16).unwrap()), "black corner accepted");
        assert!(sampler.has_structure(&sky.crop(90, 90, 16, 16).unwrap()), "galaxy rejected");
        let sampler = PatchSampler::new(PatchConfig { max_tries: 500, ..*sampler.config() }).unwrap();
        let mut r = rng(3);
        for _ in 0..10 {
            let item = sampler.sample_degraded(&sky, &DegradationConfig::bicubic(), &mut r).unwrap();
            let s = structure(&item.hr, 0.05);
            assert!(s.std >= 0.02 && s.signal_fraction >= 0.01, "{s:?}");
        }
        let structure_black = structure(&Planes::zeros(1, 16, 16), 0.05);
        assert_eq!(structure_black, Structure { std: 0.0, signal_fraction: 0.0 });
    }

    #[test]
    fn batcher_stacks_nchw_and_checks_shapes() {
        let hr = texture(3, 64, 64);
        let sampler = PatchSampler::new(PatchConfig {
            lr_size: 8,
            scale: 2,
            min_std: 0.0,
            min_signal_fraction: 0.0,
            ..PatchConfig::default()
        })
        .unwrap();
        let mut r = rng(0);
        let items: Vec<SrItem> =
            (0..5).map(|_| sampler.sample_degraded(&hr, &DegradationConfig::bicubic(), &mut r).unwrap()).collect();
        let device = Default::default();
        let batch: SrBatch<B> = SrBatcher::default().batch(items.clone(), &device);
        assert_eq!(batch.lr.dims(), [5, 3, 8, 8]);
        assert_eq!(batch.hr.dims(), [5, 3, 16, 16]);
        // Item 3, channel 1, pixel (2, 5) lands at [3, 1, 2, 5].
        let v: Vec<f32> = batch.lr.clone().slice([3..4, 1..2, 2..3, 5..6]).into_data().to_vec().unwrap();
        assert_eq!(v[0], items[3].lr.get(1, 2, 5));
        let grey: SrBatch<B> = SrBatcher::with_channels(1).batch(items.clone(), &device);
        assert_eq!(grey.hr.dims(), [5, 1, 16, 16]);
        let mut bad = items.clone();
        bad[2].lr = bad[2].lr.crop(0, 0, 4, 4).unwrap();
        let err = SrBatcher::default().try_batch::<B>(bad, &device).unwrap_err();
        assert!(err.to_string().contains("LR item 2"), "{err}");
        assert!(SrBatcher::default().try_batch::<B>(Vec::new(), &device).is_err());
    }

    #[test]
    fn dataset_is_deterministic_per_index_and_reads_real_files() {
        let paths = stellarium_images(&["m31.png", "m42.png"]);
        let patch = PatchConfig { lr_size: 16, scale: 2, ..PatchConfig::default() };
        let ds = SrDataset::from_paths(paths.clone(), DegradationConfig::sdss(), patch, 42)
            .unwrap()
            .with_patches_per_image(3);
        assert_eq!(ds.len(), 6);
        assert_eq!(ds.images(), 2);
        let a = ds.get(4).unwrap();
        assert_eq!(a, ds.get(4).unwrap(), "same index, same item");
        assert_ne!(a, ds.get(3).unwrap());
        assert_ne!(a, ds.clone().with_seed(43).get(4).unwrap(), "seed has no effect");
        assert_eq!((a.lr.width, a.hr.width, a.lr.channels), (16, 32, 3));
        assert!(ds.get(6).is_none());
        assert!(ds.try_get(6).unwrap_err().to_string().contains("out of range"));
        // In memory gives the same items as from files.
        let mem = ds.clone().load_all().unwrap();
        assert_eq!(mem.get(4).unwrap(), a);
        // Through burn's DataLoader machinery: the batcher accepts dataset items.
        let items: Vec<SrItem> = (0..ds.len()).filter_map(|i| ds.get(i)).collect();
        let batch: SrBatch<B> = SrBatcher::default().batch(items, &Default::default());
        assert_eq!(batch.lr.dims(), [6, 3, 16, 16]);
        // Through burn's own DataLoader (two worker threads, shuffled): 6 items in batches of 4 and 2.
        let loader = burn::data::dataloader::DataLoaderBuilder::<B, SrItem, SrBatch<B>>::new(SrBatcher::default())
            .batch_size(4)
            .shuffle(1)
            .num_workers(2)
            .build(ds.clone());
        let mut sizes: Vec<usize> = loader.iter().map(|b| b.hr.dims()[0]).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![2, 4]);
        // A missing file is named in the error; an all-black image reports empty sky.
        let ds =
            SrDataset::from_paths(vec!["/nonexistent/x.png".into()], DegradationConfig::bicubic(), patch, 0).unwrap();
        assert!(ds.try_get(0).unwrap_err().to_string().contains("x.png"));
        assert!(ds.get(0).is_none());
        let black =
            SrDataset::in_memory(vec![Planes::zeros(3, 64, 64)], DegradationConfig::bicubic(), patch, 0).unwrap();
        let err = black.try_get(0).unwrap_err().to_string();
        assert!(err.contains("<memory>") && err.contains("no patch with structure"), "{err}");
    }
}
