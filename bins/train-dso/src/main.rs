//! `train-dso`: train the galaxy/nebula and three-class deep-sky classifiers on the Stellarium set.
//! The experiment (tasks, images, settings, training, saving) is `dso_classify::experiment`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use clap::Parser;
use dataset::stellarium::{DsoImage, StellariumSet};
use dso_classify::AugmentConfig;
use dso_classify::TrainingConfig;
use dso_classify::experiment::{self, ExperimentEvent, ExperimentOptions, TrainingSettings, run_experiment};
use dso_classify::{DEFAULT_IMAGE_SIZE, DsoSample, load_samples};
use dso_classify::{ModelCard, Task};
use indicatif::{ProgressBar, ProgressStyle};
use ml_core::backend::DeviceKind;

/// Train the deep-sky classifier and write `<task>.mpk` + `<task>.json` (weights + model card).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory given to datasets/stellarium/fetch.sh (default: $PRETTIER_STELLARIUM_DIR or ~/.cache/prettier-space/stellarium).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output directory for weights and model cards.
    #[arg(short, long = "output", visible_alias = "out", default_value = "crates/dso-classify/weights")]
    out: PathBuf,
    /// Task: galaxy-nebula, three-class or both.
    #[arg(long, default_value = "both")]
    task: String,
    /// Training epochs of the final model.
    #[arg(long, default_value_t = 60, value_parser = |s: &str| cli_args::usize_in(s, 1, 100_000))]
    epochs: usize,
    /// Images per step (1–1024; batch × image side² at most 16.7 megapixels).
    #[arg(long, default_value_t = 32, value_parser = |s: &str| cli_args::usize_in(s, 1, 1024))]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3, value_parser = cli_args::positive_f64)]
    lr: f64,
    /// Input side in pixels (16–1024).
    #[arg(long, default_value_t = DEFAULT_IMAGE_SIZE, value_parser = |s: &str| cli_args::usize_in(s, 16, 1024))]
    image_size: usize,
    /// Folds of the cross-validation by object (0 = skip, else 2–20).
    #[arg(long, default_value_t = 5, value_parser = |s: &str| cli_args::usize_in(s, 0, 20).and_then(folds))]
    folds: usize,
    /// Epochs of each cross-validation run.
    #[arg(long, default_value_t = 30, value_parser = |s: &str| cli_args::usize_in(s, 1, 100_000))]
    cv_epochs: usize,
    /// Seed for initialisation, sampling and augmentation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seed of the object-level train/validation/test split.
    #[arg(long, default_value_t = 0)]
    split_seed: u64,
    /// Augmentation preset: default (strong), light or none.
    #[arg(long, default_value = "default")]
    augment: String,
    /// Decoupled weight decay.
    #[arg(long, default_value_t = 5e-4, value_parser = cli_args::non_negative_f32)]
    weight_decay: f32,
    /// Keep the 21 Magellanic Cloud mosaic tiles (labelled galaxy, but they show star fields inside it).
    #[arg(long)]
    keep_tiles: bool,
    /// Only run the cross-validation (writes `<task>-cv.json`, no weights).
    #[arg(long)]
    cv_only: bool,
    /// Use only the first N manifest images (quick smoke runs).
    #[arg(long, value_parser = cli_args::positive_usize)]
    limit: Option<usize>,
    /// Compute backend: flex, ndarray or cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

/// The most input pixels in one training step (32 images of 724² pixels; the default is 32 × 128²).
const MAX_BATCH_PIXELS: usize = 1 << 24;

