//! frame-eval: measure every metric and learned ranker against a simulated video's ground truth.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use astro_image::{ColorMode, ImageLimits};
use clap::Parser;
use frame_quality::ranking::learned::{RankerKind, TrainConfig, fit};
use frame_quality::simulation::{EvalRow, FrameTruth, evaluate_ranker, markdown_table, read_truth_csv};
use frame_quality::{Metric, Scorer, SerReader, score_source};
use ml_core::backend::DeviceKind;

/// Spearman ρ and top-k overlap of every ranker against the truth, and PSNR/SSIM of the stack of
/// each ranker's top N% against the truth image. Input: a folder written by frame-sim.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folder with frames.ser, truth.csv and truth.png (from frame-sim); with --grid, a folder of such cell folders.
    input: PathBuf,
    /// Evaluate every metric on every cell folder under INPUT (from `frame-sim --grid`) and print the grid tables.
    #[arg(long)]
    grid: bool,
    /// With --grid: also write the tables here (Markdown).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Percentage of frames stacked / compared.
    #[arg(long, default_value_t = 10.0, value_parser = |s: &str| cli_args::f32_in(s, 0.1, 100.0))]
    top: f32,
    /// Also train and evaluate the learned rankers (linear, ridge, logistic, reference) on the video;
    /// with --grid, add the bundled quality CNN trained on simulated truth (row `learned`).
    #[arg(long)]
    learned: bool,
    /// Also train and evaluate the CNN ranker (slower).
    #[arg(long)]
    cnn: bool,
    /// CNN epochs.
    #[arg(long, default_value_t = 30, value_parser = |s: &str| cli_args::usize_in(s, 1, 10_000))]
    epochs: usize,
    /// Teacher metric for the learned rankers.
    #[arg(long, default_value = "pipp")]
    teacher: String,
    /// Backend for the CNN.
    #[arg(long)]
    device: Option<DeviceKind>,
    /// Write the rows as JSON here too.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Outputs may not be inputs or each other; a report inside a single simulation's folder is fine.
fn check_reports(inputs: &[&std::path::Path], outputs: &[(&str, &std::path::Path)]) -> anyhow::Result<()> {
    let (folder, files) = inputs.split_last().expect("the input folder");
    if files.is_empty() {
        // --grid: every cell folder below INPUT is read, so nothing is written there.
        return cli_args::check_outputs(&[folder], outputs);
    }
    cli_args::check_outputs(files, outputs)?;
    if let Some((flag, p)) = outputs.iter().find(|(_, p)| cli_args::outputs::same_file(p, folder)) {
        anyhow::bail!("{flag} {}: this is the input folder (choose a file name)", p.display());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    frame_tools::main_with(body)
}

fn body(a: Args) -> anyhow::Result<()> {
    // The reports may sit beside the simulation, but may not replace one of its files or each other.
    let files = ["frames.ser", "truth.csv", "truth.png"].map(|f| a.input.join(f));
    let mut inputs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    inputs.push(&a.input);
    let outputs: Vec<(&str, &std::path::Path)> = [("--markdown", a.markdown.as_deref()), ("--json", a.json.as_deref())]
        .into_iter()
        .filter_map(|(flag, p)| Some((flag, p?)))
        .collect();
    let inputs = if a.grid { vec![a.input.as_path()] } else { inputs };
    check_reports(&inputs, &outputs)?;
    if a.grid {
        return grid(&a);
    }
    let source = SerReader::open(&a.input.join("frames.ser"))?;
    let truth: Vec<FrameTruth> = read_truth_csv(&a.input.join("truth.csv"))?;
    let truth_img =
        astro_image::image_io::load_image(&a.input.join("truth.png"), ColorMode::Luma, ImageLimits::default())
            .context("truth image")?
            .data;
    let mut rows: Vec<EvalRow> = Vec::new();
    let strehl: Vec<f32> = truth.iter().map(|t| t.strehl).collect();
    rows.push(evaluate_ranker("truth (Strehl)", &strehl, &truth, &source, &truth_img, a.top, 0.0)?);
    for metric in Metric::ALL {
        let scorer = Scorer::new(metric);
        let start = Instant::now();
        let scores = score_source(&source, &scorer, &|_| {})?;
        let fps = source.len() as f64 / start.elapsed().as_secs_f64().max(1e-9);
        rows.push(evaluate_ranker(metric.name(), &scores, &truth, &source, &truth_img, a.top, fps)?);
        if matches!(metric, Metric::LocalContrast | Metric::PssLaplace) {
            let scores = score_source(&source, &scorer.on_disc(), &|_| {})?;
            let name = format!("{} (on disc)", metric.name());
            rows.push(evaluate_ranker(&name, &scores, &truth, &source, &truth_img, a.top, 0.0)?);
        }
        tracing::info!("evaluated {metric}");
    }
    let mut kinds = Vec::new();
    if a.learned {
        kinds.extend([RankerKind::Linear, RankerKind::Ridge, RankerKind::Logistic, RankerKind::Reference]);
    }
    if a.cnn {
        kinds.push(RankerKind::Cnn);
    }
    let device_kind = frame_tools::device_or_default(a.device)?;
    for kind in kinds {
        let mut cfg = TrainConfig::new(kind);
        cfg.teacher = a.teacher.clone();
        cfg.cnn.epochs = a.epochs;
        let start = Instant::now();
        let fitted = ml_core::with_backend!(device_kind, B, device => {
            match fit::<burn::backend::Autodiff<B>>(&source, &cfg, &device, &|m| tracing::debug!("{m}")) {
                Ok((ranker, _)) => Some(ranker.score_source::<B>(&source, &device, &|_| {})?),
                Err(e) => {
                    tracing::warn!("{kind:?}: {e}");
                    None
                }
            }
        }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
        let Some(scores) = fitted else { continue };
        let secs = start.elapsed().as_secs_f64();
        let name = format!("{kind:?} (teacher {})", a.teacher).to_lowercase();
        rows.push(evaluate_ranker(&name, &scores, &truth, &source, &truth_img, a.top, 0.0)?);
        tracing::info!("evaluated {name} (fit + score {secs:.1} s)");
    }
    println!("{}", markdown_table(&rows, a.top));
    if let Some(path) = &a.json {
        astro_image::image_io::write_atomic(path, &serde_json::to_vec_pretty(&rows)?)?;
    }
    Ok(())
}

/// `--grid`: every fixed metric on every simulated cell (and with `--learned` the bundled quality CNN).
fn grid(a: &Args) -> anyhow::Result<()> {
    use frame_quality::ranking::learned::quality::QualityModel;
    use frame_quality::simulation::{RankFn, evaluate_grid, metric_rankers};
    let kind = frame_tools::device_or_default(a.device)?;
    let result = ml_core::with_backend!(kind, B, device => {
        let mut rankers = metric_rankers();
        if a.learned {
            let model = QualityModel::<B>::bundled(&device)?;
            let rank: RankFn<'_> = Box::new(move |s: &dyn frame_quality::FrameSource| model.score_source(s, &|_| {}));
            rankers.push(("learned".to_string(), rank));
        }
        evaluate_grid(&a.input, &rankers, a.top, &|cell, ranker| tracing::info!("{cell}: {ranker}"))?
    }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
    let md = result.markdown(Metric::Bandpass.name());
    println!("{md}");
    if let Some(path) = &a.markdown {
        astro_image::image_io::write_atomic(path, md.as_bytes())?;
    }
    if let Some(path) = &a.json {
        astro_image::image_io::write_atomic(path, &serde_json::to_vec_pretty(&result)?)?;
    }
    Ok(())
}
