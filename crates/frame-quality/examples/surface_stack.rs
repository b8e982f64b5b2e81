//! Per-alignment-point selection against global selection on the surface cells of `frame-sim
//! --grid` (layered anisoplanatic seeing) and `frame-sim --grid --check` (smooth D/r0 field).
//!
//! For every cell folder: rank with the default metric, then stack the top N% with the same
//! alignment points (a) globally selected (`--global-select`), (b) selected per point by the local
//! Laplace measure (`stack-frames --boxes`, the default), (c) by the noise-aware local measures
//! `band` and `band-global` (band blended with the global score per point,
//! `stacking::local_global_blend`), (d) selected per point by the cell's true
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
use frame_quality::simulation::{SimulatedVideo, cell_dirs, compare_stack, point_truth, read_regions_csv};
use frame_quality::stacking::{BoxScores, LocalMetric, local_global_blend, score_boxes, stack, stack_with_box_scores};
use frame_quality::{FrameSource, Metric, Scorer, Selection, StackConfig, score_source};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

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
    let truths: Vec<Vec<f32>> =
        reg.boxes.iter().map(|&p| (0..v.source.len()).map(|f| truth_at(f, p)).collect()).collect();
    let rho = |t: &BoxScores| -> f64 {
        (0..t.boxes.len()).map(|b| spearman(&t.column(b), &truths[b])).sum::<f64>() / t.boxes.len().max(1) as f64
    };
    let rho_global = truths.iter().map(|t| spearman(&scores, t)).sum::<f64>() / truths.len().max(1) as f64;
    let oracle_scores: Vec<f32> =
        (0..v.source.len()).flat_map(|f| reg.boxes.iter().map(move |&p| truth_at(f, p))).collect();
    let oracle_scores = BoxScores::new(reg.size, reg.boxes.clone(), v.source.len(), oracle_scores)?;
    let by = |t: &BoxScores| -> Res<f64> {
        Ok(psnr(&stack_with_box_scores(&v.source, &scores, t, &base, &|_, _| {})?.image))
    };
    let oracle = by(&oracle_scores)?;
    // The noise-aware measures through `stack` itself (band; band blended with the global score).
    let mut extra = Vec::new();
    for m in [LocalMetric::Band, LocalMetric::BandGlobal] {
        let img = stack(&v.source, &scores, &StackConfig { local_metric: m, ..base }, &|_, _| {})?.image;
        let t = score_boxes(&v.source, &reference, reg.size, &reg.boxes, m, &|_| {})?;
        let t = if m.blends_global() { local_global_blend(&t, &scores) } else { t };
        extra.push((psnr(&img), rho(&t)));
    }
    let (g, l) = (psnr(&global.image), psnr(&local.image));
    let ((pb, rb), (pbg, rbg)) = (extra[0], extra[1]);
    Ok(format!(
        "| {} | {} | {g:.2} | {l:.2} | {pb:.2} | {pbg:.2} | {oracle:.2} | {:+.2} | {:+.2} | {:.3} | {rb:.3} | {rbg:.3} | {rho_global:.3} | {tg:.1} / {tl:.1} |",
        v.name,
        reg.boxes.len(),
        l - g,
        pbg - g,
        rho(&bs),
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
        "| cell | points | global | per-point ({}) | per-point (band) | per-point (band-global) | per-point (true regional Strehl) | gain ({}) | gain (band-global) | ρ {} | ρ band | ρ band-global | ρ global | time global / per-point ({}) (s) |",
        lm.name(),
        lm.name(),
        lm.name(),
        lm.name()
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
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
