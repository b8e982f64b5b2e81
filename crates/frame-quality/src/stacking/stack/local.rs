//! Per-region quality (`rank-frames --local`): every frame scored in every alignment point, as
//! per-box selection ([`super::stack`] with boxes) scores them, written as a table.

use std::io::Write;
use std::path::Path;

use super::{BoxScores, LocalMetric, StackConfig, global_selection, reference_of, score_boxes};
use crate::error::Result;
use crate::io::FrameSource;
use crate::pixels::ImageView;
use crate::ranking::detect_disc;
use astro_image::registration::{AlignScratch, PhaseCorrelator};

use crate::stacking::align::AlignmentBoxes;

/// Score every frame in every alignment point of side `size`: the points are placed, as for
/// stacking, on the reference built from the best frames by `scores` (the global ranking), where it
/// has structure, on a half-overlapping grid; `metric` is the local measure (`band-global` blended
/// with `scores` per point).
pub fn local_scores(
    source: &dyn FrameSource,
    scores: &[f32],
    size: usize,
    metric: LocalMetric,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<BoxScores> {
    let cfg = StackConfig { boxes: Some(size), ..StackConfig::default() };
    let (order, n) = global_selection(source, scores, &cfg)?;
    let reference = reference_of(source, &order[..n], &cfg)?;
    let (w, h) = source.dims();
    let m = reference.iter().sum::<f32>() / reference.len().max(1) as f32;
    let boxes = AlignmentBoxes::new(&reference, w, h, size, 0.1 * m.max(1e-3));
    let metric = metric.resolve(&reference, w, h);
    let table = score_boxes(source, &reference, boxes.size, &boxes.boxes, metric, progress)?;
    Ok(if metric.blends_global() { super::local_global_blend(&table, scores) } else { table })
}

/// Write a frames × points table as CSV (atomically): a header `frame,p0_x…_y…,…` naming each
/// point by its top-left corner, then one row of local scores per frame.
pub fn write_local_csv(path: &Path, table: &BoxScores) -> Result<()> {
    let mut out = Vec::new();
    let head: Vec<String> = table.boxes.iter().enumerate().map(|(i, (x, y))| format!("p{i}_x{x}_y{y}")).collect();
    writeln!(out, "frame,{}", head.join(",")).ok();
    let nb = table.boxes.len();
    for f in 0..table.frames {
        let row: Vec<String> = table.scores[f * nb..(f + 1) * nb].iter().map(|v| format!("{v:.6e}")).collect();
        writeln!(out, "{f},{}", row.join(",")).ok();
    }
    astro_image::image_io::write_atomic(path, &out)?;
    Ok(())
}

/// How an alignment point follows the target from frame to frame while it is scored. A planet
/// disc (found, with sky around it: not [`is_surface`]) is followed by its centroid and scored above its sky; a
/// surface filling the frame (lunar, solar, a close-up larger than the frame) has no centroid that
/// moves with it, so it is followed by phase correlation against the reference, and its points
/// are scored against a zero sky (there is none).
pub(super) enum Tracker {
    Disc { cx: f32, cy: f32, w: usize, h: usize },
    Surface(Box<PhaseCorrelator>),
}

/// Tiles per side of the sky test in [`is_surface`].
const SKY_TILES: usize = 16;

/// Whether footage whose alignment reference is `reference` (`w × h`) is a surface: no disc is
/// found, the "disc" touches the border and covers over half the frame, or under a quarter of the
/// frame is sky — of a 16×16 grid of tiles, those whose mean lies within 5 % of the darkest tile's
/// (of the range to the brightest tile's) and that are flat (standard deviation under 5 % of that
/// range). The disc detector's threshold alone calls lunar and cratered frames "discs" (dark maria
/// and shadows fall under it), although they have no sky.
pub(super) fn is_surface(reference: &[f32], w: usize, h: usize) -> bool {
    match detect_disc(ImageView::new(reference, w, h)) {
        None => return true,
        Some(d) if d.touches_border && d.area * 2 > w * h => return true,
        Some(_) => {}
    }
    let (tw, th) = (w / SKY_TILES, h / SKY_TILES);
    if tw < 2 || th < 2 {
        return false;
    }
    let stats: Vec<(f32, f32)> = (0..SKY_TILES * SKY_TILES)
        .map(|t| {
            let (x0, y0) = ((t % SKY_TILES) * tw, (t / SKY_TILES) * th);
            let (mut s, mut s2) = (0f64, 0f64);
            for y in y0..y0 + th {
                for &v in &reference[y * w + x0..y * w + x0 + tw] {
                    s += v as f64;
                    s2 += (v as f64) * (v as f64);
                }
            }
            let n = (tw * th) as f64;
            let m = s / n;
            (m as f32, (s2 / n - m * m).max(0.0).sqrt() as f32)
        })
        .collect();
    let lo = stats.iter().map(|t| t.0).fold(f32::INFINITY, f32::min);
    let hi = stats.iter().map(|t| t.0).fold(f32::NEG_INFINITY, f32::max);
    let range = hi - lo;
    if !(range.is_finite() && range > 0.0) {
        return false;
    }
    let sky = stats.iter().filter(|&&(m, sd)| m <= lo + 0.05 * range && sd <= 0.05 * range).count();
    sky * 4 < stats.len()
}

impl Tracker {
    pub(super) fn new(reference: &[f32], w: usize, h: usize) -> Tracker {
        match detect_disc(ImageView::new(reference, w, h)) {
            Some(d) if !is_surface(reference, w, h) => Tracker::Disc { cx: d.cx, cy: d.cy, w, h },
            _ => Tracker::Surface(Box::new(PhaseCorrelator::new(reference, w, h))),
        }
    }

    /// The whole-pixel offset of `frame` from the reference and the sky level to score above, or
    /// `None` for a frame without a target (its points score 0).
    pub(super) fn offset(&self, frame: &[f32], s: &mut AlignScratch) -> Option<(isize, isize, f32)> {
        match self {
            Tracker::Disc { cx, cy, w, h } => {
                let d = detect_disc(ImageView::new(frame, *w, *h))?;
                Some(((d.cx - cx).round() as isize, (d.cy - cy).round() as isize, d.background))
            }
            Tracker::Surface(pc) => {
                let (dx, dy, _) = pc.shift(frame, s);
                (dx.is_finite() && dy.is_finite()).then(|| ((-dx).round() as isize, (-dy).round() as isize, 0.0))
            }
        }
    }
}
