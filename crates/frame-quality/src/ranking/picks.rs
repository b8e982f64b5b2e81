//! Learning from the user's own picks: a `frame,label` CSV of frames the user marked good (1) or
//! bad (0) — typically from the contact sheet of `rank-frames --contact-sheet` — and a logistic
//! regression (linfa, L2) over per-frame features, so frames are ranked the way that user rates them.
//!
//! Features of a frame: the score of every metric in [`Metric::ALL`] on the whole frame, plus the
//! `disc-laplace` idea (smoothed Laplacian energy ÷ disc level²) on each box of a `grid × grid`
//! split of the detected disc's bounding box, so a preference for one region of the planet can be
//! learned. Every feature is log-transformed when scale-like and standardised per video (median and
//! MAD over all frames of the video being trained or scored), so a model carries over to videos of
//! another brightness or size. The score is the model's log-odds of "good".

use std::path::Path;

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result};
use crate::io::{DecodeScratch, FrameSource};
use crate::pixels::ImageView;
use crate::pixels::{Scratch, bin_into, smoothed_laplacian_energy};
use crate::ranking::bandpass::{BandMeasure, BandpassScorer};
use crate::ranking::disc::detect_disc;
use crate::ranking::metrics::Metric;

/// Fewest labels a picks file must hold.
pub const MIN_LABELS: usize = 6;
/// Default side of the grid of regional boxes over the disc (3 × 3 = 9 regional features).
pub const DEFAULT_GRID: usize = 3;
/// Default L2 penalty of the logistic regression (linfa's `alpha`: loss summed over labels + α/2·|w|²).
pub const DEFAULT_ALPHA: f64 = 1.0;

/// One user label: frame index in the video and 1 (good) or 0 (bad).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// 0-based frame index in the video.
    pub frame: usize,
    /// 1 = good, 0 = bad.
    pub label: u8,
}

/// Read and validate a picks CSV (`frame,label` per line, optional header) for a video of `frames` frames.
///
/// Errors name the file and the line: unreadable file, malformed line, frame index not in the video,
/// the same frame twice, a label other than 0/1, fewer than [`MIN_LABELS`] labels, or only one class.
pub fn read_picks(path: &Path, frames: usize) -> Result<Vec<Pick>> {
    let bytes = std::fs::read(path).map_err(crate::error::io_err(path))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        FrameError::Invalid(format!("{}: not a text file (expected frame,label lines)", path.display()))
    })?;
    parse_picks(&text, &path.display().to_string(), frames)
}

/// Parse picks from CSV text; `name` is used in error messages (see [`read_picks`]).
pub fn parse_picks(text: &str, name: &str, frames: usize) -> Result<Vec<Pick>> {
    let err = |line: usize, what: String| FrameError::Invalid(format!("{name}: line {line}: {what}"));
    let mut picks = Vec::new();
    let mut seen: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (k, raw) in text.lines().enumerate() {
        let line_no = k + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if picks.is_empty() && seen.is_empty() && cols.first().is_some_and(|c| c.eq_ignore_ascii_case("frame")) {
            continue; // header
        }
        if cols.len() != 2 {
            return Err(err(line_no, format!("expected 'frame,label', got '{}'", clip(line))));
        }
        let frame: usize =
            cols[0].parse().map_err(|_| err(line_no, format!("frame '{}' is not a frame index", clip(cols[0]))))?;
        let label: u8 = match cols[1] {
            "1" => 1,
            "0" => 0,
            other => return Err(err(line_no, format!("label '{}' is not 0 (bad) or 1 (good)", clip(other)))),
        };
        if frame >= frames {
            return Err(err(
                line_no,
                format!("frame {frame} is not in the video (it has {frames} frames, 0–{})", frames.saturating_sub(1)),
            ));
        }
        if let Some(first) = seen.insert(frame, line_no) {
            return Err(err(line_no, format!("frame {frame} is labelled twice (first on line {first})")));
        }
        picks.push(Pick { frame, label });
    }
    if picks.len() < MIN_LABELS {
        return Err(FrameError::Invalid(format!(
            "{name}: {} labels; at least {MIN_LABELS} are needed (mark more frames good or bad)",
            picks.len()
        )));
    }
    let good = picks.iter().filter(|p| p.label == 1).count();
    if good == 0 || good == picks.len() {
        let which = if good == 0 { "bad (0)" } else { "good (1)" };
        return Err(FrameError::Invalid(format!(
            "{name}: all {} labels are {which}; mark some frames of the other kind too",
            picks.len()
        )));
    }
    Ok(picks)
}

