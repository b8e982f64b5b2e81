//! `prettify`'s job as library code: the input (a file, a fetched survey cutout or the bundled
//! sample) staged in a private temporary folder, the finish its flags ask for, and the ×2 model
//! followed by what the output scale needs. The binary parses flags, fetches the cutout, shows
//! progress and calls these.

use std::path::{Path, PathBuf};

use astro_image::Planes;
use burn::prelude::*;
pub use star_field::dream::DreamOptions;

use crate::cli::{Job, Then, default_output};
use crate::error::{Result, SrError};
use crate::inference::Tiling;
use crate::star_aware::StarOptions;
use crate::star_protection::Finish;
use crate::weights::{Family, ModelChoice, SAMPLE_CREDIT, SAMPLE_SURVEY_IMAGE};

/// A private temporary folder for the sample or a fetched cutout, removed when dropped (on every
/// return path, errors included).
pub struct TempDir(PathBuf);

impl TempDir {
    /// Create `prettify-<pid>` under the system's temporary folder.
    pub fn new() -> std::io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("prettify-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where the image to prettify comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// An image file.
    File(PathBuf),
    /// A survey cutout fetched through hips2fits (PNG bytes) of `hips` at `ra`, `dec` (degrees)
    /// with field of view `fov` (degrees).
    Cutout {
        /// The encoded image.
        bytes: Vec<u8>,
        /// The HiPS survey.
        hips: String,
        /// Right ascension.
        ra: f64,
        /// Declination.
        dec: f64,
        /// Field of view.
        fov: f64,
    },
    /// The bundled real DSS image of NGC 185.
    Sample,
}

/// An input ready to run: the file, how to name it, and the output used when none is given.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The image file to read.
    pub path: PathBuf,
    /// What it is, for the `input:` line.
    pub label: String,
    /// `INPUT-prettified.EXT` next to an input file, `prettified.png` otherwise.
    pub default_output: PathBuf,
}

/// Write a cutout or the sample into `tmp` (a file input stays where it is).
pub fn stage(input: Input, tmp: &TempDir) -> Result<Staged> {
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| SrError::io(&p, e))?;
        Ok::<_, SrError>(p)
    };
    Ok(match input {
        Input::File(p) => {
            Staged { label: p.display().to_string(), default_output: default_output(&p, "prettified"), path: p }
        }
        Input::Cutout { bytes, hips, ra, dec, fov } => Staged {
            path: write("cutout.png", &bytes)?,
            label: format!("{hips} cutout at RA {ra}° Dec {dec}° (FoV {fov}°)"),
            default_output: PathBuf::from("prettified.png"),
        },
        Input::Sample => Staged {
            path: write("sample-ngc185-dss.png", SAMPLE_SURVEY_IMAGE)?,
            label: format!("bundled sample survey image: {SAMPLE_CREDIT}"),
            default_output: PathBuf::from("prettified.png"),
        },
    })
}

/// The finish prettify gives each tile: blend `strength`; saturated-star protection and the
/// invention guard unless `no_star_protection`; the input's colour unless `model_colour`.
pub fn finish(strength: f32, no_star_protection: bool, model_colour: bool, saturation: f32) -> Finish {
    Finish {
        strength,
        protect_saturated: !no_star_protection,
        guard_invented: !no_star_protection,
        keep_colour: !model_colour,
        saturation,
    }
}

/// What follows the ×2 model for an output `scale` of 1 (area average back), 2 (nothing) or 4
/// (`general` ×2).
pub fn then_for_scale(scale: usize) -> Then {
    match scale {
        1 => Then::AreaDownscale,
        4 => Then::Upscale(ModelChoice::Bundled(Family::General), 2),
        _ => Then::Nothing,
    }
}

/// The job of one prettify run: `model` at ×2 on `input`, then what the output `scale` asks for;
/// the output is replaced if it exists.
pub fn job(input: PathBuf, output: PathBuf, model: ModelChoice, scale: usize, tiling: Tiling, max_pixels: u64) -> Job {
    Job {
        input,
        output,
        model,
        scale: 2,
        tiling,
        max_output_pixels: max_pixels,
        overwrite: true,
        then: then_for_scale(scale),
    }
}

/// A star-aware prettify run (the default; `--classic` runs [`job`] instead).
#[derive(Debug, Clone)]
pub struct StarJob {
    /// Input still image (PNG, JPEG, TIFF or FITS).
    pub input: PathBuf,
    /// Output image (PNG, JPEG or TIFF), replaced atomically.
    pub output: PathBuf,
    /// The ×2 model.
    pub model: ModelChoice,
    /// Output scale: 1, 2 or 4.
    pub scale: usize,
    /// Tiling and the finish of the starless image.
    pub tiling: Tiling,
    /// Output pixel budget.
    pub max_output_pixels: u64,
    /// How stars are drawn.
    pub stars: StarOptions,
    /// Also write the starless input here.
    pub starless: Option<PathBuf>,
    /// The dream layer, when asked for (`--hallucinate`).
    pub dream: Option<DreamOptions>,
}