fn folds(k: usize) -> Result<usize, String> {
    if k == 1 { Err("a cross-validation needs at least 2 folds (0 skips it)".into()) } else { Ok(k) }
}

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> anyhow::Result<()> {
    cli_args::init_logs("info");
    let args = Args::parse();
    let (batch, side) = (args.batch_size, args.image_size);
    let pixels = batch * side * side;
    anyhow::ensure!(
        pixels <= MAX_BATCH_PIXELS,
        "--batch-size {batch} × --image-size {side}²: {pixels} pixels per step, above {MAX_BATCH_PIXELS}"
    );
    let data: Vec<&Path> = args.data.iter().map(|d| d.as_path()).collect();
    cli_args::check_outputs(&data, &[("-o", &args.out.join("three-class.mpk"))])?;
    let tasks = experiment::tasks_from_arg(&args.task).map_err(anyhow::Error::msg).context("--task")?;
    let set = match &args.data {
        Some(dir) => StellariumSet::at(dir),
        None => StellariumSet::locate(),
    }
    .context("Stellarium data")?;
    let (manifest, excluded) =
        experiment::experiment_images(&set, args.limit, args.keep_tiles).context("Stellarium manifest")?;
    if !args.keep_tiles {
        tracing::info!(excluded, "left out Magellanic Cloud mosaic tiles (--keep-tiles keeps them)");
    }
    let bar = ProgressBar::new(manifest.len() as u64).with_style(style("loading images"));
    let samples = load_samples(&manifest, Task::ThreeClass, args.image_size, &|| bar.inc(1))
        .context("loading Stellarium images")?;
    bar.finish_and_clear();
    tracing::info!(images = samples.len(), "images loaded and resized to {0}x{0}", args.image_size);
    let augment = AugmentConfig::preset(&args.augment)
        .with_context(|| format!("--augment {}: expected default, light or none", args.augment))?;
    let settings = TrainingSettings {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        image_size: args.image_size,
        seed: args.seed,
        weight_decay: args.weight_decay,
        augment,
    };
    let options = ExperimentOptions {
        folds: args.folds,
        cv_epochs: args.cv_epochs,
        split_seed: args.split_seed,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        cv_only: args.cv_only,
    };
    for task in tasks {
        let config = settings.config(task);
        let (paths, card) = ml_core::with_backend!(args.device, B, _device => {
            run_task::<B>(&config, &manifest, &samples, &options, &args.out)?
        }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
        println!("{task}: weights {} card {}", paths.0.display(), paths.1.display());
        if let Some(cv) = &card.cross_validation {
            println!(
                "{task}: {}-fold CV accuracy {:.3} ± {:.3}; pooled out-of-fold:\n{}",
                cv.folds,
                cv.mean_accuracy,
                cv.std_accuracy,
                cv.pooled.summary()
            );
        }
        if let Some(v) = &card.validation {
            println!("{task}: validation (best epoch {}):\n{}", card.best_epoch, v.summary());
        }
        if let Some(t) = &card.test {
            println!("{task}: held-out test:\n{}", t.summary());
        }
    }
    Ok(())
}

/// Run one task's experiment on backend `B` (with autodiff) and save weights + card.
fn run_task<B: Backend>(
    config: &TrainingConfig,
    manifest: &[DsoImage],
    samples: &[DsoSample],
    options: &ExperimentOptions,
    out: &Path,
) -> anyhow::Result<((PathBuf, PathBuf), ModelCard)> {
    let device = B::Device::default();
    let mut bar = ProgressBar::hidden();
    let (model, card) = run_experiment::<Autodiff<B>>(config, manifest, samples, options, &device, &mut |e| match e {
        ExperimentEvent::Run { name, steps } => {
            bar.finish_and_clear();
            bar = ProgressBar::new(steps).with_style(style(&name));
        }
        ExperimentEvent::Step { loss } => {
            bar.set_message(format!("loss {loss:.3}"));
            bar.inc(1);
        }
        ExperimentEvent::Epoch(s) => bar.suspend(|| {
            tracing::info!(
                epoch = s.epoch,
                train_loss = format!("{:.4}", s.train_loss),
                train_acc = format!("{:.3}", s.train_accuracy),
                valid_acc = ?s.valid_accuracy.map(|a| format!("{a:.3}")),
                valid_loss = ?s.valid_loss.map(|a| format!("{a:.3}")),
                lr = format!("{:.2e}", s.learning_rate),
                secs = format!("{:.1}", s.seconds),
                "epoch"
            )
        }),
        ExperimentEvent::Fold { fold, accuracy } => {
            bar.suspend(|| tracing::info!(fold, accuracy = format!("{accuracy:.3}"), "cross-validation fold"))
        }
    })?;
    bar.finish_and_clear();
    Ok((experiment::save_result(&model, &card, out, options.cv_only)?, card))
}

fn style(name: &str) -> ProgressStyle {
    cli_args::progress_style(&format!(
        "{name} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {{msg}} (eta {{eta}})"
    ))
}
