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

/// Survey → outreach-style translation at ×2 (`prettify`): outreach targets only, the degradation
/// calibrated against real DSS images.
pub const PRETTIFY_X2: &[u8] = include_bytes!("../weights/prettify-light-x2.srmodel");
/// `general` ×2: photographs and astronomical images, bicubic + mild blur/noise/JPEG.
pub const GENERAL_X2: &[u8] = include_bytes!("../weights/upscale-general-x2.srmodel");
/// `general` ×4: photographs and astronomical images, bicubic + mild blur/noise/JPEG.
pub const GENERAL_X4: &[u8] = include_bytes!("../weights/upscale-general-x4.srmodel");
/// `survey` ×4: DSS-like survey inputs (seeing, two-plate colour, grain, noise, JPEG).
pub const SURVEY_X4: &[u8] = include_bytes!("../weights/upscale-survey-x4.srmodel");
/// `real` ×4: Real-ESRGAN-style blind degradations, PSNR pretraining then GAN fine-tuning.
pub const REAL_X4: &[u8] = include_bytes!("../weights/upscale-real-x4.srmodel");

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
    /// Survey → outreach-style translation at ×2 (`prettify`).
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
    /// Survey → outreach-style ×2 (`weights/prettify-light-x2.srmodel`, embedded).
    PrettifyX2,
    /// `general` ×2 (`weights/upscale-general-x2.srmodel`, embedded).
    GeneralX2,
    /// `general` ×4 (`weights/upscale-general-x4.srmodel`, embedded).
    GeneralX4,
    /// `survey` ×4 (`weights/upscale-survey-x4.srmodel`, embedded).
    SurveyX4,
    /// `real` ×4 (`weights/upscale-real-x4.srmodel`, embedded).
    RealX4,
}

impl Bundled {
    /// Every bundled model.
    pub const ALL: [Bundled; 5] =
        [Bundled::PrettifyX2, Bundled::GeneralX2, Bundled::GeneralX4, Bundled::SurveyX4, Bundled::RealX4];

    /// Its family.
    pub fn family(self) -> Family {
        match self {
            Bundled::PrettifyX2 => Family::Prettify,
            Bundled::GeneralX2 | Bundled::GeneralX4 => Family::General,
            Bundled::SurveyX4 => Family::Survey,
            Bundled::RealX4 => Family::Real,
        }
    }

    /// Its scale.
    pub fn scale(self) -> usize {
        match self {
            Bundled::PrettifyX2 | Bundled::GeneralX2 => 2,
            Bundled::GeneralX4 | Bundled::SurveyX4 | Bundled::RealX4 => 4,
        }
    }

