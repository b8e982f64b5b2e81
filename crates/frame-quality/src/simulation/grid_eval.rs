//! Every ranker on every cell of the simulation grid: Spearman ρ against the truth (Strehl, 0 for
//! cut discs), top-N % overlap and the stack PSNR of each ranker's top N %, as Markdown tables
//! with the best value of each cell in bold and a verdict for the default metric.

use std::path::{Path, PathBuf};

use astro_image::{ColorMode, ImageLimits};
use serde::Serialize;

use crate::error::{FrameError, Result, io_err};
use crate::io::FrameSource;
use crate::io::SerReader;
use crate::ranking::Metric;
use crate::ranking::{Scorer, score_source};
use crate::simulation::eval::{EvalRow, evaluate_ranker};
use crate::simulation::sim::{FrameTruth, read_truth_csv};

/// A simulated video with its truth, as written by `frame-sim`.
pub struct SimulatedVideo {
    /// Cell (folder) name.
    pub name: String,
    /// The frames.
    pub source: SerReader,
    /// Per-frame truth.
    pub truth: Vec<FrameTruth>,
    /// The diffraction-limited, noise-free image (luma, frame scale).
    pub truth_image: Vec<f32>,
}

impl SimulatedVideo {
    /// Open `dir/frames.ser`, `dir/truth.csv` and `dir/truth.png`.
    pub fn open(dir: &Path) -> Result<SimulatedVideo> {
        let source = SerReader::open(&dir.join("frames.ser"))?;
        let truth = read_truth_csv(&dir.join("truth.csv"))?;
        if truth.len() != source.len() {
            return Err(FrameError::Invalid(format!(
                "{}: truth.csv has {} rows for {} frames",
                dir.display(),
                truth.len(),
                source.len()
            )));
        }
        let png = dir.join("truth.png");
        let truth_image = astro_image::image_io::load_image(&png, ColorMode::Luma, ImageLimits::default())?.data;
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(SimulatedVideo { name, source, truth, truth_image })
    }

    /// The ranking truth per frame ([`FrameTruth::quality`]).
    pub fn quality(&self) -> Vec<f32> {
        self.truth.iter().map(|t| t.quality()).collect()
    }

    /// Evaluate one ranker's scores on this video.
    pub fn evaluate(&self, name: &str, scores: &[f32], top_percent: f32) -> Result<EvalRow> {
        evaluate_ranker(name, scores, &self.truth, &self.source, &self.truth_image, top_percent, 0.0)
    }
}

/// The cell folders under `root` (sub-folders holding a `truth.csv`), sorted by name.
pub fn cell_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(io_err(root))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("truth.csv").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(FrameError::Invalid(format!(
            "{}: no simulated cells (sub-folders with truth.csv; write them with `frame-sim --grid -o DIR`)",
            root.display()
        )));
    }
    Ok(dirs)
}

/// A ranker that scores a whole video: a metric (whole frame or on the disc) or anything else.
pub type RankFn<'a> = Box<dyn Fn(&dyn FrameSource) -> Result<Vec<f32>> + 'a>;

