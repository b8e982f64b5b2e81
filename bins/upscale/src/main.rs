//! `upscale`: super-resolve images (PNG/JPEG/TIFF 8/16-bit, FITS), animated GIFs, videos
//! (through ffmpeg) and whole folders ×2/×4 in tiles. See docs/upscale.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ml_core::backend::DeviceKind;
use sr_models::DEFAULT_MAX_OUTPUT_PIXELS;
use sr_models::ModelChoice;
use sr_models::Tiling;
use sr_models::{Job, Progress, default_output, run_job_on};

/// Upscale an image, FITS file, animated GIF, video or folder with a super-resolution model.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Input: image (png, jpg, tif, gif, fits), video (mp4, mkv, webm, mov, avi) or folder.
    input: PathBuf,
    /// Output file or folder (default: INPUT-x4.EXT, or FOLDER-x4, next to the input).
    #[arg(short, long, visible_alias = "out")]
    output: Option<PathBuf>,
    /// Scale: 2 or 4 (the model must have it; the bundled general model is ×4).
    #[arg(long, default_value_t = 4, value_parser = cli_args::positive_usize)]
    scale: usize,
    /// Model: a bundled family (general, survey, real, prettify) or a .srmodel file from train-srgan.
    #[arg(long, default_value = "general")]
    model: ModelChoice,
    /// Tile side in input pixels (bounds memory).
    #[arg(long, default_value_t = 256, value_parser = cli_args::positive_usize)]
    tile: usize,
    /// Overlap between tiles in input pixels.
    #[arg(long, default_value_t = 32)]
    overlap: usize,
    /// Refuse outputs above this many pixels (a GIF's frames together, one video frame).
    #[arg(long, default_value_t = DEFAULT_MAX_OUTPUT_PIXELS)]
    max_pixels: u64,
    /// Folders: replace outputs that already exist (default: skip them).
    #[arg(long)]
    overwrite: bool,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

/// The bar's look for a progress unit.
fn style(unit: &str) -> ProgressStyle {
    let template = match unit {
        "frames" => "{elapsed_precise} [{bar:30}] {pos}/{len} frames, {per_sec}, ETA {eta}",
        "files" => "{elapsed_precise} [{bar:30}] {pos}/{len} files, ETA {eta}",
        _ => "{elapsed_precise} [{bar:30}] {pos}/{len} tiles",
    };
    cli_args::progress_style(template)
}

fn main() -> ExitCode {
    // Errors reach the user as one line from us; fitsrs's own log lines would repeat them.
    cli_args::init_logs("error,fitsrs=off");
    let args = Args::parse();
    cli_args::run(|| run(args))
}

fn run(args: Args) -> anyhow::Result<()> {
    let output = args.output.clone().unwrap_or_else(|| default_output(&args.input, &format!("x{}", args.scale)));
    let job = Job {
        input: args.input.clone(),
        output: output.clone(),
        model: args.model.clone(),
        scale: args.scale,
        tiling: Tiling::new(args.tile, args.overlap),
        max_output_pixels: args.max_pixels,
        overwrite: args.overwrite,
        then: Default::default(),
    };
    let bar = ProgressBar::new(1);
    let mut unit = "";
    let start = std::time::Instant::now();
    let result = run_job_on(args.device, &job, &mut |p: &Progress| {
        if let Some(note) = &p.note {
            bar.println(format!("failed: {note}"));
            return;
        }
        if p.unit != unit {
            unit = p.unit;
            bar.set_style(style(unit));
        }
        bar.set_length(p.total.max(p.done) as u64);
        bar.set_position(p.done as u64);
    });
    bar.finish_and_clear();
    let o = result?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(f) = o.folder {
        for (file, reason) in &f.failed {
            eprintln!("failed: {}: {reason}", file.display());
        }
        println!(
            "{} -> {}: {} upscaled, {} skipped (output exists; --overwrite redoes them), {} failed, with {} in {secs:.1} s",
            args.input.display(),
            output.display(),
            f.done,
            f.skipped,
            f.failed.len(),
            o.model
        );
        anyhow::ensure!(
            f.failed.is_empty(),
            "{} of {} files failed (listed above)",
            f.failed.len(),
            f.done + f.skipped + f.failed.len()
        );
        return Ok(());
    }
    let r = o.report;
    let frames = if r.frames > 1 { format!(", {} frames", r.frames) } else { String::new() };
    println!(
        "{} ({}x{}) -> {} ({}x{}{frames}) with {} in {secs:.1} s",
        args.input.display(),
        r.input.0,
        r.input.1,
        output.display(),
        r.output.0,
        r.output.1,
        o.model
    );
    Ok(())
}