    /// Its bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Bundled::PrettifyX2 => PRETTIFY_X2,
            Bundled::GeneralX2 => GENERAL_X2,
            Bundled::GeneralX4 => GENERAL_X4,
            Bundled::SurveyX4 => SURVEY_X4,
            Bundled::RealX4 => REAL_X4,
        }
    }

    /// A name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Bundled::PrettifyX2 => "bundled prettify-light-x2",
            Bundled::GeneralX2 => "bundled upscale-general-x2",
            Bundled::GeneralX4 => "bundled upscale-general-x4",
            Bundled::SurveyX4 => "bundled upscale-survey-x4",
            Bundled::RealX4 => "bundled upscale-real-x4",
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
    pub fn load<B: Backend>(
        &self,
        scale: usize,
        device: &B::Device,
    ) -> Result<(GeneratorConfig, Generator<B>, String)> {
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
        assert!(Family::General.at_scale(3).is_err() && Family::Prettify.at_scale(4).is_err());
        let img = astro_image::image_io::load_image_bytes(
            SAMPLE_SURVEY_IMAGE,
            "sample",
            astro_image::ColorMode::Rgb,
            astro_image::ImageLimits::default(),
        )
        .unwrap();
        assert_eq!((img.width, img.height), (256, 256));
    }

    /// The output of a bundled upscaler on `input`, and plain bicubic of it.
    fn run_and_bicubic(b: Bundled, input: &astro_image::Planes) -> (astro_image::Planes, astro_image::Planes) {
        let d = Default::default();
        let (c, m) = b.load::<Flex>(&d).unwrap();
        let out = crate::inference::upscale_planes(&m, &c, input, &d).unwrap();
        let s = b.scale();
        (out, astro_image::resize::imresize(input, input.width * s, input.height * s))
    }

    /// LR pixels from the border that zero padding reaches: the light model's receptive-field radius.
    const REACH: usize = 14;

    /// Max − min per channel away from the border (beyond the receptive field), the worst channel.
    fn interior_spread(p: &astro_image::Planes, s: usize) -> f32 {
        let (w, h) = (p.width, p.height);
        (0..p.channels)
            .map(|c| {
                let mut lo = f32::MAX;
                let mut hi = f32::MIN;
                for y in REACH * s..h - REACH * s {
                    for x in REACH * s..w - REACH * s {
                        let v = p.plane(c)[y * w + x];
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                hi - lo
            })
            .fold(0.0, f32::max)
    }

    #[test]
    fn bundled_upscalers_leave_flat_and_smooth_images_free_of_a_grid() {
        for b in Bundled::ALL.into_iter().filter(|b| b.scale() > 1) {
            let s = b.scale();
            // The survey model restores colour from DSS's two photographic plates (its training
            // degradation) and prettify is a survey → outreach translation (issue #10: the one
            // family allowed a global tone/colour change; it moves a flat 0.4 grey by 3.3/255
            // inside, 8.2/255 in the edge band — the pre-fix model by 11/255), so
            // they may move a flat grey as a whole; the others must keep it. No texture, no grid:
            // every family.
            let keeps_colour = !matches!(b.family(), Family::Survey | Family::Prettify);
            let mut flat = astro_image::Planes::zeros(3, 64, 64);
            flat.data.iter_mut().for_each(|v| *v = 0.4);
            let (out, _) = run_and_bicubic(b, &flat);
            let spread = interior_spread(&out, s);
            assert!(spread < 1.0 / 255.0, "{}: flat image gets a texture of {:.2}/255", b.name(), spread * 255.0);
            let (w, h) = (out.width, out.height);
            let r = REACH * s;
            let interior = |x: usize, y: usize| x >= r && y >= r && x < w - r && y < h - r;
            let mut dev = (0.0f32, 0.0f32);
            for c in 0..3 {
                for y in 0..h {
                    for x in 0..w {
                        let d = (out.plane(c)[y * w + x] - 0.4).abs();
                        if interior(x, y) {
                            dev.0 = dev.0.max(d);
                        } else {
                            dev.1 = dev.1.max(d);
                        }
                    }
                }
            }
            // Printed for every family (`-- --nocapture`): the exempt ones' figures in docs/models.md.
            eprintln!(
                "{}: flat grey moves {:.2}/255 inside, {:.2}/255 in the edge band",
                b.name(),
                dev.0 * 255.0,
                dev.1 * 255.0
            );
            if keeps_colour {
                assert!(dev.0 < 1.0 / 255.0, "{}: flat image deviates by {:.2}/255", b.name(), dev.0 * 255.0);
                // Zero padding moves the band the receptive field reaches from the image edge (measured:
                // general ≤ 1.3/255, the GAN-tuned real model 3.8/255): bounded, and tiles never see it
                // inside an image (overlap blending), only at the image's own border.
                assert!(dev.1 < 4.5 / 255.0, "{}: flat image's border deviates by {:.2}/255", b.name(), dev.1 * 255.0);
            }
            // A smooth gradient: the output may differ from bicubic, but not by a pattern that
            // repeats every `s` pixels (the grid of sub-pixel convolutions or a nearest anchor).
            let mut ramp = astro_image::Planes::zeros(3, 64, 64);
            for c in 0..3 {
                for y in 0..64 {
                    for x in 0..64 {
                        ramp.plane_mut(c)[y * 64 + x] =
                            0.2 + 0.5 * (x as f32 + 0.5 * y as f32) / 96.0 + 0.05 * c as f32;
                    }
                }
            }
            let (out, bic) = run_and_bicubic(b, &ramp);
            let (w, h) = (out.width, out.height);
            let mut phase = vec![vec![(0.0f64, 0usize); s * s]; 3];
            for (c, ph) in phase.iter_mut().enumerate() {
                for y in 4 * s..h - 4 * s {
                    for x in 4 * s..w - 4 * s {
                        let i = y * w + x;
                        let p = &mut ph[(y % s) * s + x % s];
                        p.0 += (out.plane(c)[i] - bic.plane(c)[i]) as f64;
                        p.1 += 1;
                    }
                }
            }
            for ph in &phase {
                let means: Vec<f64> = ph.iter().map(|(sum, n)| sum / *n as f64).collect();
                let spread =
                    means.iter().cloned().fold(f64::MIN, f64::max) - means.iter().cloned().fold(f64::MAX, f64::min);
                assert!(
                    spread < 0.5 / 255.0,
                    "{}: sub-pixel pattern of {:.3}/255 on a gradient",
                    b.name(),
                    spread * 255.0
                );
            }
            if keeps_colour {
                // Away from the border band zero padding reaches (see the flat test).
                let r = REACH * s;
                let mut sum = 0.0f64;
                let mut n = 0usize;
                for c in 0..3 {
                    for y in r..h - r {
                        for x in r..w - r {
                            sum += (out.plane(c)[y * w + x] - bic.plane(c)[y * w + x]).abs() as f64;
                            n += 1;
                        }
                    }
                }
                let mean_abs = sum / n as f64;
                // `real` restores noisy/JPEG inputs, so it flattens a clean gradient's 8-bit steps a
                // little (measured 1.0/255); `general` must stay within 1/255 of bicubic.
                eprintln!("{}: gradient differs from bicubic by {:.2}/255 on average", b.name(), mean_abs * 255.0);
                let limit = if b.family() == Family::Real { 1.5 } else { 1.0 };
                assert!(
                    mean_abs < limit / 255.0,
                    "{}: gradient changed by {:.2}/255 on average",
                    b.name(),
                    mean_abs * 255.0
                );
            }
        }
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
