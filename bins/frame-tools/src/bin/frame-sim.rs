//! frame-sim: simulate a planetary video through Kolmogorov turbulence, with per-frame ground truth.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use frame_quality::simulation::{
    MAX_SIM_SIZE, MIN_SIM_SIZE, SimConfig, Simulator, Target, all_cells, load_texture, write_simulation,
};
use frame_tools::frame_bar;

/// Render a lit planet (Stellarium texture) through random phase screens and write
/// `frames.ser`, `truth.csv` (frame,strehl,ssim,shift_x,shift_y,d_over_r0,transparency,cut),
/// `truth.png` and `sim.json`; with `--grid`, one such folder per named grid cell.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Output folder.
    #[arg(short, long, visible_alias = "out")]
    output: PathBuf,
    /// Simulate every cell of the simulation grid into OUTPUT/<cell>/ (see docs/frame-quality.md).
    #[arg(long)]
    grid: bool,
    /// With --grid: the independent check simulator's surface cells instead (procedural craters,
    /// smooth D/r0 field; nothing is tuned on them).
    #[arg(long, requires = "grid")]
    check: bool,
    /// With --grid: only these cells (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    cells: Vec<String>,
    /// Planet texture name in Stellarium's textures folder (mars, jupiter, saturn, venus, moon_4k, …).
    #[arg(long, default_value = "mars")]
    planet: String,
    /// Number of frames (1–100000).
    #[arg(long, default_value_t = 300, value_parser = |s: &str| cli_args::usize_in(s, 1, 100_000))]
    frames: usize,
    /// Frame side in pixels (32–4096).
    #[arg(long, default_value_t = 256, value_parser = |s: &str| cli_args::usize_in(s, MIN_SIM_SIZE, MAX_SIM_SIZE))]
    size: usize,
    /// Disc radius in pixels.
    #[arg(long, default_value_t = 80.0, value_parser = cli_args::positive_f32)]
    radius: f32,
    /// Seeing: telescope diameter over Fried's r0 (2 good, 6 average, 10 poor).
    #[arg(long, default_value_t = 6.0, value_parser = |s: &str| cli_args::f32_in(s, 0.01, 1000.0))]
    d_over_r0: f32,
    /// Pupil diameter in phase-screen samples (frames are Nyquist-sampled), 8 to --size.
    #[arg(long, default_value_t = 64, value_parser = |s: &str| cli_args::usize_in(s, 8, MAX_SIM_SIZE))]
    pupil: usize,
    /// Extra tip/tilt jitter, RMS pixels per axis.
    #[arg(long, default_value_t = 1.5, value_parser = |s: &str| cli_args::f32_in(s, 0.0, 1000.0))]
    jitter: f32,
    /// Electrons at the brightest point of the diffraction-limited image.
    #[arg(long, default_value_t = 2000.0, value_parser = |s: &str| cli_args::f32_in(s, 1e-3, 1e9))]
    peak_electrons: f32,
    /// Read noise, electrons RMS.
    #[arg(long, default_value_t = 3.0, value_parser = |s: &str| cli_args::f32_in(s, 0.0, 1e6))]
    read_noise: f32,
    /// Bits per sample: 8 or 12.
    #[arg(long, default_value_t = 8)]
    bit_depth: u32,
    /// Disc centre offset from the frame centre, x (pixels; move it to the border to test cut discs).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = |s: &str| cli_args::f32_in(s, -1e5, 1e5))]
    offset_x: f32,
    /// Disc centre offset, y.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = |s: &str| cli_args::f32_in(s, -1e5, 1e5))]
    offset_y: f32,
    /// Draw D/r0 per frame, log-uniform from --d-over-r0 up to this value.
    #[arg(long, value_parser = |s: &str| cli_args::f32_in(s, 0.01, 1000.0))]
    d_over_r0_max: Option<f32>,
    /// Lowest per-frame transparency (thin clouds), 0 < t ≤ 1.
    #[arg(long, default_value_t = 1.0, value_parser = |s: &str| cli_args::f32_in(s, 1e-3, 1.0))]
    transparency_min: f32,
    /// Cloud haze: scattered light of haze × (1 − transparency) of the peak.
    #[arg(long, default_value_t = 0.0, value_parser = |s: &str| cli_args::f32_in(s, 0.0, 1e3))]
    haze: f32,
    /// Share of frames whose disc is cut by the frame edge (their truth is 0).
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::unit_f32)]
    cut_fraction: f32,
    /// Record through an RGGB Bayer mosaic (colour camera).
    #[arg(long)]
    bayer: bool,
    /// Scene: disc, ringed (Saturn's rings, see --ring-tilt) or field (surface filling the frame).
    #[arg(long, default_value = "disc")]
    target: String,
    /// Ring opening angle in degrees for --target ringed.
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true, value_parser = |s: &str| cli_args::f32_in(s, -90.0, 90.0))]
    ring_tilt: f32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    frame_tools::main_with(body)
}

