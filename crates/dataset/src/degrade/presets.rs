//! The named degradation presets — plain bicubic, the photographs' `general`, the surveys (`dss`,
//! `sdss`, the calibrated `survey-calibrated` fit) and Real-ESRGAN's two orders — and their lookup
//! by name. Each preset is data: one JSON file under `crates/dataset/presets/`, embedded at build
//! time and read by the same loader as a user's `--degradation FILE.json` (missing fields take the
//! `Default`, unknown fields are refused, every range is validated). The types they fill in, the
//! loader and validation are in `config`; `tests/presets.rs` checks every file.

use crate::error::{DatasetError, Result};

use super::config::DegradationConfig;

/// Every bundled preset: its name (the stem of its file) and the file's text.
const PRESETS: [(&str, &str); 6] = [
    ("bicubic", include_str!("../../presets/bicubic.json")),
    ("general", include_str!("../../presets/general.json")),
    ("dss", include_str!("../../presets/dss.json")),
    ("sdss", include_str!("../../presets/sdss.json")),
    ("survey-calibrated", include_str!("../../presets/survey-calibrated.json")),
    ("real_esrgan", include_str!("../../presets/real_esrgan.json")),
];

impl DegradationConfig {
    /// A bundled preset by its canonical name (the stem of its file).
    fn bundled(name: &str) -> Self {
        let (_, text) = PRESETS.iter().find(|(n, _)| *n == name).expect("a bundled preset name");
        // The files are embedded at build time and checked by tests/presets.rs, so a failure here
        // is a broken build, never user input.
        Self::from_json(text).unwrap_or_else(|reason| panic!("bundled preset {name}.json: {reason}"))
    }

    /// Plain MATLAB bicubic downscaling, the classic SR benchmark input (deterministic;
    /// `presets/bicubic.json`, equal to the `Default`).
    pub fn bicubic() -> Self {
        Self::bundled("bicubic")
    }

    /// Digitized Sky Survey (POSS-II plates scanned at ≈ 1.0″/px): two-plate colour, 1.5–3″
    /// Moffat seeing with plate halos, saturated white stars, grain, noise, sometimes JPEG
    /// (`presets/dss.json`).
    pub fn dss() -> Self {
        Self::bundled("dss")
    }

    /// Sloan Digital Sky Survey (CCD, 0.396″/px, median seeing 1.4″): full colour, Moffat PSF
    /// 1.0–1.8″, occasional saturation, sky and photon noise, JPEG as the SDSS cutout service
    /// (`presets/sdss.json`).
    pub fn sdss() -> Self {
        Self::bundled("sdss")
    }

    /// Real-ESRGAN's second-order degradation (Wang et al. 2021), without the sinc filters
    /// (`presets/real_esrgan.json`).
    pub fn real_esrgan() -> Self {
        Self::bundled("real_esrgan")
    }

    /// Ordinary photographs (the `general` upscaler): MATLAB bicubic, sometimes (20 %) a mild
    /// isotropic Gaussian blur first (σ 0.2–1.2 HR px), sometimes (15 %) light Gaussian noise
    /// (σ 0.1–1 % of full scale) and sometimes (15 %) JPEG (quality 70–95): 58 % of inputs stay
    /// plain bicubic, the field's benchmark degradation (`presets/general.json`).
    pub fn general() -> Self {
        Self::bundled("general")
    }

    /// The `dss` preset fitted to the real DSS images of the Stellarium set
    /// (`examples/calibrate_survey.rs` writes `presets/survey-calibrated.json`;
    /// docs/degradations.md has the statistics before and after).
    pub fn survey_calibrated() -> Self {
        Self::bundled("survey-calibrated")
    }

    /// A preset by name: `bicubic`, `general`, `dss`, `sdss`, `survey-calibrated` or
    /// `real_esrgan` (also `real-esrgan`), case-insensitive.
    pub fn preset(name: &str) -> Result<Self> {
        let canonical = match name.to_ascii_lowercase().as_str() {
            "survey-calibrated" | "survey_calibrated" => "survey-calibrated",
            "real_esrgan" | "real-esrgan" | "realesrgan" => "real_esrgan",
            "bicubic" => "bicubic",
            "general" => "general",
            "dss" => "dss",
            "sdss" => "sdss",
            other => {
                return Err(DatasetError::Config(format!(
                    "unknown degradation preset '{other}' (expected bicubic, general, dss, sdss, survey-calibrated or real_esrgan)"
                )));
            }
        };
        Ok(Self::bundled(canonical))
    }
}