/// The fixed metrics as users run them: every [`Metric`] on the whole frame, plus PIPP and PSS on the disc.
pub fn metric_rankers<'a>() -> Vec<(String, RankFn<'a>)> {
    let mut v: Vec<(String, RankFn<'a>)> = Vec::new();
    for m in Metric::ALL {
        v.push((m.name().to_string(), Box::new(move |s: &dyn FrameSource| score_source(s, &Scorer::new(m), &|_| {}))));
        if matches!(m, Metric::LocalContrast | Metric::PssLaplace) {
            let name = format!("{} (on disc)", m.name());
            v.push((name, Box::new(move |s: &dyn FrameSource| score_source(s, &Scorer::new(m).on_disc(), &|_| {}))));
        }
    }
    v
}

/// A cell where a ranker is beaten: (cell, its ρ, the best ρ, the best ranker).
pub type CellLoss = (String, f64, f64, String);

/// Results of every ranker on every cell.
#[derive(Debug, Clone, Serialize)]
pub struct GridResult {
    /// Cell names, in column order.
    pub cells: Vec<String>,
    /// Ranker names, in row order.
    pub rankers: Vec<String>,
    /// `rows[ranker][cell]`.
    pub rows: Vec<Vec<EvalRow>>,
    /// Percentage of frames stacked.
    pub top_percent: f32,
}

/// Evaluate every ranker on every cell folder under `root`; `progress` gets (cell, ranker) names.
pub fn evaluate_grid(
    root: &Path,
    rankers: &[(String, RankFn<'_>)],
    top_percent: f32,
    progress: &dyn Fn(&str, &str),
) -> Result<GridResult> {
    let dirs = cell_dirs(root)?;
    let mut rows: Vec<Vec<EvalRow>> = vec![Vec::new(); rankers.len()];
    let mut cells = Vec::new();
    for dir in &dirs {
        let video = SimulatedVideo::open(dir)?;
        for (i, (name, rank)) in rankers.iter().enumerate() {
            progress(&video.name, name);
            let scores = rank(&video.source)?;
            rows[i].push(video.evaluate(name, &scores, top_percent)?);
        }
        cells.push(video.name);
    }
    Ok(GridResult { cells, rankers: rankers.iter().map(|(n, _)| n.clone()).collect(), rows, top_percent })
}

impl GridResult {
    /// One Markdown table of `field` (rows = rankers, columns = cells + mean), best per column in bold.
    pub fn table(&self, title: &str, field: fn(&EvalRow) -> f64, digits: usize) -> String {
        let mut s = format!("| {title} | {} | mean |\n|---|", self.cells.join(" | "));
        s.push_str(&"---|".repeat(self.cells.len() + 1));
        s.push('\n');
        let n = self.cells.len();
        let value = |r: usize, c: usize| -> f64 {
            if c < n {
                field(&self.rows[r][c])
            } else {
                (0..n).map(|k| field(&self.rows[r][k])).sum::<f64>() / n as f64
            }
        };
        let best: Vec<f64> =
            (0..=n).map(|c| (0..self.rankers.len()).map(|r| value(r, c)).fold(f64::NEG_INFINITY, f64::max)).collect();
        for (r, name) in self.rankers.iter().enumerate() {
            s.push_str(&format!("| {name} |"));
            for (c, b) in best.iter().enumerate() {
                let v = value(r, c);
                let txt = format!("{v:.digits$}");
                if (v - b).abs() < 0.5 * 10f64.powi(-(digits as i32)) {
                    s.push_str(&format!(" **{txt}** |"));
                } else {
                    s.push_str(&format!(" {txt} |"));
                }
            }
            s.push('\n');
        }
        s
    }

    /// For ranker `name`: the cells where its ρ is more than `tolerance` below the best ranker's,
    /// and whether its mean ρ is the best (within `tolerance`).
    pub fn verdict(&self, name: &str, tolerance: f64) -> Option<(Vec<CellLoss>, bool)> {
        let r = self.rankers.iter().position(|n| n == name)?;
        let mut losses = Vec::new();
        for c in 0..self.cells.len() {
            let (b, bi) = (0..self.rankers.len())
                .map(|k| (self.rows[k][c].spearman_strehl, k))
                .fold((f64::NEG_INFINITY, 0), |a, x| if x.0 > a.0 { x } else { a });
            let v = self.rows[r][c].spearman_strehl;
            if v < b - tolerance {
                losses.push((self.cells[c].clone(), v, b, self.rankers[bi].clone()));
            }
        }
        let mean = |k: usize| self.rows[k].iter().map(|e| e.spearman_strehl).sum::<f64>() / self.cells.len() as f64;
        let best_mean = (0..self.rankers.len()).map(mean).fold(f64::NEG_INFINITY, f64::max);
        Some((losses, mean(r) >= best_mean - tolerance))
    }

    /// All three tables (ρ, top-N % overlap, stack PSNR) and the default metric's verdict.
    pub fn markdown(&self, default_name: &str) -> String {
        let mut s = String::new();
        s.push_str("Spearman ρ against the truth (Strehl; 0 for cut discs):\n\n");
        s.push_str(&self.table("ρ", |e| e.spearman_strehl, 3));
        s.push_str(&format!(
            "\nOverlap of the top {}% with the truth's top {}%:\n\n",
            self.top_percent, self.top_percent
        ));
        s.push_str(&self.table("overlap", |e| e.top_overlap, 2));
        s.push_str(&format!(
            "\nPSNR (dB) of the stack of the top {}% against the diffraction-limited image:\n\n",
            self.top_percent
        ));
        s.push_str(&self.table("stack PSNR", |e| e.stack_psnr, 2));
        if let Some((losses, best_mean)) = self.verdict(default_name, 0.01) {
            s.push_str(&format!(
                "\nDefault `{default_name}`: best mean ρ (within 0.01): {}; cells where it is more than 0.01 below the best: {}\n",
                if best_mean { "yes" } else { "no" },
                if losses.is_empty() {
                    "none".to_string()
                } else {
                    losses.iter().map(|(c, v, b, n)| format!("{c} ({v:.3} vs {n} {b:.3})")).collect::<Vec<_>>().join("; ")
                }
            ));
        }
        s
    }
}
