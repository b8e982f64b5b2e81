//! Residual shift between two images of the same sky: phase correlation on binned luminance
//! (`astro_image::registration`, the workspace's one phase correlation).

use astro_image::registration::{AlignScratch, PhaseCorrelator};

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
    let mut out = Vec::new();
    let (bw, bh) = astro_image::resize::bin_mean_into(plane, w, h, w, f, &mut out);
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
    let pc = PhaseCorrelator::new(&a, bw, bh);
    // The correlator answers the shift that moves `moving` back onto the reference.
    let (sx, sy, peak) = pc.shift_refined(&b, &mut AlignScratch::default());
    if !(sx.is_finite() && sy.is_finite()) {
        return None;
    }
    Some(Shift { dx: -sx as f64 * f as f64, dy: -sy as f64 * f as f64, peak: peak as f64 })
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
