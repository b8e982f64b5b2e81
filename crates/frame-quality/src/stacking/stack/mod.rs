//! Align and stack the best frames: reference from the best few, phase-correlation alignment,
//! optional alignment boxes, mean or sigma-clipped mean; plus optional unsharp-mask post-sharpening.
//!
//! Memory: only the frames being aligned are held (one per worker thread) plus the per-pixel
//! accumulators; sigma clipping re-reads the selected frames in a second pass instead of keeping them.

use std::sync::atomic::{AtomicUsize, Ordering};

use astro_image::Planes;
use rayon::prelude::*;

use crate::error::{FrameError, Result};
use crate::io::{DecodeScratch, FrameSource};
use crate::ranking::{Selection, order_best_first};
use astro_image::registration::{AlignScratch, PhaseCorrelator, shift_image};

use crate::stacking::align::AlignmentBoxes;

mod local;
mod measure;
mod sharpen;

pub use local::{local_scores, write_local_csv};
pub use measure::{LEVEL_FLOOR, LocalMetric, LocalScratch, local_global_blend, score_boxes};

pub use sharpen::{MAX_SHARPEN_SIGMA, check_unsharp, unsharp_mask};

/// How selected frames are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StackMethod {
    /// Plain mean.
    Mean,
    /// Mean of the samples within `kappa` standard deviations of the per-pixel mean (second pass).
    SigmaClip {
        /// Clipping threshold in standard deviations.
        kappa: f32,
    },
}

/// Stacking settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StackConfig {
    /// Which frames to stack (best first); with per-box selection, how many each box takes.
    pub selection: Selection,
    /// How to combine them.
    pub method: StackMethod,
    /// Fraction of the selected frames averaged into the alignment reference (at least 1 frame).
    pub reference_fraction: f32,
    /// Side of the multi-point alignment boxes; `None` = global alignment only.
    pub boxes: Option<usize>,
    /// With boxes: each box ranks the frames by local quality and stacks its own best ones, blended
    /// with feathered weights; `false` = the global selection everywhere (alignment-only boxes).
    pub per_box_select: bool,
    /// Local quality measure of per-box selection.
    pub local_metric: LocalMetric,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            selection: Selection::Percent(10.0),
            method: StackMethod::Mean,
            reference_fraction: 0.05,
            boxes: None,
            per_box_select: true,
            local_metric: LocalMetric::default(),
        }
    }
}

/// What per-region selection chose.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSelection {
    /// Box side in pixels.
    pub size: usize,
    /// Top-left corners of the boxes (reference coordinates).
    pub boxes: Vec<(usize, usize)>,
    /// Each box's frames, best first by its local score.
    pub frames: Vec<Vec<usize>>,
    /// The global selection (best first), which fills the areas without boxes.
    pub global: Vec<usize>,
}

/// The stacked image and what went into it.
#[derive(Debug, Clone)]
pub struct StackResult {
    /// The stack, in [0, 1], with the source's channels.
    pub image: Planes,
    /// Indices of the stacked frames (with per-box selection: every frame some box or the global
    /// selection took), best first by the global score.
    pub frames: Vec<usize>,
    /// Global shift applied to each stacked frame (same order as `frames`).
    pub shifts: Vec<(f32, f32)>,
    /// Per-box selections, when per-box selection was used.
    pub regions: Option<RegionSelection>,
}

impl StackConfig {
    /// Refuse values that cannot work, before any frame is read: κ must be finite and > 0, alignment
    /// boxes at least 8 pixels and no larger than the frame.
    pub fn validate(&self, width: usize, height: usize) -> Result<()> {
        if let StackMethod::SigmaClip { kappa } = self.method
            && !(kappa.is_finite() && kappa > 0.0)
        {
            return Err(FrameError::Invalid(format!("--sigma-clip {kappa}: expected a finite kappa > 0")));
        }
        if let Some(b) = self.boxes
            && width.min(height) < 8
        {
            return Err(FrameError::Invalid(format!(
                "--boxes {b}: the frame is {width}x{height}, smaller than the smallest box (8 pixels); stack without --boxes"
            )));
        }
        if let Some(b) = self.boxes
            && (b < 8 || b > width.min(height))
        {
            return Err(FrameError::Invalid(format!(
                "--boxes {b}: expected a box side from 8 to {} pixels (the frame is {width}x{height})",
                width.min(height)
            )));
        }
        Ok(())
    }
}

