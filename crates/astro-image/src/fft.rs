//! The one 2-D FFT of the workspace, over rustfft (row FFTs, transpose, column FFTs) with plans
//! made once per size: in place on a row-major buffer (serial — callers such as frame scoring are
//! already parallel per frame), or on a whole image with rows in parallel and the spectrum left
//! transposed (FFT convolution of large images).

use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Forward and inverse 2-D FFT plans for one `width × height` size.
#[derive(Clone)]
pub struct Fft2 {
    /// Width in samples.
    pub width: usize,
    /// Height in samples.
    pub height: usize,
    fw: Arc<dyn Fft<f32>>,
    fh: Arc<dyn Fft<f32>>,
    iw: Arc<dyn Fft<f32>>,
    ih: Arc<dyn Fft<f32>>,
}

impl std::fmt::Debug for Fft2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft2({}x{})", self.width, self.height)
    }
}

impl Fft2 {
    /// Plan transforms for `width × height` (any sizes; powers of two and small primes are fastest).
    pub fn new(width: usize, height: usize) -> Fft2 {
        let mut p = FftPlanner::new();
        Fft2 {
            width,
            height,
            fw: p.plan_fft_forward(width),
            fh: p.plan_fft_forward(height),
            iw: p.plan_fft_inverse(width),
            ih: p.plan_fft_inverse(height),
        }
    }

    /// In-place unnormalised forward transform of a row-major buffer (`tmp` is scratch).
    pub fn forward(&self, buf: &mut [Complex32], tmp: &mut Vec<Complex32>) {
        self.run(buf, tmp, &self.fw, &self.fh);
    }

    /// In-place inverse transform, normalised by `1 / (width × height)`.
    pub fn inverse(&self, buf: &mut [Complex32], tmp: &mut Vec<Complex32>) {
        self.run(buf, tmp, &self.iw, &self.ih);
        let s = 1.0 / (self.width * self.height) as f32;
        buf.iter_mut().for_each(|v| *v *= s);
    }

    fn run_rows(fft: &Arc<dyn Fft<f32>>, buf: &mut [Complex32], len: usize) {
        let rows_per_task = (4096 / len).max(1);
        buf.par_chunks_mut(len * rows_per_task).for_each(|chunk| {
            let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
            fft.process_with_scratch(chunk, &mut scratch);
        });
    }

    fn transpose(src: &[Complex32], w: usize, h: usize) -> Vec<Complex32> {
        let mut dst = vec![Complex32::new(0.0, 0.0); w * h];
        dst.par_chunks_mut(h).enumerate().for_each(|(x, col)| {
            for (y, d) in col.iter_mut().enumerate() {
                *d = src[y * w + x];
            }
        });
        dst
    }

    /// Row-major `height × width` buffer → spectrum in transposed (`width × height`) layout,
    /// rows in parallel (rayon): for one large image (FFT convolution).
    pub fn forward_transposed(&self, mut buf: Vec<Complex32>) -> Vec<Complex32> {
        Self::run_rows(&self.fw, &mut buf, self.width);
        let mut t = Self::transpose(&buf, self.width, self.height);
        Self::run_rows(&self.fh, &mut t, self.height);
        t
    }

    /// Spectrum in transposed layout → row-major buffer, normalised (rows in parallel).
    pub fn inverse_transposed(&self, mut spec: Vec<Complex32>) -> Vec<Complex32> {
        Self::run_rows(&self.ih, &mut spec, self.height);
        let mut buf = Self::transpose(&spec, self.height, self.width);
        Self::run_rows(&self.iw, &mut buf, self.width);
        let norm = 1.0 / (self.width * self.height) as f32;
        buf.par_iter_mut().for_each(|v| *v *= norm);
        buf
    }

    fn run(&self, buf: &mut [Complex32], tmp: &mut Vec<Complex32>, pw: &Arc<dyn Fft<f32>>, ph: &Arc<dyn Fft<f32>>) {
        let (w, h) = (self.width, self.height);
        pw.process(buf);
        tmp.clear();
        tmp.resize(w * h, Complex32::new(0.0, 0.0));
        for y in 0..h {
            for x in 0..w {
                tmp[x * h + y] = buf[y * w + x];
            }
        }
        ph.process(tmp);
        for x in 0..w {
            for y in 0..h {
                buf[y * w + x] = tmp[x * h + y];
            }
        }
    }
}

/// Signed frequency index of bin `k` of an `n`-point transform (0, 1, …, −1).
#[inline]
pub fn signed_freq(k: usize, n: usize) -> f32 {
    if k <= n / 2 { k as f32 } else { k as f32 - n as f32 }
}
