//! `train-dso`: train the galaxy/nebula and three-class deep-sky classifiers on the Stellarium set.
//! The experiment (tasks, images, settings, training, saving) is `dso_classify::experiment`; the
//! flags are in `args`.

mod args;

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::backend::Autodiff;
use burn::tensor::backend::AutodiffBackend;
use clap::Parser;
use dataset::stellarium::{DsoImage, StellariumSet};
use dso_classify::experiment::{self, ExperimentEvent, ExperimentOptions, TrainingSettings, run_experiment};
use dso_classify::{AugmentConfig, DsoNet, DsoSample, ModelCard, Task, TrainingConfig, load_samples};
use indicatif::{ProgressBar, ProgressStyle};
use ml_core::distributed::{Worker, device_at, launch};

use args::{Args, MAX_BATCH_PIXELS};

/// A task the leader trained: its weights and card paths, and the card.
type Saved = (Task, (PathBuf, PathBuf), ModelCard);

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
    let (kind, indices) = args.parallel.device_list(args.device)?;
    let layout = args.parallel.config(indices.len())?;
    let run = |tasks: &[Task]| -> anyhow::Result<Vec<Saved>> {
        ml_core::with_backend!(kind, B, _device => {
            let devices = indices.iter().map(|&i| device_at::<Autodiff<B>>(i)).collect::<Result<Vec<_>, _>>()?;
            launch::<Autodiff<B>, _, anyhow::Error>(&layout, &devices, |worker, device| {
                let leader = worker.is_leader();
                let mut done = Vec::new();
                for &task in tasks {
                    let config = settings.config(task);
                    let (model, card) = run_task(&config, &manifest, &samples, &options, &worker, device)?;
                    if leader {
                        done.push((task, experiment::save_result(&model, &card, &args.out, options.cv_only)?, card));
                    }
                }
                worker.finish()?;
                Ok(done)
            })
        }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"))
    };
    for (task, paths, card) in run(&tasks)? {
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

/// Run one task's experiment as one replica (progress shown by the leader only).
fn run_task<B: AutodiffBackend>(
    config: &TrainingConfig,
    manifest: &[DsoImage],
    samples: &[DsoSample],
    options: &ExperimentOptions,
    worker: &Worker<B>,
    device: &B::Device,
) -> anyhow::Result<(DsoNet<B::InnerBackend>, ModelCard)> {
    let leader = worker.is_leader();
    let mut bar = ProgressBar::hidden();
    let result = run_experiment::<B>(config, manifest, samples, options, worker, device, &mut |e| match e {
        ExperimentEvent::Run { name, steps } => {
            bar.finish_and_clear();
            if leader {
                bar = ProgressBar::new(steps).with_style(style(&name));
            }
        }
        ExperimentEvent::Step { loss } => {
            bar.set_message(format!("loss {loss:.3}"));
            bar.inc(1);
        }
        ExperimentEvent::Epoch(s) if leader => bar.suspend(|| {
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
        ExperimentEvent::Fold { fold, accuracy } if leader => {
            bar.suspend(|| tracing::info!(fold, accuracy = format!("{accuracy:.3}"), "cross-validation fold"))
        }
        ExperimentEvent::Epoch(_) | ExperimentEvent::Fold { .. } => {}
    })?;
    bar.finish_and_clear();
    Ok(result)
}

fn style(name: &str) -> ProgressStyle {
    cli_args::progress_style(&format!(
        "{name} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {{msg}} (eta {{eta}})"
    ))
}
