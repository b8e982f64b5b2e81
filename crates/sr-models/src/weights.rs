//! Bundled models and the bundled sample survey image (embedded in the binary, so `prettify` and
//! `upscale` work with no arguments and no network), and how a `--model` choice is resolved.
//!
//! `upscale --model general|survey|real|PATH`: each bundled name has a model per scale it
//! supports; see docs/models.md for the exact training commands and figures of each.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::error::{Result, SrError};
use crate::model::{Generator, GeneratorConfig};
use crate::store::model_from_bytes;

/// Same-size survey → outreach-style translation (lightweight, ×1).
pub const PRETTIFY_X1: &[u8] = include_bytes!("../weights/prettify-light-x1.srmodel");
/// ×4 super-resolution of survey-like images (lightweight).
pub const UPSCALE_X4: &[u8] = include_bytes!("../weights/upscale-light-x4.srmodel");

/// A real DSS image of NGC 185 (256×256) from Stellarium's deep-sky set.
pub const SAMPLE_SURVEY_IMAGE: &[u8] = include_bytes!("../assets/sample-ngc185-dss.png");
/// Credit line for [`SAMPLE_SURVEY_IMAGE`].
pub const SAMPLE_CREDIT: &str = "NGC 185, Digitized Sky Survey (DSS; STScI/NASA, Palomar/UK Schmidt plates), via Stellarium's deep-sky image set (GPL-2.0+)";

/// The families of bundled models a user picks by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Ordinary photographs and astronomical images, bicubic + mild blur/noise/JPEG (the default).
    General,
    /// DSS/SDSS-like survey inputs (seeing, plate colour, grain).
    Survey,
    /// Real-world blind degradations (Real-ESRGAN-style), GAN fine-tuned.
    Real,
    /// Same-size survey → outreach-style translation (`prettify`).
    Prettify,
}

impl Family {
    /// Every family, in the order shown in messages.
    pub const ALL: [Family; 4] = [Family::General, Family::Survey, Family::Real, Family::Prettify];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Family::General => "general",
            Family::Survey => "survey",
            Family::Real => "real",
            Family::Prettify => "prettify",
        }
    }

    /// Scales with a bundled model in this family.
    pub fn scales(self) -> Vec<usize> {
        Bundled::ALL.iter().filter(|b| b.family() == self).map(|b| b.scale()).collect()
    }

    /// The bundled model of this family at `scale`.
    pub fn at_scale(self, scale: usize) -> Result<Bundled> {
        Bundled::ALL.iter().copied().find(|b| b.family() == self && b.scale() == scale).ok_or_else(|| {
            let have: Vec<String> = self.scales().iter().map(|s| format!("×{s}")).collect();
            SrError::Config(format!(
                "the bundled '{}' model has no ×{scale} version (it has {})",
                self.name(),
                if have.is_empty() { "none".to_string() } else { have.join(", ") }
            ))
        })
    }
}

/// The bundled models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundled {
    /// [`PRETTIFY_X1`].
    PrettifyX1,
    /// [`UPSCALE_X4`].
    UpscaleX4,
}

impl Bundled {
    /// Every bundled model.
    pub const ALL: [Bundled; 2] = [Bundled::PrettifyX1, Bundled::UpscaleX4];

    /// The default bundled model for a scale, if there is one (`general` for ×2/×4, `prettify` for ×1).
    pub fn for_scale(scale: usize) -> Option<Bundled> {
        let family = if scale == 1 { Family::Prettify } else { Family::General };
        family.at_scale(scale).ok()
    }

    /// Its family.
    pub fn family(self) -> Family {
        match self {
            Bundled::PrettifyX1 => Family::Prettify,
            Bundled::UpscaleX4 => Family::General,
        }
    }

    /// Its scale.
    pub fn scale(self) -> usize {
        match self {
            Bundled::PrettifyX1 => 1,
            Bundled::UpscaleX4 => 4,
        }
    }

