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

/// The matched-filtered image and its noise σ per pixel.
#[derive(Debug, Clone)]
pub struct Filtered {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// Background-subtracted luma convolved with the matched filter.
    pub values: Vec<f32>,
    /// Noise σ of `values` per mesh cell (`MESH` px), at least the image's global σ: on a galaxy's
    /// body or a nebula, grain and photon noise are higher than on the sky, and a global σ
    /// would call them stars.
    pub cell_noise: Vec<f32>,
}

/// Side of the noise cells (px).
const MESH: usize = crate::background::MESH;

impl Filtered {
    /// Filter `luma` − `bg` with a Gaussian of σ `sigma_kernel` px and measure its noise.
    pub fn new(luma: &[f32], bg: &Background, sigma_kernel: f32) -> Filtered {
        let (w, h) = (bg.width, bg.height);
        let sub: Vec<f32> = luma.iter().zip(&bg.level).map(|(v, b)| if v.is_finite() { v - b } else { 0.0 }).collect();
        let values = gaussian_blur(&sub, w, h, sigma_kernel);
        // Global noise: the filtered image's MAD, unless dense stars inflate that beyond twice
        // what white pixel noise through the filter gives.
        let gain = {
            let r = (3.0 * sigma_kernel).ceil() as usize;
            let k = astro_image::kernel::gaussian_1d(2 * r + 1, sigma_kernel as f64);
            k.iter().map(|v| v * v).sum::<f64>() as f32
        };
        // No image is quieter than 8-bit quantisation (σ = 1/(255·√12) per pixel).
        let floor = gain / (255.0 * 12f32.sqrt());
        let global = mad_sigma(&values).min(2.0 * bg.sigma * gain).max(floor);
        let (mx, my) = (w.div_ceil(MESH).max(1), h.div_ceil(MESH).max(1));
        let mut cell_noise = vec![global; mx * my];
        let mut buf = Vec::with_capacity(MESH * MESH);
        for j in 0..my {
            for i in 0..mx {
                buf.clear();
                for y in j * MESH..((j + 1) * MESH).min(h) {
                    buf.extend_from_slice(&values[y * w + i * MESH..y * w + ((i + 1) * MESH).min(w)]);
                }
                cell_noise[j * mx + i] = lower_sigma(&mut buf).max(global);
            }
        }
        Filtered { width: w, height: h, values, cell_noise }
    }

    /// Noise σ at pixel (x, y).
    pub fn noise_at(&self, x: usize, y: usize) -> f32 {
        let mx = self.width.div_ceil(MESH).max(1);
        self.cell_noise[(y / MESH) * mx + x / MESH]
    }

    /// Local maxima (5×5) at least `threshold` σ above zero, brightest first, at most [`MAX_STARS`].
    pub fn peaks(&self, threshold: f32, valid: &dyn Fn(usize) -> bool) -> Vec<Peak> {
        let (w, h) = (self.width, self.height);
        let f = &self.values;
        let mut peaks = Vec::new();
        let (wi, hi) = (w as isize, h as isize);
        for y in 0..hi {
            for x in 0..wi {
                let i = (y * wi + x) as usize;
                let v = f[i];
                let noise = self.noise_at(x as usize, y as usize);
                if v < threshold * noise || !valid(i) {
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
}

/// σ from the lower half of a distribution (median − 15.9th percentile): stars only add to the
/// upper half, so even a cell crowded with stars gives the noise between them.
fn lower_sigma(v: &mut [f32]) -> f32 {
    if v.len() < 8 {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    v[v.len() / 2] - v[(v.len() as f32 * 0.1587) as usize]
}

/// Peaks of `luma` (minus `bg`) filtered with a Gaussian of σ `sigma_kernel` px, at least
/// `threshold` σ of the filtered noise (local where the image is noisier); sorted brightest
/// first, at most [`MAX_STARS`].
pub fn find_peaks(luma: &[f32], bg: &Background, sigma_kernel: f32, threshold: f32) -> Vec<Peak> {
    if bg.width == 0 || bg.height == 0 {
        return Vec::new();
    }
    Filtered::new(luma, bg, sigma_kernel).peaks(threshold, &|i| luma[i].is_finite())
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
