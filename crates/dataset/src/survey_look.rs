//! What makes an image look like a sky survey, measured — and a degradation fitted to it.
//!
//! [`SurveyLook::measure`] reduces an image to the statistics a viewer notices in a DSS or SDSS
//! cutout: star FWHM, sky level, pixel noise and its grain (spatial correlation), colourfulness,
//! two-plate colour (green as the mean of red and blue), saturated stars, JPEG blocking and how
//! much of the sky is clipped to black.
//! [`calibrate`] then searches the survey degradation's parameters, one at a time over a few
//! rounds (coordinate descent), until degraded clean images have the same median statistics as
//! the real survey images. The real images only ever contribute these medians.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::degrade::{DegradationConfig, GrainConfig, JpegConfig, NoiseConfig, Span, degrade};
use crate::error::Result;
use crate::stars::{DETECT_SIGMA, SkyBackground, detect_stars, median, pixel_noise};
use astro_image::Planes;

/// The statistics of one image (or the median over many) that make it look like a survey.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurveyLook {
    /// Median FWHM (pixels) of unsaturated 5 σ stars (NaN without stars).
    pub star_fwhm_px: f64,
    /// Median sky level (luma, 0–1).
    pub background: f64,
    /// Pixel noise σ (luma, from neighbour differences).
    pub noise_sigma: f64,
    /// Grain: `2 σ(2×2 binned) / σ(pixel)` — 1 for white noise, larger for correlated grain.
    pub noise_correlation: f64,
    /// Colourfulness: RMS distance of R, G, B from their luma, averaged over the image.
    pub chroma: f64,
    /// Two-plate colour: mean |G − (R + B)/2| over mean |R − B| (≈ 0 when green is synthesised).
    pub green_deviation: f64,
    /// Fraction of 5 σ stars whose peak is saturated.
    pub saturated_stars: f64,
    /// JPEG blocking: mean gradient across 8-px block borders over the mean gradient elsewhere.
    pub blockiness: f64,
    /// Black sky: fraction of pixels whose 8-bit luma is 0 or 1 (processed survey images are
    /// clipped to black; noise on a black sky is not).
    pub black_fraction: f64,
}

/// Names of the statistics, in [`SurveyLook::values`] order.
pub const STATISTICS: [&str; 9] = [
    "star FWHM (px)",
    "sky level",
    "pixel noise σ",
    "noise correlation (grain)",
    "chroma",
    "green deviation (two-plate)",
    "saturated stars",
    "JPEG blockiness",
    "black pixels (luma ≤ 1/255)",
];

impl SurveyLook {
    /// Measure one image (grey or RGB planes in [0, 1]).
    pub fn measure(img: &Planes) -> SurveyLook {
        let luma = img.to_luma();
        let (w, h) = (img.width, img.height);
        let l = luma.plane(0);
        let bg = SkyBackground::measure(l, w, h);
        let stars = detect_stars(l, w, h, &bg, DETECT_SIGMA * bg.sigma_smoothed);
        let mut fwhm: Vec<f32> = stars.iter().filter(|s| !s.saturated).map(|s| s.fwhm).collect();
        let star_fwhm_px = if fwhm.is_empty() { f64::NAN } else { median(&mut fwhm) as f64 };
        let saturated_stars = if stars.is_empty() {
            0.0
        } else {
            stars.iter().filter(|s| s.saturated).count() as f64 / stars.len() as f64
        };
        let sigma = pixel_noise(l, w, h) as f64;
        let binned = bin2(l, w, h);
        let sigma2 = pixel_noise(&binned, w / 2, h / 2) as f64;
        let noise_correlation = if sigma > 1e-6 { 2.0 * sigma2 / sigma } else { 1.0 };
        let chroma = chroma(img);
        let green_deviation = if img.channels == 3 {
            let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
            let (mut gd, mut rb) = (0.0f64, 0.0f64);
            for i in 0..img.pixels() {
                gd += (g[i] - 0.5 * (r[i] + b[i])).abs() as f64;
                rb += (r[i] - b[i]).abs() as f64;
            }
            if rb > 1e-9 { gd / rb } else { 0.0 }
        } else {
            0.0
        };
        SurveyLook {
            star_fwhm_px,
            background: bg.median_level() as f64,
            noise_sigma: sigma,
            noise_correlation,
            chroma,
            green_deviation,
            saturated_stars,
            blockiness: blockiness(l, w, h),
            black_fraction: l.iter().filter(|&&v| v * 255.0 < 1.5).count() as f64 / l.len().max(1) as f64,
        }
    }

