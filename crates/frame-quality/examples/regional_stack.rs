//! Per-region (alignment-box) frame selection against global selection on anisoplanatic seeing.
//!
//! For every texture × D/r0 × correlation × seed: simulate frames with a K×K grid of partly
//! correlated isoplanatic patches (`anisoplanatic`), rank them with the default metric, and stack the
//! top N% with the same alignment boxes, (a) globally selected (the baseline), (b) selected per box
//! by each local metric, (c) selected per box by the true local Strehl (an upper bound). Prints a
//! Markdown table of stack PSNR against the diffraction-limited truth (gain-fitted, border excluded,
//! `eval::compare_stack`) and the mean per-box Spearman ρ of each local metric against the box's
//! true Strehl.
//!
//! ```text
//! cargo run --release -p frame-quality --example regional_stack -- \
//!     --frames 200 --size 256 --patches 3 --boxes 64 --top 10 \
//!     --textures mars,jupiter --d-over-r0 4,8 --correlation 0.3,0.7 --seeds 1,2
//! ```

use std::process::ExitCode;

use frame_quality::ranking::spearman;
use frame_quality::simulation::{
    AnisoConfig, AnisoSimulator, SimConfig, compare_stack, planet_texture, simulate_aniso_to_dir,
};
use frame_quality::stacking::{BoxScores, LocalMetric, score_boxes, stack, stack_with_box_scores};
use frame_quality::{FrameSource, Metric, Scorer, Selection, SerReader, StackConfig, score_source};

struct Args {
    frames: usize,
    size: usize,
    patches: usize,
    boxes: usize,
    top: f32,
    textures: Vec<String>,
    d_over_r0: Vec<f32>,
    correlation: Vec<f32>,
    seeds: Vec<u64>,
}