fn clip(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
    s
}

/// Names of the features, in order: every metric, then `region rRcC` for each grid box (row-major).
pub fn feature_names(grid: usize) -> Vec<String> {
    let mut v: Vec<String> = Metric::ALL.iter().map(|m| m.name().to_string()).collect();
    for r in 0..grid {
        for c in 0..grid {
            v.push(format!("region r{r}c{c}"));
        }
    }
    v
}

/// Whether feature `j` is scale-like (an energy or variance, log-transformed) rather than a ratio
/// or a noise-corrected signal that may be negative (`bandpass`).
fn is_scale_like(j: usize) -> bool {
    !matches!(Metric::ALL.get(j), Some(Metric::FftRatio | Metric::HelmliScherer | Metric::Bandpass))
}

/// Buffers for [`regional_laplace`], reused across frames.
#[derive(Debug, Default)]
pub struct RegionScratch {
    binned: Vec<f32>,
    crop: Vec<f32>,
    tmp: Vec<f32>,
    smooth: Vec<f32>,
}

/// The default metric's measure on each box of a `grid × grid` split of the disc's bounding box:
/// 2×2 bin, [1 2 1]² smoothing of the box (plus a 1-pixel margin), mean squared Laplacian ÷
/// (disc level above the sky)². Row-major; all zeros when no disc is found.
pub fn regional_laplace(img: ImageView<'_>, grid: usize, rs: &mut RegionScratch) -> Vec<f32> {
    let grid = grid.max(1);
    let mut out = vec![0f32; grid * grid];
    let (bw, bh) = bin_into(img, 2, &mut rs.binned);
    if bw < 4 || bh < 4 {
        return out;
    }
    let view = ImageView::new(&rs.binned, bw, bh);
    let Some(d) = detect_disc(view) else { return out };
    let level = d.mean - d.background;
    if level <= 0.0 || !level.is_finite() {
        return out;
    }
    let (x0, y0, x1, y1) = d.bbox;
    let (dw, dh) = (x1 - x0, y1 - y0);
    for r in 0..grid {
        for c in 0..grid {
            let (bx0, bx1) = (x0 + dw * c / grid, x0 + dw * (c + 1) / grid);
            let (by0, by1) = (y0 + dh * r / grid, y0 + dh * (r + 1) / grid);
            let (cx0, cy0) = (bx0.saturating_sub(1), by0.saturating_sub(1));
            let (cw, ch) = ((bx1 + 1).min(bw) - cx0, (by1 + 1).min(bh) - cy0);
            if cw < 3 || ch < 3 {
                continue;
            }
            view.crop(cx0, cy0, cw, ch).copy_into(&mut rs.crop);
            let e = smoothed_laplacian_energy(&rs.crop, cw, ch, &mut rs.tmp, &mut rs.smooth);
            let q = e / (level * level);
            out[r * grid + c] = if q.is_finite() { q } else { 0.0 };
        }
    }
    out
}

/// Raw (untransformed) features of one mono frame: every metric's score, then the regional values.
///
/// On a frame alone, `bandpass` is its single-frame form ([`Metric::score`]); [`video_features`]
/// replaces it with the per-video fit that `rank-frames` uses.
pub fn frame_features(img: ImageView<'_>, grid: usize, s: &mut Scratch, rs: &mut RegionScratch) -> Vec<f32> {
    let mut f: Vec<f32> = Metric::ALL.iter().map(|m| m.score(img, s)).collect();
    f.extend(regional_laplace(img, grid, rs));
    f
}

