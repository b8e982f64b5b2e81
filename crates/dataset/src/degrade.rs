//! Synthetic low-resolution inputs that look like sky-survey images (and Real-ESRGAN's generic ones).
//!
//! [`degrade`] turns a clean high-resolution image into the input a super-resolution (or, at
//! scale 1, a "prettify" translation) model will see. The steps, in order (each optional, each
//! drawn from the caller's seeded [`ChaCha8Rng`]):
//!
//! 1. **colour reduction** ([`ColourMode`]): full colour, one plate (grey), or DSS-style two plates
//!    (a red and a blue band; green is synthesised as their mean at the end);
//! 2. **seeing** ([`SeeingConfig`]): a Gaussian or Moffat PSF whose FWHM is given in arcseconds
//!    and converted to pixels with the source pixel scale;
//! 3. **saturation** ([`SaturationConfig`]): a soft shoulder then clipping, as plates and CCDs
//!    saturate on bright stars;
//! 4. **first and second order** ([`OrderConfig`], Real-ESRGAN): random blur kernel
//!    ([`BlurConfig`]: isotropic/anisotropic Gaussian, generalised Gaussian, plateau), random
//!    resize ([`RandomResize`]), noise ([`NoiseConfig`]), JPEG ([`JpegConfig`]);
//! 5. **survey sampling**: MATLAB bicubic [`imresize`](crate::resize::imresize) to the output grid,
//!    through the survey's pixel scale when it is coarser than the output grid;
//! 6. **plate grain** ([`GrainConfig`]), **noise**, colour synthesis, **JPEG**, clamp to [0, 1].
//!
//! Presets: [`DegradationConfig::bicubic`], [`DegradationConfig::dss`],
//! [`DegradationConfig::sdss`], [`DegradationConfig::real_esrgan`]. `docs/degradations.md`
//! describes every parameter and default.

use std::f64::consts::PI;
use std::path::Path;
use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use crate::image_io::Planes;
use crate::resize::{ResizeKernel, imresize_with};

/// A closed interval `[lo, hi]` a parameter is drawn from uniformly (`[x, x]` fixes it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Span(pub f64, pub f64);

impl Span {
    /// A fixed value.
    pub const fn fixed(v: f64) -> Span {
        Span(v, v)
    }

    /// Draw uniformly from the interval.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        if self.1 > self.0 { rng.random_range(self.0..=self.1) } else { self.0 }
    }

    fn check(&self, name: &str, min: f64, max: f64) -> Result<()> {
        let Span(lo, hi) = *self;
        if !(lo.is_finite() && hi.is_finite()) || lo > hi || lo < min || hi > max {
            return Err(DatasetError::Config(format!(
                "{name} = [{lo}, {hi}] must be an interval within [{min}, {max}]"
            )));
        }
        Ok(())
    }
}

fn check_prob(name: &str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(DatasetError::Config(format!("{name} = {p} must be a probability in [0, 1]")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// Every degradation step and its parameters; `None` (or probability 0) switches a step off.
///
/// The `Default` is [`DegradationConfig::bicubic`]. Deserialising fills missing fields from it,
/// and unknown fields are refused (a typo must not silently switch a step off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DegradationConfig {
    /// Arcseconds per pixel of the clean input. `None`: assume the input is sampled `scale` times
    /// finer than the survey (`survey_pixel_scale_arcsec / scale`). Needed by `seeing`.
    pub source_pixel_scale_arcsec: Option<f64>,
    /// Arcseconds per pixel of the imitated survey (DSS ≈ 1.0, SDSS 0.396). When it is coarser
    /// than the output grid the image is resampled through the survey grid first.
    pub survey_pixel_scale_arcsec: Option<f64>,
    /// Which bands the imitated instrument records.
    pub colour: ColourMode,
    /// Probability of the colour reduction; otherwise full colour is kept (a mix of survey
    /// products, some recombined from more bands). Default 1.
    pub colour_prob: f64,
    /// Atmospheric seeing PSF.
    pub seeing: Option<SeeingConfig>,
    /// Detector or plate saturation on bright sources.
    pub saturation: Option<SaturationConfig>,
    /// Real-ESRGAN first-order degradation (at the input resolution).
    pub first_order: Option<OrderConfig>,
    /// Real-ESRGAN second-order degradation (sizes relative to the output).
    pub second_order: Option<OrderConfig>,
    /// Kernel of the final resampling to the output grid (MATLAB bicubic by default).
    pub final_kernel: ResizeKernel,
    /// Survey sky and tone curve (grey sky pedestal, less stretched mid-tones), at the output
    /// resolution before grain and noise.
    pub sky: Option<SkyConfig>,
    /// Photographic-plate grain, at the output resolution.
    pub grain: Option<GrainConfig>,
    /// Noise at the output resolution.
    pub noise: Option<NoiseConfig>,
    /// Final JPEG re-compression.
    pub jpeg: Option<JpegConfig>,
}

impl Default for DegradationConfig {
    fn default() -> Self {
        DegradationConfig::bicubic()
    }
}

/// Colour recorded by the imitated instrument.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ColourMode {
    /// Keep every channel (CCD surveys with three bands, e.g. SDSS g, r, i composites).
    #[default]
    Full,
    /// One plate: every output channel is the same band `weights · (R, G, B)`.
    Mono {
        /// Weights of R, G and B in the band.
        weights: [f32; 3],
    },
    /// Two plates (DSS colour): a red and a blue band; the output green is their mean.
    TwoPlate {
        /// Weights of R, G and B in the red plate (POSS-II F: IIIaF + RG610, 610–690 nm).
        red: [f32; 3],
        /// Weights of R, G and B in the blue plate (POSS-II J: IIIaJ + GG385, 385–540 nm).
        blue: [f32; 3],
    },
}

/// Radial profile of the seeing PSF.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "profile", rename_all = "snake_case", deny_unknown_fields)]
pub enum PsfProfile {
    /// `exp(-r² / 2σ²)`, FWHM = 2.3548 σ.
    Gaussian,
    /// `(1 + r²/α²)^-β`, FWHM = 2α √(2^{1/β} − 1); small β gives the extended wings of real stars.
    Moffat {
        /// Range of β (4.765 is Kolmogorov turbulence, 2.5 matches photographic plates' halos).
        beta: Span,
    },
}

/// Atmospheric seeing: convolution with a PSF of a random FWHM given in arcseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeeingConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// FWHM range in arcseconds (default 1–3″).
    pub fwhm_arcsec: Span,
    /// Profile (default Moffat β 2.5–4.765).
    pub profile: PsfProfile,
}

impl Default for SeeingConfig {
    fn default() -> Self {
        SeeingConfig { prob: 1.0, fwhm_arcsec: Span(1.0, 3.0), profile: PsfProfile::Moffat { beta: Span(2.5, 4.765) } }
    }
}

/// Saturation: values approach `level` through a soft shoulder of width `knee`, then the image
/// is rescaled by `1 / level` so saturated cores are white, as on plates and CCD JPEGs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SaturationConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// Saturation level range (default 0.7–0.95).
    pub level: Span,
    /// Width of the soft shoulder below the level (default 0.1; 0 = hard clip).
    pub knee: f64,
}

impl Default for SaturationConfig {
    fn default() -> Self {
        SaturationConfig { prob: 1.0, level: Span(0.7, 0.95), knee: 0.1 }
    }
}

/// One Real-ESRGAN degradation order: blur, random resize, noise, JPEG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OrderConfig {
    /// Random blur kernel.
    pub blur: Option<BlurConfig>,
    /// Random resize.
    pub resize: Option<RandomResize>,
    /// Noise.
    pub noise: Option<NoiseConfig>,
    /// JPEG re-compression.
    pub jpeg: Option<JpegConfig>,
}

/// Shapes of Real-ESRGAN's random blur kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelShape {
    /// Gaussian, `exp(-½ xᵀΣ⁻¹x)`.
    Gaussian,
    /// Generalised Gaussian, `exp(-½ (xᵀΣ⁻¹x)^β)` (β < 1 peaked, β > 1 flat-topped).
    Generalized,
    /// Plateau, `1 / (1 + (xᵀΣ⁻¹x)^β)`.
    Plateau,
}

/// Relative probabilities of the six kernel families (Real-ESRGAN: 0.45 0.25 0.12 0.03 0.12 0.03).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KernelMix {
    /// Isotropic Gaussian.
    pub iso: f64,
    /// Anisotropic (rotated) Gaussian.
    pub aniso: f64,
    /// Isotropic generalised Gaussian.
    pub generalized_iso: f64,
    /// Anisotropic generalised Gaussian.
    pub generalized_aniso: f64,
    /// Isotropic plateau.
    pub plateau_iso: f64,
    /// Anisotropic plateau.
    pub plateau_aniso: f64,
}

impl Default for KernelMix {
    fn default() -> Self {
        KernelMix {
            iso: 0.45,
            aniso: 0.25,
            generalized_iso: 0.12,
            generalized_aniso: 0.03,
            plateau_iso: 0.12,
            plateau_aniso: 0.03,
        }
    }
}