fn list<T: std::str::FromStr>(flag: &str, v: &str) -> Result<Vec<T>, String> {
    v.split(',')
        .map(|s| s.trim().parse::<T>().map_err(|_| format!("{flag} {v}: expected a comma-separated list")))
        .collect()
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        frames: 200,
        size: 256,
        patches: 3,
        boxes: 64,
        top: 10.0,
        textures: vec!["mars".into(), "jupiter".into()],
        d_over_r0: vec![4.0, 8.0],
        correlation: vec![0.3, 0.7],
        seeds: vec![1, 2],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag}: missing value"))?;
        let one =
            |v: &str| -> Result<usize, String> { v.parse().map_err(|_| format!("{flag} {v}: expected a number")) };
        match flag.as_str() {
            "--frames" => a.frames = one(&v)?,
            "--size" => a.size = one(&v)?,
            "--patches" => a.patches = one(&v)?,
            "--boxes" => a.boxes = one(&v)?,
            "--top" => a.top = v.parse().map_err(|_| format!("--top {v}: expected a percentage"))?,
            "--textures" => a.textures = list(&flag, &v)?,
            "--d-over-r0" => a.d_over_r0 = list(&flag, &v)?,
            "--correlation" => a.correlation = list(&flag, &v)?,
            "--seeds" => a.seeds = list(&flag, &v)?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

/// One condition's figures: PSNR of each selection and ρ of each local metric.
struct Row {
    global: f64,
    local: Vec<f64>,
    oracle: f64,
    rho: Vec<f64>,
    rho_global: f64,
    /// Frames pass 2 read for per-box `laplace` (the union of the boxes' and the global selections).
    read: usize,
}

fn run_one(a: &Args, texture: &str, d: f32, c: f32, seed: u64) -> Result<Row, Box<dyn std::error::Error>> {
    let tex = planet_texture(texture)?;
    let sim = SimConfig {
        size: a.size,
        disc_radius: a.size as f32 * 80.0 / 256.0,
        pupil_px: 64.min(a.size / 4),
        frames: a.frames,
        d_over_r0: d,
        seed,
        ..SimConfig::default()
    };
    let cfg = AnisoConfig { sim: sim.clone(), patches: a.patches, correlation: c };
    let dir = tempfile::tempdir()?;
    let out = simulate_aniso_to_dir(&cfg, &tex, dir.path(), &|_| {})?;
    let weights = AnisoSimulator::new(sim, &tex, a.patches, c)?;
    let ser = SerReader::open(&out.ser)?;
    let (w, h) = ser.dims();
    let scores = score_source(&ser, &Scorer::new(Metric::DiscLaplace), &|_| {})?;
    let base = StackConfig { selection: Selection::Percent(a.top), boxes: Some(a.boxes), ..StackConfig::default() };
    let psnr = |img: &astro_image::Planes| compare_stack(&img.data, &out.truth_image, w, h, (w.min(h) / 16).max(1)).0;
    let global = stack(&ser, &scores, &StackConfig { per_box_select: false, ..base }, &|_, _| {})?;
    let mut local = Vec::new();
    let mut rho = Vec::new();
    let mut boxes = None;
    let mut rho_global = 0.0;
    let mut read = 0;
    for m in LocalMetric::ALL {
        let r = stack(&ser, &scores, &StackConfig { local_metric: m, ..base }, &|_, _| {})?;
        if m == LocalMetric::default() {
            read = r.frames.len();
        }
        local.push(psnr(&r.image));
        let reg = r.regions.ok_or("no boxes were placed")?;
        // ρ of this metric's box scores against each box's true local Strehl, averaged over boxes.
        let reference = global.image.data.clone();
        let bs = score_boxes(&ser, &reference, reg.size, &reg.boxes, m, &|_| {})?;
        let (mut sum, mut sum_global) = (0.0, 0.0);
        for (b, &(x, y)) in reg.boxes.iter().enumerate() {
            let truth: Vec<f32> =
                out.truth.iter().map(|t| weights.region_strehl(t, x, y, reg.size, reg.size)).collect();
            sum += spearman(&bs.column(b), &truth);
            sum_global += spearman(&scores, &truth);
        }
        rho.push(sum / reg.boxes.len() as f64);
        rho_global = sum_global / reg.boxes.len() as f64;
        boxes.get_or_insert((reg.size, reg.boxes));
    }
    let (size, corners) = boxes.ok_or("no boxes")?;
    let truth_scores: Vec<f32> = out
        .truth
        .iter()
        .flat_map(|t| corners.iter().map(|&(x, y)| weights.region_strehl(t, x, y, size, size)).collect::<Vec<_>>())
        .collect();
    let oracle_scores = BoxScores::new(size, corners, a.frames, truth_scores)?;
    let oracle = stack_with_box_scores(&ser, &scores, &oracle_scores, &base, &|_, _| {})?;
    let (g, o) = (psnr(&global.image), psnr(&oracle.image));
    Ok(Row { global: g, local, oracle: o, rho, rho_global, read })
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("regional_stack: {e}");
            return ExitCode::from(2);
        }
    };
    let names: Vec<&str> = LocalMetric::ALL.iter().map(|m| m.name()).collect();
    println!(
        "{} frames of {}x{}, {}x{} patches, boxes {} px, top {}% per selection; PSNR in dB",
        a.frames, a.size, a.size, a.patches, a.patches, a.boxes, a.top
    );
    println!();
    let mut head = String::from("| texture | D/r0 | c | seed | global | ");
    head += &names.iter().map(|n| format!("per-box {n}")).collect::<Vec<_>>().join(" | ");
    head += " | per-box true Strehl | gain (laplace) | ";
    head += &names.iter().map(|n| format!("ρ {n}")).collect::<Vec<_>>().join(" | ");
    println!("{head} | ρ global |");
    println!("|{}", "---|".repeat(8 + 2 * names.len()));
    let mut gains = Vec::new();
    let mut reads = Vec::new();
    for tex in &a.textures {
        for &d in &a.d_over_r0 {
            for &c in &a.correlation {
                for &seed in &a.seeds {
                    match run_one(&a, tex, d, c, seed) {
                        Ok(r) => {
                            gains.push((d, c, r.local[0] - r.global));
                            reads.push(r.read);
                            let l: Vec<String> = r.local.iter().map(|v| format!("{v:.2}")).collect();
                            let p: Vec<String> = r.rho.iter().map(|v| format!("{v:.2}")).collect();
                            println!(
                                "| {tex} | {d} | {c} | {seed} | {:.2} | {} | {:.2} | {:+.2} | {} | {:.2} |",
                                r.global,
                                l.join(" | "),
                                r.oracle,
                                r.local[0] - r.global,
                                p.join(" | "),
                                r.rho_global
                            );
                        }
                        Err(e) => {
                            eprintln!("regional_stack: {tex} D/r0 {d} c {c} seed {seed}: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                }
            }
        }
    }
    println!();
    println!("| D/r0 | c | runs | mean gain (dB) | min | max | per-box better |");
    println!("|---|---|---|---|---|---|---|");
    for &d in &a.d_over_r0 {
        for &c in &a.correlation {
            let g: Vec<f64> = gains.iter().filter(|x| x.0 == d && x.1 == c).map(|x| x.2).collect();
            let mean = g.iter().sum::<f64>() / g.len().max(1) as f64;
            let (lo, hi) = g.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let wins = g.iter().filter(|&&v| v > 0.0).count();
            println!("| {d} | {c} | {} | {mean:+.2} | {lo:+.2} | {hi:+.2} | {wins}/{} |", g.len(), g.len());
        }
    }
    let all: Vec<f64> = gains.iter().map(|x| x.2).collect();
    let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
    let wins = all.iter().filter(|&&g| g > 0.0).count();
    println!();
    println!("per-box laplace vs global: mean {mean:+.2} dB, better in {wins} of {} runs", all.len());
    let (lo, hi) = (reads.iter().min().copied().unwrap_or(0), reads.iter().max().copied().unwrap_or(0));
    let per = Selection::Percent(a.top).count(a.frames);
    println!("frames read in pass 2 with per-box selection: {lo} to {hi} of {} (global selection: {per})", a.frames);
    ExitCode::SUCCESS
}