/// [`frame_features`] with the `bandpass` slot left at 0 and its band measurements returned instead.
fn frame_features_banded(
    img: ImageView<'_>,
    grid: usize,
    s: &mut Scratch,
    rs: &mut RegionScratch,
) -> (Vec<f32>, BandMeasure) {
    let mut band = BandMeasure::default();
    let mut f: Vec<f32> = Metric::ALL
        .iter()
        .map(|m| {
            if *m == Metric::Bandpass {
                band = crate::ranking::bandpass::measure(img, s);
                0.0
            } else {
                m.score(img, s)
            }
        })
        .collect();
    f.extend(regional_laplace(img, grid, rs));
    (f, band)
}

/// Raw features of every frame of a source, decoded in parallel in chunks; `progress` gets the count
/// done. Every metric scores as `rank-frames --metric` does, `bandpass` included (its bands are
/// fitted on the whole video).
pub fn video_features(source: &dyn FrameSource, grid: usize, progress: &dyn Fn(usize)) -> Result<Vec<Vec<f32>>> {
    let (w, h) = source.dims();
    let idx: Vec<usize> = (0..source.len()).collect();
    let mut out = Vec::with_capacity(idx.len());
    let mut bands = Vec::with_capacity(idx.len());
    for chunk in idx.chunks(256) {
        let part: Vec<(Vec<f32>, BandMeasure)> = chunk
            .par_iter()
            .map_init(
                || (Vec::new(), DecodeScratch::default(), Scratch::default(), RegionScratch::default()),
                |(buf, dec, s, rs), &i| {
                    source.read_luma_into(i, buf, dec)?;
                    Ok(frame_features_banded(ImageView::new(buf, w, h), grid, s, rs))
                },
            )
            .collect::<Result<_>>()?;
        for (f, b) in part {
            out.push(f);
            bands.push(b);
        }
        progress(out.len());
    }
    if let Some(j) = Metric::ALL.iter().position(|m| *m == Metric::Bandpass) {
        for (f, q) in out.iter_mut().zip(BandpassScorer::scores(&bands)) {
            f[j] = q;
        }
    }
    Ok(out)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) }
}

/// Standardise raw features per video: `ln(v + ε)` for scale-like features (ε = 10⁻³ × the
/// feature's median, so black frames stay finite), then `(v − median) / (1.4826 · MAD)` over the
/// frames (the standard deviation when the MAD is 0; 1 when the feature is constant).
pub fn standardize(raw: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let d = raw.first().map_or(0, |r| r.len());
    let mut out: Vec<Vec<f64>> = raw.iter().map(|r| r.iter().map(|&v| v as f64).collect()).collect();
    for j in 0..d {
        let mut col: Vec<f64> = out.iter().map(|r| if r[j].is_finite() { r[j] } else { 0.0 }).collect();
        if is_scale_like(j) {
            let mut pos: Vec<f64> = col.iter().copied().filter(|&v| v > 0.0).collect();
            let eps = (1e-3 * median(&mut pos)).max(1e-30);
            col.iter_mut().for_each(|v| *v = (v.max(0.0) + eps).ln());
        }
        let mut tmp = col.clone();
        let med = median(&mut tmp);
        let mut dev: Vec<f64> = col.iter().map(|v| (v - med).abs()).collect();
        let mut scale = 1.4826 * median(&mut dev);
        if scale <= 1e-12 {
            let n = col.len().max(1) as f64;
            let mean = col.iter().sum::<f64>() / n;
            scale = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        }
        if scale <= 1e-12 {
            scale = 1.0;
        }
        for (r, v) in out.iter_mut().zip(&col) {
            // Clamp far outliers (black or cut frames) so one frame cannot dominate a tiny fit.
            r[j] = ((v - med) / scale).clamp(-8.0, 8.0);
        }
    }
    out
}

