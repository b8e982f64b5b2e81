//! Shared plumbing of the `upscale` and `prettify` binaries: check a job, load the chosen model
//! (bundled family or file) on the chosen backend, and enhance one file or a whole folder with a
//! progress callback.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::apply::{Enhancer, Report, enhance_file, plan};
use crate::error::Result;
use crate::folder::{FolderEvent, FolderOptions, FolderSummary, check_folder_job, enhance_folder};
use crate::inference::Tiling;
use crate::weights::ModelChoice;

/// One enhancement job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Input: an image (PNG/JPEG/TIFF/GIF/FITS), a video, or a folder of images.
    pub input: PathBuf,
    /// Output file (or folder for a folder input).
    pub output: PathBuf,
    /// The model: a bundled family or a `.srmodel` file.
    pub model: ModelChoice,
    /// Scale wanted (the model must have it).
    pub scale: usize,
    /// Tiling.
    pub tiling: Tiling,
    /// Output pixel budget (per file; per frame for videos).
    pub max_output_pixels: u64,
    /// Folder inputs: replace outputs that already exist.
    pub overwrite: bool,
    /// What follows the model (prettify's ×1 and ×4); still images only.
    pub then: Then,
}

/// What follows the model when the wanted scale is not the model's own (`prettify --scale 1|4`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Then {
    /// The model's output is the result.
    #[default]
    Nothing,
    /// Area-average the output back to the input's pixels (prettify ×1).
    AreaDownscale,
    /// Upscale the output further with this model at this scale (prettify ×4: `general` ×2).
    Upscale(ModelChoice, usize),
}

/// A progress update for the binary's bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Units done.
    pub done: usize,
    /// Units in all (0 when unknown).
    pub total: usize,
    /// What is counted: `tiles`, `frames` or `files`.
    pub unit: &'static str,
    /// A line to print above the bar (a file that failed), if any.
    pub note: Option<String>,
}

/// What was done, for the binary to print.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Sizes and frames (of a single file; zero for a folder).
    pub report: Report,
    /// The model used, e.g. `light ×4 (bundled upscale-general-x4)`.
    pub model: String,
    /// For a folder input: what happened to its files.
    pub folder: Option<FolderSummary>,
}

/// Check a job before any model is loaded (input kind, output extension and folder).
pub fn check_job(job: &Job) -> Result<()> {
    if job.input.is_dir() {
        check_folder_job(&job.input, &job.output)
    } else {
        plan(&job.input, &job.output).map(|_| ())
    }
}

/// Run a job on backend `B`.
pub fn run_job<B: Backend>(job: &Job, device: &B::Device, progress: &mut dyn FnMut(&Progress)) -> Result<Outcome> {
    check_job(job)?;
    let (config, model, source) = job.model.load::<B>(job.scale, device)?;
    let model_name = format!("{} ({source})", config.describe());
    let enhancer = Enhancer {
        model: &model,
        config: &config,
        tiling: job.tiling,
        max_output_pixels: job.max_output_pixels,
        device,
    };
    if job.input.is_dir() {
        let options = FolderOptions { overwrite: job.overwrite };
        let summary = enhance_folder(&enhancer, &job.input, &job.output, options, &mut |e| match e {
            FolderEvent::Step { done, total } => progress(&Progress { done, total, unit: "files", note: None }),
            FolderEvent::Failed(m) => progress(&Progress { done: 0, total: 0, unit: "files", note: Some(m) }),
        })?;
        let report = Report { input: (0, 0), output: (0, 0), frames: 0 };
        return Ok(Outcome { report, model: model_name, folder: Some(summary) });
    }
    let kind = crate::apply::input_kind(&job.input);
    if job.then != Then::Nothing {
        return run_chain(job, kind, &enhancer, model_name, progress);
    }
    let unit = kind.unit();
    let report = enhance_file(&enhancer, &job.input, &job.output, &mut |done, total| {
        progress(&Progress { done, total, unit, note: None })
    })?;
    Ok(Outcome { report, model: model_name, folder: None })
}

/// The model, then [`Then`], through a hidden temporary file beside the output (removed on every
/// path); the output is written atomically by the last stage.
fn run_chain<B: Backend>(
    job: &Job,
    kind: crate::apply::InputKind,
    enhancer: &Enhancer<'_, B>,
    model_name: String,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    if kind != crate::apply::InputKind::Still {
        return Err(crate::error::SrError::BadInput {
            name: job.input.display().to_string(),
            reason: format!(
                "this scale works on still images (png, jpg, tif) only; use ×{} for GIF, FITS and video",
                enhancer.config.scale()
            ),
        });
    }
    plan(&job.input, &job.output)?;
    let name = job.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = job.output.with_file_name(format!(".{name}.{}.stage1.png", std::process::id()));
    struct Remove<'a>(&'a Path);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let _guard = Remove(&tmp);
    let mut report = enhance_file(enhancer, &job.input, &tmp, &mut |done, total| {
        progress(&Progress { done, total, unit: "tiles", note: None })
    })?;
    let model_name = match &job.then {
        Then::Nothing => model_name,
        Then::AreaDownscale => {
            let up = astro_image::image_io::load_image(
                &tmp,
                astro_image::ColorMode::Keep,
                astro_image::ImageLimits { max_pixels: u64::MAX },
            )?;
            let (w, h) = report.input;
            let down = astro_image::resize::imresize_with(&up, w, h, astro_image::resize::ResizeKernel::Box, true);
            astro_image::image_io::save_image(&down, &job.output, up.bit_depth.clamp(8, 16))?;
            report.output = (w, h);
            format!("{model_name}, area-averaged back to the input's pixels")
        }
        Then::Upscale(next, scale) => {
            let (c2, m2, src2) = next.load::<B>(*scale, enhancer.device)?;
            let second = Enhancer {
                model: &m2,
                config: &c2,
                tiling: Tiling { finish: Default::default(), ..job.tiling },
                ..*enhancer
            };
            let r2 = enhance_file(&second, &tmp, &job.output, &mut |done, total| {
                progress(&Progress { done, total, unit: "tiles", note: None })
            })?;
            report.output = r2.output;
            format!("{model_name}, then {} ({src2})", c2.describe())
        }
    };
    Ok(Outcome { report, model: model_name, folder: None })
}

/// Run a job on the backend named by `device` (`flex`, `ndarray`, `cuda`, as compiled in).
#[allow(unused_variables, unused_imports)]
pub fn run_job_on(
    device: ml_core::backend::DeviceKind,
    job: &Job,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    ml_core::with_backend!(device, B, dev => run_job::<B>(job, &dev, progress),
        unavailable k => Err(crate::error::SrError::Config(format!("device {k} is not compiled into this build"))))
}

/// Default output name: `<stem>-<suffix>.<ext>` next to the input (`<name>-<suffix>` for a folder).
pub fn default_output(input: &Path, suffix: &str) -> PathBuf {
    if input.is_dir() {
        let name = std::fs::canonicalize(input)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "images".into());
        let parent = std::fs::canonicalize(input).ok().and_then(|p| p.parent().map(Path::to_path_buf));
        return parent.unwrap_or_default().join(format!("{name}-{suffix}"));
    }
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
    let ext = input.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_else(|| "png".into());
    let known = ["png", "jpg", "jpeg", "tif", "tiff", "gif", "fits", "fit", "fts"];
    let ext =
        if known.contains(&ext.as_str()) || astro_image::video::is_video_path(input) { ext } else { "png".into() };
    input.with_file_name(format!("{stem}-{suffix}.{ext}"))
}