/// What a star-aware run did, for the binary to print.
#[derive(Debug, Clone)]
pub struct StarOutcome {
    /// Input and output sizes.
    pub input: (usize, usize),
    /// Output size.
    pub output: (usize, usize),
    /// The model(s) used.
    pub model: String,
    /// Stars measured (saturated among them).
    pub stars: (usize, usize),
    /// The field's PSF: half-maximum width (px) and ellipticity.
    pub psf: (f32, f32),
    /// Drawn star width (output px at the drawing scale).
    pub drawn_fwhm: f32,
    /// Sources the dream added (stars, galaxies) and where they are listed.
    pub dream: Option<(usize, usize, PathBuf)>,
    /// The dream's seed.
    pub seed: u64,
}

impl std::fmt::Display for StarOutcome {
    /// The `stars:`, `model:` and `dream:` lines the binary prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ((n, sat), (fwhm, e)) = (self.stars, self.psf);
        writeln!(
            f,
            "stars:  {n} measured ({sat} saturated), PSF FWHM {fwhm:.2} px, ellipticity {e:.2}; drawn round, FWHM {:.2} px",
            self.drawn_fwhm
        )?;
        writeln!(f, "model:  {}", self.model)?;
        if let Some((s, g, csv)) = &self.dream {
            writeln!(
                f,
                "dream:  {s} faint stars and {g} galaxies added (seed {}), listed in {}",
                self.seed,
                csv.display()
            )?;
        }
        Ok(())
    }
}

/// `OUT.invented.png` and `OUT.invented.csv` beside `output`.
pub fn invented_paths(output: &Path) -> (PathBuf, PathBuf) {
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    (output.with_file_name(format!("{stem}.invented.png")), output.with_file_name(format!("{stem}.invented.csv")))
}

/// Check a star-aware job before any model is loaded: a still or FITS input, outputs with image
/// extensions that are not the input, in folders that exist.
pub fn check_star_job(job: &StarJob) -> Result<()> {
    let bad = |name: &Path, reason: String| SrError::BadInput { name: name.display().to_string(), reason };
    let kind = crate::apply::input_kind(&job.input);
    if !matches!(kind, crate::apply::InputKind::Still | crate::apply::InputKind::Fits) {
        return Err(bad(
            &job.input,
            "the star-aware pipeline takes still images and FITS; use --classic for GIF and video".into(),
        ));
    }
    let image_ext = |p: &Path| {
        let e = p.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
        matches!(e.as_deref(), Some("png" | "jpg" | "jpeg" | "tif" | "tiff"))
    };
    let same =
        |a: &Path, b: &Path| std::fs::canonicalize(a).ok().is_some_and(|x| std::fs::canonicalize(b).ok() == Some(x));
    for (out, flag) in
        std::iter::once((&job.output, "the output")).chain(job.starless.iter().map(|p| (p, "--starless")))
    {
        if !image_ext(out) {
            return Err(bad(
                out,
                format!("{flag} of the star-aware pipeline must be .png, .jpg or .tif (FITS out: --classic)"),
            ));
        }
        if same(&job.input, out) {
            return Err(bad(out, format!("{flag} is the input file")));
        }
        astro_image::atomic::output_folder(out)?;
    }
    if job.starless.as_ref() == Some(&job.output) {
        return Err(bad(&job.output, "--starless is the output file".into()));
    }
    Ok(())
}

