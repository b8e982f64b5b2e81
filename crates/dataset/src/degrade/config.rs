//! The degradation's configuration: every step's parameters, JSON loading and validation (the
//! named presets that fill them in are in `presets`).

use std::path::Path;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use astro_image::resize::ResizeKernel;

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

pub(crate) fn check_prob(name: &str, p: f64) -> Result<()> {
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
    /// Black point after everything else: the sky clipped to black, as the processed survey
    /// images (Stellarium's DSS set) are.
    pub black_point: Option<BlackPointConfig>,
}

/// Every step off and MATLAB bicubic resampling: the values a JSON field left out takes. Serde
/// builds it before reading any configuration, so it is the one configuration that is not a
/// preset file; `presets/bicubic.json` spells it out and `tests/presets.rs` checks they agree.
impl Default for DegradationConfig {
    fn default() -> Self {
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
            black_point: None,
        }
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

/// Black point (levels): `x → max(0, x − level) / (1 − level)`. Processed survey images have
/// their sky clipped to black — 47 % of a median Stellarium DSS image's pixels have luma ≤ 1/255 — where noise
/// added to a black sky leaves it grey; this takes the faint signal below `level` with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlackPointConfig {
    /// Probability of applying the step.
    pub prob: f64,
    /// Black level range, in units of full scale (default 0.005–0.015).
    pub level: Span,
}

impl Default for BlackPointConfig {
    fn default() -> Self {
        BlackPointConfig { prob: 1.0, level: Span(0.005, 0.015) }
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
    /// A command-line value: a `.json` file (see [`DegradationConfig::load`]) or a preset name.
    pub fn from_arg(arg: &str) -> Result<Self> {
        let p = Path::new(arg);
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { Self::load(p) } else { Self::preset(arg) }
    }

    /// Read a configuration from a JSON file (missing fields take the bicubic defaults).
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?;
        Self::from_json(&text).map_err(|reason| DatasetError::Catalog { path: path.to_path_buf(), reason })
    }

    /// Parse and validate a configuration's JSON text (the one reader of user files and of the
    /// bundled presets); the error is the one-line reason.
    pub(crate) fn from_json(text: &str) -> std::result::Result<Self, String> {
        let cfg: DegradationConfig = serde_json::from_str(text).map_err(|e| format!("bad degradation config: {e}"))?;
        cfg.validate().map_err(|e| e.to_string())?;
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
        if let Some(b) = &self.black_point {
            check_prob("black_point.prob", b.prob)?;
            b.level.check("black_point.level", 0.0, 0.5)?;
        }
        Ok(())
    }
}

pub(crate) fn check_weights(name: &str, w: [f32; 3]) -> Result<()> {
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
