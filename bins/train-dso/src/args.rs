//! The flags of `train-dso` and their checks.

use std::path::PathBuf;

use clap::Parser;
use dso_classify::DEFAULT_IMAGE_SIZE;
use ml_core::backend::DeviceKind;
use ml_core::parallel_args::ParallelArgs;

/// Train the deep-sky classifier and write `<task>.mpk` + `<task>.json` (weights + model card).
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// Directory given to datasets/stellarium/fetch.sh (default: $PRETTIER_STELLARIUM_DIR or ~/.cache/prettier-space/stellarium).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output directory for weights and model cards.
    #[arg(short, long = "output", visible_alias = "out", default_value = "crates/dso-classify/weights")]
    pub out: PathBuf,
    /// Task: galaxy-nebula, three-class or both.
    #[arg(long, default_value = "both")]
    pub task: String,
    /// Training epochs of the final model.
    #[arg(long, default_value_t = 60, value_parser = |s: &str| cli_args::usize_in(s, 1, 100_000))]
    pub epochs: usize,
    /// Images per step (1–1024; batch × image side² at most 16.7 megapixels).
    #[arg(long, default_value_t = 32, value_parser = |s: &str| cli_args::usize_in(s, 1, 1024))]
    pub batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3, value_parser = cli_args::positive_f64)]
    pub lr: f64,
    /// Input side in pixels (16–1024).
    #[arg(long, default_value_t = DEFAULT_IMAGE_SIZE, value_parser = |s: &str| cli_args::usize_in(s, 16, 1024))]
    pub image_size: usize,
    /// Folds of the cross-validation by object (0 = skip, else 2–20).
    #[arg(long, default_value_t = 5, value_parser = |s: &str| cli_args::usize_in(s, 0, 20).and_then(folds))]
    pub folds: usize,
    /// Epochs of each cross-validation run.
    #[arg(long, default_value_t = 30, value_parser = |s: &str| cli_args::usize_in(s, 1, 100_000))]
    pub cv_epochs: usize,
    /// Seed for initialisation, sampling and augmentation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Seed of the object-level train/validation/test split.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Augmentation preset: default (strong), light or none.
    #[arg(long, default_value = "default")]
    pub augment: String,
    /// Decoupled weight decay.
    #[arg(long, default_value_t = 5e-4, value_parser = cli_args::non_negative_f32)]
    pub weight_decay: f32,
    /// Keep the 21 Magellanic Cloud mosaic tiles (labelled galaxy, but they show star fields inside it).
    #[arg(long)]
    pub keep_tiles: bool,
    /// Only run the cross-validation (writes `<task>-cv.json`, no weights).
    #[arg(long)]
    pub cv_only: bool,
    /// Use only the first N manifest images (quick smoke runs).
    #[arg(long, value_parser = cli_args::positive_usize)]
    pub limit: Option<usize>,
    /// Compute backend: flex, ndarray or cuda.
    #[arg(long, default_value = "flex")]
    pub device: DeviceKind,
    /// Data-parallel training on several devices or machines (docs/distributed.md).
    #[command(flatten)]
    pub parallel: ParallelArgs,
}

/// The most input pixels in one training step (32 images of 724² pixels; the default is 32 × 128²).
pub const MAX_BATCH_PIXELS: usize = 1 << 24;

fn folds(k: usize) -> Result<usize, String> {
    if k == 1 { Err("a cross-validation needs at least 2 folds (0 skips it)".into()) } else { Ok(k) }
}