/// Quality of every frame in every alignment box: pass 1 of per-region selection (small: frames × boxes).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxScores {
    /// Box side in pixels.
    pub size: usize,
    /// Top-left corners of the boxes, in reference (aligned) coordinates.
    pub boxes: Vec<(usize, usize)>,
    /// Number of frames scored.
    pub frames: usize,
    /// Frame-major matrix: `scores[frame * boxes.len() + box]`.
    pub scores: Vec<f32>,
}

impl BoxScores {
    /// A score matrix; refuses one whose length is not `frames × boxes`.
    pub fn new(size: usize, boxes: Vec<(usize, usize)>, frames: usize, scores: Vec<f32>) -> Result<BoxScores> {
        if scores.len() != frames * boxes.len() {
            return Err(FrameError::Invalid(format!(
                "box scores: {} values for {frames} frames x {} boxes",
                scores.len(),
                boxes.len()
            )));
        }
        Ok(BoxScores { size, boxes, frames, scores })
    }

    /// The scores of box `b` over all frames.
    pub fn column(&self, b: usize) -> Vec<f32> {
        let nb = self.boxes.len();
        (0..self.frames).map(|f| self.scores[f * nb + b]).collect()
    }

    /// Per box, its best `count` frames, best first.
    pub fn select(&self, count: usize) -> Vec<Vec<usize>> {
        (0..self.boxes.len())
            .map(|b| {
                let mut o = order_best_first(&self.column(b));
                o.truncate(count);
                o
            })
            .collect()
    }
}

/// Feathered blend weights of per-box stacks: a separable tent over each box (peak at its centre,
/// half-width half the box side, so a half-overlapping grid of boxes sums to 1), divided by the
/// tents' sum where boxes overlap more than that; the remainder `1 − Σ tents` (areas without boxes,
/// the grid's outer half-boxes) goes to the global selection. Weights sum to 1 at every pixel.
#[derive(Debug, Clone)]
pub struct BoxBlend {
    width: usize,
    height: usize,
    size: usize,
    boxes: Vec<(usize, usize)>,
    tent: Vec<f32>,
    norm: Vec<f32>,
    rest: Vec<f32>,
}

impl BoxBlend {
    /// Blend weights of `size × size` boxes at `boxes` (top-left corners) in a `width × height` frame.
    pub fn new(width: usize, height: usize, size: usize, boxes: &[(usize, usize)]) -> BoxBlend {
        let half = (size / 2).max(1) as f32;
        let c = size as f32 / 2.0;
        let tent: Vec<f32> = (0..size).map(|u| (1.0 - (u as f32 + 0.5 - c).abs() / half).max(0.0)).collect();
        let mut sum = vec![0f32; width * height];
        for &(bx, by) in boxes {
            for v in 0..size.min(height.saturating_sub(by)) {
                let row = &mut sum[(by + v) * width..(by + v + 1) * width];
                for u in 0..size.min(width.saturating_sub(bx)) {
                    row[bx + u] += tent[v] * tent[u];
                }
            }
        }
        let norm = sum.iter().map(|&s| if s > 1.0 { 1.0 / s } else { 1.0 }).collect();
        let rest = sum.iter().map(|&s| (1.0 - s).max(0.0)).collect();
        BoxBlend { width, height, size, boxes: boxes.to_vec(), tent, norm, rest }
    }

    /// Weight of box `b` at pixel (x, y).
    pub fn box_weight(&self, b: usize, x: usize, y: usize) -> f32 {
        let (bx, by) = self.boxes[b];
        if x < bx || y < by || x >= bx + self.size || y >= by + self.size {
            return 0.0;
        }
        self.tent[x - bx] * self.tent[y - by] * self.norm[y * self.width + x]
    }

    /// Weight of the global selection at pixel (x, y).
    pub fn global_weight(&self, x: usize, y: usize) -> f32 {
        self.rest[y * self.width + x]
    }

    /// Per-pixel weight of one frame taken by the boxes `taken_by` (and by the global selection when
    /// `global`), each selection being the mean of `count` frames.
    fn frame_weights(&self, taken_by: &[usize], global: bool, count: usize, out: &mut Vec<f32>) {
        let inv = 1.0 / count.max(1) as f32;
        out.clear();
        if global {
            out.extend(self.rest.iter().map(|r| r * inv));
        } else {
            out.resize(self.width * self.height, 0.0);
        }
        for &b in taken_by {
            let (bx, by) = self.boxes[b];
            for v in 0..self.size.min(self.height.saturating_sub(by)) {
                let i0 = (by + v) * self.width + bx;
                let n = self.size.min(self.width - bx);
                for u in 0..n {
                    out[i0 + u] += self.tent[v] * self.tent[u] * self.norm[i0 + u] * inv;
                }
            }
        }
    }
}

