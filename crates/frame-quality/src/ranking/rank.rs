//! Scoring and ranking whole inputs in parallel, streaming frames (memory independent of frame count).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{FrameError, Result};
use crate::io::{DecodeScratch, FrameSource};
use crate::pixels::ImageView;
use crate::pixels::Scratch;
use crate::ranking::bandpass::{BandMeasure, BandpassScorer, RULE_LEVELS};
use crate::ranking::metrics::{DiscLaplaceParams, Metric, detect_disc_binned, disc_laplace_prebinned};

/// How a metric is applied to a frame: over the whole frame, or on the planet disc with a border penalty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scorer {
    /// The quality metric.
    pub metric: Metric,
    /// Evaluate on the detected disc's box (plus a margin) instead of the whole frame.
    pub disc: bool,
    /// Factor applied when the disc touches the frame border (only with `disc`).
    pub border_penalty: f32,
}

impl Scorer {
    /// A scorer for `metric`; the default metric handles the disc itself, the others run on the whole frame
    /// (as PIPP/PSS do) unless [`Scorer::on_disc`] is called.
    pub fn new(metric: Metric) -> Scorer {
        Scorer { metric, disc: false, border_penalty: 0.1 }
    }

    /// Restrict the metric to the planet disc and penalise half-cut discs.
    pub fn on_disc(mut self) -> Scorer {
        self.disc = !matches!(self.metric, Metric::DiscLaplace | Metric::Bandpass);
        self
    }

    /// Score one mono frame in [0, 1]; always finite, 0 for frames with no signal.
    pub fn score(&self, img: ImageView<'_>, s: &mut Scratch) -> f32 {
        let v = if self.disc {
            match detect_disc_binned(img, s) {
                None => 0.0,
                Some(d) => {
                    let margin = (d.radius * 0.15) as usize + 8;
                    let (x, y, w, h) = d.region(margin, img.width, img.height);
                    let q = self.metric.score(img.crop(x, y, w, h), s);
                    if d.touches_border { q * self.border_penalty } else { q }
                }
            }
        } else {
            self.metric.score(img, s)
        };
        if v.is_finite() { v } else { 0.0 }
    }
}

/// Score every frame of `source` in parallel (rayon), one frame buffer per worker thread.
///
/// `progress` is called with the number of frames done so far (from worker threads). A frame that
/// cannot be decoded aborts with its error (naming the frame).
pub fn score_source(source: &dyn FrameSource, scorer: &Scorer, progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f32>> {
    if scorer.metric == Metric::Bandpass && !scorer.disc {
        // Measure every frame, then choose the bands from the video's own noise (one decoding pass).
        let measures = measure_source(source, progress)?;
        return Ok(BandpassScorer::scores(&measures));
    }
    let (w, h) = source.dims();
    let done = AtomicUsize::new(0);
    (0..source.len())
        .into_par_iter()
        .map_init(
            || (Vec::<f32>::with_capacity(w * h), DecodeScratch::default(), Scratch::default()),
            |(buf, dec, scratch), i| {
                let q = if scorer.metric == Metric::DiscLaplace && !scorer.disc {
                    // Fast path: bin 2×2 while decoding (the default metric starts by binning anyway).
                    let (bw, bh) = source.read_luma_binned2_into(i, buf, dec)?;
                    let p = DiscLaplaceParams { border_penalty: scorer.border_penalty, ..DiscLaplaceParams::default() };
                    disc_laplace_prebinned(ImageView::new(buf, bw, bh), p, scratch)
                } else {
                    source.read_luma_into(i, buf, dec)?;
                    scorer.score(ImageView::new(buf, w, h), scratch)
                };
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(64) || n == source.len() {
                    progress(n);
                }
                Ok(q)
            },
        )
        .collect()
}

/// [`crate::ranking::bandpass::measure`] of every frame of `source`, in parallel, in one pass, computing
/// the two finest band energies (all the per-video rule can read; the coarsest band is only for
/// studies such as the `bandpass_search` example).
pub fn measure_source(source: &dyn FrameSource, progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<BandMeasure>> {
    let (w, h) = source.dims();
    let n = source.len();
    let done = AtomicUsize::new(0);
    (0..n)
        .into_par_iter()
        .map_init(
            || (Vec::<f32>::with_capacity(w * h / 4), Vec::<f32>::new(), DecodeScratch::default(), Scratch::default()),
            |(buf, noise, dec, scratch), i| {
                let m = if source.reads_block_noise() {
                    // SER: decode and bin in one pass, then read the noise over the disc box only.
                    let (bw, bh) = source.read_luma_binned2_into(i, buf, dec)?;
                    let mut failed = None;
                    let m = crate::ranking::bandpass::measure_binned_with(
                        buf,
                        bw,
                        bh,
                        RULE_LEVELS,
                        scratch,
                        |x, y, w, h| {
                            source.block_noise_var(i, x, y, w, h).unwrap_or_else(|e| {
                                failed = Some(e);
                                0.0
                            })
                        },
                    );
                    if let Some(e) = failed {
                        return Err(e);
                    }
                    m
                } else {
                    let (bw, bh) = source.read_luma_binned2_noise_into(i, buf, noise, dec)?;
                    crate::ranking::bandpass::measure_binned_levels(buf, noise, bw, bh, RULE_LEVELS, scratch)
                };
                let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                if k.is_multiple_of(64) || k == n {
                    progress(k);
                }
                Ok(m)
            },
        )
        .collect()
}

/// 1-based ranks (1 = best = highest score); ties keep input order.
pub fn ranks(scores: &[f32]) -> Vec<usize> {
    let order = order_best_first(scores);
    let mut r = vec![0; scores.len()];
    for (k, &i) in order.iter().enumerate() {
        r[i] = k + 1;
    }
    r
}

/// Frame indices sorted best first (highest score first; NaN, which scorers never produce, sorts last).
pub fn order_best_first(scores: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        let x = if x.is_nan() { f32::NEG_INFINITY } else { x };
        let y = if y.is_nan() { f32::NEG_INFINITY } else { y };
        y.total_cmp(&x).then(a.cmp(&b))
    });
    idx
}

