//! Residual shift between two images of the same sky: phase correlation on luminance (rustfft),
//! with a sub-pixel parabolic refinement of the correlation peak.

use rustfft::num_complex::Complex32;

use crate::sky_image::Planes;

/// Measured translation of `moving` relative to `reference`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shift {
    /// Shift along x (pixels of the compared images; positive: `moving` content lies to the right).
    pub dx: f64,
    /// Shift along y (pixels; positive: `moving` content lies lower).
    pub dy: f64,
    /// Height of the normalised correlation peak (1 for identical images, ~0 for unrelated ones).
    pub peak: f64,
}

impl Shift {
    /// Length of the shift in pixels.
    pub fn magnitude(&self) -> f64 {
        self.dx.hypot(self.dy)
    }
}

/// Luminance plane (BT.601 for RGB), NaN → 0.
pub fn luminance(img: &Planes) -> Vec<f32> {
    let n = img.pixels();
    let clean = |v: f32| if v.is_nan() { 0.0 } else { v };
    if img.channels == 1 {
        return img.data.iter().map(|&v| clean(v)).collect();
    }
    (0..n)
        .map(|i| astro_image::luma::bt601(clean(img.data[i]), clean(img.data[n + i]), clean(img.data[2 * n + i])))
        .collect()
}

/// Box-average a plane by an integer factor (for speed on large images).
fn bin(plane: &[f32], w: usize, h: usize, f: usize) -> (Vec<f32>, usize, usize) {
    if f <= 1 {
        return (plane.to_vec(), w, h);
    }
    let (bw, bh) = (w / f, h / f);
    let mut out = vec![0f32; bw * bh];
    for y in 0..bh * f {
        for x in 0..bw * f {
            out[(y / f) * bw + x / f] += plane[y * w + x];
        }
    }
    let norm = 1.0 / (f * f) as f32;
    out.iter_mut().for_each(|v| *v *= norm);
    (out, bw, bh)
}

/// Phase-correlation shift of `moving` against `reference` (same size). Images are binned so the
/// working size is at most `max_work` pixels a side; the result is in the input's pixels.
pub fn phase_correlation(reference: &Planes, moving: &Planes, max_work: usize) -> Option<Shift> {
    if (reference.width, reference.height) != (moving.width, moving.height) || reference.pixels() == 0 {
        return None;
    }
    let (w, h) = (reference.width, reference.height);
    let f = w.max(h).div_ceil(max_work.max(16)).max(1);
    let (a, bw, bh) = bin(&luminance(reference), w, h, f);
    let (b, _, _) = bin(&luminance(moving), w, h, f);
    if bw < 8 || bh < 8 {
        return None;
    }
    let fft = astro_image::fft::Fft2::new(bw, bh);
    let mut tmp = Vec::new();
    let mut spectrum = |p: &[f32]| -> Vec<Complex32> {
        let mean = p.iter().map(|&v| v as f64).sum::<f64>() / p.len() as f64;
        let mut buf: Vec<Complex32> = Vec::with_capacity(p.len());
        for y in 0..bh {
            let wy = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * y as f64 / (bh - 1) as f64).cos();
            for x in 0..bw {
                let wx = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * x as f64 / (bw - 1) as f64).cos();
                buf.push(Complex32::new(((p[y * bw + x] as f64 - mean) * wx * wy) as f32, 0.0));
            }
        }
        fft.forward(&mut buf, &mut tmp);
        buf
    };
    let (fa, fb) = (spectrum(&a), spectrum(&b));
    let mut cross: Vec<Complex32> = fa
        .iter()
        .zip(&fb)
        .map(|(x, y)| {
            let c = y * x.conj();
            let m = c.norm();
            if m > 1e-30 { c / m } else { Complex32::new(0.0, 0.0) }
        })
        .collect();
    // The inverse is normalised by 1/(w·h), as the correlation peak is reported.
    fft.inverse(&mut cross, &mut tmp);
    let corr: Vec<f64> = cross.iter().map(|c| c.re as f64).collect();
    let (imax, &peak) = corr.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let (px, py) = (imax % bw, imax / bw);
    let at = |x: isize, y: isize| corr[(y.rem_euclid(bh as isize) as usize) * bw + x.rem_euclid(bw as isize) as usize];
    let refine = |m: f64, c: f64, p: f64| {
        let d = m - 2.0 * c + p;
        if d.abs() > 1e-12 { (0.5 * (m - p) / d).clamp(-0.5, 0.5) } else { 0.0 }
    };
    let (xi, yi) = (px as isize, py as isize);
    let sx = refine(at(xi - 1, yi), peak, at(xi + 1, yi));
    let sy = refine(at(xi, yi - 1), peak, at(xi, yi + 1));
    let wrap = |v: f64, n: usize| if v > n as f64 / 2.0 { v - n as f64 } else { v };
    let dx = wrap(px as f64 + sx, bw) * f as f64;
    let dy = wrap(py as f64 + sy, bh) * f as f64;
    Some(Shift { dx, dy, peak })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A star field with Gaussian stars; `(ox, oy)` shifts the whole field.
    fn stars(w: usize, h: usize, ox: f64, oy: f64) -> Planes {
        let mut img = Planes::no_data(1, h, w);
        img.data.iter_mut().for_each(|v| *v = 0.05);
        let mut s = 12345u64;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..80 {
            let (cx, cy, a) = (rnd() * w as f64 + ox, rnd() * h as f64 + oy, 0.3 + 0.6 * rnd());
            for y in 0..h {
                for x in 0..w {
                    let d2 = (x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2);
                    img.data[y * w + x] += (a * (-d2 / 4.5).exp()) as f32;
                }
            }
        }
        img
    }

    #[test]
    fn recovers_known_subpixel_shifts() {
        let reference = stars(128, 96, 0.0, 0.0);
        for (ox, oy) in [(0.0, 0.0), (3.0, -2.0), (-5.4, 1.3), (0.6, 7.2)] {
            let moved = stars(128, 96, ox, oy);
            let s = phase_correlation(&reference, &moved, 512).unwrap();
            assert!((s.dx - ox).abs() < 0.35 && (s.dy - oy).abs() < 0.35, "injected ({ox},{oy}) measured {s:?}");
            assert!(s.peak > 0.2, "{s:?}");
        }
        // Binning keeps the answer in input pixels.
        let moved = stars(128, 96, 8.0, -4.0);
        let s = phase_correlation(&reference, &moved, 64).unwrap();
        assert!((s.dx - 8.0).abs() < 1.0 && (s.dy + 4.0).abs() < 1.0, "{s:?}");
    }
}
