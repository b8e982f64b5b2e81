//! `upscale`: super-resolve images (PNG/JPEG/TIFF, 8/16-bit) and animated GIFs ×2/×4 in tiles.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use dataset::backend::DeviceKind;
use indicatif::{ProgressBar, ProgressStyle};
use sr_models::apply::DEFAULT_MAX_OUTPUT_PIXELS;
use sr_models::cli::{Job, default_output, run_job_on};
use sr_models::inference::Tiling;

/// Upscale an image or animated GIF with a super-resolution model (bundled ×4 by default).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Input image (png, jpg, tif, gif).
    input: PathBuf,
    /// Output file (default: INPUT-x4.EXT next to the input).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Scale: 2 or 4 (must match the model; the bundled model is ×4).
    #[arg(long, default_value_t = 4)]
    scale: usize,
    /// Model file written by train-srgan (.srmodel); default: the bundled ×4 model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Tile side in input pixels (bounds memory).
    #[arg(long, default_value_t = 256)]
    tile: usize,
    /// Overlap between tiles in input pixels.
    #[arg(long, default_value_t = 32)]
    overlap: usize,
    /// Refuse outputs above this many pixels (all GIF frames together).
    #[arg(long, default_value_t = DEFAULT_MAX_OUTPUT_PIXELS)]
    max_pixels: u64,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let output = args.output.clone().unwrap_or_else(|| default_output(&args.input, &format!("x{}", args.scale)));
    let job = Job {
        input: args.input.clone(),
        output: output.clone(),
        model: args.model.clone(),
        scale: args.scale,
        tiling: Tiling { tile: args.tile, overlap: args.overlap },
        max_output_pixels: args.max_pixels,
    };
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} tiles")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    let result = run_job_on(args.device, &job, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    match result {
        Ok(o) => {
            let r = o.report;
            let frames = if r.frames > 1 { format!(", {} frames", r.frames) } else { String::new() };
            println!(
                "{} ({}x{}) -> {} ({}x{}{frames}) with {} in {:.1} s",
                args.input.display(),
                r.input.0,
                r.input.1,
                output.display(),
                r.output.0,
                r.output.1,
                o.model,
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("upscale: {e}");
            ExitCode::FAILURE
        }
    }
}