/// A ranker fitted on the user's picks: logistic regression over standardised [`frame_features`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PicksRanker {
    /// Name of the feature each weight belongs to: a metric's name ([`Metric::name`]) or
    /// `region rRcC`. Weights are matched to this build's features by these names, not by position,
    /// so a model saved before a metric was added keeps scoring as it did (the new metric gets no weight).
    pub features: Vec<String>,
    /// Side of the regional grid.
    pub grid: usize,
    /// Weights of the standardised features (log-odds of "good" per unit).
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
    /// L2 penalty used.
    pub alpha: f64,
    /// Number of labels the model was fitted on.
    pub labels: usize,
    /// How many of them were good.
    pub good: usize,
}

/// What fitting on picks measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PicksReport {
    /// Labels used.
    pub labels: usize,
    /// Good labels among them.
    pub good: usize,
    /// Share of the labels the fitted model classifies correctly (training accuracy, optimistic).
    pub train_accuracy: f64,
    /// Leave-one-out accuracy (an honest estimate with few labels).
    pub loo_accuracy: f64,
    /// The largest weights by magnitude: (feature, weight), at most 5.
    pub top_weights: Vec<(String, f32)>,
}

fn logistic(rows: &[&[f64]], labels: &[u8], alpha: f64) -> Result<(Vec<f32>, f32)> {
    let d = rows.first().map_or(0, |r| r.len());
    let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    let x = Array2::from_shape_vec((rows.len(), d), flat).map_err(|e| FrameError::Training(e.to_string()))?;
    let y: Array1<usize> = labels.iter().map(|&l| l as usize).collect();
    let m = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(300)
        .fit(&Dataset::new(x, y))
        .map_err(|e| FrameError::Training(format!("logistic regression on the picks: {e}")))?;
    // linfa's positive class is the more frequent label (the first seen on a tie), not label 1:
    // turn the parameters so that they always give the log-odds of "good".
    let sign = if m.labels().pos.class == 1 { 1.0 } else { -1.0 };
    Ok((m.params().iter().map(|&v| (sign * v) as f32).collect(), (sign * m.intercept()) as f32))
}

fn dot(w: &[f32], b: f32, x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(&w, &x)| w as f64 * x).sum::<f64>() + b as f64
}