fn luma_of(p: &Planes) -> Vec<f32> {
    if p.channels == 1 { p.data.clone() } else { p.to_luma().data }
}

/// Which frames go into the stack and with which per-pixel weights.
struct Plan {
    /// Frames read in pass 2, best first by the global score.
    frames: Vec<usize>,
    /// Per plan frame: the boxes that took it.
    taken_by: Vec<Vec<usize>>,
    /// Per plan frame: whether the global selection took it.
    global: Vec<bool>,
    /// Frames per selection.
    count: usize,
    /// Per-box blend; `None` = every frame weighs 1/count everywhere.
    blend: Option<BoxBlend>,
}

/// The alignment reference: the best frame, then the best few aligned to it and averaged.
fn reference_of(source: &dyn FrameSource, global: &[usize], cfg: &StackConfig) -> Result<Vec<f32>> {
    let (w, h) = source.dims();
    let n = global.len();
    let mut dec = DecodeScratch::default();
    let mut s = AlignScratch::default();
    let mut best = Vec::new();
    source.read_luma_into(global[0], &mut best, &mut dec)?;
    let pc0 = PhaseCorrelator::new(&best, w, h);
    let n_ref = ((cfg.reference_fraction * n as f32).round() as usize).clamp(1, n);
    let mut reference = vec![0f32; w * h];
    let (mut buf, mut moved) = (Vec::new(), Vec::new());
    for &i in &global[..n_ref] {
        source.read_luma_into(i, &mut buf, &mut dec)?;
        let (dx, dy, _) = pc0.shift_refined(&buf, &mut s);
        shift_image(&buf, w, h, dx, dy, &mut moved);
        reference.iter_mut().zip(&moved).for_each(|(r, m)| *r += m / n_ref as f32);
    }
    Ok(reference)
}

/// Every frame best first by `scores` (checked against the source) and how many the global selection takes.
fn global_selection(source: &dyn FrameSource, scores: &[f32], cfg: &StackConfig) -> Result<(Vec<usize>, usize)> {
    if scores.len() != source.len() {
        return Err(FrameError::Invalid(format!(
            "{} scores for {} frames of {}",
            scores.len(),
            source.len(),
            source.name()
        )));
    }
    let n = cfg.selection.count(source.len());
    if n == 0 {
        return Err(FrameError::Empty(source.name().into()));
    }
    let (w, h) = source.dims();
    cfg.validate(w, h)?;
    Ok((order_best_first(scores), n))
}