/// Real-ESRGAN random blur kernel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlurConfig {
    /// Probability of applying the step (Real-ESRGAN: 1 first order, 0.8 second).
    pub prob: f64,
    /// Families and their relative probabilities.
    pub mix: KernelMix,
    /// Smallest and largest odd kernel size (default 7 and 21).
    pub size: (usize, usize),
    /// σ range along each axis in pixels (first order 0.2–3, second 0.2–1.5).
    pub sigma: Span,
    /// β range of the generalised Gaussian (default 0.5–4).
    pub beta_generalized: Span,
    /// β range of the plateau kernel (default 1–2).
    pub beta_plateau: Span,
}

impl Default for BlurConfig {
    fn default() -> Self {
        BlurConfig {
            prob: 1.0,
            mix: KernelMix::default(),
            size: (7, 21),
            sigma: Span(0.2, 3.0),
            beta_generalized: Span(0.5, 4.0),
            beta_plateau: Span(1.0, 2.0),
        }
    }
}

/// Real-ESRGAN random resize: up, down or keep, with area, bilinear or bicubic sampling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomResize {
    /// Probabilities of up, down and keep (default 0.2, 0.7, 0.1).
    pub up_down_keep: [f64; 3],
    /// Range of the factor: up draws from `[1, hi]`, down from `[lo, 1]` (default 0.15–1.5).
    pub factor: Span,
    /// Whether the factor applies to the output size (second order) instead of the current size.
    pub relative_to_output: bool,
}

impl Default for RandomResize {
    fn default() -> Self {
        RandomResize { up_down_keep: [0.2, 0.7, 0.1], factor: Span(0.15, 1.5), relative_to_output: false }
    }
}

/// Additive noise: Gaussian (read-out, sky) and/or Poisson (photon) noise, colour or grey.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// Apply both Gaussian and Poisson noise (surveys) instead of one of them (Real-ESRGAN).
    pub combine: bool,
    /// When not combining: probability that the noise is Gaussian rather than Poisson.
    pub gaussian_prob: f64,
    /// Gaussian σ range in units of full scale (Real-ESRGAN 1–30 / 255 ≈ 0.004–0.118).
    pub gaussian_sigma: Span,
    /// Photon count at full scale (Real-ESRGAN quantises to 8 bits first: 256).
    pub poisson_peak: Span,
    /// Multiplier of the Poisson noise (Real-ESRGAN 0.05–3).
    pub poisson_scale: Span,
    /// Probability that the noise is the same in every channel (Real-ESRGAN 0.4).
    pub grey_prob: f64,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            prob: 1.0,
            combine: false,
            gaussian_prob: 0.5,
            gaussian_sigma: Span(0.004, 0.118),
            poisson_peak: Span::fixed(256.0),
            poisson_scale: Span(0.05, 3.0),
            grey_prob: 0.4,
        }
    }
}

/// Survey sky and tone: `x → level + (1 − level) · x^gamma`. Survey cutouts keep a grey sky and
/// a nearly linear stretch where outreach images are black-skied and strongly stretched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkyConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// Sky pedestal range (default 0.05–0.15).
    pub level: Span,
    /// Tone exponent range (default 1–1.5; > 1 darkens mid-tones, undoing part of a stretch).
    pub gamma: Span,
}

impl Default for SkyConfig {
    fn default() -> Self {
        SkyConfig { prob: 1.0, level: Span(0.05, 0.15), gamma: Span(1.0, 1.5) }
    }
}

/// Photographic-plate grain: spatially correlated noise whose σ grows as √(signal + fog).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrainConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// Grain σ at signal 1 − fog (default 0.01–0.03).
    pub amplitude: Span,
    /// Correlation length: σ of the Gaussian that smooths white noise, in output pixels (0.5–1).
    pub size_px: Span,
    /// Chemical fog: grain present even on the unexposed plate (default 0.05).
    pub fog: f64,
}

impl Default for GrainConfig {
    fn default() -> Self {
        GrainConfig { prob: 1.0, amplitude: Span(0.01, 0.03), size_px: Span(0.5, 1.0), fog: 0.05 }
    }
}

/// JPEG re-compression through the `image` crate's encoder and decoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JpegConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// Quality range, 1–100 (Real-ESRGAN 30–95).
    pub quality: Span,
}

impl Default for JpegConfig {
    fn default() -> Self {
        JpegConfig { prob: 1.0, quality: Span(30.0, 95.0) }
    }
}

impl DegradationConfig {
    /// Plain MATLAB bicubic downscaling, the classic SR benchmark input (deterministic).
    pub fn bicubic() -> Self {
        DegradationConfig {
            source_pixel_scale_arcsec: None,
            survey_pixel_scale_arcsec: None,
            colour: ColourMode::Full,
            colour_prob: 1.0,
            seeing: None,
            saturation: None,
            first_order: None,
            second_order: None,
            final_kernel: ResizeKernel::Cubic,
            sky: None,
            grain: None,
            noise: None,
            jpeg: None,
        }
    }

    /// Digitized Sky Survey (POSS-II plates scanned at ≈ 1.0″/px): two-plate colour, 1.5–3″
    /// Moffat seeing with plate halos, saturated white stars, grain, noise, sometimes JPEG.
    pub fn dss() -> Self {
        DegradationConfig {
            source_pixel_scale_arcsec: None,
            survey_pixel_scale_arcsec: Some(1.0),
            colour: ColourMode::TwoPlate { red: [1.0, 0.0, 0.0], blue: [0.0, 0.3, 0.7] },
            colour_prob: 1.0,
            seeing: Some(SeeingConfig {
                prob: 1.0,
                fwhm_arcsec: Span(1.5, 3.0),
                profile: PsfProfile::Moffat { beta: Span(2.5, 4.0) },
            }),
            saturation: Some(SaturationConfig { prob: 1.0, level: Span(0.6, 0.9), knee: 0.15 }),
            first_order: None,
            second_order: None,
            final_kernel: ResizeKernel::Cubic,
            sky: None,
            grain: Some(GrainConfig::default()),
            noise: Some(NoiseConfig {
                prob: 1.0,
                combine: true,
                gaussian_prob: 1.0,
                gaussian_sigma: Span(0.002, 0.01),
                poisson_peak: Span(200.0, 1000.0),
                poisson_scale: Span::fixed(1.0),
                grey_prob: 0.0,
            }),
            jpeg: Some(JpegConfig { prob: 0.5, quality: Span(75.0, 95.0) }),
        }
    }

    /// Sloan Digital Sky Survey (CCD, 0.396″/px, median seeing 1.4″): full colour, Moffat PSF
    /// 1.0–1.8″, occasional saturation, sky and photon noise, JPEG as the SDSS cutout service.
    pub fn sdss() -> Self {
        DegradationConfig {
            source_pixel_scale_arcsec: None,
            survey_pixel_scale_arcsec: Some(0.396),
            colour: ColourMode::Full,
            colour_prob: 1.0,
            seeing: Some(SeeingConfig {
                prob: 1.0,
                fwhm_arcsec: Span(1.0, 1.8),
                profile: PsfProfile::Moffat { beta: Span(3.5, 4.765) },
            }),
            saturation: Some(SaturationConfig { prob: 0.5, level: Span(0.85, 1.0), knee: 0.05 }),
            first_order: None,
            second_order: None,
            final_kernel: ResizeKernel::Cubic,
            sky: None,
            grain: None,
            noise: Some(NoiseConfig {
                prob: 1.0,
                combine: true,
                gaussian_prob: 1.0,
                gaussian_sigma: Span(0.003, 0.015),
                poisson_peak: Span(300.0, 2000.0),
                poisson_scale: Span::fixed(1.0),
                grey_prob: 0.0,
            }),
            jpeg: Some(JpegConfig { prob: 1.0, quality: Span(75.0, 95.0) }),
        }
    }

    /// Real-ESRGAN's second-order degradation (Wang et al. 2021), without the sinc filters.
    pub fn real_esrgan() -> Self {
        DegradationConfig {
            first_order: Some(OrderConfig {
                blur: Some(BlurConfig::default()),
                resize: Some(RandomResize::default()),
                noise: Some(NoiseConfig::default()),
                jpeg: Some(JpegConfig::default()),
            }),
            second_order: Some(OrderConfig {
                blur: Some(BlurConfig { prob: 0.8, sigma: Span(0.2, 1.5), ..BlurConfig::default() }),
                resize: Some(RandomResize {
                    up_down_keep: [0.3, 0.4, 0.3],
                    factor: Span(0.3, 1.2),
                    relative_to_output: true,
                }),
                noise: Some(NoiseConfig {
                    gaussian_sigma: Span(0.004, 0.098),
                    poisson_scale: Span(0.05, 2.5),
                    ..NoiseConfig::default()
                }),
                jpeg: None,
            }),
            jpeg: Some(JpegConfig::default()),
            ..DegradationConfig::bicubic()
        }
    }

