//! Local quality in an alignment point: the measures that rank the frames inside each box
//! ([`LocalMetric`]) and pass 1 of per-region selection ([`score_boxes`]).
//!
//! Besides the band energies (`laplace`, `laplace-full`, `laplace-smooth`, `gradient`), the
//! noise-aware measures of issue 27 (a 64-px point holds too little signal for a bare band energy):
//!
//! - `band`: the finest band energy minus the noise floor's share, the noise variance read in the
//!   box itself from the checkerboard difference of its 2×2 blocks (as the default `bandpass`
//!   metric does for whole frames), ÷ level², the level floored at half the frame's mean so a
//!   point on a shadow does not divide by almost nothing.
//! - `band-global`: `band` normalised per point across the frames and blended with the frames'
//!   global score ([`local_global_blend`]); [`super::stack`] and [`super::local_scores`] apply the
//!   blend, [`score_boxes`] alone gives the `band` scores.
//!
//! (A matched filter — the frame's band correlated with the reference's in the point — was
//! measured too and ranked worse than `band` on every surface cell; it is not kept.)

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::BoxScores;
use super::local;
use crate::error::{FrameError, Result};
use crate::io::{DecodeScratch, FrameSource};
use crate::pixels::{ImageView, bin_into, bin2_with_noise, laplacian_energy, separable_into};
use crate::ranking::gradient_energy;
use astro_image::registration::AlignScratch;

/// Local sharpness measure that ranks the frames inside each alignment box (per-region selection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalMetric {
    /// The default: `band-global` on surface footage (the reference has no disc, or a "disc"
    /// touching the border and covering over half the frame), `laplace` on a planet disc
    /// ([`LocalMetric::resolve`]).
    #[default]
    Auto,
    /// The default metric's recipe in the box: 2×2 bin, [1 2 1]² smoothing, mean squared
    /// Laplacian ÷ (box mean above the sky)²; the default on discs.
    Laplace,
    /// The same at full resolution (no binning).
    LaplaceFull,
    /// 2×2 bin, wider [1 4 6 4 1]² smoothing, mean squared Laplacian ÷ level² (less noise, fewer fine details).
    LaplaceSmooth,
    /// 2×2 bin, [1 2 1]² smoothing, mean squared gradient ÷ (box mean above the sky)².
    Gradient,
    /// `laplace` minus the noise floor measured in the box (checkerboard of the 2×2 blocks), the
    /// level floored at [`LEVEL_FLOOR`] × the frame's mean.
    Band,
    /// `band` blended per point with the global score ([`local_global_blend`]).
    BandGlobal,
}

/// The noise-aware measures divide by at least this share of the frame's mean level.
pub const LEVEL_FLOOR: f32 = 0.5;

/// Mean of a frame above `background` (every 4th row: the level only sets the floor).
fn frame_level(v: ImageView<'_>, background: f32) -> f32 {
    let (mut sum, mut n) = (0f64, 0usize);
    for y in (0..v.height).step_by(4) {
        sum += v.row(y).iter().map(|&p| p as f64).sum::<f64>();
        n += v.width;
    }
    if n == 0 { 0.0 } else { ((sum / n as f64) as f32 - background).max(0.0) }
}

/// Σk² of the [1 2 1]² smoothing followed by the 4-neighbour Laplacian: the noise energy of the
/// band is σ²_binned × this.
const BAND_KERNEL_SQ: f32 = 0.40625;

impl LocalMetric {
    /// Every local metric (for evaluations).
    pub const ALL: [LocalMetric; 7] = [
        LocalMetric::Auto,
        LocalMetric::Laplace,
        LocalMetric::LaplaceFull,
        LocalMetric::LaplaceSmooth,
        LocalMetric::Gradient,
        LocalMetric::Band,
        LocalMetric::BandGlobal,
    ];

