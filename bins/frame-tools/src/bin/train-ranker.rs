//! train-ranker: fit a learned frame ranker on your own frames against a teacher metric.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use dataset::backend::DeviceKind;
use frame_quality::learned::{PatchConfig, RankerKind, TrainConfig, fit};
use frame_quality::open_source;
use frame_tools::init_logs;

/// Train linear, ridge, logistic, reference-image or CNN rankers from a teacher metric's scores.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A .ser video or a folder of PNG/TIFF frames.
    input: PathBuf,
    /// linear | ridge | logistic | reference | cnn.
    #[arg(long)]
    kind: RankerKind,
    /// Teacher metric whose scores are learned.
    #[arg(long, default_value = "pipp")]
    teacher: String,
    /// Output model file (JSON).
    #[arg(short, long)]
    output: PathBuf,
    /// Top/bottom fraction of frames used as good/bad examples.
    #[arg(long, default_value_t = 0.25)]
    fraction: f32,
    /// Patch side in pixels (default 16 for linear models, 32 for the CNN and reference).
    #[arg(long)]
    patch: Option<usize>,
    /// CNN epochs.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Ridge / logistic L2 penalty.
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// At most this many frames (evenly spaced) are used.
    #[arg(long, default_value_t = 4000)]
    max_frames: usize,
    /// Backend for the CNN: flex, ndarray or cuda.
    #[arg(long)]
    device: Option<DeviceKind>,
}

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> anyhow::Result<()> {
    init_logs();
    let a = Args::parse();
    let source = open_source(&a.input)?;
    let mut cfg = TrainConfig::new(a.kind);
    cfg.teacher = a.teacher.clone();
    cfg.fraction = a.fraction;
    cfg.patch = a.patch.map(|size| PatchConfig { size, ..PatchConfig::default() });
    cfg.cnn.epochs = a.epochs;
    cfg.ridge_alpha = a.alpha;
    cfg.logistic_alpha = a.alpha;
    cfg.max_frames = a.max_frames;
    let kind = a.device.or_else(DeviceKind::default_cpu).context("no backend compiled in")?;
    let (ranker, report) = dataset::with_backend!(kind, B, device => {
        fit::<burn::backend::Autodiff<B>>(source.as_ref(), &cfg, &device, &|m| tracing::info!("{m}"))?
    }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
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
