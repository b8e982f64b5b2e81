//! The frame-ranking gallery: for chosen cells of a simulated grid, the diffraction-limited truth,
//! the stack of the top 10 % chosen by the truth and by each ranker, each ranker's first pick and
//! its last pick (the frame it ranks worst).
//!
//! `cargo run --release -p frame-quality --example ranking_gallery -- GRID_DIR OUT_DIR [CELL…]`
//! writes `OUT_DIR/ranking-<cell>.png` (top row: truth | stacks; middle row: best frames; bottom
//! row: worst frames).

use std::path::{Path, PathBuf};

use astro_image::Planes;
use frame_quality::ranking::learned::quality::QualityModel;
use frame_quality::ranking::order_best_first;
use frame_quality::simulation::SimulatedVideo;
use frame_quality::{Metric, Scorer, StackConfig, score_source, stack};
use ml_core::backend::FlexBackend;

/// Stretch a luma image to [0, 1] between its 0.5th and 99.9th percentiles of `reference`.
fn stretch(img: &[f32], lo: f32, hi: f32) -> Vec<f32> {
    img.iter().map(|v| ((v - lo) / (hi - lo).max(1e-6)).clamp(0.0, 1.0)).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (grid, out) = match (args.first(), args.get(1)) {
        (Some(g), Some(o)) => (PathBuf::from(g), PathBuf::from(o)),
        _ => return Err("usage: ranking_gallery GRID_DIR OUT_DIR [CELL…]".into()),
    };
    let cells: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        ["jupiter-faint-clouds", "saturn-rings", "moon-faint-8bit", "jupiter-colour"].map(String::from).to_vec()
    };
    std::fs::create_dir_all(&out)?;
    let device = Default::default();
    let learned = QualityModel::<FlexBackend>::bundled(&device)?;
    for cell in &cells {
        let v = SimulatedVideo::open(&grid.join(cell))?;
        let (w, h) = frame_quality::FrameSource::dims(&v.source);
        let mut rankers: Vec<(&str, Vec<f32>)> = vec![("truth (Strehl)", v.quality())];
        for m in [Metric::Bandpass, Metric::LocalContrast, Metric::PssLaplace] {
            rankers.push((m.name(), score_source(&v.source, &Scorer::new(m), &|_| {})?));
        }
        rankers.push(("learned", learned.score_source(&v.source, &|_| {})?));
        let cfg = StackConfig { selection: frame_quality::Selection::Percent(10.0), ..StackConfig::default() };
        let mut top: Vec<Vec<f32>> = vec![v.truth_image.clone()];
        let mut bottom: Vec<Vec<f32>> = vec![vec![0.0; w * h]];
        let mut worst: Vec<Vec<f32>> = vec![vec![0.0; w * h]];
        let mut names = vec!["truth image".to_string()];
        for (name, scores) in &rankers {
            let s = stack(&v.source, scores, &cfg, &|_, _| {})?;
            let luma = if s.image.channels == 1 { s.image.data } else { s.image.to_luma().data };
            let (p, _) = frame_quality::simulation::compare_stack(&luma, &v.truth_image, w, h, (w.min(h) / 16).max(1));
            names.push(format!("{name}: stack {p:.2} dB"));
            top.push(luma);
            let order = order_best_first(scores);
            for (i, row) in [(order[0], &mut bottom), (order[order.len() - 1], &mut worst)] {
                let mut f = Vec::new();
                frame_quality::FrameSource::read_luma_into(&v.source, i, &mut f, &mut Default::default())?;
                row.push(f);
            }
        }
        // One stretch per row, from the truth image (stacks) and from the best frames.
        let mut sorted: Vec<f32> = v.truth_image.clone();
        sorted.sort_by(f32::total_cmp);
        let (lo, hi) = (sorted[sorted.len() / 200], sorted[sorted.len() * 999 / 1000]);
        let gain_fit = |img: &[f32]| {
            let g = frame_quality::simulation::fit_gain(img, &v.truth_image);
            img.iter().map(|x| x * g).collect::<Vec<f32>>()
        };
        let cols = top.len();
        let mut canvas = vec![0f32; cols * w * 3 * h];
        for (c, ((t, b), z)) in top.iter().zip(&bottom).zip(&worst).enumerate() {
            let t = stretch(&if c == 0 { t.clone() } else { gain_fit(t) }, lo, hi);
            for (r, img) in [t, stretch(&gain_fit(b), lo, hi), stretch(&gain_fit(z), lo, hi)].iter().enumerate() {
                for y in 0..h {
                    let yy = y + r * h;
                    canvas[yy * cols * w + c * w..yy * cols * w + c * w + w].copy_from_slice(&img[y * w..(y + 1) * w]);
                }
            }
        }
        let img = Planes::from_vec(1, 3 * h, cols * w, canvas)?;
        let path: &Path = &out.join(format!("ranking-{cell}.png"));
        astro_image::image_io::save_image(&img, path, 8)?;
        println!("{}: columns {}", path.display(), names.join(" | "));
    }
    Ok(())
}
