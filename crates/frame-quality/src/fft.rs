//! Small 2-D FFT helper over rustfft (row FFTs, transpose, column FFTs) with cached plans.

use std::sync::Arc;

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
