//! train-ranker: fit a learned frame ranker on your own frames, against a teacher metric or from
//! your own good/bad picks (`--labels picks.csv`, e.g. from `rank-frames --contact-sheet`).

use std::path::PathBuf;

use burn::backend::Autodiff;
use clap::Parser;
use frame_quality::ranking::learned::finetune::{FinetuneConfig, finetune_on_picks};
use frame_quality::ranking::learned::{MAX_PATCH, MIN_PATCH};
use frame_quality::ranking::learned::{PatchConfig, RankerKind, TrainConfig, fit_replica};
use frame_quality::ranking::picks::{DEFAULT_ALPHA, DEFAULT_GRID, PicksRanker, read_picks};
use frame_quality::{Ranker, open_source};
use frame_tools::frame_bar;
use ml_core::backend::DeviceKind;
use ml_core::distributed::{device_at, launch};
use ml_core::parallel_args::ParallelArgs;

/// Train linear, ridge, logistic, reference-image or CNN rankers from a teacher metric's scores,
/// or a picks ranker from frames you marked good or bad (--labels).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A .ser video or a folder of PNG/TIFF frames.
    input: PathBuf,
    /// linear | ridge | logistic | reference | cnn (teacher mode). With --labels: picks (the
    /// default, logistic regression on metrics) or cnn (fine-tune the bundled quality CNN).
    #[arg(long)]
    kind: Option<RankerKind>,
    /// Your picks: a CSV of `frame,label` lines (frame index in the video, 1 good / 0 bad), as
    /// downloaded from the contact sheet of `rank-frames --contact-sheet`. Trains a picks ranker
    /// (logistic regression over every metric and per-region sharpness of the disc).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Teacher metric whose scores are learned (teacher mode).
    #[arg(long, default_value = "pipp")]
    teacher: String,
    /// Output model file (JSON; a CNN ranker is written in ml-core's model container).
    #[arg(short, long, visible_alias = "out")]
    output: PathBuf,
    /// Top/bottom fraction of frames used as good/bad examples (0 to 0.5).
    #[arg(long, default_value_t = 0.25, value_parser = |s: &str| cli_args::f32_in(s, 0.01, 0.5))]
    fraction: f32,
    /// Patch side in pixels, 4–256 and at most the frame's shorter side (default 16 for linear
    /// models, 32 for the CNN and reference).
    #[arg(long, value_parser = |s: &str| cli_args::usize_in(s, MIN_PATCH, MAX_PATCH))]
    patch: Option<usize>,
    /// CNN epochs.
    #[arg(long, default_value_t = 30, value_parser = |s: &str| cli_args::usize_in(s, 1, 10_000))]
    epochs: usize,
    /// Ridge / logistic / picks L2 penalty.
    #[arg(long, default_value_t = DEFAULT_ALPHA, value_parser = cli_args::non_negative_f64)]
    alpha: f64,
    /// Picks ranker: side of the grid of regions over the disc (3 = 3×3 regional features).
    #[arg(long, default_value_t = DEFAULT_GRID)]
    grid: usize,
    /// At most this many frames (evenly spaced) are used.
    #[arg(long, default_value_t = 4000, value_parser = cli_args::positive_usize)]
    max_frames: usize,
    /// --labels --kind cnn: at most this many fine-tuning steps (every good × bad pair in each).
    #[arg(long, default_value_t = FinetuneConfig::default().steps, value_parser = cli_args::positive_usize)]
    steps: usize,
    /// --labels --kind cnn: Adam learning rate of the fine-tuning.
    #[arg(long, default_value_t = FinetuneConfig::default().learning_rate, value_parser = cli_args::positive_f64)]
    learning_rate: f64,
    /// Backend for the CNN: flex, ndarray or cuda.
    #[arg(long)]
    device: Option<DeviceKind>,
    /// Data-parallel CNN training on several devices or machines (docs/distributed.md).
    #[command(flatten)]
    parallel: ParallelArgs,
}

fn main() -> std::process::ExitCode {
    frame_tools::main_with(body)
}

