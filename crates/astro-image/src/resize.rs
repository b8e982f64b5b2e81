//! MATLAB-style `imresize`: separable resampling with antialiasing, as the SR literature uses it.
//!
//! Super-resolution papers build their low-resolution inputs with MATLAB's `imresize(img, 1/s,
//! 'bicubic')`, not with a plain bicubic sample. This module reproduces BasicSR's
//! `matlab_functions.py` port of it exactly:
//!
//! * kernel: Keys cubic with `a = -0.5` (width 4), or triangle (width 2) or box (width 1);
//! * when shrinking by `scale < 1` the kernel is stretched to `width / scale` and its values are
//!   multiplied by `scale` (antialiasing), so every output pixel averages its whole footprint;
//! * output pixel `j` (1-based) samples input coordinate `u = j / scale + 0.5 (1 - 1 / scale)`,
//!   so pixel centres stay aligned (LR pixel `j` sits at the centre of HR block `j·s .. (j+1)·s`);
//! * weights of each output pixel are normalised to sum 1;
//! * borders use symmetric padding (`x[-1] = x[0]`, `x[n] = x[n-1]`);
//! * height is resampled first, then width.
//!
//! Values are not clipped: cubic kernels overshoot slightly at sharp edges, as in MATLAB.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Planes;
use crate::error::{ImageError, Result};

/// Interpolation kernel of [`imresize_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeKernel {
    /// Keys cubic convolution, `a = -0.5` (MATLAB `'bicubic'`).
    #[default]
    Cubic,
    /// Triangle (MATLAB `'bilinear'`).
    Linear,
    /// Box (MATLAB `'box'`; when shrinking by an integer factor this is the block mean, "area").
    Box,
}

impl ResizeKernel {
    /// Kernel support width in input pixels at scale 1.
    fn width(self) -> f64 {
        match self {
            ResizeKernel::Cubic => 4.0,
            ResizeKernel::Linear => 2.0,
            ResizeKernel::Box => 1.0,
        }
    }

