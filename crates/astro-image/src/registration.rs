//! Image registration by phase correlation, the one home of it: a windowed (Hann), whitened
//! cross-power spectrum with a magnitude floor, a sub-pixel parabolic peak, and one refinement
//! pass; plus bilinear sub-pixel shifting. Frame alignment (frame-quality) and survey-cutout
//! checks (hips-client) both measure shifts with [`PhaseCorrelator`].

use rustfft::num_complex::Complex32;

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
}
