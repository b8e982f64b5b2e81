//! Point-source detection: the background-subtracted luma convolved with a Gaussian close to the
//! stars' own profile (the matched filter of DAOFIND), then local maxima of that image at least
//! `k σ` of its own noise above zero, brightest first.

use crate::background::{Background, mad_sigma};

/// Most stars kept per image (the brightest): bounds time and memory on dense clusters.
pub const MAX_STARS: usize = 50_000;
/// Half side of the local-maximum window (5×5): closer pairs are one source at this resolution.
const PEAK_RADIUS: isize = 2;

/// A detected peak of the matched-filtered image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Column of the peak pixel.
    pub x: usize,
    /// Row of the peak pixel.
    pub y: usize,
    /// Filtered value over the filtered image's noise σ.
    pub snr: f32,
}

/// Separable Gaussian blur of σ `sigma` px of a plane (NaN counts as 0), edges clamped.
pub fn gaussian_blur(plane: &[f32], width: usize, height: usize, sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as usize;
    let k: Vec<f32> = astro_image::kernel::gaussian_1d(2 * r + 1, sigma as f64).into_iter().map(|v| v as f32).collect();
    let at = |v: f32| if v.is_finite() { v } else { 0.0 };
    let mut tmp = vec![0.0f32; width * height];
    for y in 0..height {
        let row = &plane[y * width..(y + 1) * width];
        for x in 0..width {
            let mut s = 0.0;
            for (t, kv) in k.iter().enumerate() {
                let xx = (x + t).saturating_sub(r).min(width - 1);
                s += kv * at(row[xx]);
            }
            tmp[y * width + x] = s;
        }
    }
    let mut out = vec![0.0f32; width * height];
    for y in 0..height {
        for (t, kv) in k.iter().enumerate() {
            let yy = (y + t).saturating_sub(r).min(height - 1);
            let (src, dst) = (&tmp[yy * width..(yy + 1) * width], &mut out[y * width..(y + 1) * width]);
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += kv * s);
        }
    }
    out
}

/// Peaks of `luma` (minus `bg`) filtered with a Gaussian of σ `sigma_kernel` px, at least
/// `threshold` σ of the filtered noise; sorted brightest first, at most [`MAX_STARS`].
pub fn find_peaks(luma: &[f32], bg: &Background, sigma_kernel: f32, threshold: f32) -> Vec<Peak> {
    let (w, h) = (bg.width, bg.height);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let sub: Vec<f32> = luma.iter().zip(&bg.level).map(|(v, b)| if v.is_finite() { v - b } else { 0.0 }).collect();
    let f = gaussian_blur(&sub, w, h, sigma_kernel);
    // The filtered image's noise: its MAD, unless dense stars inflate that beyond twice what
    // white pixel noise through the filter gives (correlated survey noise sits in between).
    let gain = {
        let r = (3.0 * sigma_kernel).ceil() as usize;
        let k = astro_image::kernel::gaussian_1d(2 * r + 1, sigma_kernel as f64);
        k.iter().map(|v| v * v).sum::<f64>() as f32
    };
    let white = bg.sigma * gain;
    let noise = mad_sigma(&f).min(2.0 * white).max(1e-7);
    let cut = threshold * noise;
    let mut peaks = Vec::new();
    let (wi, hi) = (w as isize, h as isize);
    for y in 0..hi {
        for x in 0..wi {
            let i = (y * wi + x) as usize;
            let v = f[i];
            if v < cut || !luma[i].is_finite() {
                continue;
            }
            let mut is_max = true;
            'win: for dy in -PEAK_RADIUS..=PEAK_RADIUS {
                for dx in -PEAK_RADIUS..=PEAK_RADIUS {
                    let (yy, xx) = (y + dy, x + dx);
                    if (dx == 0 && dy == 0) || yy < 0 || xx < 0 || yy >= hi || xx >= wi {
                        continue;
                    }
                    let j = (yy * wi + xx) as usize;
                    if f[j] > v || (f[j] == v && j < i) {
                        is_max = false;
                        break 'win;
                    }
                }
            }
            if is_max {
                peaks.push(Peak { x: x as usize, y: y as usize, snr: v / noise });
            }
        }
    }
    peaks.sort_by(|a, b| b.snr.total_cmp(&a.snr));
    peaks.truncate(MAX_STARS);
    peaks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_the_sum_and_finds_the_two_stars_not_the_noise() {
        let (w, h) = (64, 64);
        let mut img = vec![0.0f32; w * h];
        let mut state = 12345u32;
        for (i, v) in img.iter_mut().enumerate() {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            *v = 0.05 + 0.01 * ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 3.46;
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            for (sx, sy, a) in [(20.0, 20.0, 0.3), (45.0, 30.0, 0.08)] {
                *v += a * (-((x - sx) * (x - sx) + (y - sy) * (y - sy)) / 3.0).exp();
            }
        }
        let b = gaussian_blur(&img, w, h, 1.2);
        let (s0, s1): (f32, f32) = (img.iter().sum(), b.iter().sum());
        assert!((s0 - s1).abs() / s0 < 0.01);
        let bg = Background::estimate(&img, w, h);
        let p = find_peaks(&img, &bg, 1.2, 5.0);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!((p[0].x, p[0].y), (20, 20));
        assert_eq!((p[1].x, p[1].y), (45, 30));
    }
}