impl PicksRanker {
    /// Fit on standardised features of a whole video (see [`standardize`]) and the user's picks.
    pub fn fit_standardized(z: &[Vec<f64>], picks: &[Pick], grid: usize, alpha: f64) -> Result<(Self, PicksReport)> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(FrameError::Invalid(format!("L2 penalty {alpha} must be a finite number ≥ 0")));
        }
        if let Some(p) = picks.iter().find(|p| p.frame >= z.len()) {
            return Err(FrameError::Invalid(format!(
                "picked frame {} is not in the video ({} frames)",
                p.frame,
                z.len()
            )));
        }
        let good = picks.iter().filter(|p| p.label == 1).count();
        if picks.len() < 2 || good == 0 || good == picks.len() {
            return Err(FrameError::Training("the picks need both good and bad frames".into()));
        }
        let rows: Vec<&[f64]> = picks.iter().map(|p| z[p.frame].as_slice()).collect();
        let labels: Vec<u8> = picks.iter().map(|p| p.label).collect();
        let (weights, bias) = logistic(&rows, &labels, alpha)?;
        let correct = |w: &[f32], b: f32, x: &[f64], l: u8| (dot(w, b, x) > 0.0) == (l == 1);
        let train_ok = rows.iter().zip(&labels).filter(|(x, l)| correct(&weights, bias, x, **l)).count();
        let mut loo_ok = 0;
        for k in 0..rows.len() {
            let (r, l): (Vec<&[f64]>, Vec<u8>) =
                rows.iter().zip(&labels).enumerate().filter(|(i, _)| *i != k).map(|(_, (x, l))| (*x, *l)).unzip();
            let both = l.contains(&0) && l.contains(&1);
            if both && let Ok((w, b)) = logistic(&r, &l, alpha) {
                loo_ok += correct(&w, b, rows[k], labels[k]) as usize;
            }
        }
        let names = feature_names(grid);
        let mut top: Vec<(String, f32)> = names.iter().cloned().zip(weights.iter().copied()).collect();
        top.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        top.truncate(5);
        let n = picks.len();
        let report = PicksReport {
            labels: n,
            good,
            train_accuracy: train_ok as f64 / n as f64,
            loo_accuracy: loo_ok as f64 / n as f64,
            top_weights: top,
        };
        Ok((PicksRanker { features: names, grid, weights, bias, alpha, labels: n, good }, report))
    }

    /// Fit on a video and its picks (features of every frame are computed, for the per-video standardisation).
    pub fn fit(
        source: &dyn FrameSource,
        picks: &[Pick],
        grid: usize,
        alpha: f64,
        progress: &dyn Fn(usize),
    ) -> Result<(Self, PicksReport)> {
        if !(1..=8).contains(&grid) {
            return Err(FrameError::Invalid(format!("region grid {grid} must be 1–8")));
        }
        let raw = video_features(source, grid, progress)?;
        Self::fit_standardized(&standardize(&raw), picks, grid, alpha)
    }

    /// Scores (log-odds of "good") of standardised feature rows laid out as [`feature_names`]`(grid)`
    /// (as [`standardize`] of [`video_features`] gives them); each weight is applied to the column
    /// of its feature's name. Errors when a feature is not one of this build's (see [`Self::validate`]).
    pub fn score_standardized(&self, z: &[Vec<f64>]) -> std::result::Result<Vec<f32>, String> {
        let w = self.weights_by_column()?;
        if let Some(row) = z.iter().find(|r| r.len() != w.len()) {
            return Err(format!("feature rows have {} values; this build's features are {}", row.len(), w.len()));
        }
        Ok(z.iter()
            .map(|x| {
                let v = dot(&w, self.bias, x) as f32;
                if v.is_finite() { v } else { f32::MIN }
            })
            .collect())
    }

    /// The weights laid out in this build's feature order ([`feature_names`]), found by name; a
    /// feature of this build that the model does not name gets weight 0. Summing in this build's
    /// order keeps a model saved in that order scoring bit for bit as before.
    fn weights_by_column(&self) -> std::result::Result<Vec<f32>, String> {
        if self.features.len() != self.weights.len() {
            return Err(format!(
                "picks model names {} features but has {} weights",
                self.features.len(),
                self.weights.len()
            ));
        }
        let names = feature_names(self.grid);
        let mut out = vec![0f32; names.len()];
        let mut seen = vec![false; names.len()];
        for (name, &w) in self.features.iter().zip(&self.weights) {
            let Some(j) = names.iter().position(|n| n == name) else {
                let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                return Err(format!(
                    "picks model features do not match this build's: '{}' is not a metric this build knows ({}, or region r0c0–r{g}c{g})",
                    clip(name),
                    known.join(", "),
                    g = self.grid.saturating_sub(1)
                ));
            };
            if std::mem::replace(&mut seen[j], true) {
                return Err(format!("picks model names feature '{name}' twice"));
            }
            out[j] = w;
        }
        Ok(out)
    }

    /// Check the stored model against this build: grid 1–8, finite weights, and every feature a
    /// metric (or region box) this build computes, named once. Features are matched by name, so
    /// models saved by builds with fewer metrics, or another metric order, load.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(1..=8).contains(&self.grid) {
            return Err(format!("region grid {} out of range 1–8", self.grid));
        }
        self.weights_by_column()?;
        if !self.weights.iter().all(|w| w.is_finite()) || !self.bias.is_finite() {
            return Err("picks model has non-finite weights".into());
        }
        Ok(())
    }

    /// Score every frame of a source (features of all frames are needed for the per-video standardisation).
    pub fn score_source(&self, source: &dyn FrameSource, progress: &dyn Fn(usize)) -> Result<Vec<f32>> {
        self.validate().map_err(|reason| FrameError::Model { path: "(picks)".into(), reason })?;
        let raw = video_features(source, self.grid, progress)?;
        self.score_standardized(&standardize(&raw))
            .map_err(|reason| FrameError::Model { path: "(picks)".into(), reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, frames: usize) -> String {
        parse_picks(text, "picks.csv", frames).unwrap_err().to_string()
    }

    const OK: &str = "frame,label\n0,1\n1,0\n2,1\n3,0\n4,1\n5,0\n";

    #[test]
    fn parses_header_comments_and_blank_lines() {
        let p = parse_picks(&format!("\u{feff}{OK}\n# note\n\n9,1\r\n"), "picks.csv", 10).unwrap();
        assert_eq!(p.len(), 7);
        assert_eq!(p[0], Pick { frame: 0, label: 1 });
        assert_eq!(p[6], Pick { frame: 9, label: 1 });
        // No header is fine too.
        assert_eq!(parse_picks("0,1\n1,0\n2,1\n3,0\n4,1\n5,0", "x", 6).unwrap().len(), 6);
    }

    #[test]
    fn errors_name_the_file_line_and_problem() {
        let e = err(&format!("{OK}300,1\n"), 300);
        assert!(e.contains("picks.csv: line 8: frame 300 is not in the video (it has 300 frames"), "{e}");
        let e = err(&format!("{OK}2,0\n"), 300);
        assert!(e.contains("picks.csv: line 8: frame 2 is labelled twice (first on line 4)"), "{e}");
        let e = err("frame,label\n0,1\n1,yes\n", 300);
        assert!(e.contains("picks.csv: line 3: label 'yes' is not 0 (bad) or 1 (good)"), "{e}");
        let e = err("0,2\n", 300);
        assert!(e.contains("line 1: label '2'"), "{e}");
        let e = err("frame,label\n-1,1\n", 300);
        assert!(e.contains("line 2: frame '-1' is not a frame index"), "{e}");
        let e = err("frame,label\n1,1,1\n", 300);
        assert!(e.contains("line 2: expected 'frame,label'"), "{e}");
        let e = err("0,1\n1,0\n2,1\n3,0\n4,1\n", 300);
        assert!(e.contains("picks.csv: 5 labels; at least 6 are needed"), "{e}");
        let e = err("0,1\n1,1\n2,1\n3,1\n4,1\n5,1\n", 300);
        assert!(e.contains("picks.csv: all 6 labels are good (1)"), "{e}");
        let e = err("0,0\n1,0\n2,0\n3,0\n4,0\n5,0\n", 300);
        assert!(e.contains("all 6 labels are bad (0)"), "{e}");
        // A header anywhere but the first line is a malformed line.
        let e = err("0,1\nframe,label\n", 300);
        assert!(e.contains("line 2: frame 'frame'"), "{e}");
        for e in [err("", 10), err(&format!("{OK}99,1"), 10)] {
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn unreadable_and_binary_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let e = read_picks(&missing, 10).unwrap_err().to_string();
        assert!(e.contains("nope.csv"), "{e}");
        let bin = dir.path().join("bin.csv");
        std::fs::write(&bin, [0xff, 0xfe, 0x00, 0x81]).unwrap();
        let e = read_picks(&bin, 10).unwrap_err().to_string();
        assert!(e.contains("bin.csv: not a text file"), "{e}");
    }

    fn disc_frame(w: usize, h: usize, sharp_region: Option<(usize, usize)>, blur: f32) -> Vec<f32> {
        // A textured disc; `blur` lowers the texture contrast everywhere except in `sharp_region` (a 3×3 cell).
        let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w as f32 * 0.35);
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                if ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() >= r {
                    return 0.02;
                }
                let cell = (((y - (cy - r)) / (2.0 * r) * 3.0) as usize, ((x - (cx - r)) / (2.0 * r) * 3.0) as usize);
                let amp = if Some(cell) == sharp_region { 0.3 } else { 0.3 * (1.0 - blur) };
                0.5 + amp * ((x * 0.9).sin() * (y * 0.7).cos())
            })
            .collect()
    }

    #[test]
    fn regional_features_see_which_region_is_sharp() {
        let (w, h) = (96, 96);
        let mut rs = RegionScratch::default();
        let img = disc_frame(w, h, Some((0, 2)), 0.8);
        let f = regional_laplace(ImageView::new(&img, w, h), 3, &mut rs);
        assert_eq!(f.len(), 9);
        let best = (0..9).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap();
        assert_eq!(best, 2, "top-right box (row 0, col 2) is the sharp one: {f:?}");
        assert!(regional_laplace(ImageView::new(&vec![0.0; w * h], w, h), 3, &mut rs).iter().all(|&v| v == 0.0));
        let mut s = Scratch::default();
        let all = frame_features(ImageView::new(&img, w, h), 3, &mut s, &mut rs);
        assert_eq!(all.len(), feature_names(3).len());
        assert!(all.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn video_features_score_every_metric_as_rank_frames_does() {
        use crate::io::{ColorId, SerHeader, SerWriter};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.ser");
        let (w, h) = (80, 72);
        let mut wr = SerWriter::create(&path, SerHeader::new(w, h, ColorId::Mono, 12)).unwrap();
        for f in 0..6 {
            let img = disc_frame(w, h, (f % 2 == 0).then_some((1, 1)), 0.1 * f as f32);
            wr.write_planes(&astro_image::Planes::from_vec(1, h, w, img).unwrap()).unwrap();
        }
        wr.finish().unwrap();
        let ser = crate::io::SerReader::open(&path).unwrap();
        let raw = video_features(&ser, 3, &|_| {}).unwrap();
        assert_eq!((raw.len(), raw[0].len()), (6, feature_names(3).len()));
        for (j, m) in Metric::ALL.iter().enumerate() {
            let want =
                crate::ranking::rank::score_source(&ser, &crate::ranking::rank::Scorer::new(*m), &|_| {}).unwrap();
            for (f, q) in raw.iter().zip(&want) {
                assert!((f[j] - q).abs() <= 1e-4 * q.abs().max(1e-6), "{m} frame: {} vs {q}", f[j]);
            }
        }
    }

    #[test]
    fn standardize_is_robust_and_finite() {
        let raw: Vec<Vec<f32>> = (0..20).map(|i| vec![i as f32 + 1.0; feature_names(1).len()]).collect();
        let mut raw = raw;
        raw.push(vec![0.0; feature_names(1).len()]); // a black frame
        let z = standardize(&raw);
        assert!(z.iter().flatten().all(|v| v.is_finite() && v.abs() <= 8.0));
        // Monotonic per feature: larger raw values give larger z.
        assert!(z[19][0] > z[5][0] && z[5][0] > z[20][0]);
    }

    #[test]
    fn learns_a_regional_preference_that_the_global_metric_does_not_have() {
        // Frames: global blur varies; the user likes frames whose top-right box is sharp.
        let (w, h) = (72, 72);
        let mut raw = Vec::new();
        let mut pref = Vec::new();
        let mut glob = Vec::new();
        let (mut s, mut rs) = (Scratch::default(), RegionScratch::default());
        for i in 0..40 {
            let blur = 0.1 + 0.8 * ((i * 7) % 40) as f32 / 40.0;
            let sharp_tr = i % 2 == 0; // every other frame keeps the top-right region sharp
            let img = disc_frame(w, h, sharp_tr.then_some((0, 2)), blur);
            raw.push(frame_features(ImageView::new(&img, w, h), 3, &mut s, &mut rs));
            pref.push(if sharp_tr { 1.0 } else { 1.0 - blur });
            glob.push(1.0 - blur);
        }
        let z = standardize(&raw);
        let picks: Vec<Pick> = (0..12).map(|i| Pick { frame: i * 3, label: (i * 3 % 2 == 0) as u8 }).collect();
        let (m, report) = PicksRanker::fit_standardized(&z, &picks, 3, 0.1).unwrap();
        assert!(m.validate().is_ok());
        assert!(report.train_accuracy >= 0.9, "{report:?}");
        let scores = m.score_standardized(&z).unwrap();
        let liked: f32 = (0..40).filter(|i| i % 2 == 0).map(|i| scores[i]).sum::<f32>() / 20.0;
        let other: f32 = (0..40).filter(|i| i % 2 == 1).map(|i| scores[i]).sum::<f32>() / 20.0;
        assert!(liked > other + 1.0, "liked {liked} vs other {other}");
        let rho = crate::ranking::spearman(&scores, &pref);
        let rho_glob = crate::ranking::spearman(&glob, &pref);
        assert!(rho > rho_glob, "picks ρ {rho} vs global ρ {rho_glob}");
        // Unbalanced labels (more bad than good; linfa's positive class is then "bad") keep the sign.
        let few_good: Vec<Pick> = (0..14)
            .map(|i| Pick { frame: i * 2 + 1, label: 0 })
            .chain([0, 4, 8].map(|f| Pick { frame: f, label: 1 }))
            .collect();
        let (mb, _) = PicksRanker::fit_standardized(&z, &few_good, 3, 0.1).unwrap();
        let sb = mb.score_standardized(&z).unwrap();
        let liked_b: f32 = (0..40).filter(|i| i % 2 == 0).map(|i| sb[i]).sum::<f32>() / 20.0;
        let other_b: f32 = (0..40).filter(|i| i % 2 == 1).map(|i| sb[i]).sum::<f32>() / 20.0;
        assert!(liked_b > other_b, "unbalanced: liked {liked_b} vs other {other_b}");
        // A model whose weights and feature names disagree in count is refused.
        let mut bad = m.clone();
        bad.weights.pop();
        let n = bad.weights.len() + 1;
        let want = format!("names {n} features but has {} weights", n - 1);
        assert!(bad.validate().unwrap_err().contains(&want), "{:?}", bad.validate());
    }

    #[test]
    fn features_are_matched_by_name_not_position() {
        let (w, h) = (72, 72);
        let (mut s, mut rs) = (Scratch::default(), RegionScratch::default());
        let raw: Vec<Vec<f32>> = (0..16)
            .map(|i| {
                let img = disc_frame(w, h, (i % 2 == 0).then_some((1, 1)), 0.05 * i as f32);
                frame_features(ImageView::new(&img, w, h), 3, &mut s, &mut rs)
            })
            .collect();
        let z = standardize(&raw);
        let picks: Vec<Pick> = (0..8).map(|i| Pick { frame: i * 2, label: (i % 2) as u8 }).collect();
        let (m, _) = PicksRanker::fit_standardized(&z, &picks, 3, 1.0).unwrap();
        let want = m.score_standardized(&z).unwrap();
        // The positional formula of the builds before by-name matching gives the same bits.
        let positional: Vec<f32> = z.iter().map(|x| dot(&m.weights, m.bias, x) as f32).collect();
        assert_eq!(want, positional);
        // Stored in another order: the same scores, bit for bit.
        let mut shuffled = m.clone();
        let order: Vec<usize> = (0..m.features.len()).rev().collect();
        shuffled.features = order.iter().map(|&k| m.features[k].clone()).collect();
        shuffled.weights = order.iter().map(|&k| m.weights[k]).collect();
        assert!(shuffled.validate().is_ok());
        assert_eq!(shuffled.score_standardized(&z).unwrap(), want);
        // Saved by a build without one metric (as before `bandpass` existed): it loads, and the
        // missing metric simply has no weight.
        let mut older = m.clone();
        let j = older.features.iter().position(|f| f == "bandpass").unwrap();
        older.features.remove(j);
        older.weights.remove(j);
        assert!(older.validate().is_ok());
        let older_scores = older.score_standardized(&z).unwrap();
        let mut zeroed = m.clone();
        zeroed.weights[j] = 0.0;
        assert_eq!(older_scores, zeroed.score_standardized(&z).unwrap());
        // A metric this build does not know is a one-line error naming it; so is a repeated name.
        let mut unknown = m.clone();
        unknown.features[2] = "sharpness-9000".into();
        let e = unknown.validate().unwrap_err();
        assert!(
            e.starts_with(
                "picks model features do not match this build's: 'sharpness-9000' is not a metric this build knows"
            ),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        let mut twice = m.clone();
        twice.features[3] = twice.features[4].clone();
        assert!(twice.validate().unwrap_err().contains("names feature 'laplacian-variance' twice"));
        let mut region = m.clone();
        region.features[12] = "region r5c5".into();
        assert!(region.validate().unwrap_err().contains("'region r5c5'"));
    }
}