    /// Name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            LocalMetric::Auto => "auto",
            LocalMetric::Laplace => "laplace",
            LocalMetric::LaplaceFull => "laplace-full",
            LocalMetric::LaplaceSmooth => "laplace-smooth",
            LocalMetric::Gradient => "gradient",
            LocalMetric::Band => "band",
            LocalMetric::BandGlobal => "band-global",
        }
    }

    /// The measure `auto` stands for on footage whose alignment reference is `reference`
    /// (`w × h`): `band-global` on a surface, `laplace` on a disc; any other measure is itself.
    pub fn resolve(self, reference: &[f32], w: usize, h: usize) -> LocalMetric {
        match self {
            LocalMetric::Auto if local::is_surface(reference, w, h) => LocalMetric::BandGlobal,
            LocalMetric::Auto => LocalMetric::Laplace,
            m => m,
        }
    }

    /// Whether the level is floored (see [`LocalMetric::score_floored`]).
    pub fn noise_aware(self) -> bool {
        matches!(self, LocalMetric::Band | LocalMetric::BandGlobal)
    }

    /// Whether the scores are blended with the global score per point ([`local_global_blend`]).
    pub fn blends_global(self) -> bool {
        self == LocalMetric::BandGlobal
    }

    /// Score one box of a frame whose sky level is `background` (0 for a box without signal).
    pub fn score(self, crop: ImageView<'_>, background: f32, s: &mut LocalScratch) -> f32 {
        self.score_floored(crop, background, 0.0, s)
    }

    /// [`LocalMetric::score`] with the level the band is divided by floored at `floor` for the
    /// noise-aware measures (`band`, `band-global`): a point on a shadow (level near 0) would
    /// otherwise divide by almost nothing. The older measures ignore the floor.
    pub fn score_floored(self, crop: ImageView<'_>, background: f32, floor: f32, s: &mut LocalScratch) -> f32 {
        let Some(level) = box_level(crop, background) else {
            return 0.0;
        };
        let level = if self.noise_aware() { level.max(floor) } else { level };
        let (bw, bh) = match self {
            LocalMetric::LaplaceFull => {
                crop.copy_into(&mut s.a);
                (crop.width, crop.height)
            }
            LocalMetric::Band | LocalMetric::BandGlobal => bin2_with_noise(crop, &mut s.a, &mut s.n),
            _ => bin_into(crop, 2, &mut s.a),
        };
        let kernel: &[f32] = match self {
            LocalMetric::LaplaceSmooth => &[0.0625, 0.25, 0.375, 0.25, 0.0625],
            _ => &[0.25, 0.5, 0.25],
        };
        separable_into(&s.a, bw, bh, kernel, &mut s.b, &mut s.c);
        let view = ImageView::new(&s.c, bw, bh);
        let e = match self {
            LocalMetric::Gradient => gradient_energy(view),
            LocalMetric::Band | LocalMetric::BandGlobal => {
                let var = s.n.iter().sum::<f32>() / s.n.len().max(1) as f32;
                laplacian_energy(view) - var / 4.0 * BAND_KERNEL_SQ
            }
            _ => laplacian_energy(view),
        };
        let q = e / (level * level);
        if q.is_finite() { q } else { 0.0 }
    }
}

/// The mean of a box above `background`, or `None` for a box too small or without signal.
fn box_level(crop: ImageView<'_>, background: f32) -> Option<f32> {
    if crop.width < 6 || crop.height < 6 {
        return None;
    }
    let mut sum = 0f64;
    for y in 0..crop.height {
        sum += crop.row(y).iter().map(|&v| v as f64).sum::<f64>();
    }
    let level = (sum / (crop.width * crop.height) as f64) as f32 - background;
    (level > 1e-4).then_some(level)
}

impl std::str::FromStr for LocalMetric {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Self> {
        LocalMetric::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let known: Vec<&str> = LocalMetric::ALL.iter().map(|m| m.name()).collect();
            FrameError::Invalid(format!("local metric {s:?}: expected one of {}", known.join(", ")))
        })
    }
}

/// Reusable buffers for [`LocalMetric::score`].
#[derive(Debug, Default)]
pub struct LocalScratch {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    n: Vec<f32>,
}