    /// Ordinary photographs (the `general` upscaler): MATLAB bicubic, sometimes (20 %) a mild
    /// isotropic Gaussian blur first (σ 0.2–1.2 HR px), sometimes (15 %) light Gaussian noise
    /// (σ 0.1–1 % of full scale) and sometimes (15 %) JPEG (quality 70–95): 58 % of inputs stay
    /// plain bicubic, the field's benchmark degradation.
    pub fn general() -> Self {
        DegradationConfig {
            first_order: Some(OrderConfig {
                blur: Some(BlurConfig {
                    prob: 0.2,
                    mix: KernelMix {
                        iso: 1.0,
                        aniso: 0.0,
                        generalized_iso: 0.0,
                        generalized_aniso: 0.0,
                        plateau_iso: 0.0,
                        plateau_aniso: 0.0,
                    },
                    size: (7, 11),
                    sigma: Span(0.2, 1.2),
                    ..BlurConfig::default()
                }),
                resize: None,
                noise: None,
                jpeg: None,
            }),
            noise: Some(NoiseConfig {
                prob: 0.15,
                combine: false,
                gaussian_prob: 1.0,
                gaussian_sigma: Span(0.001, 0.01),
                grey_prob: 0.3,
                ..NoiseConfig::default()
            }),
            jpeg: Some(JpegConfig { prob: 0.15, quality: Span(70.0, 95.0) }),
            ..DegradationConfig::bicubic()
        }
    }

    /// A command-line value: a `.json` file (see [`DegradationConfig::load`]) or a preset name.
    pub fn from_arg(arg: &str) -> Result<Self> {
        let p = Path::new(arg);
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { Self::load(p) } else { Self::preset(arg) }
    }

    /// The `dss` preset fitted to the real DSS images of the Stellarium set
    /// (`examples/calibrate_survey.rs`; docs/degradations.md has the statistics before and after).
    pub fn survey_calibrated() -> Self {
        serde_json::from_str(include_str!("../presets/survey-calibrated.json"))
            .expect("the bundled survey-calibrated preset is valid JSON")
    }

    /// A preset by name: `bicubic`, `general`, `dss`, `sdss`, `survey-calibrated` or
    /// `real_esrgan` (also `real-esrgan`).
    pub fn preset(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "survey-calibrated" | "survey_calibrated" => Ok(Self::survey_calibrated()),
            "bicubic" => Ok(Self::bicubic()),
            "general" => Ok(Self::general()),
            "dss" => Ok(Self::dss()),
            "sdss" => Ok(Self::sdss()),
            "real_esrgan" | "real-esrgan" | "realesrgan" => Ok(Self::real_esrgan()),
            other => Err(DatasetError::Config(format!(
                "unknown degradation preset '{other}' (expected bicubic, general, dss, sdss, survey-calibrated or real_esrgan)"
            ))),
        }
    }

    /// Read a configuration from a JSON file (missing fields take the bicubic defaults).
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?;
        let cfg: DegradationConfig = serde_json::from_str(&text).map_err(|e| DatasetError::Catalog {
            path: path.to_path_buf(),
            reason: format!("bad degradation config: {e}"),
        })?;
        cfg.validate().map_err(|e| DatasetError::Catalog { path: path.to_path_buf(), reason: e.to_string() })?;
        Ok(cfg)
    }

    /// The same configuration with a known source pixel scale (e.g. a catalogue image's
    /// `fov_deg × 3600 / width`).
    pub fn with_source_pixel_scale(mut self, arcsec_per_px: f64) -> Self {
        self.source_pixel_scale_arcsec = Some(arcsec_per_px);
        self
    }

    /// Check every range and probability; `degrade` calls this first.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("source_pixel_scale_arcsec", self.source_pixel_scale_arcsec),
            ("survey_pixel_scale_arcsec", self.survey_pixel_scale_arcsec),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(DatasetError::Config(format!("{name} = {v} must be positive")));
            }
        }
        match self.colour {
            ColourMode::Full => {}
            ColourMode::Mono { weights } => check_weights("colour.weights", weights)?,
            ColourMode::TwoPlate { red, blue } => {
                check_weights("colour.red", red)?;
                check_weights("colour.blue", blue)?;
            }
        }
        if let Some(s) = &self.seeing {
            check_prob("seeing.prob", s.prob)?;
            s.fwhm_arcsec.check("seeing.fwhm_arcsec", 1e-3, 1e3)?;
            if let PsfProfile::Moffat { beta } = s.profile {
                beta.check("seeing.profile.beta", 1.01, 100.0)?;
            }
            if self.source_pixel_scale_arcsec.is_none() && self.survey_pixel_scale_arcsec.is_none() {
                return Err(DatasetError::Config(
                    "seeing needs source_pixel_scale_arcsec or survey_pixel_scale_arcsec to convert arcseconds to pixels"
                        .into(),
                ));
            }
        }
        if let Some(s) = &self.saturation {
            check_prob("saturation.prob", s.prob)?;
            s.level.check("saturation.level", 0.05, 1.0)?;
            if !(0.0..=0.5).contains(&s.knee) || s.knee >= s.level.0 {
                return Err(DatasetError::Config(format!(
                    "saturation.knee = {} must be in [0, 0.5] and below the lowest level",
                    s.knee
                )));
            }
        }
        for (name, order) in [("first_order", &self.first_order), ("second_order", &self.second_order)] {
            if let Some(o) = order {
                if let Some(b) = &o.blur {
                    b.check(&format!("{name}.blur"))?;
                }
                if let Some(r) = &o.resize {
                    r.check(&format!("{name}.resize"))?;
                }
                if let Some(n) = &o.noise {
                    n.check(&format!("{name}.noise"))?;
                }
                if let Some(j) = &o.jpeg {
                    j.check(&format!("{name}.jpeg"))?;
                }
            }
        }
        check_prob("colour_prob", self.colour_prob)?;
        if let Some(k) = &self.sky {
            check_prob("sky.prob", k.prob)?;
            k.level.check("sky.level", 0.0, 0.9)?;
            k.gamma.check("sky.gamma", 0.2, 5.0)?;
        }
        if let Some(g) = &self.grain {
            check_prob("grain.prob", g.prob)?;
            g.amplitude.check("grain.amplitude", 0.0, 1.0)?;
            g.size_px.check("grain.size_px", 0.0, 20.0)?;
            if !(0.0..=1.0).contains(&g.fog) {
                return Err(DatasetError::Config(format!("grain.fog = {} must be in [0, 1]", g.fog)));
            }
        }
        if let Some(n) = &self.noise {
            n.check("noise")?;
        }
        if let Some(j) = &self.jpeg {
            j.check("jpeg")?;
        }
        Ok(())
    }
}

fn check_weights(name: &str, w: [f32; 3]) -> Result<()> {
    let sum: f32 = w.iter().sum();
    if w.iter().any(|v| !v.is_finite() || *v < 0.0) || sum <= 0.0 {
        return Err(DatasetError::Config(format!("{name} = {w:?} must be non-negative with a positive sum")));
    }
    Ok(())
}

impl BlurConfig {
    fn check(&self, name: &str) -> Result<()> {
        check_prob(&format!("{name}.prob"), self.prob)?;
        let (lo, hi) = self.size;
        if lo < 3 || lo > hi || lo % 2 == 0 || hi % 2 == 0 || hi > 101 {
            return Err(DatasetError::Config(format!(
                "{name}.size = ({lo}, {hi}) must be odd sizes 3 ≤ lo ≤ hi ≤ 101"
            )));
        }
        self.sigma.check(&format!("{name}.sigma"), 1e-3, 100.0)?;
        self.beta_generalized.check(&format!("{name}.beta_generalized"), 0.05, 20.0)?;
        self.beta_plateau.check(&format!("{name}.beta_plateau"), 0.05, 20.0)?;
        let m = &self.mix;
        let ws = [m.iso, m.aniso, m.generalized_iso, m.generalized_aniso, m.plateau_iso, m.plateau_aniso];
        if ws.iter().any(|w| !w.is_finite() || *w < 0.0) || ws.iter().sum::<f64>() <= 0.0 {
            return Err(DatasetError::Config(format!("{name}.mix = {ws:?} must be non-negative with a positive sum")));
        }
        Ok(())
    }
}

impl RandomResize {
    fn check(&self, name: &str) -> Result<()> {
        let p = self.up_down_keep;
        if p.iter().any(|v| !v.is_finite() || *v < 0.0) || p.iter().sum::<f64>() <= 0.0 {
            return Err(DatasetError::Config(format!("{name}.up_down_keep = {p:?} must be non-negative weights")));
        }
        self.factor.check(&format!("{name}.factor"), 0.01, 10.0)?;
        if self.factor.0 > 1.0 || self.factor.1 < 1.0 {
            return Err(DatasetError::Config(format!("{name}.factor = {:?} must contain 1", self.factor)));
        }
        Ok(())
    }
}

impl NoiseConfig {
    fn check(&self, name: &str) -> Result<()> {
        check_prob(&format!("{name}.prob"), self.prob)?;
        check_prob(&format!("{name}.gaussian_prob"), self.gaussian_prob)?;
        check_prob(&format!("{name}.grey_prob"), self.grey_prob)?;
        self.gaussian_sigma.check(&format!("{name}.gaussian_sigma"), 0.0, 1.0)?;
        self.poisson_peak.check(&format!("{name}.poisson_peak"), 1.0, 1e7)?;
        self.poisson_scale.check(&format!("{name}.poisson_scale"), 0.0, 100.0)
    }
}