    /// Kernel value at distance `x`.
    fn eval(self, x: f64) -> f64 {
        match self {
            ResizeKernel::Cubic => cubic(x),
            ResizeKernel::Linear => {
                let a = x.abs();
                if a <= 1.0 { 1.0 - a } else { 0.0 }
            }
            ResizeKernel::Box => {
                if (-0.5..0.5).contains(&x) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// Keys cubic convolution kernel with `a = -0.5` (MATLAB's and BasicSR's `cubic`).
pub fn cubic(x: f64) -> f64 {
    let a = x.abs();
    let a2 = a * a;
    let a3 = a2 * a;
    if a <= 1.0 {
        1.5 * a3 - 2.5 * a2 + 1.0
    } else if a <= 2.0 {
        -0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0
    } else {
        0.0
    }
}

/// Precomputed taps of a 1-D resampling: for output `j`, `weights[j*taps..][k]` applies to input
/// index `indices[j*taps + k]` (already mirrored into `0..in_len`).
#[derive(Debug, Clone)]
struct Taps {
    taps: usize,
    weights: Vec<f32>,
    indices: Vec<usize>,
}

/// Symmetric (MATLAB `'symmetric'`) index folding into `0..n`.
fn mirror(i: i64, n: usize) -> usize {
    let n = n as i64;
    let period = 2 * n;
    let mut m = i.rem_euclid(period);
    if m >= n {
        m = period - 1 - m;
    }
    m as usize
}

/// BasicSR's `calculate_weights_indices`, with the symmetric padding folded into the indices.
fn taps(in_len: usize, out_len: usize, scale: f64, kernel: ResizeKernel, antialias: bool) -> Taps {
    let shrink = scale < 1.0 && antialias;
    let kernel_width = if shrink { kernel.width() / scale } else { kernel.width() };
    let p = kernel_width.ceil() as usize + 2;
    let mut weights = Vec::with_capacity(out_len * p);
    let mut indices = Vec::with_capacity(out_len * p);
    let mut row = vec![0.0f64; p];
    for j in 1..=out_len {
        let u = j as f64 / scale + 0.5 * (1.0 - 1.0 / scale);
        let left = (u - kernel_width / 2.0).floor();
        let mut sum = 0.0;
        for (k, w) in row.iter_mut().enumerate() {
            let index = left + k as f64;
            let d = u - index;
            *w = if shrink { scale * kernel.eval(d * scale) } else { kernel.eval(d) };
            sum += *w;
        }
        for (k, w) in row.iter().enumerate() {
            weights.push(if sum != 0.0 { (*w / sum) as f32 } else { 0.0 });
            // 1-based MATLAB index `left + k` → 0-based, folded symmetrically.
            indices.push(mirror(left as i64 + k as i64 - 1, in_len));
        }
    }
    Taps { taps: p, weights, indices }
}

/// The 1-D resampling `in_len → out_len` of [`imresize_with`] as a dense row-major
/// `out_len × in_len` matrix (symmetric borders folded in), so a network can apply exactly the
/// same bicubic upsampling as a pair of matrix products.
pub fn resize_matrix(in_len: usize, out_len: usize, kernel: ResizeKernel, antialias: bool) -> Vec<f32> {
    let mut m = vec![0.0f32; out_len * in_len];
    if in_len == 0 || out_len == 0 {
        return m;
    }
    let t = taps(in_len, out_len, out_len as f64 / in_len as f64, kernel, antialias);
    for j in 0..out_len {
        for k in 0..t.taps {
            m[j * in_len + t.indices[j * t.taps + k]] += t.weights[j * t.taps + k];
        }
    }
    m
}

/// [`imresize`] to `w`×`h`, or a plain copy when the image already has that size.
pub fn imresize_to(p: &Planes, w: usize, h: usize) -> Planes {
    if p.width == w && p.height == h { p.clone() } else { imresize(p, w, h) }
}

/// MATLAB `imresize(img, [out_h out_w], 'bicubic')` with antialiasing.
///
/// A zero-sized request returns zero-sized planes.
pub fn imresize(planes: &Planes, out_w: usize, out_h: usize) -> Planes {
    imresize_with(planes, out_w, out_h, ResizeKernel::Cubic, true)
}

/// `imresize` by a scale factor (`out = ceil(in × scale)`, MATLAB's rule).
pub fn imresize_scale(planes: &Planes, scale: f64) -> Result<Planes> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(ImageError::Config(format!("resize scale {scale} must be a positive number")));
    }
    let out_w = (planes.width as f64 * scale).ceil().max(1.0) as usize;
    let out_h = (planes.height as f64 * scale).ceil().max(1.0) as usize;
    Ok(imresize(planes, out_w, out_h))
}

/// Resample to `out_w` × `out_h` with a chosen kernel; `antialias` widens the kernel when shrinking.
///
/// The per-axis scale is `out / in`, as MATLAB uses when given an output size.
pub fn imresize_with(planes: &Planes, out_w: usize, out_h: usize, kernel: ResizeKernel, antialias: bool) -> Planes {
    let (w, h, ch) = (planes.width, planes.height, planes.channels);
    if out_w == 0 || out_h == 0 || w == 0 || h == 0 {
        let data = vec![0.0; ch * out_w * out_h];
        return Planes { width: out_w, height: out_h, channels: ch, data, bit_depth: planes.bit_depth };
    }
    // Height first.
    let tmp = if out_h == h {
        planes.data.clone()
    } else {
        let t = taps(h, out_h, out_h as f64 / h as f64, kernel, antialias);
        let mut out = vec![0.0f32; ch * out_h * w];
        out.par_chunks_mut(w).enumerate().for_each(|(row, dst)| {
            let (c, oy) = (row / out_h, row % out_h);
            let src = &planes.data[c * h * w..(c + 1) * h * w];
            let ws = &t.weights[oy * t.taps..(oy + 1) * t.taps];
            let is = &t.indices[oy * t.taps..(oy + 1) * t.taps];
            for (&wt, &iy) in ws.iter().zip(is) {
                if wt == 0.0 {
                    continue;
                }
                let line = &src[iy * w..(iy + 1) * w];
                for (d, s) in dst.iter_mut().zip(line) {
                    *d += wt * s;
                }
            }
        });
        out
    };
    // Then width.
    let data = if out_w == w {
        tmp
    } else {
        let t = taps(w, out_w, out_w as f64 / w as f64, kernel, antialias);
        let mut out = vec![0.0f32; ch * out_h * out_w];
        out.par_chunks_mut(out_w).enumerate().for_each(|(row, dst)| {
            let line = &tmp[row * w..(row + 1) * w];
            for (ox, d) in dst.iter_mut().enumerate() {
                let ws = &t.weights[ox * t.taps..(ox + 1) * t.taps];
                let is = &t.indices[ox * t.taps..(ox + 1) * t.taps];
                *d = ws.iter().zip(is).map(|(&wt, &ix)| wt * line[ix]).sum();
            }
        });
        out
    };
    Planes { width: out_w, height: out_h, channels: ch, data, bit_depth: planes.bit_depth }
}

/// Mean of non-overlapping `s × s` blocks of a plane (rows `stride` apart; the right and bottom
/// remainders are dropped) into `out`; returns the binned (width, height). The one box binning:
/// frame scoring, survey-look statistics, cutout alignment and the survey evaluation use it.
pub fn bin_mean_into(
    src: &[f32],
    width: usize,
    height: usize,
    stride: usize,
    s: usize,
    out: &mut Vec<f32>,
) -> (usize, usize) {
    let s = s.max(1);
    let (bw, bh) = (width / s, height / s);
    out.clear();
    out.resize(bw * bh, 0.0);
    if bw == 0 || bh == 0 {
        return (bw, bh);
    }
    let row = |y: usize| &src[y * stride..y * stride + width];
    let inv = 1.0 / (s * s) as f32;
    if s == 2 {
        // The hot path of frame scoring: two rows at a time, pairs of samples.
        for by in 0..bh {
            let r0 = &row(2 * by)[..2 * bw];
            let r1 = &row(2 * by + 1)[..2 * bw];
            let o = &mut out[by * bw..(by + 1) * bw];
            for ((o, a), b) in o.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
                *o = (a[0] + a[1] + b[0] + b[1]) * inv;
            }
        }
        return (bw, bh);
    }
    for by in 0..bh {
        let o = &mut out[by * bw..(by + 1) * bw];
        for dy in 0..s {
            let r = &row(by * s + dy)[..s * bw];
            for (o, blk) in o.iter_mut().zip(r.chunks_exact(s)) {
                *o += blk.iter().sum::<f32>();
            }
        }
        for o in o.iter_mut() {
            *o *= inv;
        }
    }
    (bw, bh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_rows(rows: &[&[f32]]) -> Planes {
        let h = rows.len();
        let w = rows[0].len();
        Planes::from_vec(1, h, w, rows.iter().flat_map(|r| r.iter().copied()).collect()).unwrap()
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn cubic_kernel_matches_keys_formula() {
        assert_eq!(cubic(0.0), 1.0);
        assert_eq!(cubic(1.0), 0.0);
        assert_eq!(cubic(2.0), 0.0);
        assert_eq!(cubic(0.5), 0.5625); // 1.5/8 - 2.5/4 + 1
        assert_eq!(cubic(-1.5), -0.0625); // -0.5·3.375 + 2.5·2.25 - 6 + 2
    }

    /// Weights of ×0.5 on a length-4 signal, worked out by hand from the formula:
    /// kernel width 8, u = 2j - 0.5, taps 0.5·cubic(0.5·d) for d = ±0.5, ±1.5, ±2.5, ±3.5 are
    /// 0.43359375, 0.11328125, -0.03515625, -0.01171875; with symmetric padding output 0 collects
    /// a: 0.43359375 + 0.11328125, b: 0.43359375 - 0.03515625, c: 0.11328125 - 0.01171875,
    /// d: -0.03515625 - 0.01171875, i.e. (70, 51, 13, -6) / 128; output 1 is the mirror image.
    #[test]
    fn half_of_a_4x4_matrix_matches_hand_computed_values() {
        let a = [
            [70.0f32 / 128.0, 51.0 / 128.0, 13.0 / 128.0, -6.0 / 128.0],
            [-6.0 / 128.0, 13.0 / 128.0, 51.0 / 128.0, 70.0 / 128.0],
        ];
        // A delta at row 1, column 2: out[i][j] = a[i][1] · a[j][2].
        let mut m = Planes::zeros(1, 4, 4);
        m.data[4 + 2] = 1.0;
        let out = imresize(&m, 2, 2);
        assert_eq!((out.width, out.height), (2, 2));
        let expected = [663.0 / 16384.0, 2601.0 / 16384.0, 169.0 / 16384.0, 663.0 / 16384.0];
        assert!(max_abs_diff(&out.data, &expected) < 1e-7, "{:?} vs {expected:?}", out.data);
        // A general matrix: out = A M Aᵀ.
        let rows: [[f32; 4]; 4] =
            [[0.1, 0.9, 0.3, 0.0], [0.5, 0.2, 0.8, 0.4], [1.0, 0.0, 0.6, 0.7], [0.25, 0.75, 0.5, 0.05]];
        let m = from_rows(&rows.iter().map(|r| &r[..]).collect::<Vec<_>>());
        let out = imresize(&m, 2, 2);
        for i in 0..2 {
            for j in 0..2 {
                let mut e = 0.0f32;
                for (y, row) in rows.iter().enumerate() {
                    for (x, v) in row.iter().enumerate() {
                        e += a[i][y] * v * a[j][x];
                    }
                }
                assert!((out.get(0, i, j) - e).abs() < 1e-6, "({i},{j}) {} vs {e}", out.get(0, i, j));
            }
        }
    }

    #[test]
    fn constant_stays_constant_at_any_scale() {
        let p = Planes::from_vec(3, 37, 53, vec![0.37; 3 * 37 * 53]).unwrap();
        for (w, h) in [(13, 9), (26, 18), (53, 37), (106, 74), (17, 40)] {
            let out = imresize(&p, w, h);
            assert_eq!((out.width, out.height, out.channels), (w, h, 3));
            assert!(out.data.iter().all(|v| (v - 0.37).abs() < 1e-5), "{w}x{h}");
        }
    }

    #[test]
    fn linear_ramp_stays_a_ramp_away_from_borders() {
        // f(x) = x / 64 on pixel centres; ×1/4 must give the ramp at LR centres 4j + 1.5.
        let (w, h) = (64, 8);
        let data: Vec<f32> = (0..h).flat_map(|_| (0..w).map(|x| x as f32 / 64.0)).collect();
        let p = Planes::from_vec(1, h, w, data).unwrap();
        let out = imresize(&p, 16, 2);
        for j in 2..14 {
            let expected = (4.0 * j as f32 + 1.5) / 64.0;
            for y in 0..2 {
                assert!((out.get(0, y, j) - expected).abs() < 1e-5, "x={j}: {} vs {expected}", out.get(0, y, j));
            }
        }
        // ×2 upscale: LR centres map to (j + 0.5)/2 - 0.5.
        let up = imresize(&p, 128, 16);
        for j in 8..120 {
            let expected = ((j as f32 + 0.5) / 2.0 - 0.5) / 64.0;
            assert!((up.get(0, 3, j) - expected).abs() < 1e-5, "x={j}");
        }
    }

    #[test]
    fn integer_box_shrink_is_the_block_mean() {
        let data: Vec<f32> = (0..64).map(|i| ((i * 37) % 17) as f32 / 16.0).collect();
        let p = Planes::from_vec(1, 8, 8, data).unwrap();
        let out = imresize_with(&p, 4, 4, ResizeKernel::Box, true);
        for y in 0..4 {
            for x in 0..4 {
                let mean = (p.get(0, 2 * y, 2 * x)
                    + p.get(0, 2 * y + 1, 2 * x)
                    + p.get(0, 2 * y, 2 * x + 1)
                    + p.get(0, 2 * y + 1, 2 * x + 1))
                    / 4.0;
                assert!((out.get(0, y, x) - mean).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn symmetric_padding_folds_indices() {
        assert_eq!(mirror(-1, 4), 0);
        assert_eq!(mirror(-3, 4), 2);
        assert_eq!(mirror(4, 4), 3);
        assert_eq!(mirror(6, 4), 1);
        assert_eq!(mirror(-9, 4), 0);
        assert_eq!(mirror(2, 1), 0);
    }

    #[test]
    fn scale_rounds_up_like_matlab_and_rejects_nonsense() {
        let p = Planes::zeros(1, 10, 15);
        let out = imresize_scale(&p, 0.25).unwrap();
        assert_eq!((out.width, out.height), (4, 3));
        assert!(imresize_scale(&p, 0.0).is_err());
        assert!(imresize_scale(&p, f64::NAN).is_err());
    }

    #[test]
    fn binning_averages_whole_blocks_and_drops_remainders() {
        // 5×3 plane with a stride of 6: 2×2 bins → 2×1, 3×3 bins → 1×1.
        let src: Vec<f32> = (0..18).map(|i| i as f32).collect();
        let mut out = Vec::new();
        assert_eq!(bin_mean_into(&src, 5, 3, 6, 2, &mut out), (2, 1));
        assert_eq!(out, vec![(0.0 + 1.0 + 6.0 + 7.0) / 4.0, (2.0 + 3.0 + 8.0 + 9.0) / 4.0]);
        assert_eq!(bin_mean_into(&src, 5, 3, 6, 3, &mut out), (1, 1));
        assert_eq!(out, vec![(0.0 + 1.0 + 2.0 + 6.0 + 7.0 + 8.0 + 12.0 + 13.0 + 14.0) / 9.0]);
        assert_eq!(bin_mean_into(&src, 5, 3, 6, 4, &mut out), (1, 0));
        assert!(out.is_empty());
    }
}
