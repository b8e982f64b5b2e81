//! How well each local measure ranks the frames inside an alignment point by the point's true
//! regional Strehl, on surface cells (`frame-sim --grid`, `frame-sim --grid --check`): mean
//! Spearman ρ over the points, per cell, for every [`LocalMetric`], the global score, and each
//! local measure blended with the global score per point (`local_global_blend`).
//!
//! ```text
//! cargo run -p frame-quality --example local_rho -- [--boxes 64] GRID_DIR [GRID_DIR …]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use frame_quality::ranking::spearman;
use frame_quality::simulation::{SimulatedVideo, cell_dirs, point_truth, read_regions_csv};
use frame_quality::stacking::{LocalMetric, local_global_blend, local_scores};
use frame_quality::{FrameSource, Metric, Scorer, score_source};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn run_cell(dir: &std::path::Path, boxes: usize) -> Res<String> {
    let v = SimulatedVideo::open(dir)?;
    let regions = read_regions_csv(&dir.join("regions.csv"))?;
    let (w, h) = v.source.dims();
    let scores = score_source(&v.source, &Scorer::new(Metric::Bandpass), &|_| {})?;
    let mut cols = Vec::new();
    let mut global = None;
    let mut blends = Vec::new();
    for m in LocalMetric::ALL {
        let bs = local_scores(&v.source, &scores, boxes, m, &|_| {})?;
        let blended = local_global_blend(&bs, &scores);
        let truth = |b: usize| -> Vec<f32> {
            let (x, y) = bs.boxes[b];
            (0..v.source.len()).map(|f| point_truth(&regions[f], w, h, x, y, bs.size)).collect()
        };
        let (mut rl, mut rg, mut rb) = (0.0, 0.0, 0.0);
        for b in 0..bs.boxes.len() {
            let t = truth(b);
            rl += spearman(&bs.column(b), &t);
            rg += spearman(&scores, &t);
            rb += spearman(&blended.column(b), &t);
        }
        let n = bs.boxes.len().max(1) as f64;
        cols.push(format!("{:.3}", rl / n));
        blends.push(format!("{:.3}", rb / n));
        global.get_or_insert(rg / n);
    }
    Ok(format!("| {} | {} | {:.3} | {} |", v.name, cols.join(" | "), global.unwrap_or(0.0), blends.join(" | ")))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut boxes, mut roots) = (64usize, Vec::<PathBuf>::new());
    while let Some(a) = args.next() {
        if a == "--boxes" {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(v) => boxes = v,
                None => {
                    eprintln!("local_rho: --boxes: expected a number");
                    return ExitCode::from(2);
                }
            }
        } else {
            roots.push(PathBuf::from(a));
        }
    }
    if roots.is_empty() {
        eprintln!("usage: local_rho [--boxes N] GRID_DIR [GRID_DIR …]");
        return ExitCode::from(2);
    }
    let names: Vec<&str> = LocalMetric::ALL.iter().map(|m| m.name()).collect();
    let blend_names: Vec<String> = names.iter().map(|n| format!("{n} ⊕ global")).collect();
    println!("mean Spearman ρ per point against the point's regional truth ({boxes}-px points)");
    println!();
    println!("| cell | {} | global | {} |", names.join(" | "), blend_names.join(" | "));
    println!("|---|{}", "---|".repeat(2 * names.len() + 1));
    for root in &roots {
        let dirs = match cell_dirs(root) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("local_rho: {e}");
                return ExitCode::FAILURE;
            }
        };
        for dir in dirs.iter().filter(|d| d.join("regions.csv").is_file()) {
            match run_cell(dir, boxes) {
                Ok(row) => println!("{row}"),
                Err(e) => {
                    eprintln!("local_rho: {}: {e}", dir.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