impl JpegConfig {
    fn check(&self, name: &str) -> Result<()> {
        check_prob(&format!("{name}.prob"), self.prob)?;
        self.quality.check(&format!("{name}.quality"), 1.0, 100.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels and convolution
// ---------------------------------------------------------------------------------------------

/// A square, odd-sized convolution kernel (row-major), normally summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    /// Side length (odd).
    pub size: usize,
    /// `size × size` weights, row-major.
    pub data: Vec<f32>,
}

impl Kernel {
    /// Build from a function of the offset `(dx, dy)` from the centre, normalised to sum 1.
    fn from_fn(size: usize, f: impl Fn(f64, f64) -> f64) -> Kernel {
        let r = (size / 2) as f64;
        let mut data: Vec<f64> = Vec::with_capacity(size * size);
        for y in 0..size {
            for x in 0..size {
                data.push(f(x as f64 - r, y as f64 - r));
            }
        }
        let sum: f64 = data.iter().sum();
        let data = data.iter().map(|v| (v / sum) as f32).collect();
        Kernel { size, data }
    }

    /// A normalised 2-D Gaussian of standard deviation `sigma` pixels (radius ⌈3σ⌉).
    pub fn gaussian(sigma: f64) -> Kernel {
        let r = (3.0 * sigma).ceil().max(1.0) as usize;
        let s2 = 2.0 * sigma * sigma;
        Kernel::from_fn(2 * r + 1, |x, y| (-(x * x + y * y) / s2).exp())
    }

    /// Sum of the weights.
    pub fn sum(&self) -> f32 {
        self.data.iter().sum()
    }

    /// Weight at row `y`, column `x`.
    pub fn get(&self, y: usize, x: usize) -> f32 {
        self.data[y * self.size + x]
    }
}

/// A Real-ESRGAN bivariate kernel: covariance from σx, σy and rotation θ (radians), shape β.
///
/// `Gaussian`: `exp(-½ q)`, `Generalized`: `exp(-½ q^β)`, `Plateau`: `1 / (1 + q^β)` with
/// `q = xᵀ Σ⁻¹ x`, `Σ = R(θ) diag(σx², σy²) R(θ)ᵀ`. Normalised to sum 1.
pub fn bivariate_kernel(shape: KernelShape, size: usize, sigma_x: f64, sigma_y: f64, theta: f64, beta: f64) -> Kernel {
    let (c, s) = (theta.cos(), theta.sin());
    let (vx, vy) = (sigma_x * sigma_x, sigma_y * sigma_y);
    // Σ = R D Rᵀ, Σ⁻¹ = R D⁻¹ Rᵀ.
    let (a, b, d) = (c * c / vx + s * s / vy, c * s * (1.0 / vx - 1.0 / vy), s * s / vx + c * c / vy);
    Kernel::from_fn(size, |x, y| {
        let q = a * x * x + 2.0 * b * x * y + d * y * y;
        match shape {
            KernelShape::Gaussian => (-0.5 * q).exp(),
            KernelShape::Generalized => (-0.5 * q.powf(beta)).exp(),
            KernelShape::Plateau => 1.0 / (1.0 + q.powf(beta)),
        }
    })
}

/// BasicSR's β draw: half the time from `[lo, 1]`, half from `[1, hi]`.
fn sample_beta(span: Span, rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random();
    let (lo, hi) = if rng.random::<f64>() < 0.5 { (span.0.min(1.0), 1.0) } else { (1.0, span.1.max(1.0)) };
    lo + (hi - lo) * u
}

fn choose(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// Draw one Real-ESRGAN blur kernel (family, odd size, σx, σy, θ and β as BasicSR does).
pub fn random_blur_kernel(cfg: &BlurConfig, rng: &mut ChaCha8Rng) -> Kernel {
    let m = &cfg.mix;
    let family = choose(&[m.iso, m.aniso, m.generalized_iso, m.generalized_aniso, m.plateau_iso, m.plateau_aniso], rng);
    let (lo, hi) = cfg.size;
    let size = lo + 2 * rng.random_range(0..=(hi - lo) / 2);
    let iso = family.is_multiple_of(2);
    let sigma_x = cfg.sigma.sample(rng);
    let (sigma_y, theta) = if iso { (sigma_x, 0.0) } else { (cfg.sigma.sample(rng), rng.random_range(-PI..=PI)) };
    let (shape, beta) = match family / 2 {
        0 => (KernelShape::Gaussian, 1.0),
        1 => (KernelShape::Generalized, sample_beta(cfg.beta_generalized, rng)),
        _ => (KernelShape::Plateau, sample_beta(cfg.beta_plateau, rng)),
    };
    tracing::trace!(?shape, size, sigma_x, sigma_y, theta, beta, "blur kernel");
    bivariate_kernel(shape, size, sigma_x, sigma_y, theta, beta)
}

/// Moffat α for a FWHM and β: FWHM = 2α √(2^{1/β} − 1).
fn moffat_alpha(fwhm: f64, beta: f64) -> f64 {
    fwhm / (2.0 * (2f64.powf(1.0 / beta) - 1.0).sqrt())
}

/// A pixel-integrated seeing PSF of the given FWHM (pixels); `beta` is used by Moffat only.
///
/// Each pixel averages 5 × 5 sub-samples of the profile, so narrow PSFs keep their flux and
/// their FWHM. The kernel extends to where the profile falls below 10⁻³ of its peak
/// (Gaussian: ≈ 1.6 FWHM; Moffat β 2.5: ≈ 3.4 FWHM), at most 255 pixels.
pub fn psf_kernel(profile: PsfProfile, fwhm_px: f64, beta: f64) -> Kernel {
    let (radius, f): (f64, Box<dyn Fn(f64) -> f64>) = match profile {
        PsfProfile::Gaussian => {
            let sigma = fwhm_px / (2.0 * (2.0 * 2f64.ln()).sqrt());
            let s2 = 2.0 * sigma * sigma;
            (sigma * (2.0 * 1e3f64.ln()).sqrt(), Box::new(move |r2| (-r2 / s2).exp()))
        }
        PsfProfile::Moffat { .. } => {
            let alpha = moffat_alpha(fwhm_px, beta);
            let a2 = alpha * alpha;
            (alpha * (1e3f64.powf(1.0 / beta) - 1.0).sqrt(), Box::new(move |r2| (1.0 + r2 / a2).powf(-beta)))
        }
    };
    let r = (radius.ceil() as usize).clamp(1, 127);
    const SUB: usize = 5;
    Kernel::from_fn(2 * r + 1, |x, y| {
        let mut acc = 0.0;
        for sy in 0..SUB {
            for sx in 0..SUB {
                let dx = x + (sx as f64 + 0.5) / SUB as f64 - 0.5;
                let dy = y + (sy as f64 + 0.5) / SUB as f64 - 0.5;
                acc += f(dx * dx + dy * dy);
            }
        }
        acc
    })
}

/// Reflect (PyTorch `'reflect'`, edge not repeated) index folding into `0..n`.
fn reflect(i: i64, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as i64 - 1);
    let m = i.rem_euclid(period);
    (if m >= n as i64 { period - m } else { m }) as usize
}

/// Kernels up to this size are applied directly, larger ones through the FFT.
const DIRECT_MAX: usize = 9;

/// Correlate every plane with `kernel` (reflect padding), as PyTorch's `filter2D`.
///
/// Small kernels are applied directly, larger ones by FFT (two planes per complex transform);
/// both are parallel over rows with rayon.
pub fn convolve(planes: &Planes, kernel: &Kernel) -> Planes {
    if kernel.size <= DIRECT_MAX { convolve_direct(planes, kernel) } else { convolve_fft(planes, kernel) }
}

fn padded_plane(plane: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let (pw, ph) = (w + 2 * r, h + 2 * r);
    let cols: Vec<usize> = (0..pw).map(|x| reflect(x as i64 - r as i64, w)).collect();
    let mut out = Vec::with_capacity(pw * ph);
    for y in 0..ph {
        let row = &plane[reflect(y as i64 - r as i64, h) * w..][..w];
        out.extend(cols.iter().map(|&x| row[x]));
    }
    out
}

fn convolve_direct(planes: &Planes, kernel: &Kernel) -> Planes {
    let (w, h, k) = (planes.width, planes.height, kernel.size);
    let r = k / 2;
    let pw = w + 2 * r;
    let mut out = planes.clone();
    for c in 0..planes.channels {
        let padded = padded_plane(planes.plane(c), w, h, r);
        out.plane_mut(c).par_chunks_mut(w).enumerate().for_each(|(y, dst)| {
            dst.fill(0.0);
            for ky in 0..k {
                let src = &padded[(y + ky) * pw..][..pw];
                for kx in 0..k {
                    let wt = kernel.data[ky * k + kx];
                    for (d, s) in dst.iter_mut().zip(&src[kx..kx + w]) {
                        *d += wt * s;
                    }
                }
            }
        });
    }
    out
}

/// 2-D FFT helper for one padded size.
struct Fft2 {
    w: usize,
    h: usize,
    row_fwd: Arc<dyn Fft<f32>>,
    col_fwd: Arc<dyn Fft<f32>>,
    row_inv: Arc<dyn Fft<f32>>,
    col_inv: Arc<dyn Fft<f32>>,
}

impl Fft2 {
    fn new(w: usize, h: usize) -> Self {
        let mut planner = FftPlanner::new();
        Fft2 {
            w,
            h,
            row_fwd: planner.plan_fft_forward(w),
            col_fwd: planner.plan_fft_forward(h),
            row_inv: planner.plan_fft_inverse(w),
            col_inv: planner.plan_fft_inverse(h),
        }
    }

    fn run_rows(fft: &Arc<dyn Fft<f32>>, buf: &mut [Complex<f32>], len: usize) {
        let rows_per_task = (4096 / len).max(1);
        buf.par_chunks_mut(len * rows_per_task).for_each(|chunk| {
            let mut scratch = vec![Complex::new(0.0, 0.0); fft.get_inplace_scratch_len()];
            fft.process_with_scratch(chunk, &mut scratch);
        });
    }

    fn transpose(src: &[Complex<f32>], w: usize, h: usize) -> Vec<Complex<f32>> {
        let mut dst = vec![Complex::new(0.0, 0.0); w * h];
        dst.par_chunks_mut(h).enumerate().for_each(|(x, col)| {
            for (y, d) in col.iter_mut().enumerate() {
                *d = src[y * w + x];
            }
        });
        dst
    }

    /// Row-major `h × w` buffer → spectrum in transposed (`w × h`) layout.
    fn forward(&self, mut buf: Vec<Complex<f32>>) -> Vec<Complex<f32>> {
        Self::run_rows(&self.row_fwd, &mut buf, self.w);
        let mut t = Self::transpose(&buf, self.w, self.h);
        Self::run_rows(&self.col_fwd, &mut t, self.h);
        t
    }

    /// Spectrum in transposed layout → row-major buffer, normalised.
    fn inverse(&self, mut spec: Vec<Complex<f32>>) -> Vec<Complex<f32>> {
        Self::run_rows(&self.col_inv, &mut spec, self.h);
        let mut buf = Self::transpose(&spec, self.h, self.w);
        Self::run_rows(&self.row_inv, &mut buf, self.w);
        let norm = 1.0 / (self.w * self.h) as f32;
        buf.par_iter_mut().for_each(|v| *v *= norm);
        buf
    }
}

fn convolve_fft(planes: &Planes, kernel: &Kernel) -> Planes {
    let (w, h, k) = (planes.width, planes.height, kernel.size);
    let r = k / 2;
    let (pw, ph) = (w + 2 * r, h + 2 * r);
    let fft = Fft2::new(pw, ph);
    // Correlation out[y][x] = Σ k[j][i] in[y + j - r][x + i - r] is a circular convolution with
    // the kernel flipped and centred at the origin; padding by r keeps the wrap-around out of
    // the cropped result.
    let mut kbuf = vec![Complex::new(0.0f32, 0.0); pw * ph];
    for ky in 0..k {
        for kx in 0..k {
            let y = (ph + r - ky) % ph;
            let x = (pw + r - kx) % pw;
            kbuf[y * pw + x].re += kernel.get(ky, kx);
        }
    }
    let kspec = fft.forward(kbuf);
    let mut out = planes.clone();
    let mut c = 0;
    while c < planes.channels {
        let pair = c + 1 < planes.channels;
        let a = padded_plane(planes.plane(c), w, h, r);
        let b = if pair { padded_plane(planes.plane(c + 1), w, h, r) } else { vec![0.0; pw * ph] };
        let buf: Vec<Complex<f32>> = a.iter().zip(&b).map(|(&re, &im)| Complex::new(re, im)).collect();
        let mut spec = fft.forward(buf);
        spec.par_iter_mut().zip(kspec.par_iter()).for_each(|(s, k)| *s *= k);
        let res = fft.inverse(spec);
        for y in 0..h {
            let src = &res[(y + r) * pw + r..][..w];
            let dst = &mut out.plane_mut(c)[y * w..][..w];
            for (d, s) in dst.iter_mut().zip(src) {
                *d = s.re;
            }
            if pair {
                let dst = &mut out.plane_mut(c + 1)[y * w..][..w];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = s.im;
                }
            }
        }
        c += 2;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

/// Map the input's channels to the instrument's bands: 3 (full), 1 (mono) or 2 (red, blue plate).
///
/// Grey input stays grey whatever the mode.
pub fn to_bands(planes: &Planes, mode: &ColourMode) -> Planes {
    if planes.channels != 3 {
        return planes.clone();
    }
    let mix = |wts: [f32; 3]| -> Vec<f32> {
        let s: f32 = wts.iter().sum();
        let (r, g, b) = (planes.plane(0), planes.plane(1), planes.plane(2));
        r.iter().zip(g).zip(b).map(|((r, g), b)| (wts[0] * r + wts[1] * g + wts[2] * b) / s).collect()
    };
    match *mode {
        ColourMode::Full => planes.clone(),
        ColourMode::Mono { weights } => Planes { channels: 1, data: mix(weights), ..*planes },
        ColourMode::TwoPlate { red, blue } => {
            let mut data = mix(red);
            data.extend(mix(blue));
            Planes { channels: 2, data, ..*planes }
        }
    }
}

/// Back from bands to `channels` output channels: two plates become (R, (R+B)/2, B), one plate
/// is replicated.
pub fn from_bands(bands: &Planes, channels: usize) -> Planes {
    match (bands.channels, channels) {
        (2, 3) => {
            let (r, b) = (bands.plane(0), bands.plane(1));
            let g: Vec<f32> = r.iter().zip(b).map(|(r, b)| 0.5 * (r + b)).collect();
            let mut data = Vec::with_capacity(3 * bands.pixels());
            data.extend_from_slice(r);
            data.extend(g);
            data.extend_from_slice(b);
            Planes { channels: 3, data, ..*bands }
        }
        (2, 1) => {
            let (r, b) = (bands.plane(0), bands.plane(1));
            Planes { channels: 1, data: r.iter().zip(b).map(|(r, b)| 0.5 * (r + b)).collect(), ..*bands }
        }
        (1, 3) => bands.to_rgb(),
        _ => bands.clone(),
    }
}

/// Soft saturation: identity below `level − knee`, a tanh shoulder up to `level`, then `/ level`.
pub fn saturate(planes: &mut Planes, level: f32, knee: f32) {
    let start = level - knee;
    planes.data.par_iter_mut().for_each(|v| {
        let s = if *v <= start {
            *v
        } else if knee > 0.0 {
            start + knee * ((*v - start) / knee).tanh()
        } else {
            level
        };
        *v = s / level;
    });
}

/// Add Gaussian noise of σ `sigma`; `grey` uses the same noise in every channel.
pub fn add_gaussian_noise(planes: &mut Planes, sigma: f32, grey: bool, rng: &mut ChaCha8Rng) {
    let n = planes.pixels();
    if grey {
        let noise: Vec<f32> = (0..n).map(|_| sigma * rng.sample::<f32, _>(StandardNormal)).collect();
        for c in 0..planes.channels {
            planes.plane_mut(c).iter_mut().zip(&noise).for_each(|(v, e)| *v += e);
        }
    } else {
        planes.data.iter_mut().for_each(|v| *v += sigma * rng.sample::<f32, _>(StandardNormal));
    }
}

fn poisson_sample(lambda: f64, rng: &mut ChaCha8Rng) -> f64 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0.0;
    }
    match Poisson::new(lambda) {
        Ok(p) => p.sample(rng),
        // Beyond Poisson::MAX_LAMBDA the normal approximation is exact to f32 precision.
        Err(_) => lambda + lambda.sqrt() * rng.sample::<f64, _>(StandardNormal),
    }
}

/// Add photon noise: `(Poisson(v · peak) / peak − v) · scale`; `grey` draws it from the channel
/// mean and adds it to every channel (BasicSR's grey Poisson noise).
pub fn add_poisson_noise(planes: &mut Planes, peak: f64, scale: f32, grey: bool, rng: &mut ChaCha8Rng) {
    let n = planes.pixels();
    if grey && planes.channels > 1 {
        let ch = planes.channels as f32;
        let noise: Vec<f32> = (0..n)
            .map(|i| {
                let v = (0..planes.channels).map(|c| planes.data[c * n + i]).sum::<f32>() / ch;
                let v = v.max(0.0) as f64;
                ((poisson_sample(v * peak, rng) / peak - v) as f32) * scale
            })
            .collect();
        for c in 0..planes.channels {
            planes.plane_mut(c).iter_mut().zip(&noise).for_each(|(v, e)| *v += e);
        }
    } else {
        for v in planes.data.iter_mut() {
            let x = v.max(0.0) as f64;
            *v += ((poisson_sample(x * peak, rng) / peak - x) as f32) * scale;
        }
    }
}

fn apply_noise(planes: &mut Planes, cfg: &NoiseConfig, rng: &mut ChaCha8Rng) {
    if rng.random::<f64>() >= cfg.prob {
        return;
    }
    let grey = rng.random::<f64>() < cfg.grey_prob;
    let gaussian = cfg.combine || rng.random::<f64>() < cfg.gaussian_prob;
    let poisson = cfg.combine || !gaussian;
    if poisson {
        let peak = cfg.poisson_peak.sample(rng);
        let scale = cfg.poisson_scale.sample(rng) as f32;
        tracing::trace!(peak, scale, grey, "poisson noise");
        add_poisson_noise(planes, peak, scale, grey, rng);
    }
    if gaussian {
        let sigma = cfg.gaussian_sigma.sample(rng) as f32;
        tracing::trace!(sigma, grey, "gaussian noise");
        add_gaussian_noise(planes, sigma, grey, rng);
    }
    planes.clamp01();
}

/// Photographic grain: white noise smoothed by a Gaussian of σ `size_px`, renormalised to unit
/// variance, added with σ `amplitude · √(v + fog)` (granularity grows with density).
pub fn add_grain(planes: &mut Planes, amplitude: f32, size_px: f64, fog: f32, rng: &mut ChaCha8Rng) {
    let mut field = Planes { data: Vec::new(), ..*planes };
    field.data = (0..planes.data.len()).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    if size_px > 0.05 {
        let k = Kernel::gaussian(size_px);
        let norm = k.data.iter().map(|v| v * v).sum::<f32>().sqrt();
        field = convolve(&field, &k);
        field.data.iter_mut().for_each(|v| *v /= norm);
    }
    planes.data.par_iter_mut().zip(field.data.par_iter()).for_each(|(v, g)| {
        *v += amplitude * (v.max(0.0) + fog).sqrt() * g;
    });
}

/// Encode as JPEG at `quality` (1–100) and decode again. Two-band images are coded per band.
pub fn jpeg_roundtrip(planes: &Planes, quality: u8) -> Result<Planes> {
    let code = |p: &Planes| -> Result<Planes> {
        let err = |e: image::ImageError| DatasetError::Encode {
            path: format!("<jpeg degradation q{quality}>").into(),
            reason: e.to_string(),
        };
        let img = p.to_dynamic_image(8)?;
        let mut bytes = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100));
        img.write_with_encoder(enc).map_err(err)?;
        let dec = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).map_err(err)?;
        let mut out = Planes::from_dynamic_image(&dec, crate::image_io::ColorMode::Keep);
        out.bit_depth = p.bit_depth;
        Ok(out)
    };
    if planes.channels == 1 || planes.channels == 3 {
        return code(planes);
    }
    let mut out = planes.clone();
    for c in 0..planes.channels {
        let one = Planes { channels: 1, data: planes.plane(c).to_vec(), ..*planes };
        out.plane_mut(c).copy_from_slice(&code(&one)?.data);
    }
    Ok(out)
}

