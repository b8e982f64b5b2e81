//! The named degradation presets: plain bicubic, the photographs' `general`, the surveys (`dss`,
//! `sdss`, the bundled `survey-calibrated` fit) and Real-ESRGAN's two orders, and their lookup by
//! name. The types they fill in, JSON loading and validation are in `config`.

use crate::error::{DatasetError, Result};
use astro_image::resize::ResizeKernel;

use super::config::{
    BlurConfig, ColourMode, DegradationConfig, GrainConfig, JpegConfig, KernelMix, NoiseConfig, OrderConfig,
    PsfProfile, RandomResize, SaturationConfig, SeeingConfig, Span,
};

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
            black_point: None,
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
            black_point: None,
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
            black_point: None,
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

    /// The `dss` preset fitted to the real DSS images of the Stellarium set
    /// (`examples/calibrate_survey.rs`; docs/degradations.md has the statistics before and after).
    pub fn survey_calibrated() -> Self {
        serde_json::from_str(include_str!("../../presets/survey-calibrated.json"))
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
}
