//! Shared plumbing of the `upscale` and `prettify` binaries: load a model (file or bundled) on
//! the chosen backend and enhance one file with a progress callback.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::apply::{Report, enhance_file};
use crate::error::Result;
use crate::inference::Tiling;

/// One enhancement job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Input image (PNG/JPEG/TIFF/GIF).
    pub input: PathBuf,
    /// Output image.
    pub output: PathBuf,
    /// Model file (`None`: the bundled model for `scale`).
    pub model: Option<PathBuf>,
    /// Scale wanted (checked against the model file).
    pub scale: usize,
    /// Tiling.
    pub tiling: Tiling,
    /// Output pixel budget.
    pub max_output_pixels: u64,
}

/// What was done, for the binary to print.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Sizes and frames.
    pub report: Report,
    /// The model used, e.g. `light ×4 (bundled upscale-light-x4)`.
    pub model: String,
}

/// Run a job on backend `B`.
pub fn run_job<B: Backend>(job: &Job, device: &B::Device, progress: &mut dyn FnMut(usize, usize)) -> Result<Outcome> {
    let (config, model) = crate::weights::load_or_bundled::<B>(job.model.as_deref(), job.scale, device)?;
    let source = match &job.model {
        Some(p) => p.display().to_string(),
        None => crate::weights::Bundled::for_scale(job.scale).map(|b| b.name().to_string()).unwrap_or_default(),
    };
    let report =
        enhance_file(&model, &config, &job.input, &job.output, job.tiling, job.max_output_pixels, device, progress)?;
    Ok(Outcome { report, model: format!("{} ({source})", config.describe()) })
}

/// Run a job on the backend named by `device` (`flex`, `ndarray`, `cuda`, as compiled in).
#[allow(unused_variables, unused_imports)]
pub fn run_job_on(
    device: dataset::backend::DeviceKind,
    job: &Job,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Outcome> {
    dataset::with_backend!(device, B, dev => run_job::<B>(job, &dev, progress),
        unavailable k => Err(crate::error::SrError::Config(format!("device {k} is not compiled into this build"))))
}

/// Default output name: `<stem>-<suffix>.<ext>` next to the input.
pub fn default_output(input: &Path, suffix: &str) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
    let ext = input.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_else(|| "png".into());
    let ext = if matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "tif" | "tiff" | "gif") { ext } else { "png".into() };
    input.with_file_name(format!("{stem}-{suffix}.{ext}"))
}
