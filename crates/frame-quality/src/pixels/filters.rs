//! Image filters the metrics share (block binning, separable convolution, Gaussian kernels,
//! Laplacian energies) and their reusable buffers ([`Scratch`]). Metrics and the band-pass
//! default depend on this module; it depends on neither.

use std::fmt;
use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use crate::pixels::view::ImageView;

/// Reusable per-thread buffers for the metrics (grown on first use, then reused).
#[derive(Default)]
pub struct Scratch {
    pub(crate) a: Vec<f32>,
    pub(crate) b: Vec<f32>,
    pub(crate) c: Vec<f32>,
    pub(crate) d: Vec<f32>,
    pub(crate) e: Vec<f32>,
    pub(crate) f: Vec<f32>,
    pub(crate) g: Vec<f32>,
    pub(crate) fft: Vec<Complex32>,
    pub(crate) fft_tmp: Vec<Complex32>,
    planner: Option<FftPlanner<f32>>,
    plans: Vec<(usize, Arc<dyn Fft<f32>>)>,
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scratch").field("len", &self.a.len()).finish()
    }
}

impl Scratch {
    pub(crate) fn plan(&mut self, n: usize) -> Arc<dyn Fft<f32>> {
        if let Some((_, p)) = self.plans.iter().find(|(m, _)| *m == n) {
            return p.clone();
        }
        let p = self.planner.get_or_insert_with(FftPlanner::new).plan_fft_forward(n);
        self.plans.push((n, p.clone()));
        p
    }
}

/// Mean of non-overlapping `s × s` blocks (the right and bottom remainders are dropped) into `out`
/// (`astro_image::resize::bin_mean_into` on the view).
pub fn bin_into(img: ImageView<'_>, s: usize, out: &mut Vec<f32>) -> (usize, usize) {
    astro_image::resize::bin_mean_into(img.data, img.width, img.height, img.stride, s, out)
}

/// Separable 3×3 box mean (edges clamp) of a packed `w × h` buffer into `out`, via `tmp`.
pub fn box3_into(src: &[f32], w: usize, h: usize, tmp: &mut Vec<f32>, out: &mut Vec<f32>) {
    separable_into(src, w, h, &[1.0 / 3.0; 3], tmp, out);
}

/// Separable convolution with an odd symmetric kernel (edges reflect like OpenCV's BORDER_REFLECT_101).
pub fn separable_into(src: &[f32], w: usize, h: usize, k: &[f32], tmp: &mut Vec<f32>, out: &mut Vec<f32>) {
    let r = k.len() / 2;
    tmp.clear();
    tmp.resize(w * h, 0.0);
    out.clear();
    out.resize(w * h, 0.0);
    if w == 0 || h == 0 {
        return;
    }
    let refl = |i: isize, n: usize| -> usize {
        let n = n as isize;
        if n == 1 {
            return 0;
        }
        let mut i = i;
        if i < 0 {
            i = -i;
        }
        if i >= n {
            i = 2 * (n - 1) - i;
        }
        i.clamp(0, n - 1) as usize
    };
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let o = &mut tmp[y * w..(y + 1) * w];
        for x in 0..w {
            let mut acc = 0.0;
            if x >= r && x + r < w {
                for (j, kv) in k.iter().enumerate() {
                    acc += kv * row[x + j - r];
                }
            } else {
                for (j, kv) in k.iter().enumerate() {
                    acc += kv * row[refl(x as isize + j as isize - r as isize, w)];
                }
            }
            o[x] = acc;
        }
    }
    for y in 0..h {
        let o = &mut out[y * w..(y + 1) * w];
        for (j, kv) in k.iter().enumerate() {
            let yy = refl(y as isize + j as isize - r as isize, h);
            let src_row = &tmp[yy * w..(yy + 1) * w];
            for (o, s) in o.iter_mut().zip(src_row) {
                *o += kv * s;
            }
        }
    }
}