/// Run a star-aware job on backend `B`: load, separate, enhance, draw, write (atomically).
pub fn run_star_job<B: Backend>(
    job: &StarJob,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<StarOutcome> {
    check_star_job(job)?;
    // The stars are drawn on a ×2 (or ×4) picture even for --scale 1: that is what must fit.
    let s = job.scale.max(2);
    let input = if crate::apply::input_kind(&job.input) == crate::apply::InputKind::Fits {
        let shape = astro_image::fits::read_fits_shape(&job.input)?;
        crate::report::check_output(&job.input, shape.width * s, shape.height * s, 1, job.max_output_pixels)?;
        // Physical values: a linear display stretch (0.1–99.9 %) to the [0, 1] of a picture.
        astro_image::fits::read_fits(&job.input)?.to_planes().stretched_linear(0.1, 99.9)
    } else {
        let limits = astro_image::ImageLimits { max_pixels: job.max_output_pixels / (s * s) as u64 };
        astro_image::image_io::load_image(&job.input, astro_image::ColorMode::Keep, limits)?
    };
    let (config, model, source) = job.model.load::<B>(2, device)?;
    let mut name = format!("{} ({source}) on the starless image", config.describe());
    let next = match then_for_scale(job.scale) {
        Then::Upscale(choice, s) => Some(choice.load::<B>(s, device)?),
        _ => None,
    };
    if let Some((c, _, src)) = &next {
        name.push_str(&format!(", then {} ({src})", c.describe()));
    }
    let (mut added, mut mask) = (Vec::new(), None);
    let mut dream = |field: &star_field::StarField, out: &Planes, fwhm: f32, scale: usize| {
        let opts = job.dream.unwrap_or_default();
        let (layer, a) = star_field::dream::dream_layer(field, out.width, out.height, scale, fwhm, &opts);
        added = a;
        mask = Some(star_field::dream::invented_mask(&layer));
        layer
    };
    let extra: Option<crate::star_aware::ExtraLayer<'_>> = if job.dream.is_some() { Some(&mut dream) } else { None };
    let next_stage = next.as_ref().map(|(c, m, _)| (c, m));
    let stars = if job.dream.is_some() { StarOptions { spikes: true, ..job.stars } } else { job.stars };
    let r = crate::star_aware::prettify_stars(
        &input,
        (&config, &model),
        next_stage,
        job.scale == 1,
        job.tiling,
        stars,
        extra,
        device,
        progress,
    )?;
    let depth = input.bit_depth.clamp(8, 16);
    let mut dream_out = None;
    if let Some(mut mask) = mask {
        let (mask_path, csv_path) = invented_paths(&job.output);
        let (w, h) = (r.image.width, r.image.height);
        if (mask.width, mask.height) != (w, h) {
            // ×1: the layer was drawn at ×2; a pixel is marked where any of its sub-pixels was.
            let k = (mask.width / w.max(1)) as f32;
            mask = astro_image::resize::imresize_with(&mask, w, h, astro_image::resize::ResizeKernel::Box, true);
            mask.data.iter_mut().for_each(|v| *v = if *v > 0.0 { 1.0 } else { 0.0 });
            for a in &mut added {
                (a.x, a.y, a.size) = ((a.x + 0.5) / k - 0.5, (a.y + 0.5) / k - 0.5, a.size / k);
            }
        }
        astro_image::image_io::save_image(&mask, &mask_path, 8)?;
        astro_image::image_io::write_atomic(&csv_path, star_field::dream::invented_csv(&added).as_bytes())?;
        let n_gal = added.iter().filter(|a| a.kind == star_field::dream::AddedKind::Galaxy).count();
        dream_out = Some((added.len() - n_gal, n_gal, csv_path));
    }
    if let Some(sl) = &job.starless {
        astro_image::image_io::save_image(&r.starless, sl, depth)?;
    }
    astro_image::image_io::save_image(&r.image, &job.output, depth)?;
    Ok(StarOutcome {
        input: (input.width, input.height),
        output: (r.image.width, r.image.height),
        model: name,
        stars: (r.field.stars.len(), r.field.stars.iter().filter(|s| s.saturated).count()),
        psf: (r.field.psf.fwhm, r.field.psf.ellipticity),
        drawn_fwhm: r.drawn_fwhm,
        dream: dream_out,
        seed: job.dream.map_or(0, |d| d.seed),
    })
}

/// Run a star-aware job on the backend named by `device`.
#[allow(unused_variables, unused_imports)]
pub fn run_star_job_on(
    device: ml_core::backend::DeviceKind,
    job: &StarJob,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<StarOutcome> {
    ml_core::with_backend!(device, B, dev => run_star_job::<B>(job, &dev, progress),
        unavailable k => Err(SrError::Config(format!("device {k} is not compiled into this build"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_staged_in_the_temporary_folder_and_removed_with_it() {
        let tmp = TempDir::new().unwrap();
        let s = stage(Input::Sample, &tmp).unwrap();
        assert!(s.path.starts_with(tmp.path()) && s.path.is_file());
        assert_eq!(s.default_output, PathBuf::from("prettified.png"));
        let dir = tmp.path().to_path_buf();
        drop(tmp);
        assert!(!dir.exists());
        assert_eq!(then_for_scale(1), Then::AreaDownscale);
        assert_eq!(then_for_scale(2), Then::Nothing);
        let f = finish(0.5, true, false, 1.8);
        assert!(!f.protect_saturated && !f.guard_invented && f.keep_colour);
    }
}
