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
        let (rm, r, rp) = (v.row(y - 1), v.row(y), v.row(y + 1));
        let mut a = 0.0f32;
        for x in 1..v.width - 1 {
            let l = r[x - 1] + r[x + 1] + rm[x] + rp[x] - 4.0 * r[x];
            a += l * l;
        }
        acc += a as f64;
    }
    (acc / ((v.width - 2) * (v.height - 2)) as f64) as f32
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