fn apply_jpeg(planes: &mut Planes, cfg: &JpegConfig, rng: &mut ChaCha8Rng) -> Result<()> {
    if rng.random::<f64>() >= cfg.prob {
        return Ok(());
    }
    let q = cfg.quality.sample(rng).round().clamp(1.0, 100.0) as u8;
    tracing::trace!(quality = q, "jpeg");
    *planes = jpeg_roundtrip(planes, q)?;
    Ok(())
}

fn apply_order(planes: &mut Planes, cfg: &OrderConfig, out_w: usize, out_h: usize, rng: &mut ChaCha8Rng) -> Result<()> {
    if let Some(b) = &cfg.blur
        && rng.random::<f64>() < b.prob
    {
        let k = random_blur_kernel(b, rng);
        *planes = convolve(planes, &k);
    }
    if let Some(r) = &cfg.resize {
        let f = match choose(&r.up_down_keep, rng) {
            0 => rng.random_range(1.0..=r.factor.1),
            1 => rng.random_range(r.factor.0..=1.0),
            _ => 1.0,
        };
        let (bw, bh) = if r.relative_to_output { (out_w, out_h) } else { (planes.width, planes.height) };
        let (nw, nh) = (((bw as f64 * f).round() as usize).max(1), ((bh as f64 * f).round() as usize).max(1));
        // PyTorch's area / bilinear / bicubic modes, drawn uniformly as Real-ESRGAN does.
        let (kernel, antialias) = match rng.random_range(0..3) {
            0 => (ResizeKernel::Box, true),
            1 => (ResizeKernel::Linear, false),
            _ => (ResizeKernel::Cubic, false),
        };
        tracing::trace!(f, nw, nh, ?kernel, "random resize");
        if (nw, nh) != (planes.width, planes.height) {
            *planes = imresize_with(planes, nw, nh, kernel, antialias);
        }
        planes.clamp01();
    }
    if let Some(n) = &cfg.noise {
        apply_noise(planes, n, rng);
    }
    if let Some(j) = &cfg.jpeg {
        apply_jpeg(planes, j, rng)?;
    }
    Ok(())
}

