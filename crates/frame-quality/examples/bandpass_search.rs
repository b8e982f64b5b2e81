//! How the default metric's scale rule was chosen: Spearman ρ of the noise-corrected band energy
//! at each fixed scale and for the automatic rule at several SNR thresholds, on every cell of a
//! simulated grid. `cargo run --release -p frame-quality --example bandpass_search -- GRID_DIR`
//! (GRID_DIR from `frame-sim --grid`). Tune on one seed's grid, check on another's.

use frame_quality::io::{DecodeScratch, FrameSource};
use frame_quality::ranking::bandpass::{BandMeasure, BandpassScorer, LAPLACIAN_NORM2, LEVELS, measure};
use frame_quality::ranking::spearman;
use frame_quality::simulation::{SimulatedVideo, cell_dirs};
use frame_quality::{ImageView, Scratch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args().nth(1).ok_or("usage: bandpass_search GRID_DIR")?;
    let thresholds = [0.25f32, 0.5, 1.0, 2.0, 4.0];
    print!("| cell | snr l0 | snr l1 | snr l2 |");
    for l in 0..LEVELS {
        print!(" fixed {l} |");
    }
    for t in thresholds {
        print!(" auto {t} |");
    }
    println!(" uncorrected 0 | sum 0+1 | sum all | snr-weighted | chosen rule |");
    let mut sums = vec![0f64; LEVELS + thresholds.len() + 5];
    let dirs = cell_dirs(std::path::Path::new(&root))?;
    for dir in &dirs {
        let v = SimulatedVideo::open(dir)?;
        let (w, h) = v.source.dims();
        let (mut buf, mut dec, mut s) = (Vec::new(), DecodeScratch::default(), Scratch::default());
        let mut ms: Vec<BandMeasure> = Vec::new();
        for i in 0..v.source.len() {
            FrameSource::read_luma_into(&v.source, i, &mut buf, &mut dec)?;
            ms.push(measure(ImageView::new(&buf, w, h), &mut s));
        }
        let q = v.quality();
        let med = |l: usize| {
            let mut x: Vec<f32> = ms.iter().filter(|m| m.found).map(|m| m.snr(l)).collect();
            x.sort_by(f32::total_cmp);
            x.get(x.len() / 2).copied().unwrap_or(0.0)
        };
        print!("| {} | {:.2} | {:.2} | {:.2} |", v.name, med(0), med(1), med(2));
        let base = BandpassScorer::fit(&ms);
        let mut k = 0;
        for l in 0..LEVELS {
            let mut weights = [0f32; LEVELS];
            weights[l] = 1.0;
            let sc = BandpassScorer { weights, ..base };
            let r = spearman(&ms.iter().map(|m| sc.score(m)).collect::<Vec<_>>(), &q);
            sums[k] += r;
            k += 1;
            print!(" {r:.3} |");
        }
        for t in thresholds {
            let mut level = LEVELS - 1;
            for l in 0..LEVELS {
                if med(l) >= t {
                    level = l;
                    break;
                }
            }
            let mut weights = [0f32; LEVELS];
            weights[level] = 1.0;
            let sc = BandpassScorer { weights, ..base };
            let r = spearman(&ms.iter().map(|m| sc.score(m)).collect::<Vec<_>>(), &q);
            sums[k] += r;
            k += 1;
            print!(" {r:.3} (l{level}) |");
        }
        let unc: Vec<f32> = ms
            .iter()
            .map(|m| {
                let e = if m.found { m.energy[0] / (m.level * m.level) } else { 0.0 };
                if base.penalise_border && m.touches_border { e * 0.1 } else { e }
            })
            .collect();
        let r = spearman(&unc, &q);
        sums[k] += r;
        k += 1;
        print!(" {r:.3} |");
        // Sums of per-scale signals, each divided by its median over the video.
        let medsig = |l: usize| {
            let mut x: Vec<f32> = ms.iter().filter(|m| m.found).map(|m| m.signal(l)).collect();
            x.sort_by(f32::total_cmp);
            x.get(x.len() / 2).copied().unwrap_or(1.0).abs().max(1e-12)
        };
        let combos: [Vec<f32>; 3] = [
            vec![1.0 / medsig(0), 1.0 / medsig(1), 0.0],
            vec![1.0 / medsig(0), 1.0 / medsig(1), 1.0 / medsig(2)],
            (0..LEVELS)
                .map(|l| {
                    let t = med(l);
                    t / (1.0 + t) / medsig(l)
                })
                .collect(),
        ];
        for wts in combos {
            let sc: Vec<f32> = ms
                .iter()
                .map(|m| {
                    let e: f32 = (0..LEVELS).map(|l| wts[l] * m.signal(l)).sum();
                    if base.penalise_border && m.touches_border { e.min(0.0) - 10.0 } else { e }
                })
                .collect();
            let r = spearman(&sc, &q);
            sums[k] += r;
            k += 1;
            print!(" {r:.3} |");
        }
        let r = spearman(&BandpassScorer::scores(&ms), &q);
        sums[k] += r;
        print!(" chosen {r:.3} |");
        // Contrast relative to the local brightness (Helmli–Scherer's idea) at bin 2, noise-corrected.
        let rel: Vec<f32> = ms
            .iter()
            .map(|m| {
                let e = m.relative_signal();
                if base.penalise_border && m.touches_border { e.min(0.0) - 10.0 } else { e }
            })
            .collect();
        print!(" relative {:.3} |", spearman(&rel, &q));
        let med_of = |x: Vec<f32>| {
            let mut x: Vec<f32> = x.into_iter().filter(|v| v.is_finite()).collect();
            x.sort_by(f32::total_cmp);
            x.get(x.len() / 2).copied().unwrap_or(0.0)
        };
        let rel_snr = med_of(
            ms.iter()
                .filter(|m| m.found)
                .map(|m| m.relative_signal() / (m.noise_var / 4.0 * LAPLACIAN_NORM2 * m.inverse_level2).max(1e-20))
                .collect(),
        );
        let chosen = BandpassScorer::scores(&ms);
        let (mc, mr) = (
            med_of(chosen.iter().copied().filter(|v| *v > 0.0).collect()).max(1e-12),
            med_of(ms.iter().filter(|m| m.found).map(|m| m.relative_signal()).collect()).abs().max(1e-12),
        );
        let combo: Vec<f32> =
            ms.iter().zip(&chosen).map(|(m, &c)| if c < 0.0 { c } else { c / mc + m.relative_signal() / mr }).collect();
        print!(" relsnr {rel_snr:.2} | combo {:.3} |", spearman(&combo, &q));
        println!();
    }
    print!("| mean | | | |");
    for s in sums {
        print!(" {:.3} |", s / dirs.len() as f64);
    }
    println!();
    Ok(())
}
