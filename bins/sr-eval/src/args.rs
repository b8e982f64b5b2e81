//! `sr-eval`'s flags.

use std::path::PathBuf;

use clap::Parser;
use ml_core::backend::DeviceKind;
use sr_models::ModelChoice;
use sr_models::benchmark;

/// Standard SR evaluation: bicubic vs models, PSNR/SSIM on Y with border crop.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// Folders of HR images (searched recursively).
    pub dirs: Vec<PathBuf>,
    /// Also evaluate on the Stellarium deep-sky set's held-out test split.
    #[arg(long)]
    pub stellarium_test: bool,
    /// Seed of the Stellarium object-level split.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Scale factor.
    #[arg(long, default_value_t = 4)]
    pub scale: usize,
    /// Models: general, survey, real or a .srmodel file; repeat for several.
    #[arg(long, default_values_t = vec![ModelChoice::default()])]
    pub model: Vec<ModelChoice>,
    /// How the LR input is made: bicubic (the benchmark), general, dss, sdss, real-esrgan or a JSON file.
    #[arg(long, default_value = "bicubic")]
    pub degradation: String,
    /// Evaluate each image's centre square of at most this side (0: whole images).
    #[arg(long, default_value_t = 0)]
    pub max_side: usize,
    /// Also write the Markdown table here.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Write gallery rows (input | bicubic | each model | original, a detailed crop) of the first
    /// --gallery-count images into this folder.
    #[arg(long)]
    pub gallery: Option<PathBuf>,
    /// Images in the gallery.
    #[arg(long, default_value_t = 6)]
    pub gallery_count: usize,
    /// With --stellarium-test: only its outreach (non-survey) images, e.g. for prettify.
    #[arg(long)]
    pub outreach_only: bool,
    /// Real survey images instead (no ground truth): the Stellarium set's DSS/SDSS/2MASS images
    /// (or the images in the folders given), scored by change, star FWHM ratio, stars kept and
    /// invented, chroma ratio — for bicubic and each model, at the input's resolution.
    #[arg(long)]
    pub real_survey: bool,
    /// Models' blend with bicubic (0–1), as `prettify --strength`.
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::unit_f32)]
    pub strength: f32,
    /// Protect saturated stars, as `prettify` does by default.
    #[arg(long)]
    pub protect_saturated: bool,
    /// Keep the input's colour (the model's luminance only), as `prettify` does by default.
    #[arg(long)]
    pub keep_colour: bool,
    /// Replace sources the model invented with bicubic, as `prettify` does by default.
    #[arg(long)]
    pub guard_invented: bool,
    /// Colour saturation gain of the finish (prettify's default: 1.8).
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::non_negative_f32)]
    pub saturation: f32,
    /// Also run each model inside prettify's star-aware pipeline (stars removed, drawn again round).
    #[arg(long)]
    pub star_aware: bool,
    /// Drawn star width over the input's, for --star-aware (prettify --star-size).
    #[arg(long, default_value_t = sr_models::DEFAULT_STAR_SIZE, value_parser = cli_args::positive_f32)]
    pub star_size: f32,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    pub device: DeviceKind,
    /// Also score naturalness: NIQE (lower = more natural) of every method and the originals.
    #[arg(long)]
    pub niqe: bool,
    /// Another tool's outputs as one more method, NAME=DIR: per HR image the file of the same stem
    /// in DIR, the HR crop's size (e.g. the tool's upscaling of --write-inputs); repeatable.
    #[arg(long, value_name = "NAME=DIR")]
    pub external: Vec<benchmark::External>,
    /// Only write the LR inputs the models would get (8-bit PNG, `{stem}.png`) into this folder
    /// and stop; evaluate later with the same folders, --scale, --degradation and --max-side.
    #[arg(long, value_name = "DIR")]
    pub write_inputs: Option<PathBuf>,
}
