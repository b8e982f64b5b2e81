//! Simulated-user experiment for the picks ranker (issue #12 item 5): does a ranker fitted on a few
//! of the user's good/bad picks rank frames the way that user does, better than every fixed metric?
//!
//! Videos come from the anisoplanatic simulator (seeing differs across the disc, so the sharpness
//! of one region is not the global sharpness). A simulated user prefers the Strehl ratio of a region
//! of interest (the patch Strehls weighted by the region's patch weights), or, as a sanity check,
//! the global Strehl. The user sees a contact sheet (frames stratified over the default metric, as
//! `rank-frames --contact-sheet` draws them) of 2K frames in a random order and labels frames until
//! K labels are given: a frame in the top 40% of the user's preference over the whole video is good
//! (1), one in the bottom 40% bad (0), the middle 20% are skipped (undecided). The picks ranker is
//! fitted on those K labels and Spearman ρ with the preference is measured on all frames, next to
//! every fixed metric and the global Strehl of the same videos. A third, inconsistent user labels
//! like the ROI user but flips 15% of the labels at random. Mean ± sample standard deviation
//! over seeds (one simulated video per seed).
//!
//! The bundled quality CNN (`--metric learned`) is scored on the same videos, and fine-tuned on
//! each user's 50 labels (`train-ranker --labels --kind cnn`, default settings): row "cnn
//! fine-tuned on picks", whose "no labels" column is the bundled model.
//!
//! ```text
//! cargo run --release -p frame-quality --example picks_experiment -- [--frames 300] [--seeds 4]
//! ```

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use frame_quality::ranking::learned::finetune::{FinetuneConfig, finetune_prepared};
use frame_quality::ranking::learned::quality::{BUNDLED_WEIGHTS, QualityModel, prepare_source};
use frame_quality::ranking::picks::{DEFAULT_ALPHA, DEFAULT_GRID, Pick, PicksRanker, standardize, video_features};
use frame_quality::ranking::{sheet_frames, spearman};
use frame_quality::simulation::{AnisoConfig, SimConfig, planet_texture, simulate_aniso_to_dir};
use frame_quality::{Metric, SerReader};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LABELS: [usize; 5] = [10, 20, 30, 50, 100];

/// One simulated video condition and the user's region of interest.
struct Condition {
    name: &'static str,
    texture: &'static str,
    d_over_r0: f32,
    correlation: f32,
    /// Region of interest relative to the disc: (x0, y0, x1, y1) in disc radii from the centre.
    roi: (f32, f32, f32, f32),
    roi_about: &'static str,
}

const CONDITIONS: [Condition; 3] = [
    Condition {
        name: "mars",
        texture: "mars",
        d_over_r0: 6.0,
        correlation: 0.5,
        roi: (-1.0, -1.0, 0.0, 0.0),
        roi_about: "upper-left quadrant of the disc",
    },
    Condition {
        name: "jupiter",
        texture: "jupiter",
        d_over_r0: 4.0,
        correlation: 0.3,
        roi: (0.1, 0.15, 0.6, 0.55),
        roi_about: "a 0.5 × 0.4 radius box right of and below the centre",
    },
    Condition {
        name: "mars-poor-seeing",
        texture: "mars",
        d_over_r0: 10.0,
        correlation: 0.7,
        roi: (0.0, -0.8, 0.8, 0.0),
        roi_about: "most of the upper-right quadrant",
    },
];

/// L2 penalties tried by the leave-one-out choice.
const LOO_ALPHAS: [f64; 4] = [0.1, 1.0, 10.0, 100.0];

/// Share of the noisy user's labels that are flipped (a human's inconsistency).
const FLIP: f64 = 0.15;

