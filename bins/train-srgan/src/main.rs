//! `train-srgan`: train a super-resolution or same-size "prettify" generator, PSNR-oriented
//! pretraining first, then (optionally) adversarial fine-tuning; resumable from checkpoints.
//! The flags are in `args`; the experiment (generator, data sources, trainer start, the
//! `--evaluate` report) is `sr_models::experiment`.

mod args;

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::backend::Autodiff;
use burn::tensor::backend::AutodiffBackend;
use clap::Parser;
use ml_core::distributed::{Worker, device_at, launch};
use sr_models::experiment::{self, TrainingData};
use sr_models::training::{self, TrainConfig, TrainEvent};

use args::Args;

fn main() -> std::process::ExitCode {
    cli_args::init_logs("error");
    let args = Args::parse();
    // Errors as one `error: …` line, exit 1 (no stack trace even with RUST_BACKTRACE set).
    cli_args::run(|| train(args))
}

fn train(args: Args) -> Result<()> {
    if !args.evaluate.is_empty() {
        let device = Default::default();
        let (models, degradation, crop) = (&args.evaluate, &args.degradation, args.val_crop_side());
        experiment::evaluate_models::<ml_core::backend::FlexBackend>(
            models,
            degradation,
            args.split_seed,
            crop,
            &device,
            &mut |line| println!("{line}"),
        )?;
        return Ok(());
    }
    // The run's folder may not be (or lie inside) a data folder, and its model may not be the
    // --init model: the run would write its samples among the images, or replace its own start.
    let mut inputs: Vec<&Path> = args.hr_dir.iter().map(|p| p.as_path()).collect();
    inputs.extend([args.lr_dir.as_deref(), args.pairs.as_deref(), args.init.as_deref()].into_iter().flatten());
    let model = args.out.join("model.srmodel");
    cli_args::check_outputs(&inputs, &[("-o", &model)])?;
    let generator = match &args.init {
        Some(p) => experiment::init_generator_config(p, args.scale)?,
        None => experiment::generator_config(&args.arch, args.scale, args.features, args.blocks)?,
    };
    let cfg = args.train_config(generator)?;
    let plan = args.data_plan(&cfg.degradation)?;
    let scale = cfg.generator.scale();
    let data = experiment::load_training_data(&plan, scale, args.val_crop_side(), &mut |line| eprintln!("{line}"))?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create output folder", args.out.display()))?;
    let resume = args.resume_path();
    let (kind, indices) = args.parallel.device_list(args.device)?;
    let layout = args.parallel.config(indices.len())?;
    ml_core::with_backend!(kind, B, _default => {
        let devices = indices.iter().map(|&i| device_at::<Autodiff<B>>(i)).collect::<Result<Vec<_>, _>>()?;
        launch::<Autodiff<B>, _, anyhow::Error>(&layout, &devices, |worker, device| {
            run::<Autodiff<B>>(&cfg, &data, &args.out, resume.as_deref(), args.init.as_deref(), worker, device)
        })
    }, unavailable k => bail!("backend {k} is not compiled into this build"))
}

fn run<B: AutodiffBackend>(
    cfg: &TrainConfig,
    data: &TrainingData,
    out: &Path,
    resume: Option<&Path>,
    init: Option<&Path>,
    worker: Worker<B>,
    device: &B::Device,
) -> Result<()> {
    let leader = worker.is_leader();
    let report = &mut |line: String| {
        if leader {
            eprintln!("{line}")
        }
    };
    let trainer = experiment::start_run::<B>(cfg, &data.validation, out, resume, init, device, report)?;
    let mut trainer = trainer.with_worker(worker)?;
    let bar = cli_args::progress_bar(cfg.total_steps() as u64, "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}");
    if !leader {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_position(trainer.step as u64);
    let mut last_val = String::new();
    let start = std::time::Instant::now();
    training::fit(&mut trainer, &data.source, &data.validation, out, &mut |ev| match ev {
        TrainEvent::Step { stats, it_per_s } => {
            bar.set_position(stats.step as u64);
            let d = stats.d_loss.map(|d| format!(" d {d:.4}")).unwrap_or_default();
            bar.set_message(format!("loss {:.4}{d} lr {:.1e} {:.2} it/s {last_val}", stats.loss, stats.lr, it_per_s));
            if stats.step % 10 == 0 {
                tracing::info!(step = stats.step, loss = stats.loss, d_loss = ?stats.d_loss, lr = stats.lr, it_per_s, "step");
            }
        }
        TrainEvent::Validation { step, quality } => {
            last_val = format!("| val PSNR {:.2} SSIM {:.4}", quality.psnr, quality.ssim);
            bar.println(format!(
                "step {step}: validation PSNR {:.3} dB SSIM {:.4} ({:.0} s)",
                quality.psnr,
                quality.ssim,
                start.elapsed().as_secs_f64()
            ));
        }
        TrainEvent::Saved { .. } => {}
    })?;
    bar.finish();
    if leader {
        eprintln!("{}", experiment::finished_line(out));
    }
    Ok(())
}