    /// Its bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Bundled::PrettifyX1 => PRETTIFY_X1,
            Bundled::UpscaleX4 => UPSCALE_X4,
        }
    }

    /// A name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Bundled::PrettifyX1 => "bundled prettify-light-x1",
            Bundled::UpscaleX4 => "bundled upscale-light-x4",
        }
    }

    /// Load it.
    pub fn load<B: Backend>(self, device: &B::Device) -> Result<(GeneratorConfig, Generator<B>)> {
        model_from_bytes(self.bytes(), Path::new(self.name()), None, device)
    }
}

/// What `--model` names: a bundled family or a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    /// A bundled family (`general`, `survey`, `real`, `prettify`), resolved per scale.
    Bundled(Family),
    /// A `.srmodel` file written by `train-srgan`.
    File(PathBuf),
}

impl Default for ModelChoice {
    fn default() -> Self {
        ModelChoice::Bundled(Family::General)
    }
}

impl std::str::FromStr for ModelChoice {
    type Err = String;

    /// A bundled family name, else a path (a name that is neither is reported when loading).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.is_empty() {
            return Err("empty model name (general, survey, real, prettify or a .srmodel file)".into());
        }
        Ok(Family::ALL
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .map(|f| ModelChoice::Bundled(*f))
            .unwrap_or_else(|| ModelChoice::File(PathBuf::from(s))))
    }
}

impl std::fmt::Display for ModelChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelChoice::Bundled(fam) => write!(f, "{}", fam.name()),
            ModelChoice::File(p) => write!(f, "{}", p.display()),
        }
    }
}

impl ModelChoice {
    /// Load the chosen model at `scale` (a file must hold a model of that scale).
    pub fn load<B: Backend>(&self, scale: usize, device: &B::Device) -> Result<(GeneratorConfig, Generator<B>, String)> {
        match self {
            ModelChoice::File(p) => {
                let (c, m) = crate::store::load_model(p, Some(scale), device)?;
                Ok((c, m, p.display().to_string()))
            }
            ModelChoice::Bundled(f) => {
                let b = f.at_scale(scale)?;
                let (c, m) = b.load(device)?;
                Ok((c, m, b.name().to_string()))
            }
        }
    }
}

/// Load `path` if given (checking its scale), else the bundled model for `scale`.
pub fn load_or_bundled<B: Backend>(
    path: Option<&Path>,
    scale: usize,
    device: &B::Device,
) -> Result<(GeneratorConfig, Generator<B>)> {
    match path {
        Some(p) => crate::store::load_model(p, Some(scale), device),
        None => Bundled::for_scale(scale)
            .ok_or_else(|| SrError::Config(format!("no bundled ×{scale} model; pass --model FILE")))?
            .load(device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn bundled_models_load_and_the_sample_is_a_real_survey_image() {
        let d = Default::default();
        for b in Bundled::ALL {
            let (c, _) = b.load::<Flex>(&d).unwrap();
            assert_eq!(c.scale(), b.scale(), "{}", b.name());
        }
        assert!(load_or_bundled::<Flex>(None, 3, &d).is_err());
        let img = dataset::image_io::load_image_bytes(
            SAMPLE_SURVEY_IMAGE,
            "sample",
            dataset::ColorMode::Rgb,
            dataset::ImageLimits::default(),
        )
        .unwrap();
        assert_eq!((img.width, img.height), (256, 256));
    }

    #[test]
    fn model_choice_parses_names_and_paths() {
        assert_eq!("general".parse::<ModelChoice>().unwrap(), ModelChoice::Bundled(Family::General));
        assert_eq!("Survey".parse::<ModelChoice>().unwrap(), ModelChoice::Bundled(Family::Survey));
        assert_eq!("x/m.srmodel".parse::<ModelChoice>().unwrap(), ModelChoice::File("x/m.srmodel".into()));
        let e = ModelChoice::Bundled(Family::General).load::<Flex>(3, &Default::default()).unwrap_err();
        assert!(e.to_string().contains("no ×3"), "{e}");
    }
}