/// Normalised 1-D Gaussian kernel of odd size `n` (`astro_image::kernel`); `sigma ≤ 0` uses
/// OpenCV's default for that size.
pub fn gaussian_kernel(n: usize, sigma: f32) -> Vec<f32> {
    use astro_image::kernel::{gaussian_1d, opencv_sigma};
    let sigma = if sigma > 0.0 { sigma as f64 } else { opencv_sigma(n) };
    gaussian_1d(n, sigma).into_iter().map(|v| v as f32).collect()
}

/// Mean squared 4-neighbour Laplacian of a packed `w × h` image after [1 2 1]²/16 smoothing: the
/// band measure shared by `disc-laplace`, `bandpass` and the picks' regional features.
pub fn smoothed_laplacian_energy(packed: &[f32], w: usize, h: usize, tmp: &mut Vec<f32>, smooth: &mut Vec<f32>) -> f32 {
    separable_into(packed, w, h, &[0.25, 0.5, 0.25], tmp, smooth);
    laplacian_energy(ImageView::new(smooth, w, h))
}

/// Mean squared 4-neighbour Laplacian over the view.
pub fn laplacian_energy(v: ImageView<'_>) -> f32 {
    if v.width < 3 || v.height < 3 {
        return 0.0;
    }
    let mut acc = 0.0f64;
    for y in 1..v.height - 1 {
        acc += laplacian_row_energy(v.row(y - 1), v.row(y), v.row(y + 1), 1, v.width - 1) as f64;
    }
    (acc / ((v.width - 2) * (v.height - 2)) as f64) as f32
}

/// Lanes of the partial sums in the row loops below: eight independent f32 sums let the compiler
/// use SIMD registers (one serial f32 sum cannot be reordered, so it stays scalar).
pub const SUM_LANES: usize = 8;

/// Sum over `x ∈ [x0, x1)` of the squared 4-neighbour Laplacian of row `r` (rows `rm` above and
/// `rp` below, same width; `1 ≤ x0`, `x1 < width`), in [`SUM_LANES`] partial sums.
pub fn laplacian_row_energy(rm: &[f32], r: &[f32], rp: &[f32], x0: usize, x1: usize) -> f32 {
    row_energy::<false>(rm, r, rp, x0, x1, &[])
}

/// [`laplacian_row_energy`] with each squared Laplacian times its weight (`weights[x − x0]`).
pub fn weighted_laplacian_row_energy(rm: &[f32], r: &[f32], rp: &[f32], x0: usize, weights: &[f32]) -> f32 {
    row_energy::<true>(rm, r, rp, x0, x0 + weights.len(), weights)
}

/// The one loop of both row energies; `WEIGHTED` is a constant, so each copy has no branch inside.
fn row_energy<const WEIGHTED: bool>(rm: &[f32], r: &[f32], rp: &[f32], x0: usize, x1: usize, weights: &[f32]) -> f32 {
    if x1 <= x0 {
        return 0.0;
    }
    let n = x1 - x0;
    let (left, mid, right) = (&r[x0 - 1..x1 - 1], &r[x0..x1], &r[x0 + 1..x1 + 1]);
    let (up, down) = (&rm[x0..x1], &rp[x0..x1]);
    let weights = if WEIGHTED { &weights[..n] } else { mid };
    let term = |l: f32, m: f32, rr: f32, u: f32, d: f32, wt: f32| {
        let lap = l + rr + u + d - 4.0 * m;
        if WEIGHTED { lap * lap * wt } else { lap * lap }
    };
    let mut lanes = [0f32; SUM_LANES];
    let body = n - n % SUM_LANES;
    for (((((l, m), rr), u), d), wt) in left[..body]
        .chunks_exact(SUM_LANES)
        .zip(mid[..body].chunks_exact(SUM_LANES))
        .zip(right[..body].chunks_exact(SUM_LANES))
        .zip(up[..body].chunks_exact(SUM_LANES))
        .zip(down[..body].chunks_exact(SUM_LANES))
        .zip(weights[..body].chunks_exact(SUM_LANES))
    {
        for k in 0..SUM_LANES {
            lanes[k] += term(l[k], m[k], rr[k], u[k], d[k], wt[k]);
        }
    }
    let tail: f32 = (body..n).map(|k| term(left[k], mid[k], right[k], up[k], down[k], weights[k])).sum();
    lanes.iter().sum::<f32>() + tail
}