/// Per-seed results of one user on one condition.
#[derive(Default)]
struct Results {
    /// (name, ρ per seed) of each fixed ranker.
    fixed: Vec<(String, Vec<f64>)>,
    /// ρ per seed of the picks ranker for each label count, with and without the regional features.
    picks: Vec<Vec<f64>>,
    picks_metrics_only: Vec<Vec<f64>>,
    /// The same with the L2 penalty chosen per fit by leave-one-out accuracy on the labels.
    picks_loo_alpha: Vec<Vec<f64>>,
    /// ρ per seed of the bundled quality CNN and of the CNN fine-tuned on the 50 labels.
    cnn_bundled: Vec<f64>,
    cnn_finetuned: Vec<f64>,
    /// Seeds where a fit failed (one class among the labels).
    failures: usize,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 { (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    (m, sd)
}

fn fmt(v: &[f64]) -> String {
    let (m, sd) = mean_sd(v);
    format!("{m:.3} ± {sd:.3}")
}

/// The simulated user's labels: walk a 2K-frame contact sheet in random order, label top/bottom 40%.
fn user_picks(default_scores: &[f32], preference: &[f32], k: usize, seed: u64) -> Vec<Pick> {
    let n = preference.len();
    let mut sorted: Vec<f32> = preference.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let (lo, hi) = (sorted[((n as f32 * 0.4) as usize).min(n - 1)], sorted[((n as f32 * 0.6) as usize).min(n - 1)]);
    let mut sheet = sheet_frames(default_scores, 2 * k, seed);
    sheet.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x51c7));
    let mut picks = Vec::new();
    for f in sheet {
        if picks.len() == k {
            break;
        }
        let p = preference[f];
        if p >= hi {
            picks.push(Pick { frame: f, label: 1 });
        } else if p < lo {
            picks.push(Pick { frame: f, label: 0 });
        }
    }
    picks
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let frames = arg("--frames", 300);
    let seeds = arg("--seeds", 4) as u64;
    let grid = DEFAULT_GRID;
    let dir = tempfile::tempdir()?;
    let start = Instant::now();
    println!(
        "# Picks ranker vs fixed metrics ({frames} frames per video, {seeds} seeds, grid {grid}, alpha {DEFAULT_ALPHA})\n"
    );
    for c in &CONDITIONS {
        let texture = planet_texture(c.texture)?;
        // users[0] = region of interest, users[1] = global Strehl, users[2] = ROI with flipped labels.
        let mut users: [Results; 3] = Default::default();
        for seed in 1..=seeds {
            let sim = SimConfig { frames, d_over_r0: c.d_over_r0, seed: seed * 1000 + 7, ..SimConfig::default() };
            let (cx, cy, r) = (sim.size as f32 / 2.0, sim.size as f32 / 2.0, sim.disc_radius);
            let cfg = AnisoConfig { sim: sim.clone(), patches: 3, correlation: c.correlation };
            let vdir = dir.path().join(format!("{}-{seed}", c.name));
            let out = simulate_aniso_to_dir(&cfg, &texture, &vdir, &|_| {})?;
            // Region truth: patch Strehls weighted by the ROI's mean patch weights.
            let roi_sim = frame_quality::simulation::AnisoSimulator::new(sim.clone(), &texture, 3, c.correlation)?;
            let (x0, y0) = ((cx + c.roi.0 * r) as usize, (cy + c.roi.1 * r) as usize);
            let (x1, y1) = ((cx + c.roi.2 * r) as usize, (cy + c.roi.3 * r) as usize);
            let roi_pref: Vec<f32> =
                out.truth.iter().map(|t| roi_sim.region_strehl(t, x0, y0, x1 - x0, y1 - y0)).collect();
            let global: Vec<f32> = out.truth.iter().map(|t| t.strehl).collect();
            let source = SerReader::open(&out.ser)?;
            let t_features = Instant::now();
            let raw = video_features(&source, grid, &|_| {})?;
            let features_s = t_features.elapsed().as_secs_f64();
            let z = standardize(&raw);
            let z_metrics: Vec<Vec<f64>> = z.iter().map(|r| r[..Metric::ALL.len()].to_vec()).collect();
            let default_scores: Vec<f32> = raw.iter().map(|f| f[0]).collect();
            let device = Default::default();
            let bundled = QualityModel::<Flex>::bundled(&device)?;
            let all: Vec<usize> = (0..frames).collect();
            let inputs = prepare_source(&source, &all, bundled.crops)?;
            let bundled_scores = bundled.score_source(&source, &|_| {})?;
            println!(
                "{} seed {seed}: ρ(global Strehl, ROI Strehl) = {:.3}, mean global Strehl {:.3}, features {:.0} frames/s ({:.0} s)",
                c.name,
                spearman(&global, &roi_pref),
                global.iter().sum::<f32>() / global.len() as f32,
                frames as f64 / features_s,
                start.elapsed().as_secs_f64()
            );
            for (u, pref) in [&roi_pref, &global, &roi_pref].into_iter().enumerate() {
                let res = &mut users[u];
                if res.fixed.is_empty() {
                    res.fixed = Metric::ALL.iter().map(|m| (m.name().to_string(), Vec::new())).collect();
                    res.fixed.push(("global Strehl (truth)".into(), Vec::new()));
                    res.picks = vec![Vec::new(); LABELS.len()];
                    res.picks_metrics_only = vec![Vec::new(); LABELS.len()];
                    res.picks_loo_alpha = vec![Vec::new(); LABELS.len()];
                }
                for (j, _) in Metric::ALL.iter().enumerate() {
                    let s: Vec<f32> = raw.iter().map(|f| f[j]).collect();
                    res.fixed[j].1.push(spearman(&s, pref));
                }
                res.fixed[Metric::ALL.len()].1.push(spearman(&global, pref));
                res.cnn_bundled.push(spearman(&bundled_scores, pref));
                for (li, &k) in LABELS.iter().enumerate() {
                    let mut picks = user_picks(&default_scores, pref, k, seed * 31 + k as u64);
                    if u == 2 {
                        let mut rng = ChaCha8Rng::seed_from_u64(seed * 77 + k as u64);
                        for p in &mut picks {
                            if rng.random::<f64>() < FLIP {
                                p.label = 1 - p.label;
                            }
                        }
                    }
                    if k == 50 {
                        let t = Instant::now();
                        let labelled: Vec<_> = picks.iter().map(|p| inputs[p.frame].clone()).collect();
                        let ft = finetune_prepared::<Autodiff<Flex>>(
                            BUNDLED_WEIGHTS,
                            &labelled,
                            &picks,
                            &FinetuneConfig::default(),
                            &device,
                            &|_| {},
                        );
                        let rho = match ft {
                            Ok((m, rep)) => {
                                let r = spearman(&m.score_prepared::<Flex>(&inputs, &device)?, pref);
                                println!(
                                    "  user {u}: cnn fine-tuned on {} labels: {} steps, pairs ordered {:.2} → {:.2}, \
                                     crop weights {:.2?}, ρ {r:.3} (bundled {:.3}), {:.1} s",
                                    picks.len(),
                                    rep.steps,
                                    rep.pair_accuracy_before,
                                    rep.pair_accuracy_after,
                                    m.crop_weights,
                                    spearman(&bundled_scores, pref),
                                    t.elapsed().as_secs_f64()
                                );
                                r
                            }
                            Err(_) => f64::NAN,
                        };
                        res.cnn_finetuned.push(rho);
                    }
                    let fit = PicksRanker::fit_standardized(&z, &picks, grid, DEFAULT_ALPHA);
                    let fit_m = PicksRanker::fit_standardized(&z_metrics, &picks, 0, DEFAULT_ALPHA);
                    // α by leave-one-out accuracy on the labels only (ties go to the stronger penalty).
                    // (`max_by` keeps the last of equal maxima, and the penalties rise.)
                    let loo = LOO_ALPHAS
                        .iter()
                        .filter_map(|&a| PicksRanker::fit_standardized(&z, &picks, grid, a).ok())
                        .max_by(|a, b| a.1.loo_accuracy.total_cmp(&b.1.loo_accuracy));
                    if let Some((m, _)) = &loo {
                        res.picks_loo_alpha[li].push(spearman(&m.score_standardized(&z)?, pref));
                    } else {
                        res.picks_loo_alpha[li].push(f64::NAN);
                    }
                    match (fit, fit_m) {
                        (Ok((m, _)), Ok((mm, _))) => {
                            res.picks[li].push(spearman(&m.score_standardized(&z)?, pref));
                            res.picks_metrics_only[li].push(spearman(&mm.score_standardized(&z_metrics)?, pref));
                        }
                        _ => {
                            res.failures += 1;
                            res.picks[li].push(f64::NAN);
                            res.picks_metrics_only[li].push(f64::NAN);
                        }
                    }
                }
            }
        }
        for (u, res) in users.iter().enumerate() {
            let who = match u {
                0 => format!("ROI user ({})", c.roi_about),
                1 => "Strehl user (global Strehl)".into(),
                _ => format!("inconsistent ROI user ({}, {:.0}% of labels flipped)", c.roi_about, FLIP * 100.0),
            };
            println!("\n## {} (D/r0 = {}, 3×3 patches, correlation {}): {who}\n", c.name, c.d_over_r0, c.correlation);
            println!("Spearman ρ with the user's preference on all {frames} frames, mean ± sd over {seeds} seeds.\n");
            let head: Vec<String> = LABELS.iter().map(|k| format!("{k} labels")).collect();
            println!("| ranker | no labels | {} |", head.join(" | "));
            println!("|---|---|{}", "---|".repeat(LABELS.len()));
            let row = |v: &[Vec<f64>]| v.iter().map(|x| fmt(x)).collect::<Vec<_>>().join(" | ");
            println!("| picks (metrics + 3×3 regions) | – | {} |", row(&res.picks));
            println!("| picks (metrics only) | – | {} |", row(&res.picks_metrics_only));
            println!("| picks, α by leave-one-out | – | {} |", row(&res.picks_loo_alpha));
            let blanks = vec!["–"; LABELS.len()].join(" | ");
            let at50: Vec<String> =
                LABELS.iter().map(|&k| if k == 50 { fmt(&res.cnn_finetuned) } else { "–".to_string() }).collect();
            println!("| cnn fine-tuned on picks | {} | {} |", fmt(&res.cnn_bundled), at50.join(" | "));
            for (name, v) in &res.fixed {
                println!("| {name} | {} | {blanks} |", fmt(v));
            }
            // Per seed: does the picks ranker at 50 labels beat the best fixed metric of that video?
            let i50 = LABELS.iter().position(|&k| k == 50).unwrap_or(0);
            let n_metrics = Metric::ALL.len();
            let mut wins = 0;
            let (mut cnn_wins, mut cnn_over_picks) = (0, 0);
            for s in 0..seeds as usize {
                let best = res.fixed[..n_metrics].iter().map(|(_, v)| v[s]).fold(f64::NEG_INFINITY, f64::max);
                wins += (res.picks[i50][s] > best) as usize;
                cnn_wins += (res.cnn_finetuned[s] > best) as usize;
                cnn_over_picks += (res.cnn_finetuned[s] > res.picks[i50][s]) as usize;
            }
            let best_mean = res.fixed[..n_metrics]
                .iter()
                .map(|(n, v)| (n.clone(), mean_sd(v).0))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or_default();
            println!(
                "\nBest fixed metric on average: {} ({:.3}). Picks (50 labels) beats the best fixed metric of the same \
                 video in {wins}/{seeds} seeds; {} fits failed (one class among the labels).",
                best_mean.0, best_mean.1, res.failures
            );
            println!(
                "CNN fine-tuned on 50 labels beats the best fixed metric of the same video in {cnn_wins}/{seeds} seeds \
                 and picks (50 labels) in {cnn_over_picks}/{seeds}."
            );
        }
    }
    println!("\nwall time {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}
