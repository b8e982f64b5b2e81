//! Train the bundled quality CNN (`rank-frames --metric learned`) on simulated truth.
//!
//! ```sh
//! cargo run --release -p frame-quality --example train_quality_cnn -- \
//!     --data runs/quality-cnn/train --simulate 10-19 --steps 4000 --eval-every 250 --crops 4 \
//!     --out crates/frame-quality/weights/quality-cnn.bin
//! ```
//!
//! Data: the Mars and Jupiter cells of the simulation grid (`grid::cells(frames, seed)`), one
//! folder per seed (`DATA/s<seed>/<cell>/`); `--simulate A-B` writes the missing seeds first
//! (120 frames per cell). Saturn, Venus and the Moon are never seen in training; seeds 1 and 2
//! (the evaluation grids) must not be used. The seed given by `--val-seed` (default 12) is kept
//! out of training and picks the best checkpoint. Flex (CPU) backend.

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use frame_quality::ranking::learned::quality::{
    QualityTrainConfig, TrainVideo, net_to_bytes, prepare_source, train_quality_net,
};
use frame_quality::simulation::{SimulatedVideo, cell_dirs, cells, simulate_cell};

const TRAIN_TEXTURES: [&str; 2] = ["mars", "jupiter"];

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data: PathBuf = arg(&args, "--data").unwrap_or_else(|| "runs/quality-cnn/train".into());
    let out: PathBuf = arg(&args, "--out").unwrap_or_else(|| "crates/frame-quality/weights/quality-cnn.bin".into());
    let frames: usize = arg(&args, "--frames").unwrap_or(120);
    let val_seed: u64 = arg(&args, "--val-seed").unwrap_or(12);
    let mut cfg = QualityTrainConfig::default();
    cfg.steps = arg(&args, "--steps").unwrap_or(cfg.steps);
    cfg.pairs = arg(&args, "--pairs").unwrap_or(cfg.pairs);
    cfg.learning_rate = arg(&args, "--lr").unwrap_or(cfg.learning_rate);
    cfg.eval_every = arg(&args, "--eval-every").unwrap_or(cfg.eval_every);
    cfg.seed = arg(&args, "--seed").unwrap_or(cfg.seed);
    cfg.crops = arg(&args, "--crops").unwrap_or(cfg.crops);

    if let Some(range) = arg::<String>(&args, "--simulate") {
        let (a, b) = range.split_once('-').unwrap_or((&range, &range));
        let (a, b): (u64, u64) = (a.parse()?, b.parse()?);
        for seed in a..=b {
            if seed <= 2 {
                return Err("seeds 1 and 2 are the evaluation grids; simulate seeds ≥ 10".into());
            }
            for cell in cells(frames, seed).iter().filter(|c| TRAIN_TEXTURES.contains(&c.texture)) {
                let dir = data.join(format!("s{seed}")).join(cell.name);
                if !dir.join("truth.csv").is_file() {
                    simulate_cell(cell, &dir, &|_| {})?;
                    println!("simulated {}", dir.display());
                }
            }
        }
    }

    let start = Instant::now();
    let (mut train, mut val) = (Vec::new(), Vec::new());
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&data)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    seeds.sort();
    for seed_dir in seeds.iter().filter(|p| p.is_dir()) {
        let is_val = seed_dir.file_name().is_some_and(|n| n.to_string_lossy() == format!("s{val_seed}"));
        for dir in cell_dirs(seed_dir)? {
            let v = SimulatedVideo::open(&dir)?;
            let idx: Vec<usize> = (0..v.truth.len()).collect();
            let video = TrainVideo {
                name: format!("{}/{}", seed_dir.file_name().unwrap_or_default().to_string_lossy(), v.name),
                inputs: prepare_source(&v.source, &idx, cfg.crops)?,
                quality: v.quality(),
                cut: v.truth.iter().map(|t| t.cut).collect(),
            };
            if is_val { val.push(video) } else { train.push(video) }
        }
    }
    let n_frames: usize = train.iter().map(|v| v.inputs.len()).sum();
    println!(
        "prepared {} training videos ({n_frames} frames) and {} validation videos in {:.1} s",
        train.len(),
        val.len(),
        start.elapsed().as_secs_f64()
    );

    let device = Default::default();
    let t0 = Instant::now();
    let (net, logs) = train_quality_net::<Autodiff<Flex>>(&train, &val, &cfg, &device, &|l| {
        println!(
            "step {:>5}: loss {:.4}  validation mean ρ {:.3}  ({:.0} s)",
            l.step,
            l.loss,
            l.val_spearman,
            t0.elapsed().as_secs_f64()
        )
    })?;
    let wall = t0.elapsed().as_secs_f64();
    let best = logs.iter().map(|l| l.val_spearman).fold(f64::NEG_INFINITY, f64::max);
    let bytes = net_to_bytes(&net, cfg.crops)?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, &bytes)?;
    println!(
        "trained {} steps × {} pairs ({} crops per frame) in {wall:.0} s on the CPU (Flex, {} threads); best validation ρ {best:.3}; wrote {} ({} bytes)",
        cfg.steps,
        cfg.pairs,
        cfg.crops,
        rayon::current_num_threads(),
        out.display(),
        bytes.len()
    );
    Ok(())
}