fn body(a: Args) -> anyhow::Result<()> {
    let mut inputs = vec![a.input.as_path()];
    inputs.extend(a.labels.as_deref());
    cli_args::check_outputs(&inputs, &[("-o", a.output.as_path())])?;
    if let Some(labels) = &a.labels {
        if matches!(a.kind, Some(RankerKind::Cnn | RankerKind::CnnPicks)) {
            return finetune_cnn_on_picks(&a, labels);
        }
        return train_on_picks(&a, labels);
    }
    let kind = match a.kind {
        Some(k @ (RankerKind::Picks | RankerKind::CnnPicks)) => {
            anyhow::bail!("--kind {k:?} needs --labels picks.csv (your good/bad frames)")
        }
        Some(k) => k,
        None => anyhow::bail!("give --kind linear|ridge|logistic|reference|cnn (teacher mode) or --labels picks.csv"),
    };
    let source = open_source(&a.input)?;
    let mut cfg = TrainConfig::new(kind);
    cfg.teacher = a.teacher.clone();
    cfg.fraction = a.fraction;
    cfg.patch = a.patch.map(|size| PatchConfig { size, ..PatchConfig::default() });
    cfg.cnn.epochs = a.epochs;
    cfg.ridge_alpha = a.alpha;
    cfg.logistic_alpha = a.alpha;
    cfg.max_frames = a.max_frames;
    let (kind, indices) = a.parallel.device_list(frame_tools::device_or_default(a.device)?)?;
    let layout = a.parallel.config(indices.len())?;
    let (ranker, report, leader) = ml_core::with_backend!(kind, B, _device => {
        let devices = indices.iter().map(|&i| device_at::<Autodiff<B>>(i)).collect::<Result<Vec<_>, _>>()?;
        launch::<Autodiff<B>, _, anyhow::Error>(&layout, &devices, |worker, device| {
            let (ranker, report) = fit_replica(source.as_ref(), &cfg, &worker, device, &|m| tracing::info!("{m}"))?;
            let leader = worker.is_leader();
            worker.finish()?;
            Ok((ranker, report, leader))
        })?
    }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
    if !leader {
        return Ok(());
    }
    ranker.save(&a.output)?;
    println!(
        "trained {:?} ranker on {} frames of {} (teacher {}); Spearman ρ to the teacher {:.3}; saved {}",
        ranker.kind(),
        report.frames,
        source.name(),
        a.teacher,
        report.teacher_spearman,
        a.output.display()
    );
    if let (Some(first), Some(last)) = (report.loss_history.first(), report.loss_history.last()) {
        println!("CNN loss {first:.4} → {last:.4} over {} epochs", report.loss_history.len());
    }
    Ok(())
}

fn train_on_picks(a: &Args, labels: &std::path::Path) -> anyhow::Result<()> {
    if let Some(k) = a.kind.filter(|k| *k != RankerKind::Picks) {
        anyhow::bail!(
            "--labels trains a picks ranker (--kind picks, the default) or fine-tunes the CNN (--kind cnn), not --kind {k:?}"
        );
    }
    if !(1..=8).contains(&a.grid) {
        anyhow::bail!("--grid {}: must be 1–8", a.grid);
    }
    if !(a.alpha.is_finite() && a.alpha >= 0.0) {
        anyhow::bail!("--alpha {}: must be a finite number ≥ 0", a.alpha);
    }
    let source = open_source(&a.input)?;
    let picks = read_picks(labels, source.len())?;
    let bar = frame_bar(source.len(), "features");
    let (model, report) = PicksRanker::fit(source.as_ref(), &picks, a.grid, a.alpha, &|d| bar.set_position(d as u64))?;
    bar.finish_and_clear();
    Ranker::Picks(model).save(&a.output)?;
    let top: Vec<String> = report.top_weights.iter().map(|(n, w)| format!("{n} {w:+.2}")).collect();
    println!(
        "trained a picks ranker on {} labels ({} good, {} bad) of {} ({} frames); training accuracy {:.0}%, \
         leave-one-out accuracy {:.0}%; largest weights: {}; saved {}",
        report.labels,
        report.good,
        report.labels - report.good,
        source.name(),
        source.len(),
        100.0 * report.train_accuracy,
        100.0 * report.loo_accuracy,
        top.join(", "),
        a.output.display()
    );
    Ok(())
}

fn finetune_cnn_on_picks(a: &Args, labels: &std::path::Path) -> anyhow::Result<()> {
    if a.steps == 0 || !(a.learning_rate.is_finite() && a.learning_rate > 0.0) {
        anyhow::bail!("--steps {} / --learning-rate {}: need ≥ 1 step and a rate > 0", a.steps, a.learning_rate);
    }
    let source = open_source(&a.input)?;
    let picks = read_picks(labels, source.len())?;
    let cfg = FinetuneConfig { steps: a.steps, learning_rate: a.learning_rate, ..FinetuneConfig::default() };
    let kind = frame_tools::device_or_default(a.device)?;
    let (model, report) = ml_core::with_backend!(kind, B, device => {
        finetune_on_picks::<burn::backend::Autodiff<B>>(source.as_ref(), &picks, None, &cfg, &device, &|m| tracing::info!("{m}"))?
    }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
    let weights: Vec<String> = model.crop_weights.iter().map(|w| format!("{w:.2}")).collect();
    Ranker::CnnPicks(model).save(&a.output)?;
    println!(
        "fine-tuned the quality CNN on {} labels ({} good, {} bad; {} without a disc left out) of {} in {} steps; \
         pairs ordered {:.0}% → {:.0}%, pair loss {:.3} → {:.3}; crop weights [{}]; saved {}",
        report.labels,
        report.good,
        report.labels - report.good,
        report.dropped,
        source.name(),
        report.steps,
        100.0 * report.pair_accuracy_before,
        100.0 * report.pair_accuracy_after,
        report.loss_before,
        report.loss_after,
        weights.join(", "),
        a.output.display()
    );
    Ok(())
}
