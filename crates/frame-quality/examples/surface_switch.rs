//! Candidates for a surface-only ranking rule (issue 27): on footage the default finds to be a
//! surface (no disc: most frames' bright area touches the border, `BandpassScorer::is_surface`),
//! which whole-frame measure or blend of measures ranks best? Spearman ρ against the truth per
//! cell for the default, Helmli–Scherer, Tenengrad, Brenner and blends of the default with each
//! (robust z-scores over the video, summed). Choose on simulator 1's tuning seed only; report the
//! check simulator and other seeds.
//!
//! ```text
//! cargo run -p frame-quality --example surface_switch -- GRID_DIR [GRID_DIR …]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use frame_quality::ranking::bandpass::BandpassScorer;
use frame_quality::ranking::{measure_source, spearman};
use frame_quality::simulation::{SimulatedVideo, cell_dirs};
use frame_quality::{Metric, Scorer, score_source};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Robust z-scores (median, 1.4826 × MAD).
fn z(v: &[f32]) -> Vec<f32> {
    let med = |mut x: Vec<f32>| {
        x.sort_by(f32::total_cmp);
        x[x.len() / 2]
    };
    let m = med(v.to_vec());
    let s = 1.4826 * med(v.iter().map(|x| (x - m).abs()).collect());
    v.iter().map(|x| if s > 0.0 { (x - m) / s } else { 0.0 }).collect()
}

fn sum(a: &[f32], b: &[f32]) -> Vec<f32> {
    z(a).iter().zip(z(b)).map(|(x, y)| x + y).collect()
}

fn run_cell(dir: &std::path::Path) -> Res<(String, Vec<f64>)> {
    let v = SimulatedVideo::open(dir)?;
    let truth: Vec<f32> = v.truth.iter().map(|t| t.strehl).collect();
    let surface = BandpassScorer::fit(&measure_source(&v.source, &|_| {})?).is_surface();
    let s = |m: Metric| score_source(&v.source, &Scorer::new(m), &|_| {});
    let (bp, hs, tg, br) =
        (s(Metric::Bandpass)?, s(Metric::HelmliScherer)?, s(Metric::Tenengrad)?, s(Metric::Brenner)?);
    let cands = [bp.clone(), hs.clone(), tg.clone(), br.clone(), sum(&bp, &hs), sum(&bp, &tg), sum(&bp, &br)];
    let rhos: Vec<f64> = cands.iter().map(|c| spearman(c, &truth)).collect();
    let cols: Vec<String> = rhos.iter().map(|r| format!("{r:.3}")).collect();
    Ok((format!("| {} | {surface} | {} |", v.name, cols.join(" | ")), rhos))
}

fn main() -> ExitCode {
    let roots: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if roots.is_empty() {
        eprintln!("usage: surface_switch GRID_DIR [GRID_DIR …]");
        return ExitCode::from(2);
    }
    println!(
        "| cell | surface? | bandpass (default) | helmli-scherer | tenengrad | brenner | bandpass ⊕ helmli-scherer | bandpass ⊕ tenengrad | bandpass ⊕ brenner |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut all = Vec::new();
    for root in &roots {
        let dirs = match cell_dirs(root) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("surface_switch: {e}");
                return ExitCode::FAILURE;
            }
        };
        for dir in &dirs {
            match run_cell(dir) {
                Ok((row, r)) => {
                    println!("{row}");
                    all.push(r);
                }
                Err(e) => {
                    eprintln!("surface_switch: {}: {e}", dir.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let n = all.len().max(1) as f64;
    let means: Vec<String> = (0..all.first().map_or(0, Vec::len))
        .map(|k| format!("{:.3}", all.iter().map(|r| r[k]).sum::<f64>() / n))
        .collect();
    println!("| mean | | {} |", means.join(" | "));
    ExitCode::SUCCESS
}