fn body(a: Args) -> anyhow::Result<()> {
    if a.grid {
        let all = all_cells(a.frames, a.seed, a.check);
        if let Some(bad) = a.cells.iter().find(|n| !all.iter().any(|c| c.name() == n.as_str())) {
            let known: Vec<_> = all.iter().map(|c| c.name()).collect();
            anyhow::bail!("--cells: no grid cell named '{bad}' (cells: {})", known.join(", "));
        }
        for cell in all.iter().filter(|c| a.cells.is_empty() || a.cells.iter().any(|n| n == c.name())) {
            let bar = frame_bar(a.frames, cell.name());
            let dir = a.output.join(cell.name());
            let truth = cell.simulate(&dir, &|n| bar.set_position(n as u64))?;
            bar.finish_and_clear();
            report(cell.name(), &dir.join("frames.ser"), &truth);
        }
        return Ok(());
    }
    let target = match a.target.as_str() {
        "disc" => Target::Disc,
        "ringed" => Target::Ringed { tilt_deg: a.ring_tilt },
        "field" => Target::Field,
        other => anyhow::bail!("--target: '{other}' is not one of disc, ringed, field"),
    };
    let cfg = SimConfig {
        size: a.size,
        disc_radius: a.radius,
        d_over_r0: a.d_over_r0,
        d_over_r0_max: a.d_over_r0_max.unwrap_or(0.0),
        pupil_px: a.pupil,
        jitter_px: a.jitter,
        peak_electrons: a.peak_electrons,
        read_noise: a.read_noise,
        bit_depth: a.bit_depth,
        frames: a.frames,
        seed: a.seed,
        offset: (a.offset_x, a.offset_y),
        transparency_min: a.transparency_min,
        haze: a.haze,
        cut_fraction: a.cut_fraction,
        bayer: a.bayer,
        target,
        ..SimConfig::default()
    };
    cfg.validate()?;
    let tex = load_texture(&a.planet).with_context(|| format!("planet texture '{}'", a.planet))?;
    let rings = match target {
        Target::Ringed { .. } => Some(load_texture("saturn_rings_radial").context("ring texture")?),
        _ => None,
    };
    let mut sim = Simulator::with_scene(cfg, &tex, rings.as_ref())?;
    let bar = frame_bar(a.frames, "simulating");
    let out = write_simulation(&mut sim, &a.output, &|n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    report(&format!("D/r0 = {}", a.d_over_r0), &out.ser, &out.truth);
    Ok(())
}

/// One line per written video: frames, where, mean and best Strehl.
fn report(label: &str, ser: &std::path::Path, truth: &[frame_quality::simulation::FrameTruth]) {
    let mean = truth.iter().map(|t| t.strehl as f64).sum::<f64>() / truth.len().max(1) as f64;
    let max = truth.iter().map(|t| t.strehl).fold(0f32, f32::max);
    let cut = truth.iter().filter(|t| t.cut).count();
    println!(
        "wrote {} frames to {} ({label}, mean Strehl {mean:.3}, best {max:.3}, {cut} cut discs)",
        truth.len(),
        ser.display(),
    );
}
