//! frame-sim: simulate a planetary video through Kolmogorov turbulence, with per-frame ground truth.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use frame_quality::sim::{SimConfig, planet_texture, simulate_to_dir};
use frame_tools::{frame_bar, init_logs};

/// Render a lit planet (Stellarium texture) through random phase screens and write
/// `frames.ser`, `truth.csv` (frame,strehl,ssim,shift_x,shift_y), `truth.png` and `sim.json`.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Output folder.
    #[arg(short, long)]
    output: PathBuf,
    /// Planet texture name in Stellarium's textures folder (mars, jupiter, …).
    #[arg(long, default_value = "mars")]
    planet: String,
    /// Number of frames.
    #[arg(long, default_value_t = 300)]
    frames: usize,
    /// Frame side in pixels.
    #[arg(long, default_value_t = 256)]
    size: usize,
    /// Disc radius in pixels.
    #[arg(long, default_value_t = 80.0)]
    radius: f32,
    /// Seeing: telescope diameter over Fried's r0 (2 good, 6 average, 10 poor).
    #[arg(long, default_value_t = 6.0)]
    d_over_r0: f32,
    /// Pupil diameter in phase-screen samples (frames are Nyquist-sampled).
    #[arg(long, default_value_t = 64)]
    pupil: usize,
    /// Extra tip/tilt jitter, RMS pixels per axis.
    #[arg(long, default_value_t = 1.5)]
    jitter: f32,
    /// Electrons at the brightest point of the diffraction-limited image.
    #[arg(long, default_value_t = 2000.0)]
    peak_electrons: f32,
    /// Read noise, electrons RMS.
    #[arg(long, default_value_t = 3.0)]
    read_noise: f32,
    /// Bits per sample: 8 or 12.
    #[arg(long, default_value_t = 8)]
    bit_depth: u32,
    /// Disc centre offset from the frame centre, x (pixels; move it to the border to test cut discs).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    offset_x: f32,
    /// Disc centre offset, y.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    offset_y: f32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> anyhow::Result<()> {
    init_logs();
    let a = Args::parse();
    let cfg = SimConfig {
        size: a.size,
        disc_radius: a.radius,
        d_over_r0: a.d_over_r0,
        pupil_px: a.pupil,
        jitter_px: a.jitter,
        peak_electrons: a.peak_electrons,
        read_noise: a.read_noise,
        bit_depth: a.bit_depth,
        frames: a.frames,
        seed: a.seed,
        offset: (a.offset_x, a.offset_y),
        ..SimConfig::default()
    };
    let tex = planet_texture(&a.planet).with_context(|| format!("planet texture '{}'", a.planet))?;
    let bar = frame_bar(a.frames, "simulating");
    let out = simulate_to_dir(&cfg, &tex, &a.output, &|n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let mean = out.truth.iter().map(|t| t.strehl as f64).sum::<f64>() / out.truth.len().max(1) as f64;
    let max = out.truth.iter().map(|t| t.strehl).fold(0f32, f32::max);
    println!(
        "wrote {} frames to {} (D/r0 = {}, mean Strehl {:.3}, best {:.3})",
        out.truth.len(),
        out.ser.display(),
        a.d_over_r0,
        mean,
        max
    );
    Ok(())
}
