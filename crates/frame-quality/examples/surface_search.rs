//! How the default metric's surface rule was chosen: Spearman ρ against the truth of candidate
//! rules built from the per-tile band measures ([`BandMeasure::tile_signal`]), on every cell of one
//! or more simulated grids, next to the default and the frame-filling detection.
//! `cargo run --release -p frame-quality --example surface_search -- GRID_DIR [GRID_DIR …]`
//! (GRID_DIR from `frame-sim --grid` or `frame-sim --grid --check`). Tune on the first simulator's
//! grid only; the check simulator's cells are reported, never tuned on.

use frame_quality::ranking::bandpass::{BandMeasure, BandpassScorer, TILE_COUNT};
use frame_quality::ranking::{measure_source, spearman};
use frame_quality::simulation::{SimulatedVideo, cell_dirs};

/// Median of the finite values (0 when empty).
fn median(mut v: Vec<f32>) -> f32 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// Per-tile signals divided by their median over the video; `f` maps each ratio before the mean.
fn tile_rule(ms: &[BandMeasure], corrected: bool, f: impl Fn(f32) -> f32) -> Vec<f32> {
    let sig = |m: &BandMeasure, t: usize| {
        if corrected {
            m.tile_signal(t)
        } else {
            let lv = m.tile_level[t].max(1e-6);
            m.tile_energy[t] / (lv * lv)
        }
    };
    let meds: Vec<f32> = (0..TILE_COUNT).map(|t| median(ms.iter().map(|m| sig(m, t)).collect()).abs()).collect();
    ms.iter()
        .map(|m| {
            let (mut s, mut n) = (0f32, 0);
            for (t, &md) in meds.iter().enumerate() {
                if md > 1e-12 && m.tile_level[t] > 0.0 {
                    s += f(sig(m, t) / md);
                    n += 1;
                }
            }
            if n == 0 { 0.0 } else { s / n as f32 }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let roots: Vec<String> = std::env::args().skip(1).collect();
    if roots.is_empty() {
        return Err("usage: surface_search GRID_DIR [GRID_DIR …]".into());
    }
    let names = [
        "default",
        "tiles mean",
        "tiles mean (uncorrected)",
        "tiles log",
        "tiles sqrt",
        "tiles median",
        "finest only",
        "relative only",
        "finest + 2 relative",
        "finest + 0.5 relative",
        "default + tiles median",
    ];
    println!("| cell | surface? | {} |", names.join(" | "));
    println!("|---|---|{}", "---|".repeat(names.len()));
    let mut sums = vec![0f64; names.len()];
    let mut cells = 0;
    for root in &roots {
        for dir in cell_dirs(std::path::Path::new(root))? {
            let v = SimulatedVideo::open(&dir)?;
            let ms = measure_source(&v.source, &|_| {})?;
            let q = v.quality();
            let fit = BandpassScorer::fit(&ms);
            let cands: Vec<Vec<f32>> = vec![
                ms.iter().map(|m| fit.score(m)).collect(),
                tile_rule(&ms, true, |r| r),
                tile_rule(&ms, false, |r| r),
                tile_rule(&ms, true, |r| r.max(1e-3).ln()),
                tile_rule(&ms, true, |r| r.max(0.0).sqrt()),
                {
                    let per: Vec<Vec<f32>> = (0..TILE_COUNT)
                        .map(|t| {
                            let md = median(ms.iter().map(|m| m.tile_signal(t)).collect()).abs().max(1e-12);
                            ms.iter().map(|m| m.tile_signal(t) / md).collect()
                        })
                        .collect();
                    (0..ms.len()).map(|i| median(per.iter().map(|p| p[i]).collect())).collect()
                },
            ];
            let mut cands = cands;
            let m0 = median(ms.iter().map(|m| m.signal(0)).collect()).abs().max(1e-12);
            let mr = median(ms.iter().map(|m| m.relative_signal()).collect()).abs().max(1e-12);
            let mix = |a: f32, b: f32| {
                ms.iter().map(|m| a * m.signal(0) / m0 + b * m.relative_signal() / mr).collect::<Vec<f32>>()
            };
            cands.push(mix(1.0, 0.0));
            cands.push(mix(0.0, 1.0));
            cands.push(mix(1.0, 2.0));
            cands.push(mix(1.0, 0.5));
            let dm = median(cands[0].clone()).abs().max(1e-12);
            let tm = median(cands[5].clone()).abs().max(1e-12);
            let both: Vec<f32> = cands[0].iter().zip(&cands[5]).map(|(a, b)| a / dm + b / tm).collect();
            cands.push(both);
            print!("| {} | {} |", v.name, if fit.is_surface() { "yes" } else { "no" });
            for (k, c) in cands.iter().enumerate() {
                let r = spearman(c, &q);
                sums[k] += r;
                print!(" {r:.3} |");
            }
            println!();
            cells += 1;
        }
    }
    print!("| mean | |");
    for s in &sums {
        print!(" {:.3} |", s / cells.max(1) as f64);
    }
    println!();
    Ok(())
}