    /// The statistics as an array, in [`STATISTICS`] order.
    pub fn values(&self) -> [f64; 9] {
        [
            self.star_fwhm_px,
            self.background,
            self.noise_sigma,
            self.noise_correlation,
            self.chroma,
            self.green_deviation,
            self.saturated_stars,
            self.blockiness,
            self.black_fraction,
        ]
    }

    fn from_values(v: [f64; 9]) -> SurveyLook {
        SurveyLook {
            star_fwhm_px: v[0],
            background: v[1],
            noise_sigma: v[2],
            noise_correlation: v[3],
            chroma: v[4],
            green_deviation: v[5],
            saturated_stars: v[6],
            blockiness: v[7],
            black_fraction: v[8],
        }
    }

    /// Per-statistic median over many images (NaNs skipped).
    pub fn median_of(looks: &[SurveyLook]) -> SurveyLook {
        let mut out = [f64::NAN; 9];
        for (k, o) in out.iter_mut().enumerate() {
            let mut v: Vec<f32> =
                looks.iter().map(|l| l.values()[k]).filter(|x| x.is_finite()).map(|x| x as f32).collect();
            if !v.is_empty() {
                *o = median(&mut v) as f64;
            }
        }
        SurveyLook::from_values(out)
    }

    /// How far `self` is from `target`: the weighted sum of squared log ratios, each statistic
    /// offset by a floor so that near-zero values compare on a sensible scale. Star FWHM, the
    /// most visible difference, weighs four times. Saturated stars weigh nothing: no knob models
    /// plate saturation (see [`KNOBS`]), and fitting them anyway sharpened the seeing until a
    /// few stars clipped, at the cost of stars 11 % narrower than the real ones.
    pub fn distance(&self, target: &SurveyLook) -> f64 {
        const FLOOR: [f64; 9] = [0.0, 0.02, 0.002, 0.1, 0.01, 0.05, 0.02, 0.01, 0.05];
        const WEIGHT: [f64; 9] = [4.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        self.values()
            .iter()
            .zip(target.values())
            .zip(FLOOR.iter().zip(WEIGHT))
            .filter(|((a, b), _)| a.is_finite() && b.is_finite())
            .map(|((a, b), (f, w))| w * ((a + f) / (b + f)).ln().powi(2))
            .sum()
    }
}

/// Colourfulness: the RMS distance of R, G, B from their BT.601 luma, averaged over the image
/// (0 for grey images).
pub fn chroma(img: &Planes) -> f64 {
    if img.channels != 3 {
        return 0.0;
    }
    let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
    let c: f64 = (0..img.pixels())
        .map(|i| {
            let y = astro_image::luma::bt601(r[i], g[i], b[i]);
            (((r[i] - y).powi(2) + (g[i] - y).powi(2) + (b[i] - y).powi(2)) / 3.0).sqrt() as f64
        })
        .sum();
    c / img.pixels().max(1) as f64
}

/// 2×2 mean binning (odd last row/column dropped).
fn bin2(l: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = Vec::new();
    astro_image::resize::bin_mean_into(l, w, h, w, 2, &mut out);
    out
}

/// Mean |gradient| across 8-px block borders divided by the mean |gradient| inside blocks.
fn blockiness(l: &[f32], w: usize, h: usize) -> f64 {
    let (mut border, mut nb, mut inner, mut ni) = (0.0f64, 0usize, 0.0f64, 0usize);
    for y in 0..h {
        for x in 0..w.saturating_sub(1) {
            let d = (l[y * w + x + 1] - l[y * w + x]).abs() as f64;
            if x % 8 == 7 {
                border += d;
                nb += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    for y in 0..h.saturating_sub(1) {
        for x in 0..w {
            let d = (l[(y + 1) * w + x] - l[y * w + x]).abs() as f64;
            if y % 8 == 7 {
                border += d;
                nb += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    if nb == 0 || inner <= 0.0 { 1.0 } else { (border / nb as f64) / (inner / ni as f64) }
}

/// One knob of the survey degradation that [`calibrate`] turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// Seeing FWHM (arcsec range centre).
    Seeing,
    /// Sky pedestal level.
    SkyLevel,
    /// Tone exponent.
    Gamma,
    /// Gaussian noise σ.
    Noise,
    /// Grain amplitude.
    GrainAmplitude,
    /// Grain correlation length.
    GrainSize,
    /// JPEG probability (quality kept).
    Jpeg,
    /// Probability of the two-plate colour reduction.
    TwoPlate,
    /// Black point level (sky clipped to black).
    BlackPoint,
}

/// Every knob, in the order one round of [`calibrate`] turns them. There is no saturation knob:
/// its rescale by 1/level brightens the whole image, a direction no statistic constrains,
/// and a model trained on it learned to dim real survey images (the clean outreach images
/// already have the real images' share of saturated stars).
pub const KNOBS: [Knob; 9] = [
    Knob::TwoPlate,
    Knob::Seeing,
    Knob::SkyLevel,
    Knob::Gamma,
    Knob::Noise,
    Knob::GrainAmplitude,
    Knob::GrainSize,
    Knob::Jpeg,
    Knob::BlackPoint,
];

/// Scale a span about its centre's value `centre`, keeping its relative width.
fn recentre(s: Span, centre: f64) -> Span {
    let c = 0.5 * (s.0 + s.1);
    if c <= 0.0 { Span(centre * 0.8, centre * 1.25) } else { Span(s.0 * centre / c, s.1 * centre / c) }
}

fn centre(s: Span) -> f64 {
    0.5 * (s.0 + s.1)
}

impl Knob {
    /// Current value of the knob in `cfg` (the centre of its range).
    pub fn get(self, cfg: &DegradationConfig) -> f64 {
        match self {
            Knob::Seeing => cfg.seeing.map_or(0.0, |s| centre(s.fwhm_arcsec)),
            Knob::SkyLevel => cfg.sky.map_or(0.0, |s| centre(s.level)),
            Knob::Gamma => cfg.sky.map_or(1.0, |s| centre(s.gamma)),
            Knob::Noise => cfg.noise.map_or(0.0, |n| centre(n.gaussian_sigma)),
            Knob::GrainAmplitude => cfg.grain.map_or(0.0, |g| centre(g.amplitude)),
            Knob::GrainSize => cfg.grain.map_or(0.0, |g| centre(g.size_px)),
            Knob::Jpeg => cfg.jpeg.map_or(0.0, |j| j.prob),
            Knob::TwoPlate => cfg.colour_prob,
            Knob::BlackPoint => cfg.black_point.map_or(0.0, |b| centre(b.level)),
        }
    }

    /// `cfg` with the knob set to `v`.
    pub fn set(self, cfg: &DegradationConfig, v: f64) -> DegradationConfig {
        let mut c = cfg.clone();
        match self {
            Knob::Seeing => {
                let mut s = c.seeing.unwrap_or_default();
                s.fwhm_arcsec = recentre(s.fwhm_arcsec, v);
                c.seeing = Some(s);
            }
            Knob::SkyLevel => {
                let mut s = c.sky.unwrap_or_default();
                s.level = recentre(s.level, v).clamp_to(0.0, 0.9);
                c.sky = Some(s);
            }
            Knob::Gamma => {
                let mut s = c.sky.unwrap_or_default();
                s.gamma = recentre(s.gamma, v).clamp_to(0.2, 5.0);
                c.sky = Some(s);
            }
            Knob::Noise => {
                let mut n = c.noise.unwrap_or(NoiseConfig { combine: true, ..NoiseConfig::default() });
                n.gaussian_sigma = recentre(n.gaussian_sigma, v);
                c.noise = Some(n);
            }
            Knob::GrainAmplitude => {
                let mut g = c.grain.unwrap_or_default();
                g.amplitude = recentre(g.amplitude, v).clamp_to(0.0, 1.0);
                c.grain = Some(g);
            }
            Knob::GrainSize => {
                let mut g: GrainConfig = c.grain.unwrap_or_default();
                g.size_px = recentre(g.size_px, v).clamp_to(0.0, 20.0);
                c.grain = Some(g);
            }
            Knob::Jpeg => {
                let mut j: JpegConfig = c.jpeg.unwrap_or_default();
                j.prob = v.clamp(0.0, 1.0);
                c.jpeg = Some(j);
            }
            Knob::TwoPlate => c.colour_prob = v.clamp(0.0, 1.0),
            Knob::BlackPoint => {
                let mut b = c.black_point.unwrap_or_default();
                b.level = recentre(b.level, v).clamp_to(0.0, 0.5);
                c.black_point = Some(b);
            }
        }
        c
    }

    /// Values to try around the current value `v` in round `round` (steps shrink each round).
    fn candidates(self, v: f64, round: usize) -> Vec<f64> {
        let step = 1.0 + 0.5 / (round + 1) as f64;
        let factors = [step.powi(-2), 1.0 / step, step, step * step];
        match self {
            Knob::Jpeg | Knob::TwoPlate => vec![0.0, 0.25, 0.5, 0.75, 1.0],
            Knob::Gamma => factors.iter().map(|f| v * f.sqrt()).collect(),
            Knob::BlackPoint if v <= 0.0 => vec![0.0025, 0.005, 0.01, 0.02, 0.04],
            _ if v <= 0.0 => vec![0.0],
            _ => factors.iter().map(|f| v * f).collect(),
        }
    }

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Knob::Seeing => "seeing FWHM (arcsec)",
            Knob::SkyLevel => "sky level",
            Knob::Gamma => "tone gamma",
            Knob::Noise => "Gaussian noise σ",
            Knob::GrainAmplitude => "grain amplitude",
            Knob::GrainSize => "grain size (px)",
            Knob::Jpeg => "JPEG probability",
            Knob::TwoPlate => "two-plate colour probability",
            Knob::BlackPoint => "black point",
        }
    }
}

trait ClampSpan {
    fn clamp_to(self, lo: f64, hi: f64) -> Span;
}

impl ClampSpan for Span {
    fn clamp_to(self, lo: f64, hi: f64) -> Span {
        Span(self.0.clamp(lo, hi), self.1.clamp(lo, hi))
    }
}

/// Median look of `images` degraded with `cfg` at `scale` (image `i` seeded with `seed + i`).
pub fn degraded_look(images: &[Planes], cfg: &DegradationConfig, scale: usize, seed: u64) -> Result<SurveyLook> {
    let looks: Result<Vec<SurveyLook>> = images
        .par_iter()
        .enumerate()
        .map(|(i, img)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed + i as u64);
            Ok(SurveyLook::measure(&degrade(img, cfg, scale, &mut rng)?))
        })
        .collect();
    Ok(SurveyLook::median_of(&looks?))
}

/// The fitted degradation and the record of the fit.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The degradation after the fit.
    pub config: DegradationConfig,
    /// Median look of the degraded images before the fit (the starting configuration).
    pub before: SurveyLook,
    /// Median look after the fit.
    pub after: SurveyLook,
    /// Distance to the target before and after.
    pub distance: (f64, f64),
    /// Each knob's final value, for the report.
    pub knobs: Vec<(Knob, f64, f64)>,
}

/// Fit `start`'s knobs so that `images` degraded at `scale` look like `target`, by `rounds`
/// rounds of coordinate descent over [`KNOBS`]. Deterministic for a `seed`.
pub fn calibrate(
    images: &[Planes],
    target: &SurveyLook,
    start: &DegradationConfig,
    scale: usize,
    rounds: usize,
    seed: u64,
    mut progress: impl FnMut(&str),
) -> Result<Calibration> {
    let before = degraded_look(images, start, scale, seed)?;
    let mut best = (start.clone(), before, before.distance(target));
    for round in 0..rounds {
        for knob in KNOBS {
            let now = knob.get(&best.0);
            for v in knob.candidates(now, round) {
                if (v - now).abs() < 1e-12 {
                    continue;
                }
                let cfg = knob.set(&best.0, v);
                if cfg.validate().is_err() {
                    continue;
                }
                let look = degraded_look(images, &cfg, scale, seed)?;
                let d = look.distance(target);
                if d < best.2 {
                    best = (cfg, look, d);
                }
            }
            progress(&format!(
                "round {} {}: {:.4} → distance {:.4}",
                round + 1,
                knob.name(),
                knob.get(&best.0),
                best.2
            ));
        }
    }
    let knobs = KNOBS.iter().map(|k| (*k, k.get(start), k.get(&best.0))).collect();
    Ok(Calibration { config: best.0, before, after: best.1, distance: (before.distance(target), best.2), knobs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::degrade::degrade;

    /// A clean 192² RGB field: dark sky, a few sharp coloured stars and a smooth blob.
    fn clean(seed: u64) -> Planes {
        let (w, h) = (192, 192);
        let mut p = Planes::zeros(3, h, w);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        use rand::Rng;
        let stars: Vec<(f32, f32, f32)> = (0..40)
            .map(|_| (rng.random::<f32>() * 180.0 + 6.0, rng.random::<f32>() * 180.0 + 6.0, rng.random::<f32>()))
            .collect();
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    let (fx, fy) = (x as f32 / w as f32 - 0.5, y as f32 / h as f32 - 0.5);
                    let mut v = 0.3 * (-(fx * fx + fy * fy) * 20.0).exp() * [1.0, 0.4, 0.6][c];
                    for &(sx, sy, a) in &stars {
                        let d2 = (x as f32 - sx).powi(2) + (y as f32 - sy).powi(2);
                        v += a * (-d2 / 2.0).exp() * [1.0, 0.5, 0.8][c];
                    }
                    p.data[(c * h + y) * w + x] = v.min(1.0);
                }
            }
        }
        p
    }