/// Align and stack the frames of `source` chosen by `scores` (higher = better).
///
/// With `cfg.boxes` and `cfg.per_box_select` (the default), a first pass scores every frame in every
/// alignment box ([`score_boxes`]), each box takes its own best frames and the result is blended from
/// the boxes ([`BoxBlend`]); the global selection fills the areas without boxes. Otherwise the
/// globally best frames are stacked everywhere.
///
/// `progress(done, total)` is called as frames are scored and stacked (every pass counts).
pub fn stack(
    source: &dyn FrameSource,
    scores: &[f32],
    cfg: &StackConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<StackResult> {
    let (order, n) = global_selection(source, scores, cfg)?;
    let (w, h) = source.dims();
    let reference = reference_of(source, &order[..n], cfg)?;
    let boxes = cfg.boxes.map(|size| {
        let m = reference.iter().sum::<f32>() / reference.len() as f32;
        AlignmentBoxes::new(&reference, w, h, size, 0.1 * m.max(1e-3))
    });
    let per_box = match &boxes {
        Some(b) if cfg.per_box_select && !b.boxes.is_empty() && n < source.len() => {
            let passes = if matches!(cfg.method, StackMethod::SigmaClip { .. }) { 2 } else { 1 };
            let guess = source.len() + passes * n;
            let metric = cfg.local_metric.resolve(&reference, w, h);
            let scored = score_boxes(source, &reference, b.size, &b.boxes, metric, &|d| progress(d, guess))?;
            Some(if metric.blends_global() { local_global_blend(&scored, scores) } else { scored })
        }
        _ => None,
    };
    let offset = per_box.as_ref().map_or(0, |_| source.len());
    finish(source, order, n, reference, boxes, per_box.as_ref(), cfg, offset, progress)
}

/// [`stack`] with per-box selection from the caller's box scores (for instance from another local
/// metric or a user's preferences): the boxes of `box_scores` are also the alignment boxes.
///
/// Errors when the score matrix does not cover the source's frames, a box lies outside the frame,
/// or `cfg.boxes` names another box side.
pub fn stack_with_box_scores(
    source: &dyn FrameSource,
    scores: &[f32],
    box_scores: &BoxScores,
    cfg: &StackConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<StackResult> {
    if box_scores.frames != source.len() || box_scores.scores.len() != box_scores.frames * box_scores.boxes.len() {
        return Err(FrameError::Invalid(format!(
            "box scores for {} frames x {} boxes ({} values), but {} has {} frames",
            box_scores.frames,
            box_scores.boxes.len(),
            box_scores.scores.len(),
            source.name(),
            source.len()
        )));
    }
    if let Some(b) = cfg.boxes
        && b != box_scores.size
    {
        return Err(FrameError::Invalid(format!(
            "--boxes {b}, but the box scores are for {} px boxes",
            box_scores.size
        )));
    }
    let cfg = StackConfig { boxes: Some(box_scores.size), per_box_select: true, ..*cfg };
    let (order, n) = global_selection(source, scores, &cfg)?;
    let (w, h) = source.dims();
    let reference = reference_of(source, &order[..n], &cfg)?;
    let boxes = AlignmentBoxes::at(&reference, w, h, box_scores.size, &box_scores.boxes)?;
    finish(source, order, n, reference, Some(boxes), Some(box_scores), &cfg, 0, progress)
}

/// Pass 2 (and the sigma-clipping pass): read every planned frame once, align it and add it with its weights.
#[allow(clippy::too_many_arguments)]
fn finish(
    source: &dyn FrameSource,
    order: Vec<usize>,
    count: usize,
    reference: Vec<f32>,
    boxes: Option<AlignmentBoxes>,
    box_scores: Option<&BoxScores>,
    cfg: &StackConfig,
    done_before: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<StackResult> {
    let (w, h) = source.dims();
    let global = &order[..count];
    let (plan, regions) = match box_scores {
        Some(bs) if !bs.boxes.is_empty() => {
            let per_box = bs.select(count);
            let mut rank = vec![usize::MAX; source.len()];
            for (r, &i) in order.iter().enumerate() {
                rank[i] = r;
            }
            let mut taken: Vec<Vec<usize>> = vec![Vec::new(); source.len()];
            for (b, fr) in per_box.iter().enumerate() {
                for &i in fr {
                    taken[i].push(b);
                }
            }
            let mut in_global = vec![false; source.len()];
            global.iter().for_each(|&i| in_global[i] = true);
            let mut frames: Vec<usize> = (0..source.len()).filter(|&i| in_global[i] || !taken[i].is_empty()).collect();
            frames.sort_by_key(|&i| rank[i]);
            let plan = Plan {
                taken_by: frames.iter().map(|&i| std::mem::take(&mut taken[i])).collect(),
                global: frames.iter().map(|&i| in_global[i]).collect(),
                frames,
                count,
                blend: Some(BoxBlend::new(w, h, bs.size, &bs.boxes)),
            };
            let regions =
                RegionSelection { size: bs.size, boxes: bs.boxes.clone(), frames: per_box, global: global.to_vec() };
            (plan, Some(regions))
        }
        _ => {
            let plan = Plan {
                frames: global.to_vec(),
                taken_by: vec![Vec::new(); count],
                global: vec![true; count],
                count,
                blend: None,
            };
            (plan, None)
        }
    };
    let pc = PhaseCorrelator::new(&reference, w, h);
    let c = source.channels();
    let m = plan.frames.len();
    let clip = matches!(cfg.method, StackMethod::SigmaClip { .. });
    let total = done_before + if clip { 2 * m } else { m };
    let done = AtomicUsize::new(done_before);
    let tick = || {
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress(d, total);
    };
    // Load, align and (optionally) warp one frame: planes and the global shift.
    let aligned = |i: usize, s: &mut AlignScratch, shift: Option<(f32, f32)>| -> Result<(Planes, (f32, f32))> {
        let p = source.read_planes(i)?;
        let luma = luma_of(&p);
        let (dx, dy) = match shift {
            Some(d) => d,
            None => {
                let (dx, dy, _) = pc.shift_refined(&luma, s);
                (dx, dy)
            }
        };
        let mut out = Planes::zeros(c, h, w);
        let mut tmp = Vec::new();
        for ch in 0..c {
            shift_image(p.plane(ch), w, h, dx, dy, &mut tmp);
            out.plane_mut(ch).copy_from_slice(&tmp);
        }
        if let Some(b) = &boxes {
            let l = luma_of(&out);
            let local = b.local_shifts(&l, w, s);
            for ch in 0..c {
                b.warp(out.plane(ch), w, h, &local, &mut tmp);
                out.plane_mut(ch).copy_from_slice(&tmp);
            }
        }
        Ok((out, (dx, dy)))
    };
    // Weight of plan frame k at pixel j (of one plane): uniform or from the blend.
    let weights = |k: usize, out: &mut Vec<f32>| match &plan.blend {
        Some(b) => b.frame_weights(&plan.taken_by[k], plan.global[k], plan.count, out),
        None => {
            out.clear();
            out.resize(w * h, 1.0 / plan.count as f32);
        }
    };
    let px = w * h;

    // Weighted sum, weighted sum of squares (sigma clipping only) and weight total per sample.
    let sq = if clip { c * px } else { 0 };
    let zero = || (vec![0f64; c * px], vec![0f64; sq], vec![0f64; px], Vec::<(usize, (f32, f32))>::new());
    let (sum, sumsq, wsum, mut shifts) = (0..m)
        .into_par_iter()
        .try_fold(zero, |(mut s1, mut s2, mut sw, mut sh), k| -> Result<_> {
            let mut s = AlignScratch::default();
            let (p, d) = aligned(plan.frames[k], &mut s, None)?;
            let mut a = Vec::new();
            weights(k, &mut a);
            for (j, &v) in p.data.iter().enumerate() {
                let wgt = a[j % px] as f64;
                s1[j] += wgt * v as f64;
                if clip {
                    s2[j] += wgt * (v as f64) * (v as f64);
                }
            }
            sw.iter_mut().zip(&a).for_each(|(t, &x)| *t += x as f64);
            sh.push((k, d));
            tick();
            Ok((s1, s2, sw, sh))
        })
        .try_reduce(zero, |(mut a1, mut a2, mut aw, mut ash), (b1, b2, bw, bsh)| {
            a1.iter_mut().zip(&b1).for_each(|(a, b)| *a += b);
            a2.iter_mut().zip(&b2).for_each(|(a, b)| *a += b);
            aw.iter_mut().zip(&bw).for_each(|(a, b)| *a += b);
            ash.extend(bsh);
            Ok((a1, a2, aw, ash))
        })?;
    shifts.sort_by_key(|(k, _)| *k);
    let shifts: Vec<(f32, f32)> = shifts.into_iter().map(|(_, d)| d).collect();
    let mean: Vec<f64> =
        sum.iter().enumerate().map(|(j, v)| if wsum[j % px] > 0.0 { v / wsum[j % px] } else { 0.0 }).collect();

    let data: Vec<f32> = match cfg.method {
        StackMethod::Mean => mean.iter().map(|&v| v as f32).collect(),
        StackMethod::SigmaClip { kappa } => {
            let sd: Vec<f64> = sumsq
                .iter()
                .enumerate()
                .map(|(j, q)| {
                    let t = wsum[j % px];
                    if t > 0.0 { (q / t - mean[j] * mean[j]).max(0.0).sqrt() } else { 0.0 }
                })
                .collect();
            let zero = || (vec![0f64; c * px], vec![0f64; c * px]);
            let (ksum, kw) = (0..m)
                .into_par_iter()
                .try_fold(zero, |(mut ks, mut kw), k| -> Result<_> {
                    let mut s = AlignScratch::default();
                    let (p, _) = aligned(plan.frames[k], &mut s, Some(shifts[k]))?;
                    let mut a = Vec::new();
                    weights(k, &mut a);
                    for (j, &v) in p.data.iter().enumerate() {
                        let wgt = a[j % px] as f64;
                        if wgt > 0.0 && ((v as f64) - mean[j]).abs() <= kappa as f64 * sd[j] + 1e-9 {
                            ks[j] += wgt * v as f64;
                            kw[j] += wgt;
                        }
                    }
                    tick();
                    Ok((ks, kw))
                })
                .try_reduce(zero, |(mut a, mut aw), (b, bw)| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    aw.iter_mut().zip(&bw).for_each(|(x, y)| *x += y);
                    Ok((a, aw))
                })?;
            ksum.iter()
                .zip(&kw)
                .zip(&mean)
                .map(|((s, &k), &m)| if k > 0.0 { (s / k) as f32 } else { m as f32 })
                .collect()
        }
    };
    let mut image = Planes::from_vec(c, h, w, data)?;
    image.clamp01();
    image.bit_depth = 16;
    Ok(StackResult { image, frames: plan.frames, shifts, regions })
}
