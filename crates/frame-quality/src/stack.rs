//! Align and stack the best frames: reference from the best few, phase-correlation alignment,
//! optional alignment boxes, mean or sigma-clipped mean; plus optional unsharp-mask post-sharpening.
//!
//! Memory: only the frames being aligned are held (one per worker thread) plus the per-pixel
//! accumulators; sigma clipping re-reads the selected frames in a second pass instead of keeping them.

use std::sync::atomic::{AtomicUsize, Ordering};

use dataset::Planes;
use rayon::prelude::*;

use crate::align::{AlignScratch, AlignmentBoxes, PhaseCorrelator, shift_image};
use crate::error::{FrameError, Result};
use crate::metrics::{gaussian_kernel, separable_into};
use crate::rank::{Selection, order_best_first};
use crate::source::{DecodeScratch, FrameSource};

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
    /// Which frames to stack (best first).
    pub selection: Selection,
    /// How to combine them.
    pub method: StackMethod,
    /// Fraction of the selected frames averaged into the alignment reference (at least 1 frame).
    pub reference_fraction: f32,
    /// Side of the multi-point alignment boxes; `None` = global alignment only.
    pub boxes: Option<usize>,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            selection: Selection::Percent(10.0),
            method: StackMethod::Mean,
            reference_fraction: 0.05,
            boxes: None,
        }
    }
}