    #[test]
    fn measures_what_a_degradation_adds() {
        let img = clean(1);
        let plain = SurveyLook::measure(&img);
        let cfg = DegradationConfig::dss();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let lr = degrade(&img, &cfg, 1, &mut rng).unwrap();
        let dss = SurveyLook::measure(&lr);
        assert!(dss.star_fwhm_px > plain.star_fwhm_px * 1.3, "{plain:?} → {dss:?}");
        assert!(dss.noise_sigma > plain.noise_sigma + 0.002, "{plain:?} → {dss:?}");
        assert!(dss.green_deviation < 0.1 && plain.green_deviation > 0.2, "{plain:?} → {dss:?}");
        // Noise greys a black sky; the black point clips it back (the real images' look).
        assert!(plain.black_fraction > 0.4 && dss.black_fraction < plain.black_fraction - 0.1, "{plain:?} → {dss:?}");
        let clipped = Knob::BlackPoint.set(&cfg, 0.03);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let black = SurveyLook::measure(&degrade(&img, &clipped, 1, &mut rng).unwrap());
        assert!(black.black_fraction > dss.black_fraction + 0.15, "{dss:?} → {black:?}");
        let jpeg = DegradationConfig {
            jpeg: Some(JpegConfig { prob: 1.0, quality: Span::fixed(30.0) }),
            ..DegradationConfig::bicubic()
        };
        let blocky = SurveyLook::measure(&degrade(&img, &jpeg, 1, &mut rng).unwrap());
        assert!(blocky.blockiness > plain.blockiness + 0.15, "{} vs {}", blocky.blockiness, plain.blockiness);
    }

    #[test]
    fn calibration_recovers_a_known_degradation() {
        let images: Vec<Planes> = (0..6).map(clean).collect();
        // The "real survey": a DSS degradation with 3″ seeing, a 0.12 sky and σ 0.008 noise.
        let mut truth = Knob::Seeing.set(&DegradationConfig::dss(), 3.0);
        truth = Knob::SkyLevel.set(&truth, 0.12);
        truth = Knob::Noise.set(&truth, 0.008);
        let target = degraded_look(&images, &truth, 1, 100).unwrap();
        let start = Knob::SkyLevel.set(&Knob::Seeing.set(&DegradationConfig::dss(), 1.2), 0.03);
        let cal = calibrate(&images, &target, &start, 1, 3, 7, |_| {}).unwrap();
        assert!(cal.distance.1 < cal.distance.0 * 0.3, "{:?}", cal.distance);
        let seeing = Knob::Seeing.get(&cal.config);
        assert!((seeing - 3.0).abs() < 0.9, "seeing {seeing}");
        let sky = Knob::SkyLevel.get(&cal.config);
        assert!((sky - 0.12).abs() < 0.05, "sky {sky}");
    }
}
