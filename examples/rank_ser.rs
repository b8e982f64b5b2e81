//! Tutorial: rank the frames of a planetary SER video, compare metrics, and stack the best 10%.
//!
//! With no argument it first simulates a short Mars video through turbulence (Stellarium's
//! texture, D/r0 = 6), so the ranking can be checked against the known per-frame Strehl ratio:
//!
//! ```text
//! cargo run --release --example rank_ser                 # simulate, rank, stack
//! cargo run --release --example rank_ser -- my_video.ser # your own video
//! ```

use std::path::PathBuf;

use prettier_space::frame_quality::ranking::spearman;
use prettier_space::frame_quality::simulation::{SimConfig, planet_texture, simulate_to_dir};
use prettier_space::frame_quality::{
    Metric, Scorer, Selection, SerReader, StackConfig, open_source, ranks, score_source, stack,
};

fn main() -> anyhow::Result<()> {
    let out_dir = std::env::temp_dir().join("prettier-space-rank-ser");
    // 1. Get a video: the user's, or a simulated one with ground truth.
    let (path, truth): (PathBuf, Option<Vec<f32>>) = match std::env::args().nth(1) {
        Some(p) => (PathBuf::from(p), None),
        None => {
            let cfg = SimConfig { frames: 200, d_over_r0: 6.0, ..SimConfig::default() };
            let sim = simulate_to_dir(&cfg, &planet_texture("mars")?, &out_dir, &|_| {})?;
            println!("simulated {} frames into {}", cfg.frames, sim.ser.display());
            (sim.ser, Some(sim.truth.iter().map(|t| t.strehl).collect()))
        }
    };

    // 2. Open it. SER files are memory-mapped: frames are decoded one at a time, never all at once.
    let source = open_source(&path)?;
    if let Ok(ser) = SerReader::open(&path) {
        let h = ser.header();
        println!(
            "{}: {}x{} {:?}, {} frames, {} bits",
            path.display(),
            h.width,
            h.height,
            h.color,
            ser.len(),
            h.bit_depth
        );
    }

    // 3. Score every frame with the default metric and the two metrics users know (in parallel).
    for metric in [Metric::DiscLaplace, Metric::PssLaplace, Metric::LocalContrast] {
        let t = std::time::Instant::now();
        let scores = score_source(source.as_ref(), &Scorer::new(metric), &|_| {})?;
        let fps = scores.len() as f64 / t.elapsed().as_secs_f64();
        let best = ranks(&scores).iter().position(|&r| r == 1).unwrap_or(0);
        print!("{:>14}: best frame {best:4}, {fps:8.0} frames/s", metric.name());
        if let Some(truth) = &truth {
            print!(", Spearman ρ to the true Strehl {:.3}", spearman(&scores, truth));
        }
        println!();
    }

    // 4. Stack the best 10% by the default metric (aligned by phase correlation) and save a 16-bit PNG.
    let scores = score_source(source.as_ref(), &Scorer::new(Metric::DiscLaplace), &|_| {})?;
    let cfg = StackConfig { selection: Selection::Percent(10.0), ..StackConfig::default() };
    let result = stack(source.as_ref(), &scores, &cfg, &|_, _| {})?;
    let png = out_dir.join("stack.png");
    prettier_space::astro_image::image_io::save_image(&result.image, &png, 16)?;
    println!("stacked {} frames into {}", result.frames.len(), png.display());
    Ok(())
}