/// How many frames to keep: a percentage of the input or a count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    /// This percentage (0–100] of the frames, at least one.
    Percent(f32),
    /// This many frames (capped at the input length).
    Count(usize),
}

impl Selection {
    /// Number of frames selected out of `n`.
    pub fn count(self, n: usize) -> usize {
        match self {
            Selection::Percent(p) => (((p as f64 / 100.0) * n as f64).round() as usize).clamp(1, n.max(1)),
            Selection::Count(c) => c.clamp(1, n.max(1)),
        }
        .min(n)
    }
}

impl std::str::FromStr for Selection {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Selection> {
        let bad = || FrameError::Invalid(format!("'{s}': expected a percentage like 10% or a frame count like 200"));
        if let Some(p) = s.strip_suffix('%') {
            let p: f32 = p.trim().parse().map_err(|_| bad())?;
            if !(p > 0.0 && p <= 100.0) {
                return Err(FrameError::Invalid(format!("'{s}': percentage must be in (0, 100]")));
            }
            Ok(Selection::Percent(p))
        } else {
            let c: usize = s.trim().parse().map_err(|_| bad())?;
            if c == 0 {
                return Err(FrameError::Invalid(format!("'{s}': frame count must be at least 1")));
            }
            Ok(Selection::Count(c))
        }
    }
}

/// Write `frame,score,rank` CSV atomically (frame = 0-based input index, rank 1 = best).
pub fn write_scores_csv(path: &Path, scores: &[f32]) -> Result<()> {
    let r = ranks(scores);
    let mut out = Vec::with_capacity(scores.len() * 24);
    writeln!(out, "frame,score,rank").ok();
    for (i, (s, rk)) in scores.iter().zip(&r).enumerate() {
        let s = if s.is_finite() { *s } else { 0.0 };
        writeln!(out, "{i},{s:.6e},{rk}").ok();
    }
    astro_image::image_io::write_atomic(path, &out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_put_best_first_and_handle_ties() {
        assert_eq!(ranks(&[0.1, 0.9, 0.5, 0.9]), [4, 1, 3, 2]);
        assert_eq!(order_best_first(&[f32::NAN, 1.0]), [1, 0]);
    }

    #[test]
    fn binned_fast_path_matches_the_full_resolution_metric() {
        use crate::io::{ColorId, SerHeader, SerWriter};
        let dir = tempfile::tempdir().unwrap();
        for depth in [8, 12] {
            let path = dir.path().join(format!("d{depth}.ser"));
            let (w, h) = (61, 47);
            let mut wr = SerWriter::create(&path, SerHeader::new(w, h, ColorId::Mono, depth)).unwrap();
            for f in 0..3 {
                let mut p = astro_image::Planes::zeros(1, h, w);
                for y in 0..h {
                    for x in 0..w {
                        let r = ((x as f32 - 30.0).powi(2) + (y as f32 - 23.0).powi(2)).sqrt();
                        p.data[y * w + x] = if r < 15.0 {
                            0.5 + 0.3 * ((x * (f + 1)) as f32 * 0.7).sin() * (y as f32 * 0.4).cos()
                        } else {
                            0.02
                        };
                    }
                }
                wr.write_planes(&p).unwrap();
            }
            wr.finish().unwrap();
            let ser = crate::io::SerReader::open(&path).unwrap();
            let fast = score_source(&ser, &Scorer::new(Metric::DiscLaplace), &|_| {}).unwrap();
            let mut s = Scratch::default();
            for (i, q) in fast.iter().enumerate() {
                let p = ser.read_planes(i).unwrap();
                let slow = Metric::DiscLaplace.score(ImageView::new(&p.data, w, h), &mut s);
                assert!(*q > 0.0 && (q - slow).abs() <= 1e-4 * slow, "depth {depth} frame {i}: {q} vs {slow}");
            }
        }
    }

    #[test]
    fn selection_parses_and_counts() {
        assert_eq!("10%".parse::<Selection>().unwrap().count(300), 30);
        assert_eq!("0.1%".parse::<Selection>().unwrap().count(300), 1);
        assert_eq!("500".parse::<Selection>().unwrap().count(300), 300);
        assert!("0%".parse::<Selection>().is_err());
        assert!("abc".parse::<Selection>().is_err());
        assert!("0".parse::<Selection>().is_err());
    }
}