/// Pass 1 of per-region selection: score every frame of `source` in every `size × size` box.
///
/// Boxes are placed on the `reference` (the aligned frame the stack is built on) and follow each
/// frame by its disc centroid's offset from the reference's (frames no disc is found in score 0),
/// or on a surface by phase correlation. `auto` is resolved on the reference
/// ([`LocalMetric::resolve`]); `band-global` scores as `band` here (the blend needs the global
/// scores: [`local_global_blend`]).
/// One frame per worker thread is held; `progress(done)` counts frames.
pub fn score_boxes(
    source: &dyn FrameSource,
    reference: &[f32],
    size: usize,
    boxes: &[(usize, usize)],
    metric: LocalMetric,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<BoxScores> {
    let (w, h) = source.dims();
    if reference.len() != w * h {
        return Err(FrameError::Invalid(format!(
            "box scores: reference of {} samples for {w}x{h} frames of {}",
            reference.len(),
            source.name()
        )));
    }
    if size < 8 || size > w.min(h) {
        return Err(FrameError::Invalid(format!(
            "box scores: box side {size}: expected 8 to {} pixels (the frame is {w}x{h})",
            w.min(h)
        )));
    }
    if let Some(&(x, y)) = boxes.iter().find(|&&(x, y)| x + size > w || y + size > h) {
        return Err(FrameError::Invalid(format!(
            "box scores: box at ({x}, {y}) of {size} px outside the {w}x{h} frame"
        )));
    }
    let tracker = local::Tracker::new(reference, w, h);
    let metric = metric.resolve(reference, w, h);
    let done = AtomicUsize::new(0);
    let rows: Vec<Vec<f32>> = (0..source.len())
        .into_par_iter()
        .map_init(
            || (DecodeScratch::default(), Vec::new(), LocalScratch::default(), AlignScratch::default()),
            |(dec, buf, ls, al), i| -> Result<Vec<f32>> {
                source.read_luma_into(i, buf, dec)?;
                let row = match tracker.offset(buf, al) {
                    None => vec![0f32; boxes.len()],
                    Some((ox, oy, bg)) => {
                        let view = ImageView::new(buf, w, h);
                        let floor = if metric.noise_aware() { LEVEL_FLOOR * frame_level(view, bg) } else { 0.0 };
                        boxes
                            .iter()
                            .map(|&(x, y)| {
                                let fx = (x as isize + ox).clamp(0, (w - size) as isize) as usize;
                                let fy = (y as isize + oy).clamp(0, (h - size) as isize) as usize;
                                metric.score_floored(view.crop(fx, fy, size, size), bg, floor, ls)
                            })
                            .collect()
                    }
                };
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                Ok(row)
            },
        )
        .collect::<Result<_>>()?;
    BoxScores::new(size, boxes.to_vec(), source.len(), rows.concat())
}

/// Robust z-scores of `v`: (v − median) ÷ (1.4826 × median absolute deviation), 0 where the
/// spread is 0 or a value is not finite.
fn robust_z(v: &[f32]) -> Vec<f32> {
    let med = |x: &mut Vec<f32>| -> f32 {
        if x.is_empty() {
            return 0.0;
        }
        let mid = x.len() / 2;
        *x.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let mut x: Vec<f32> = v.iter().copied().filter(|v| v.is_finite()).collect();
    let m = med(&mut x);
    let mut d: Vec<f32> = x.iter().map(|v| (v - m).abs()).collect();
    let s = 1.4826 * med(&mut d);
    v.iter().map(|&v| if s > 0.0 && v.is_finite() { (v - m) / s } else { 0.0 }).collect()
}

/// Mid-ranks of `v` as shares of its length: (frames below + ½ × other frames equal) ÷ n.
fn mid_ranks(v: &[f32]) -> Vec<f32> {
    let n = v.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0f32; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let q = (i as f32 + (j - i) as f32 / 2.0) / n.max(1) as f32;
        order[i..=j].iter().for_each(|&k| out[k] = q);
        i = j + 1;
    }
    out
}

/// Each point's local scores blended with the frames' global scores: both normalised per point
/// across the frames (robust z-scores), then summed, so a frame must be good in the point *and*
/// overall — the global score carries the point's seeing where the point's own signal is too weak
/// to rank by (a shadow, a flat patch: its z-scores are 0), the local score the difference between
/// points. `global` has one score per frame. Each point's blended values are returned as mid-ranks
/// in [0, 1) (the share of frames below, plus half the ties), so the table keeps the other
/// measures' form: finite, ≥ 0, higher = better. (Averaging each point's z-scores with its neighbours'
/// was measured and lost; weights 0.5 and 2 on the local part were no better than 1.)
pub fn local_global_blend(local: &BoxScores, global: &[f32]) -> BoxScores {
    let nb = local.boxes.len();
    let g = robust_z(global);
    let mut scores = vec![0f32; local.scores.len()];
    for b in 0..nb {
        let sum: Vec<f32> = robust_z(&local.column(b))
            .into_iter()
            .enumerate()
            .map(|(f, zl)| zl + g.get(f).copied().unwrap_or(0.0))
            .collect();
        for (f, q) in mid_ranks(&sum).into_iter().enumerate() {
            scores[f * nb + b] = q;
        }
    }
    BoxScores { size: local.size, boxes: local.boxes.clone(), frames: local.frames, scores }
}