/// Size ratio (output / input) that takes an image at `source` ″/px to a survey at `target` ″/px,
/// e.g. 0.25″/px → DSS (1.0″/px) is 0.25, i.e. a ×4 downscale.
pub fn survey_size_ratio(source_arcsec_per_px: f64, target_arcsec_per_px: f64) -> f64 {
    source_arcsec_per_px / target_arcsec_per_px
}

/// Degrade a clean image into a survey-like (or Real-ESRGAN-like) low-resolution input.
///
/// The output is `⌊w / scale⌋ × ⌊h / scale⌋` (scale 1: same size) with the input's channel count.
/// Every random draw comes from `rng`, so a seed fixes the result.
pub fn degrade(hr: &Planes, cfg: &DegradationConfig, scale: usize, rng: &mut ChaCha8Rng) -> Result<Planes> {
    cfg.validate()?;
    if scale == 0 {
        return Err(DatasetError::Config("degradation scale must be at least 1".into()));
    }
    let (out_w, out_h) = (hr.width / scale, hr.height / scale);
    if out_w == 0 || out_h == 0 || hr.data.len() != hr.channels * hr.width * hr.height {
        return Err(DatasetError::Shape(format!(
            "cannot degrade a {}x{} image with {} channels by ×{scale}",
            hr.width, hr.height, hr.channels
        )));
    }
    // Pixel scale of the clean input: given, or `scale` times finer than the survey.
    let source_scale = cfg.source_pixel_scale_arcsec.or(cfg.survey_pixel_scale_arcsec.map(|s| s / scale as f64));

    // Draw only when the reduction is optional, so presets keep their random streams.
    let colour =
        if cfg.colour_prob < 1.0 && rng.random::<f64>() >= cfg.colour_prob { ColourMode::Full } else { cfg.colour };
    let mut img = to_bands(hr, &colour);
    if let Some(s) = &cfg.seeing
        && rng.random::<f64>() < s.prob
        && let Some(px) = source_scale
    {
        let fwhm_px = s.fwhm_arcsec.sample(rng) / px;
        let beta = match s.profile {
            PsfProfile::Moffat { beta } => beta.sample(rng),
            PsfProfile::Gaussian => 0.0,
        };
        tracing::trace!(fwhm_px, beta, "seeing");
        img = convolve(&img, &psf_kernel(s.profile, fwhm_px, beta));
    }
    if let Some(s) = &cfg.saturation
        && rng.random::<f64>() < s.prob
    {
        let level = s.level.sample(rng) as f32;
        saturate(&mut img, level, s.knee as f32);
    }
    if let Some(o) = &cfg.first_order {
        apply_order(&mut img, o, out_w, out_h, rng)?;
    }
    if let Some(o) = &cfg.second_order {
        apply_order(&mut img, o, out_w, out_h, rng)?;
    }
    // Survey sampling: through the survey grid when it is coarser than the output grid.
    if let (Some(src), Some(survey)) = (source_scale, cfg.survey_pixel_scale_arcsec) {
        let ratio = survey_size_ratio(src, survey);
        let (sw, sh) = ((hr.width as f64 * ratio).round() as usize, (hr.height as f64 * ratio).round() as usize);
        if sw < out_w && sh < out_h && sw > 0 && sh > 0 {
            tracing::trace!(sw, sh, "survey grid");
            img = imresize_with(&img, sw, sh, cfg.final_kernel, true);
        }
    }
    if (img.width, img.height) != (out_w, out_h) {
        img = imresize_with(&img, out_w, out_h, cfg.final_kernel, true);
    }
    if let Some(k) = &cfg.sky
        && rng.random::<f64>() < k.prob
    {
        let (level, gamma) = (k.level.sample(rng) as f32, k.gamma.sample(rng) as f32);
        img.data.par_iter_mut().for_each(|v| *v = level + (1.0 - level) * v.max(0.0).powf(gamma));
    }
    if let Some(g) = &cfg.grain
        && rng.random::<f64>() < g.prob
    {
        let amplitude = g.amplitude.sample(rng) as f32;
        let size = g.size_px.sample(rng);
        add_grain(&mut img, amplitude, size, g.fog as f32, rng);
    }
    if let Some(n) = &cfg.noise {
        apply_noise(&mut img, n, rng);
    }
    let mut img = from_bands(&img, hr.channels);
    if let Some(j) = &cfg.jpeg {
        img.clamp01();
        apply_jpeg(&mut img, j, rng)?;
    }
    img.clamp01();
    img.bit_depth = hr.bit_depth;
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resize::imresize;
    use rand::SeedableRng;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// A smooth synthetic "galaxy" with a few stars on a dark sky.
    fn sky(c: usize, h: usize, w: usize) -> Planes {
        let mut p = Planes::zeros(c, h, w);
        let stars = [(0.2, 0.3, 0.9), (0.7, 0.6, 1.0), (0.45, 0.8, 0.6), (0.85, 0.15, 0.8)];
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let (fx, fy) = (x as f64 / w as f64 - 0.5, y as f64 / h as f64 - 0.5);
                    let mut v = 0.02 + 0.5 * (-(fx * fx * 30.0 + fy * fy * 80.0)).exp() * (1.0 - 0.2 * ch as f64);
                    for (sx, sy, a) in stars {
                        let (dx, dy) = ((x as f64 - sx * w as f64), (y as f64 - sy * h as f64));
                        v += a * (-(dx * dx + dy * dy) / 2.0).exp();
                    }
                    p.data[(ch * h + y) * w + x] = v.min(1.0) as f32;
                }
            }
        }
        p
    }

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
        (m, var.sqrt())
    }

    /// FWHM of the row through the peak, by linear interpolation of the half-maximum crossings.
    fn fwhm_of(p: &Planes) -> f64 {
        let (mut py, mut px, mut peak) = (0, 0, f32::MIN);
        for y in 0..p.height {
            for x in 0..p.width {
                if p.get(0, y, x) > peak {
                    (py, px, peak) = (y, x, p.get(0, y, x));
                }
            }
        }
        let half = peak / 2.0;
        let row: Vec<f32> = (0..p.width).map(|x| p.get(0, py, x)).collect();
        let mut r = px;
        while row[r + 1] > half {
            r += 1;
        }
        let right = r as f64 + ((row[r] - half) / (row[r] - row[r + 1])) as f64;
        let mut l = px;
        while row[l - 1] > half {
            l -= 1;
        }
        let left = l as f64 - ((row[l] - half) / (row[l] - row[l - 1])) as f64;
        right - left
    }

    #[test]
    fn presets_validate_and_round_trip_through_json() {
        for name in ["bicubic", "dss", "sdss", "survey-calibrated", "real_esrgan"] {
            let cfg = DegradationConfig::preset(name).unwrap();
            cfg.validate().unwrap();
            let json = serde_json::to_string_pretty(&cfg).unwrap();
            let back: DegradationConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cfg, "{name}");
        }
        assert!(DegradationConfig::preset("hubble").unwrap_err().to_string().contains("unknown degradation preset"));
        // Partial JSON fills from the bicubic defaults; typos are refused.
        let cfg: DegradationConfig = serde_json::from_str(r#"{"jpeg": {"quality": [50, 60]}}"#).unwrap();
        assert_eq!(cfg.jpeg, Some(JpegConfig { prob: 1.0, quality: Span(50.0, 60.0) }));
        assert!(serde_json::from_str::<DegradationConfig>(r#"{"jpg": {}}"#).is_err());
        let bad = DegradationConfig {
            jpeg: Some(JpegConfig { prob: 1.0, quality: Span(90.0, 10.0) }),
            ..DegradationConfig::bicubic()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("jpeg.quality"));
        let no_scale = DegradationConfig { seeing: Some(SeeingConfig::default()), ..DegradationConfig::bicubic() };
        assert!(no_scale.validate().unwrap_err().to_string().contains("pixel_scale"));
    }

    #[test]
    fn load_names_the_file_on_bad_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deg.json");
        std::fs::write(&path, serde_json::to_string(&DegradationConfig::dss()).unwrap()).unwrap();
        assert_eq!(DegradationConfig::load(&path).unwrap(), DegradationConfig::dss());
        std::fs::write(&path, r#"{"noise": {"prob": 2.0}}"#).unwrap();
        let err = DegradationConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("deg.json") && err.contains("noise.prob"), "{err}");
    }

    #[test]
    fn output_sizes_follow_the_scale_for_every_preset() {
        let hr = sky(3, 67, 90);
        for name in ["bicubic", "dss", "sdss", "real_esrgan"] {
            let cfg = DegradationConfig::preset(name).unwrap();
            for scale in [1, 2, 3, 4] {
                let lr = degrade(&hr, &cfg, scale, &mut rng(scale as u64)).unwrap();
                assert_eq!((lr.channels, lr.width, lr.height), (3, 90 / scale, 67 / scale), "{name} ×{scale}");
                assert!(lr.data.iter().all(|v| (0.0..=1.0).contains(v)), "{name}: values outside [0, 1]");
            }
        }
        let grey = degrade(&sky(1, 32, 32), &DegradationConfig::dss(), 2, &mut rng(0)).unwrap();
        assert_eq!((grey.channels, grey.width), (1, 16));
        assert!(degrade(&hr, &DegradationConfig::bicubic(), 0, &mut rng(0)).is_err());
        let err = degrade(&sky(3, 3, 3), &DegradationConfig::bicubic(), 4, &mut rng(0)).unwrap_err();
        assert!(err.to_string().contains("3x3"), "{err}");
    }

    #[test]
    fn same_seed_same_result_other_seed_other_result() {
        let hr = sky(3, 64, 64);
        for name in ["dss", "sdss", "real_esrgan"] {
            let cfg = DegradationConfig::preset(name).unwrap();
            let a = degrade(&hr, &cfg, 2, &mut rng(7)).unwrap();
            let b = degrade(&hr, &cfg, 2, &mut rng(7)).unwrap();
            let c = degrade(&hr, &cfg, 2, &mut rng(8)).unwrap();
            assert_eq!(a, b, "{name}: not deterministic");
            assert_ne!(a, c, "{name}: seed has no effect");
        }
    }

    #[test]
    fn bicubic_preset_is_exactly_imresize() {
        let hr = sky(3, 48, 40);
        let lr = degrade(&hr, &DegradationConfig::bicubic(), 4, &mut rng(1)).unwrap();
        let mut expected = imresize(&hr, 10, 12);
        expected.clamp01();
        assert_eq!(lr.data, expected.data);
    }

    #[test]
    fn gaussian_noise_sigma_is_measured_within_ten_percent() {
        for (sigma, grey) in [(0.02f32, false), (0.08, true)] {
            let mut p = Planes::from_vec(3, 128, 128, vec![0.5; 3 * 128 * 128]).unwrap();
            add_gaussian_noise(&mut p, sigma, grey, &mut rng(3));
            for c in 0..3 {
                let (m, s) = mean_std(p.plane(c));
                assert!((m - 0.5).abs() < 0.01, "mean {m}");
                assert!((s / sigma as f64 - 1.0).abs() < 0.1, "σ {s} vs {sigma}");
            }
            assert_eq!(p.plane(0) == p.plane(2), grey, "grey noise must be identical across channels");
        }
        // Through the config: fixed σ, Gaussian only.
        let cfg = NoiseConfig {
            gaussian_prob: 1.0,
            gaussian_sigma: Span::fixed(0.05),
            grey_prob: 0.0,
            ..NoiseConfig::default()
        };
        let mut p = Planes::from_vec(1, 128, 128, vec![0.4; 128 * 128]).unwrap();
        apply_noise(&mut p, &cfg, &mut rng(4));
        let (_, s) = mean_std(&p.data);
        assert!((s / 0.05 - 1.0).abs() < 0.1, "σ {s}");
    }

    #[test]
    fn poisson_noise_variance_follows_the_signal() {
        // Var(Poisson(v·peak)/peak) = v / peak.
        for v in [0.1f32, 0.6] {
            let mut p = Planes::from_vec(1, 128, 128, vec![v; 128 * 128]).unwrap();
            add_poisson_noise(&mut p, 400.0, 1.0, false, &mut rng(5));
            let (m, s) = mean_std(&p.data);
            let expected = (v as f64 / 400.0).sqrt();
            assert!((m - v as f64).abs() < 0.005, "mean {m}");
            assert!((s / expected - 1.0).abs() < 0.1, "σ {s} vs {expected} at v = {v}");
        }
    }

    #[test]
    fn blur_kernels_are_normalised_and_shaped_as_asked() {
        let mut r = rng(9);
        for _ in 0..40 {
            let k = random_blur_kernel(&BlurConfig::default(), &mut r);
            assert!(k.size % 2 == 1 && (7..=21).contains(&k.size));
            assert!((k.sum() - 1.0).abs() < 1e-4, "sum {}", k.sum());
            assert!(k.data.iter().all(|v| *v >= 0.0));
            let c = k.size / 2;
            // Point symmetric: k(x) = k(-x).
            for y in 0..k.size {
                for x in 0..k.size {
                    assert!((k.get(y, x) - k.get(2 * c - y, 2 * c - x)).abs() < 1e-6);
                }
            }
        }
        // Anisotropic Gaussian σx = 3, σy = 1, θ = 0: measured second moments.
        let k = bivariate_kernel(KernelShape::Gaussian, 31, 3.0, 1.0, 0.0, 1.0);
        let (mut vx, mut vy) = (0.0, 0.0);
        for y in 0..31 {
            for x in 0..31 {
                vx += k.get(y, x) as f64 * (x as f64 - 15.0).powi(2);
                vy += k.get(y, x) as f64 * (y as f64 - 15.0).powi(2);
            }
        }
        assert!((vx.sqrt() - 3.0).abs() < 0.05 && (vy.sqrt() - 1.0).abs() < 0.05, "{vx} {vy}");
        // Rotated by 90° it swaps axes.
        let r90 = bivariate_kernel(KernelShape::Gaussian, 31, 3.0, 1.0, PI / 2.0, 1.0);
        assert!((r90.get(15, 20) - k.get(20, 15)).abs() < 1e-6);
        // Plateau is flatter at the top than a generalised Gaussian with β = 1 (a Gaussian).
        let plateau = bivariate_kernel(KernelShape::Plateau, 21, 2.0, 2.0, 0.0, 2.0);
        let generalized = bivariate_kernel(KernelShape::Generalized, 21, 2.0, 2.0, 0.0, 1.0);
        let gauss = bivariate_kernel(KernelShape::Gaussian, 21, 2.0, 2.0, 0.0, 1.0);
        assert!(generalized.data.iter().zip(&gauss.data).all(|(a, b)| (a - b).abs() < 1e-7));
        assert!(plateau.get(10, 11) / plateau.get(10, 10) > gauss.get(10, 11) / gauss.get(10, 10));
    }

    #[test]
    fn fft_and_direct_convolution_agree_and_preserve_flux() {
        let p = sky(3, 40, 52);
        // An asymmetric kernel catches flipped or shifted FFT placement.
        let mut k = bivariate_kernel(KernelShape::Gaussian, 9, 2.0, 0.7, 0.5, 1.0);
        k.data[3] += 0.05;
        k.data[70] += 0.1;
        let direct = convolve_direct(&p, &k);
        let fft = convolve_fft(&p, &k);
        let max = direct.data.iter().zip(&fft.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(max < 1e-5, "FFT and direct differ by {max}");
        // A delta kernel is the identity; a shifted delta shifts.
        let mut delta = Kernel { size: 3, data: vec![0.0; 9] };
        delta.data[4] = 1.0;
        assert_eq!(convolve(&p, &delta).data, p.data);
        delta.data[4] = 0.0;
        delta.data[5] = 1.0; // weight at (dy 0, dx +1): out[x] = in[x + 1]
        let shifted = convolve(&p, &delta);
        assert_eq!(shifted.get(1, 10, 10), p.get(1, 10, 11));
        // A large PSF keeps the mean (reflect padding conserves flux on smooth images).
        let psf = psf_kernel(PsfProfile::Moffat { beta: Span::fixed(3.0) }, 6.0, 3.0);
        assert!(psf.size > DIRECT_MAX);
        let out = convolve(&p, &psf);
        let (m0, _) = mean_std(&p.data);
        let (m1, _) = mean_std(&out.data);
        assert!((m0 - m1).abs() / m0 < 0.05, "{m0} vs {m1}");
    }

    #[test]
    fn psf_fwhm_is_measured_as_requested() {
        for (profile, beta) in [
            (PsfProfile::Gaussian, 0.0),
            (PsfProfile::Moffat { beta: Span::fixed(2.5) }, 2.5),
            (PsfProfile::Moffat { beta: Span::fixed(4.765) }, 4.765),
        ] {
            for fwhm in [2.0, 3.0, 4.0, 6.0, 10.0] {
                let k = psf_kernel(profile, fwhm, beta);
                assert!((k.sum() - 1.0).abs() < 1e-4);
                let mut point = Planes::zeros(1, 81, 81);
                point.data[40 * 81 + 40] = 1.0;
                let img = convolve(&point, &k);
                let measured = fwhm_of(&img);
                // Pixel integration broadens narrow PSFs a little (in quadrature, ≈ +0.46 px²).
                let tolerance = if fwhm >= 4.0 { 0.03 } else { 0.15 };
                assert!(
                    measured >= fwhm && measured / fwhm - 1.0 < tolerance,
                    "{profile:?}: measured {measured} vs {fwhm}"
                );
            }
        }
        // Through the config: 2″ seeing on a 0.5″/px image is a 4 px FWHM.
        let cfg = DegradationConfig {
            source_pixel_scale_arcsec: Some(0.5),
            seeing: Some(SeeingConfig { prob: 1.0, fwhm_arcsec: Span::fixed(2.0), profile: PsfProfile::Gaussian }),
            ..DegradationConfig::bicubic()
        };
        let mut point = Planes::zeros(1, 61, 61);
        point.data[30 * 61 + 30] = 1.0;
        let img = degrade(&point, &cfg, 1, &mut rng(0)).unwrap();
        let measured = fwhm_of(&img);
        assert!((measured / 4.0 - 1.0).abs() < 0.05, "measured {measured}");
    }

    #[test]
    fn jpeg_changes_the_image_but_keeps_it_close() {
        let p = sky(3, 64, 64);
        let mut p8 = p.clone();
        p8.data.iter_mut().for_each(|v| *v = (*v * 255.0).round() / 255.0);
        for q in [30u8, 90] {
            let j = jpeg_roundtrip(&p8, q).unwrap();
            assert_eq!((j.channels, j.width, j.height), (3, 64, 64));
            let mae = j.data.iter().zip(&p8.data).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / p.data.len() as f64;
            assert!(j.data != p8.data, "q{q}: JPEG left the image untouched");
            assert!(mae < if q < 50 { 0.03 } else { 0.01 }, "q{q}: mean error {mae}");
        }
        let two = Planes { channels: 2, data: p.data[..2 * 64 * 64].to_vec(), ..p.clone() };
        assert_eq!(jpeg_roundtrip(&two, 80).unwrap().channels, 2);
    }

    #[test]
    fn two_plate_colour_makes_green_the_mean_of_red_and_blue() {
        let hr = sky(3, 64, 64);
        let cfg = DegradationConfig { jpeg: None, ..DegradationConfig::dss() };
        let lr = degrade(&hr, &cfg, 2, &mut rng(11)).unwrap();
        let n = lr.pixels();
        for i in 0..n {
            let (r, g, b) = (lr.data[i], lr.data[n + i], lr.data[2 * n + i]);
            assert!((g - 0.5 * (r + b)).abs() < 1e-6, "pixel {i}: {r} {g} {b}");
        }
        assert_ne!(lr.plane(0), lr.plane(2), "the two plates must differ");
        // Mono gives identical channels.
        let mono = DegradationConfig { colour: ColourMode::Mono { weights: [1.0, 1.0, 1.0] }, ..cfg };
        let lr = degrade(&hr, &mono, 2, &mut rng(11)).unwrap();
        assert!(lr.plane(0) == lr.plane(1) && lr.plane(1) == lr.plane(2));
    }

    #[test]
    fn saturation_flattens_bright_cores_to_white() {
        let mut p = Planes::from_vec(1, 1, 5, vec![0.1, 0.5, 0.7, 0.9, 3.0]).unwrap();
        saturate(&mut p, 0.8, 0.1);
        assert!((p.data[0] - 0.1 / 0.8).abs() < 1e-6 && (p.data[1] - 0.5 / 0.8).abs() < 1e-6);
        assert!(p.data.windows(2).all(|w| w[0] < w[1]), "monotonic: {:?}", p.data);
        assert!(p.data[4] <= 1.0 && p.data[4] > 0.999, "{:?}", p.data);
        let mut hard = Planes::from_vec(1, 1, 2, vec![0.5, 0.95]).unwrap();
        saturate(&mut hard, 0.9, 0.0);
        assert_eq!(hard.data, vec![0.5 / 0.9, 1.0]);
    }

    #[test]
    fn grain_is_correlated_and_grows_with_signal() {
        let mut dark = Planes::from_vec(1, 128, 128, vec![0.0; 128 * 128]).unwrap();
        let mut bright = Planes::from_vec(1, 128, 128, vec![0.8; 128 * 128]).unwrap();
        add_grain(&mut dark, 0.03, 1.0, 0.05, &mut rng(2));
        add_grain(&mut bright, 0.03, 1.0, 0.05, &mut rng(2));
        let (_, sd) = mean_std(&dark.data);
        let (_, sb) = mean_std(&bright.data);
        assert!((sd / (0.03 * 0.05f64.sqrt()) - 1.0).abs() < 0.15, "dark grain σ {sd}");
        assert!((sb / (0.03 * 0.85f64.sqrt()) - 1.0).abs() < 0.15, "bright grain σ {sb}");
        // Neighbouring pixels are correlated (white noise would give ≈ 0).
        let d: Vec<f64> = bright.data.iter().map(|v| *v as f64 - 0.8).collect();
        let corr = d.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / d.iter().map(|v| v * v).sum::<f64>();
        assert!(corr > 0.5, "lag-1 correlation {corr}");
    }

    #[test]
    fn survey_sampling_loses_detail_finer_than_the_survey_pixel() {
        // Stars (σ 1 px) on a 0.1″/px image at ×2 output (0.2″/px grid) imitating a 1″/px survey
        // must come out much fainter and wider than with plain ×2 bicubic.
        let mut hr = Planes::zeros(1, 96, 96);
        for (sx, sy) in [(20.0, 30.0), (60.0, 50.0), (75.0, 80.0)] {
            for y in 0..96 {
                for x in 0..96 {
                    let (dx, dy) = (x as f32 - sx, y as f32 - sy);
                    hr.data[y * 96 + x] += (-(dx * dx + dy * dy) / 2.0).exp();
                }
            }
        }
        let plain = degrade(&hr, &DegradationConfig::bicubic(), 2, &mut rng(0)).unwrap();
        let survey = DegradationConfig {
            source_pixel_scale_arcsec: Some(0.1),
            survey_pixel_scale_arcsec: Some(1.0),
            ..DegradationConfig::bicubic()
        };
        let coarse = degrade(&hr, &survey, 2, &mut rng(0)).unwrap();
        assert_eq!((coarse.width, coarse.height), (48, 48));
        let peak = |p: &Planes| p.data.iter().cloned().fold(0.0, f32::max);
        assert!(peak(&coarse) < 0.3 * peak(&plain), "{} vs {}", peak(&coarse), peak(&plain));
        assert!((survey_size_ratio(0.25, 1.0) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn reflect_index_folds_without_repeating_the_edge() {
        assert_eq!(reflect(-1, 5), 1);
        assert_eq!(reflect(-2, 5), 2);
        assert_eq!(reflect(5, 5), 3);
        assert_eq!(reflect(12, 5), 4);
        assert_eq!(reflect(-7, 1), 0);
    }
}