/// The stacked image and what went into it.
#[derive(Debug, Clone)]
pub struct StackResult {
    /// The stack, in [0, 1], with the source's channels.
    pub image: Planes,
    /// Indices of the stacked frames, best first.
    pub frames: Vec<usize>,
    /// Global shift applied to each stacked frame (same order as `frames`).
    pub shifts: Vec<(f32, f32)>,
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

fn luma_of(p: &Planes) -> Vec<f32> {
    if p.channels == 1 { p.data.clone() } else { p.to_luma().data }
}

/// Align and stack the frames of `source` chosen by `scores` (higher = better).
///
/// `progress(done, total)` is called as frames are stacked (both passes count).
pub fn stack(
    source: &dyn FrameSource,
    scores: &[f32],
    cfg: &StackConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<StackResult> {
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
    let order = order_best_first(scores);
    let frames: Vec<usize> = order[..n].to_vec();
    let mut dec = DecodeScratch::default();
    let mut s = AlignScratch::default();

    // Reference: the best frame, then the best few aligned to it and averaged.
    let mut best = Vec::new();
    source.read_luma_into(frames[0], &mut best, &mut dec)?;
    let pc0 = PhaseCorrelator::new(&best, w, h);
    let n_ref = ((cfg.reference_fraction * n as f32).round() as usize).clamp(1, n);
    let mut reference = vec![0f32; w * h];
    let (mut buf, mut moved) = (Vec::new(), Vec::new());
    for &i in &frames[..n_ref] {
        source.read_luma_into(i, &mut buf, &mut dec)?;
        let (dx, dy, _) = pc0.shift_refined(&buf, &mut s);
        shift_image(&buf, w, h, dx, dy, &mut moved);
        reference.iter_mut().zip(&moved).for_each(|(r, m)| *r += m / n_ref as f32);
    }
    let pc = PhaseCorrelator::new(&reference, w, h);
    let boxes = cfg.boxes.map(|size| {
        let m = reference.iter().sum::<f32>() / reference.len() as f32;
        AlignmentBoxes::new(&reference, w, h, size, 0.1 * m.max(1e-3))
    });

    let c = source.channels();
    let total = if matches!(cfg.method, StackMethod::SigmaClip { .. }) { 2 * n } else { n };
    let done = AtomicUsize::new(0);
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

    // Pass 1: sum and sum of squares.
    let zero = || (vec![0f64; c * w * h], vec![0f64; c * w * h], Vec::<(usize, (f32, f32))>::new());
    let (sum, sumsq, mut shifts) = frames
        .par_iter()
        .enumerate()
        .try_fold(zero, |(mut s1, mut s2, mut sh), (k, &i)| -> Result<_> {
            let mut s = AlignScratch::default();
            let (p, d) = aligned(i, &mut s, None)?;
            for (j, &v) in p.data.iter().enumerate() {
                s1[j] += v as f64;
                s2[j] += (v as f64) * (v as f64);
            }
            sh.push((k, d));
            tick();
            Ok((s1, s2, sh))
        })
        .try_reduce(zero, |(mut a1, mut a2, mut ash), (b1, b2, bsh)| {
            a1.iter_mut().zip(&b1).for_each(|(a, b)| *a += b);
            a2.iter_mut().zip(&b2).for_each(|(a, b)| *a += b);
            ash.extend(bsh);
            Ok((a1, a2, ash))
        })?;
    shifts.sort_by_key(|(k, _)| *k);
    let shifts: Vec<(f32, f32)> = shifts.into_iter().map(|(_, d)| d).collect();
    let nf = n as f64;
    let mean: Vec<f64> = sum.iter().map(|v| v / nf).collect();

    let data: Vec<f32> = match cfg.method {
        StackMethod::Mean => mean.iter().map(|&v| v as f32).collect(),
        StackMethod::SigmaClip { kappa } => {
            let sd: Vec<f64> = sumsq.iter().zip(&mean).map(|(q, m)| (q / nf - m * m).max(0.0).sqrt()).collect();
            let zero = || (vec![0f64; c * w * h], vec![0u32; c * w * h]);
            let (ksum, kcnt) = frames
                .par_iter()
                .zip(shifts.par_iter())
                .try_fold(zero, |(mut ks, mut kc), (&i, &d)| -> Result<_> {
                    let mut s = AlignScratch::default();
                    let (p, _) = aligned(i, &mut s, Some(d))?;
                    for (j, &v) in p.data.iter().enumerate() {
                        if ((v as f64) - mean[j]).abs() <= kappa as f64 * sd[j] + 1e-9 {
                            ks[j] += v as f64;
                            kc[j] += 1;
                        }
                    }
                    tick();
                    Ok((ks, kc))
                })
                .try_reduce(zero, |(mut a, mut ac), (b, bc)| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    ac.iter_mut().zip(&bc).for_each(|(x, y)| *x += y);
                    Ok((a, ac))
                })?;
            ksum.iter()
                .zip(&kcnt)
                .zip(&mean)
                .map(|((s, &k), &m)| if k > 0 { (s / k as f64) as f32 } else { m as f32 })
                .collect()
        }
    };
    let mut image = Planes::from_vec(c, h, w, data)?;
    image.clamp01();
    image.bit_depth = 16;
    Ok(StackResult { image, frames, shifts })
}

/// Largest unsharp-mask σ (pixels) accepted by [`check_unsharp`]; the kernel is `6σ + 1` taps.
pub const MAX_SHARPEN_SIGMA: f32 = 200.0;

/// Check unsharp-mask parameters before anything is allocated: a finite amount ≥ 0 and a finite
/// σ in (0, [`MAX_SHARPEN_SIGMA`]].
pub fn check_unsharp(sigma: f32, amount: f32) -> Result<()> {
    if !(amount.is_finite() && amount >= 0.0) {
        return Err(FrameError::Invalid(format!("--sharpen {amount}: expected a finite amount >= 0")));
    }
    if !(sigma.is_finite() && sigma > 0.0 && sigma <= MAX_SHARPEN_SIGMA) {
        return Err(FrameError::Invalid(format!(
            "--sharpen-sigma {sigma}: expected a finite radius in (0, {MAX_SHARPEN_SIGMA}] pixels"
        )));
    }
    Ok(())
}

/// Unsharp mask (post-processing, not part of the stack): `out = img + amount · (img − blur_σ(img))`, clamped to [0, 1].
///
/// The kernel never exceeds `2·max(width, height) + 1` taps whatever σ is (a wider one cannot
/// change the result more and once asked for 24 GB); callers validate with [`check_unsharp`].
pub fn unsharp_mask(img: &Planes, sigma: f32, amount: f32) -> Planes {
    let sigma = if sigma.is_finite() { sigma.max(0.1) } else { 0.1 };
    let cap = 2 * img.width.max(img.height) + 1;
    let half = ((sigma as f64 * 3.0).ceil()).min(cap as f64) as usize;
    let size = (half * 2 + 1).clamp(3, cap.max(3));
    let k = gaussian_kernel(size, sigma);
    let mut out = img.clone();
    let (mut tmp, mut blur) = (Vec::new(), Vec::new());
    for c in 0..img.channels {
        separable_into(img.plane(c), img.width, img.height, &k, &mut tmp, &mut blur);
        for (o, (&v, &b)) in out.plane_mut(c).iter_mut().zip(img.plane(c).iter().zip(&blur)) {
            *o = (v + amount * (v - b)).clamp(0.0, 1.0);
        }
    }
    out
}
