//! Global alignment by phase correlation (sub-pixel), image shifting, and optional multi-point
//! (alignment-box) local shifts.

use rustfft::num_complex::Complex32;

use crate::error::{FrameError, Result};
use crate::fft::Fft2;

/// Reusable buffers for [`PhaseCorrelator::shift`].
#[derive(Debug, Default)]
pub struct AlignScratch {
    buf: Vec<Complex32>,
    tmp: Vec<Complex32>,
}

/// Phase correlation against a fixed reference (its windowed spectrum is computed once).
#[derive(Debug, Clone)]
pub struct PhaseCorrelator {
    fft: Fft2,
    window: Vec<f32>,
    ref_spec: Vec<Complex32>,
}

impl PhaseCorrelator {
    /// Prepare for `width × height` frames against `reference` (mono, packed).
    pub fn new(reference: &[f32], width: usize, height: usize) -> PhaseCorrelator {
        let fft = Fft2::new(width, height);
        let hann = |i: usize, n: usize| 0.5 - 0.5 * (std::f32::consts::TAU * (i as f32 + 0.5) / n as f32).cos();
        let window: Vec<f32> = (0..width * height).map(|i| hann(i % width, width) * hann(i / width, height)).collect();
        let mut pc = PhaseCorrelator { fft, window, ref_spec: Vec::new() };
        let mut s = AlignScratch::default();
        pc.spectrum(reference, &mut s);
        pc.ref_spec = std::mem::take(&mut s.buf);
        pc
    }

    fn spectrum(&self, img: &[f32], s: &mut AlignScratch) {
        let mean = img.iter().sum::<f32>() / img.len().max(1) as f32;
        s.buf.clear();
        s.buf.extend(img.iter().zip(&self.window).map(|(&v, &w)| Complex32::new((v - mean) * w, 0.0)));
        self.fft.forward(&mut s.buf, &mut s.tmp);
    }

    /// The shift (dx, dy) that moves `frame` onto the reference (apply with [`shift_image`]),
    /// and the correlation peak height (0–1; low means no reliable match).
    pub fn shift(&self, frame: &[f32], s: &mut AlignScratch) -> (f32, f32, f32) {
        let (w, h) = (self.fft.width, self.fft.height);
        self.spectrum(frame, s);
        // Cross-power spectrum, whitened with a floor (10% of the mean magnitude) so that weak,
        // window-leakage bins do not vote for a zero shift.
        let mut mean_mag = 0f32;
        for (f, r) in s.buf.iter_mut().zip(&self.ref_spec) {
            *f = *r * f.conj();
            mean_mag += f.norm();
        }
        let eps = 0.1 * mean_mag / s.buf.len().max(1) as f32 + 1e-20;
        let mut ideal = 0f32;
        for f in s.buf.iter_mut() {
            let m = f.norm();
            *f /= m + eps;
            ideal += m / (m + eps);
        }
        // Height of the correlation peak for a perfect match (the inverse FFT divides by N).
        let ideal = (ideal / s.buf.len().max(1) as f32).max(1e-20);
        self.fft.inverse(&mut s.buf, &mut s.tmp);
        let (mut best, mut bi) = (f32::NEG_INFINITY, 0usize);
        for (i, c) in s.buf.iter().enumerate() {
            if c.re > best {
                best = c.re;
                bi = i;
            }
        }
        let (px, py) = (bi % w, bi / w);
        let at =
            |x: isize, y: isize| s.buf[(y.rem_euclid(h as isize) as usize) * w + x.rem_euclid(w as isize) as usize].re;
        let parabola = |m: f32, c: f32, p: f32| {
            let d = m - 2.0 * c + p;
            if d.abs() < 1e-12 { 0.0 } else { (0.5 * (m - p) / d).clamp(-0.5, 0.5) }
        };
        let (xi, yi) = (px as isize, py as isize);
        let fx = parabola(at(xi - 1, yi), best, at(xi + 1, yi));
        let fy = parabola(at(xi, yi - 1), best, at(xi, yi + 1));
        let sx = if px > w / 2 { px as f32 - w as f32 } else { px as f32 } + fx;
        let sy = if py > h / 2 { py as f32 - h as f32 } else { py as f32 } + fy;
        (sx, sy, best / ideal)
    }
}

impl PhaseCorrelator {
    /// [`PhaseCorrelator::shift`] refined once: shift the frame by the first estimate and add the
    /// residual, which removes the bias the apodising window puts on shifts of textured patches.
    pub fn shift_refined(&self, frame: &[f32], s: &mut AlignScratch) -> (f32, f32, f32) {
        let (dx, dy, peak) = self.shift(frame, s);
        let (w, h) = (self.fft.width, self.fft.height);
        let mut moved = Vec::with_capacity(w * h);
        shift_image(frame, w, h, dx, dy, &mut moved);
        let (rx, ry, peak2) = self.shift(&moved, s);
        if rx.abs() > 2.0 || ry.abs() > 2.0 { (dx, dy, peak) } else { (dx + rx, dy + ry, peak2.max(peak)) }
    }
}

