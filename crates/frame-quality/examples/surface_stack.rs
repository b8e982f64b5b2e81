//! Per-alignment-point selection against global selection on the surface cells of `frame-sim
//! --grid` (layered anisoplanatic seeing) and `frame-sim --grid --check` (smooth D/r0 field).
//!
//! For every cell folder: rank with the default metric, then stack the top N% with the same
//! alignment points (a) globally selected (`--global-select`), (b) selected per point by the local
//! Laplace measure (`stack-frames --boxes`, the default), (c) selected per point by the cell's true
//! regional Strehl (`regions.csv`, an upper bound). Prints a Markdown table of stack PSNR against
//! the diffraction-limited truth (`eval::compare_stack`, gain-fitted, border excluded) and the mean
//! per-point Spearman ρ of the local scores against the regional truth.
//!
//! ```text
//! cargo run --release -p frame-quality --example surface_stack -- --boxes 64 --top 10 [--local-metric laplace] GRID_DIR [GRID_DIR …]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use frame_quality::ranking::spearman;
use frame_quality::simulation::{SimulatedVideo, cell_dirs, compare_stack, read_regions_csv};
use frame_quality::stacking::{BoxScores, LocalMetric, score_boxes, stack, stack_with_box_scores};
use frame_quality::{FrameSource, Metric, Scorer, Selection, StackConfig, score_source};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The regional truth of the point with top-left corner (x, y) and side `size`: the area-weighted
/// mean of the regions (a g×g grid over the frame) it covers.
fn point_truth(regions: &[f32], w: usize, h: usize, x: usize, y: usize, size: usize) -> f32 {
    let g = (regions.len() as f64).sqrt().round() as usize;
    if g == 0 {
        return 0.0;
    }
    let (mut s, mut n) = (0f64, 0f64);
    for yy in (y..y + size).step_by(4) {
        for xx in (x..x + size).step_by(4) {
            let (rx, ry) = ((xx * g / w).min(g - 1), (yy * g / h).min(g - 1));
            s += regions[ry * g + rx] as f64;
            n += 1.0;
        }
    }
    (s / n.max(1.0)) as f32
}

fn run_cell(dir: &std::path::Path, boxes: usize, top: f32, lm: LocalMetric) -> Res<String> {
    let v = SimulatedVideo::open(dir)?;
    let regions = read_regions_csv(&dir.join("regions.csv"))?;
    let (w, h) = v.source.dims();
    let scores = score_source(&v.source, &Scorer::new(Metric::Bandpass), &|_| {})?;
    let base = StackConfig {
        selection: Selection::Percent(top),
        boxes: Some(boxes),
        local_metric: lm,
        ..StackConfig::default()
    };
    let psnr = |img: &astro_image::Planes| compare_stack(&img.data, &v.truth_image, w, h, (w.min(h) / 16).max(1)).0;
    let t0 = std::time::Instant::now();
    let global = stack(&v.source, &scores, &StackConfig { per_box_select: false, ..base }, &|_, _| {})?;
    let tg = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let local = stack(&v.source, &scores, &base, &|_, _| {})?;
    let tl = t1.elapsed().as_secs_f64();
    let reg = local.regions.as_ref().ok_or("no alignment points were placed")?;
    let truth_at = |f: usize, (x, y): (usize, usize)| point_truth(&regions[f], w, h, x, y, reg.size);
    let reference = global.image.data.clone();
    let bs = score_boxes(&v.source, &reference, reg.size, &reg.boxes, lm, &|_| {})?;
    let (mut rho_local, mut rho_global) = (0.0, 0.0);
    for (b, &p) in reg.boxes.iter().enumerate() {
        let truth: Vec<f32> = (0..v.source.len()).map(|f| truth_at(f, p)).collect();
        rho_local += spearman(&bs.column(b), &truth);
        rho_global += spearman(&scores, &truth);
    }
    let nb = reg.boxes.len() as f64;
    let oracle_scores: Vec<f32> =
        (0..v.source.len()).flat_map(|f| reg.boxes.iter().map(move |&p| truth_at(f, p))).collect();
    let oracle_scores = BoxScores::new(reg.size, reg.boxes.clone(), v.source.len(), oracle_scores)?;
    let oracle = stack_with_box_scores(&v.source, &scores, &oracle_scores, &base, &|_, _| {})?;
    // Local × global: each point's local score over its median times the global score over its
    // median (a frame must be good overall and in the point).
    let med = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2].abs().max(1e-12)
    };
    let gm = med(scores.clone());
    let lm_: Vec<f32> = (0..reg.boxes.len()).map(|b| med(bs.column(b))).collect();
    let nbx = reg.boxes.len();
    let mixed: Vec<f32> = (0..v.source.len())
        .flat_map(|f| (0..nbx).map(move |b| (f, b)))
        .map(|(f, b)| bs.scores[f * nbx + b] / lm_[b] * scores[f] / gm)
        .collect();
    let mixed = BoxScores::new(reg.size, reg.boxes.clone(), v.source.len(), mixed)?;
    let mix = psnr(&stack_with_box_scores(&v.source, &scores, &mixed, &base, &|_, _| {})?.image);
    let (g, l, o) = (psnr(&global.image), psnr(&local.image), psnr(&oracle.image));
    Ok(format!(
        "| {} | {} | {g:.2} | {l:.2} | {mix:.2} | {o:.2} | {:+.2} | {:.3} | {:.3} | {tg:.1} / {tl:.1} |",
        v.name,
        reg.boxes.len(),
        l - g,
        rho_local / nb,
        rho_global / nb
    ))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut boxes, mut top, mut roots, mut lm) = (64usize, 10f32, Vec::<PathBuf>::new(), LocalMetric::default());
    while let Some(a) = args.next() {
        let parsed = match a.as_str() {
            "--boxes" => args.next().and_then(|v| v.parse().ok()).map(|v| boxes = v),
            "--top" => args.next().and_then(|v| v.parse().ok()).map(|v| top = v),
            "--local-metric" => args.next().and_then(|v| v.parse().ok()).map(|v| lm = v),
            _ => {
                roots.push(PathBuf::from(&a));
                Some(())
            }
        };
        if parsed.is_none() {
            eprintln!("surface_stack: {a}: expected a number (a local metric name for --local-metric) after it");
            return ExitCode::from(2);
        }
    }
    if roots.is_empty() {
        eprintln!("usage: surface_stack [--boxes N] [--top PERCENT] [--local-metric NAME] GRID_DIR [GRID_DIR …]");
        return ExitCode::from(2);
    }
    println!(
        "alignment points of {boxes} px, local metric {}, top {top}% per selection; stack PSNR (dB) against the truth image",
        lm.name()
    );
    println!();
    println!(
        "| cell | points | global | per-point (local Laplace) | per-point (local × global) | per-point (true regional Strehl) | gain | ρ local vs regional truth | ρ global vs regional truth | time global / per-point (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for root in &roots {
        let dirs = match cell_dirs(root) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("surface_stack: {e}");
                return ExitCode::FAILURE;
            }
        };
        for dir in dirs.iter().filter(|d| d.join("regions.csv").is_file()) {
            match run_cell(dir, boxes, top, lm) {
                Ok(row) => println!("{row}"),
                Err(e) => {
                    eprintln!("surface_stack: {}: {e}", dir.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