/// Sum of `v` in [`SUM_LANES`] partial sums (vectorises, unlike `iter().sum()` on f32).
pub fn lane_sum(v: &[f32]) -> f32 {
    let mut lanes = [0f32; SUM_LANES];
    let mut chunks = v.chunks_exact(SUM_LANES);
    for c in &mut chunks {
        for k in 0..SUM_LANES {
            lanes[k] += c[k];
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Bin 2×2 into `out` and write each block's squared checkerboard difference
/// `((a − b − c + d)/2)²` into `noise` (`bw × bh`, the noise map).
pub fn bin2_with_noise(img: ImageView<'_>, out: &mut Vec<f32>, noise: &mut Vec<f32>) -> (usize, usize) {
    let (bw, bh) = (img.width / 2, img.height / 2);
    out.clear();
    out.resize(bw * bh, 0.0);
    noise.clear();
    noise.resize(bw * bh, 0.0);
    for by in 0..bh {
        let r0 = &img.row(2 * by)[..2 * bw];
        let r1 = &img.row(2 * by + 1)[..2 * bw];
        let o = &mut out[by * bw..(by + 1) * bw];
        let nz = &mut noise[by * bw..(by + 1) * bw];
        for (((o, n), a), b) in o.iter_mut().zip(nz.iter_mut()).zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
            *o = (a[0] + a[1] + b[0] + b[1]) * 0.25;
            let c = (a[0] - a[1] - b[0] + b[1]) * 0.5;
            *n = c * c;
        }
    }
    (bw, bh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The serial f32 loops the lane versions replaced (one sum, pixel by pixel).
    fn serial_row_energy(rm: &[f32], r: &[f32], rp: &[f32], x0: usize, x1: usize, wt: Option<&[f32]>) -> f32 {
        let mut e = 0f32;
        for x in x0..x1 {
            let l = r[x - 1] + r[x + 1] + rm[x] + rp[x] - 4.0 * r[x];
            e += l * l * wt.map_or(1.0, |w| w[x - x0]);
        }
        e
    }

    #[test]
    fn lane_sums_equal_the_serial_sums_to_float_rounding() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
        for w in [3usize, 4, 9, 10, 17, 64, 203] {
            let rows: Vec<Vec<f32>> = (0..3).map(|_| (0..w).map(|_| rng.random::<f32>()).collect()).collect();
            let wt: Vec<f32> = (0..w).map(|_| rng.random::<f32>() * 3.0).collect();
            for (x0, x1) in [(1, w - 1), (1, 1), (2.min(w - 1), w - 1), (1, (w / 2).max(1))] {
                let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs().max(1e-3);
                let (new, old) = (
                    laplacian_row_energy(&rows[0], &rows[1], &rows[2], x0, x1),
                    serial_row_energy(&rows[0], &rows[1], &rows[2], x0, x1, None),
                );
                assert!(close(new, old), "w {w} [{x0}, {x1}): {new} vs {old}");
                let n = x1.saturating_sub(x0);
                let new = weighted_laplacian_row_energy(&rows[0], &rows[1], &rows[2], x0, &wt[..n]);
                let old = serial_row_energy(&rows[0], &rows[1], &rows[2], x0, x1.max(x0), Some(&wt[..n]));
                assert!(close(new, old), "weighted, w {w} [{x0}, {x1}): {new} vs {old}");
                let serial: f32 = rows[1][x0..x1.max(x0)].iter().sum();
                assert!(close(lane_sum(&rows[1][x0..x1.max(x0)]), serial), "lane_sum, w {w}");
            }
        }
    }
}