/// Shift a packed plane by (dx, dy) with bilinear interpolation (out-of-frame samples clamp to the edge).
pub fn shift_image(src: &[f32], w: usize, h: usize, dx: f32, dy: f32, out: &mut Vec<f32>) {
    out.clear();
    out.resize(w * h, 0.0);
    for y in 0..h {
        let sy = (y as f32 - dy).clamp(0.0, (h - 1) as f32);
        let y0 = sy.floor() as usize;
        let y1 = (y0 + 1).min(h - 1);
        let fy = sy - y0 as f32;
        for x in 0..w {
            let sx = (x as f32 - dx).clamp(0.0, (w - 1) as f32);
            let x0 = sx.floor() as usize;
            let x1 = (x0 + 1).min(w - 1);
            let fx = sx - x0 as f32;
            let a = src[y0 * w + x0] * (1.0 - fx) + src[y0 * w + x1] * fx;
            let b = src[y1 * w + x0] * (1.0 - fx) + src[y1 * w + x1] * fx;
            out[y * w + x] = a * (1.0 - fy) + b * fy;
        }
    }
}

/// Multi-point alignment: a grid of boxes with their own residual shifts after global alignment.
#[derive(Debug, Clone)]
pub struct AlignmentBoxes {
    /// Box side in pixels.
    pub size: usize,
    /// Top-left corners of the boxes that have enough structure to align.
    pub boxes: Vec<(usize, usize)>,
    correlators: Vec<PhaseCorrelator>,
}

impl AlignmentBoxes {
    /// Place `size × size` boxes on a half-overlapping grid over the reference, keeping boxes whose
    /// standard deviation is at least `min_std` (sky-only boxes cannot be aligned).
    pub fn new(reference: &[f32], w: usize, h: usize, size: usize, min_std: f32) -> AlignmentBoxes {
        let size = size.max(8).min(w).min(h);
        let step = (size / 2).max(1);
        let mut boxes = Vec::new();
        let mut correlators = Vec::new();
        let mut patch = Vec::with_capacity(size * size);
        let mut y = 0;
        while y + size <= h {
            let mut x = 0;
            while x + size <= w {
                extract(reference, w, x, y, size, &mut patch);
                let m = patch.iter().sum::<f32>() / patch.len() as f32;
                let sd = (patch.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / patch.len() as f32).sqrt();
                if sd >= min_std {
                    boxes.push((x, y));
                    correlators.push(PhaseCorrelator::new(&patch, size, size));
                }
                x += step;
            }
            y += step;
        }
        AlignmentBoxes { size, boxes, correlators }
    }

    /// Boxes of side `size` at the given top-left corners of the reference (no structure test);
    /// every box must lie inside the `w × h` frame and `size` be at least 8 pixels.
    pub fn at(
        reference: &[f32],
        w: usize,
        h: usize,
        size: usize,
        corners: &[(usize, usize)],
    ) -> Result<AlignmentBoxes> {
        if size < 8 || size > w.min(h) {
            return Err(FrameError::Invalid(format!(
                "alignment boxes of {size} px: expected a side from 8 to {} pixels (the frame is {w}x{h})",
                w.min(h)
            )));
        }
        let mut patch = Vec::with_capacity(size * size);
        let mut correlators = Vec::with_capacity(corners.len());
        for &(x, y) in corners {
            if x + size > w || y + size > h {
                return Err(FrameError::Invalid(format!(
                    "alignment box at ({x}, {y}) of {size} px does not fit the {w}x{h} frame"
                )));
            }
            extract(reference, w, x, y, size, &mut patch);
            correlators.push(PhaseCorrelator::new(&patch, size, size));
        }
        Ok(AlignmentBoxes { size, boxes: corners.to_vec(), correlators })
    }

    /// Residual shifts of each box for a globally aligned frame (clamped to ±size/4; unreliable → 0).
    pub fn local_shifts(&self, frame: &[f32], w: usize, s: &mut AlignScratch) -> Vec<(f32, f32)> {
        let mut patch = Vec::with_capacity(self.size * self.size);
        let lim = self.size as f32 / 4.0;
        self.boxes
            .iter()
            .zip(&self.correlators)
            .map(|(&(x, y), pc)| {
                extract(frame, w, x, y, self.size, &mut patch);
                let (dx, dy, peak) = pc.shift_refined(&patch, s);
                if peak < 0.05 || dx.abs() > lim || dy.abs() > lim { (0.0, 0.0) } else { (dx, dy) }
            })
            .collect()
    }

