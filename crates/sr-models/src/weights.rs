//! Bundled default models and the bundled sample survey image (embedded in the binary, so
//! `prettify` and `upscale` work with no arguments and no network).
//!
//! Both models are the lightweight generator trained on the Stellarium deep-sky images with the
//! DSS-like degradation; see docs/models.md for the exact commands and figures.

use std::path::Path;

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

/// The bundled models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundled {
    /// [`PRETTIFY_X1`].
    PrettifyX1,
    /// [`UPSCALE_X4`].
    UpscaleX4,
}

impl Bundled {
    /// The bundled model for a scale, if there is one.
    pub fn for_scale(scale: usize) -> Option<Bundled> {
        match scale {
            1 => Some(Bundled::PrettifyX1),
            4 => Some(Bundled::UpscaleX4),
            _ => None,
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

/// Load `path` if given (checking its scale), else the bundled model for `scale`.
pub fn load_or_bundled<B: Backend>(
    path: Option<&Path>,
    scale: usize,
    device: &B::Device,
) -> Result<(GeneratorConfig, Generator<B>)> {
    match path {
        Some(p) => crate::store::load_model(p, Some(scale), device),
        None => Bundled::for_scale(scale)
            .ok_or_else(|| SrError::Config(format!("no bundled ×{scale} model; pass --model FILE (bundled: ×1, ×4)")))?
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
        let (c1, _) = Bundled::PrettifyX1.load::<Flex>(&d).unwrap();
        assert_eq!((c1.arch(), c1.scale()), ("light", 1));
        let (c4, _) = Bundled::UpscaleX4.load::<Flex>(&d).unwrap();
        assert_eq!((c4.arch(), c4.scale()), ("light", 4));
        assert!(load_or_bundled::<Flex>(None, 2, &d).is_err());
        let img = dataset::image_io::load_image_bytes(
            SAMPLE_SURVEY_IMAGE,
            "sample",
            dataset::ColorMode::Rgb,
            dataset::ImageLimits::default(),
        )
        .unwrap();
        assert_eq!((img.width, img.height), (256, 256));
    }
}