    /// Warp a plane by the box shifts, interpolated per pixel with inverse-distance weights of the box centres.
    pub fn warp(&self, src: &[f32], w: usize, h: usize, shifts: &[(f32, f32)], out: &mut Vec<f32>) {
        out.clear();
        out.resize(w * h, 0.0);
        if self.boxes.is_empty() {
            out.copy_from_slice(src);
            return;
        }
        let half = self.size as f32 / 2.0;
        let centres: Vec<(f32, f32)> = self.boxes.iter().map(|&(x, y)| (x as f32 + half, y as f32 + half)).collect();
        let r2 = (self.size as f32).powi(2);
        for y in 0..h {
            for x in 0..w {
                let (mut sw, mut sx, mut sy) = (0f32, 0f32, 0f32);
                for (c, d) in centres.iter().zip(shifts) {
                    let dd = (x as f32 - c.0).powi(2) + (y as f32 - c.1).powi(2);
                    if dd > 4.0 * r2 {
                        continue;
                    }
                    let wgt = 1.0 / (dd + 0.25 * r2);
                    sw += wgt;
                    sx += wgt * d.0;
                    sy += wgt * d.1;
                }
                let (dx, dy) = if sw > 0.0 { (sx / sw, sy / sw) } else { (0.0, 0.0) };
                let fx = (x as f32 - dx).clamp(0.0, (w - 1) as f32);
                let fy = (y as f32 - dy).clamp(0.0, (h - 1) as f32);
                let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
                let a = src[y0 * w + x0] * (1.0 - ax) + src[y0 * w + x1] * ax;
                let b = src[y1 * w + x0] * (1.0 - ax) + src[y1 * w + x1] * ax;
                out[y * w + x] = a * (1.0 - ay) + b * ay;
            }
        }
    }
}

fn extract(img: &[f32], w: usize, x: usize, y: usize, size: usize, out: &mut Vec<f32>) {
    out.clear();
    for yy in y..y + size {
        out.extend_from_slice(&img[yy * w + x..yy * w + x + size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(w: usize, h: usize, cx: f32, cy: f32) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let r2 = (x - cx).powi(2) + (y - cy).powi(2);
                (-r2 / 50.0).exp() + 0.5 * (-((x - cx - 6.0).powi(2) + (y - cy + 4.0).powi(2)) / 8.0).exp()
            })
            .collect()
    }

    #[test]
    fn phase_correlation_recovers_subpixel_shifts() {
        let (w, h) = (64, 48);
        let reference = blob(w, h, 30.0, 22.0);
        let pc = PhaseCorrelator::new(&reference, w, h);
        let mut s = AlignScratch::default();
        for (tx, ty) in [(3.3f32, -2.6f32), (-7.5, 4.25), (0.0, 0.0)] {
            let frame = blob(w, h, 30.0 - tx, 22.0 - ty);
            let (dx, dy, peak) = pc.shift(&frame, &mut s);
            assert!((dx - tx).abs() < 0.3 && (dy - ty).abs() < 0.3, "want ({tx},{ty}) got ({dx},{dy})");
            assert!(peak > 0.1);
            let mut moved = Vec::new();
            shift_image(&frame, w, h, dx, dy, &mut moved);
            let err: f32 = moved.iter().zip(&reference).map(|(a, b)| (a - b).abs()).sum::<f32>() / (w * h) as f32;
            assert!(err < 0.01, "residual {err}");
        }
    }

    fn texture(w: usize, h: usize, ox: f32, oy: f32) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 + ox, (i / w) as f32 + oy);
                1.0 + (0.37 * x + 0.1 * y).sin() * (0.23 * y - 0.05 * x).cos() + 0.5 * (0.13 * x * 1.3 + 0.07 * y).sin()
            })
            .collect()
    }

    #[test]
    fn boxes_measure_local_shifts() {
        let (w, h) = (96, 96);
        let reference = texture(w, h, 0.0, 0.0);
        let boxes = AlignmentBoxes::new(&reference, w, h, 32, 0.05);
        assert_eq!(boxes.boxes.len(), 25);
        let frame = texture(w, h, 1.0, -0.5);
        let shifts = boxes.local_shifts(&frame, w, &mut AlignScratch::default());
        for s in &shifts {
            assert!((s.0 - 1.0).abs() < 0.3 && (s.1 + 0.5).abs() < 0.3, "{shifts:?}");
        }
        let mut out = Vec::new();
        boxes.warp(&frame, w, h, &shifts, &mut out);
        let inner = |a: &[f32]| -> f32 {
            (8..88)
                .flat_map(|y| (8..88).map(move |x| (x, y)))
                .map(|(x, y)| (a[y * w + x] - reference[y * w + x]).abs())
                .sum()
        };
        assert!(inner(&out) < 0.3 * inner(&frame), "warp {} vs {}", inner(&out), inner(&frame));
    }
}
