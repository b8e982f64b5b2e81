//! Blur kernels (Real-ESRGAN's random kernels, seeing PSFs) and convolution (direct or FFT).

use std::f64::consts::PI;

use astro_image::fft::Fft2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustfft::num_complex::Complex;

use super::*;
use astro_image::image_io::Planes;

/// A square, odd-sized convolution kernel (row-major), normally summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    /// Side length (odd).
    pub size: usize,
    /// `size × size` weights, row-major.
    pub data: Vec<f32>,
}

impl Kernel {
    /// Build from a function of the offset `(dx, dy)` from the centre, normalised to sum 1.
    fn from_fn(size: usize, f: impl Fn(f64, f64) -> f64) -> Kernel {
        let r = (size / 2) as f64;
        let mut data: Vec<f64> = Vec::with_capacity(size * size);
        for y in 0..size {
            for x in 0..size {
                data.push(f(x as f64 - r, y as f64 - r));
            }
        }
        let sum: f64 = data.iter().sum();
        let data = data.iter().map(|v| (v / sum) as f32).collect();
        Kernel { size, data }
    }

    /// A normalised 2-D Gaussian of standard deviation `sigma` pixels (radius ⌈3σ⌉).
    pub fn gaussian(sigma: f64) -> Kernel {
        let size = 2 * (3.0 * sigma).ceil().max(1.0) as usize + 1;
        let data = astro_image::kernel::gaussian_2d(size, sigma).into_iter().map(|v| v as f32).collect();
        Kernel { size, data }
    }

    /// Sum of the weights.
    pub fn sum(&self) -> f32 {
        self.data.iter().sum()
    }

    /// Weight at row `y`, column `x`.
    pub fn get(&self, y: usize, x: usize) -> f32 {
        self.data[y * self.size + x]
    }
}

/// A Real-ESRGAN bivariate kernel: covariance from σx, σy and rotation θ (radians), shape β.
///
/// `Gaussian`: `exp(-½ q)`, `Generalized`: `exp(-½ q^β)`, `Plateau`: `1 / (1 + q^β)` with
/// `q = xᵀ Σ⁻¹ x`, `Σ = R(θ) diag(σx², σy²) R(θ)ᵀ`. Normalised to sum 1.
pub fn bivariate_kernel(shape: KernelShape, size: usize, sigma_x: f64, sigma_y: f64, theta: f64, beta: f64) -> Kernel {
    let (c, s) = (theta.cos(), theta.sin());
    let (vx, vy) = (sigma_x * sigma_x, sigma_y * sigma_y);
    // Σ = R D Rᵀ, Σ⁻¹ = R D⁻¹ Rᵀ.
    let (a, b, d) = (c * c / vx + s * s / vy, c * s * (1.0 / vx - 1.0 / vy), s * s / vx + c * c / vy);
    Kernel::from_fn(size, |x, y| {
        let q = a * x * x + 2.0 * b * x * y + d * y * y;
        match shape {
            KernelShape::Gaussian => (-0.5 * q).exp(),
            KernelShape::Generalized => (-0.5 * q.powf(beta)).exp(),
            KernelShape::Plateau => 1.0 / (1.0 + q.powf(beta)),
        }
    })
}

/// BasicSR's β draw: half the time from `[lo, 1]`, half from `[1, hi]`.
pub(crate) fn sample_beta(span: Span, rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random();
    let (lo, hi) = if rng.random::<f64>() < 0.5 { (span.0.min(1.0), 1.0) } else { (1.0, span.1.max(1.0)) };
    lo + (hi - lo) * u
}

pub(crate) fn choose(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// Draw one Real-ESRGAN blur kernel (family, odd size, σx, σy, θ and β as BasicSR does).
pub fn random_blur_kernel(cfg: &BlurConfig, rng: &mut ChaCha8Rng) -> Kernel {
    let m = &cfg.mix;
    let family = choose(&[m.iso, m.aniso, m.generalized_iso, m.generalized_aniso, m.plateau_iso, m.plateau_aniso], rng);
    let (lo, hi) = cfg.size;
    let size = lo + 2 * rng.random_range(0..=(hi - lo) / 2);
    let iso = family.is_multiple_of(2);
    let sigma_x = cfg.sigma.sample(rng);
    let (sigma_y, theta) = if iso { (sigma_x, 0.0) } else { (cfg.sigma.sample(rng), rng.random_range(-PI..=PI)) };
    let (shape, beta) = match family / 2 {
        0 => (KernelShape::Gaussian, 1.0),
        1 => (KernelShape::Generalized, sample_beta(cfg.beta_generalized, rng)),
        _ => (KernelShape::Plateau, sample_beta(cfg.beta_plateau, rng)),
    };
    tracing::trace!(?shape, size, sigma_x, sigma_y, theta, beta, "blur kernel");
    bivariate_kernel(shape, size, sigma_x, sigma_y, theta, beta)
}

/// Moffat α for a FWHM and β: FWHM = 2α √(2^{1/β} − 1).
pub(crate) fn moffat_alpha(fwhm: f64, beta: f64) -> f64 {
    fwhm / (2.0 * (2f64.powf(1.0 / beta) - 1.0).sqrt())
}

/// A pixel-integrated seeing PSF of the given FWHM (pixels); `beta` is used by Moffat only.
///
/// Each pixel averages 5 × 5 sub-samples of the profile, so narrow PSFs keep their flux and
/// their FWHM. The kernel extends to where the profile falls below 10⁻³ of its peak
/// (Gaussian: ≈ 1.6 FWHM; Moffat β 2.5: ≈ 3.4 FWHM), at most 255 pixels.
pub fn psf_kernel(profile: PsfProfile, fwhm_px: f64, beta: f64) -> Kernel {
    let (radius, f): (f64, Box<dyn Fn(f64) -> f64>) = match profile {
        PsfProfile::Gaussian => {
            let sigma = fwhm_px / (2.0 * (2.0 * 2f64.ln()).sqrt());
            let s2 = 2.0 * sigma * sigma;
            (sigma * (2.0 * 1e3f64.ln()).sqrt(), Box::new(move |r2| (-r2 / s2).exp()))
        }
        PsfProfile::Moffat { .. } => {
            let alpha = moffat_alpha(fwhm_px, beta);
            let a2 = alpha * alpha;
            (alpha * (1e3f64.powf(1.0 / beta) - 1.0).sqrt(), Box::new(move |r2| (1.0 + r2 / a2).powf(-beta)))
        }
    };
    let r = (radius.ceil() as usize).clamp(1, 127);
    const SUB: usize = 5;
    Kernel::from_fn(2 * r + 1, |x, y| {
        let mut acc = 0.0;
        for sy in 0..SUB {
            for sx in 0..SUB {
                let dx = x + (sx as f64 + 0.5) / SUB as f64 - 0.5;
                let dy = y + (sy as f64 + 0.5) / SUB as f64 - 0.5;
                acc += f(dx * dx + dy * dy);
            }
        }
        acc
    })
}

/// Reflect (PyTorch `'reflect'`, edge not repeated) index folding into `0..n`.
pub(crate) fn reflect(i: i64, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as i64 - 1);
    let m = i.rem_euclid(period);
    (if m >= n as i64 { period - m } else { m }) as usize
}

/// Kernels up to this size are applied directly, larger ones through the FFT.
pub(crate) const DIRECT_MAX: usize = 9;

/// Correlate every plane with `kernel` (reflect padding), as PyTorch's `filter2D`.
///
/// Small kernels are applied directly, larger ones by FFT (two planes per complex transform);
/// both are parallel over rows with rayon.
pub fn convolve(planes: &Planes, kernel: &Kernel) -> Planes {
    if kernel.size <= DIRECT_MAX { convolve_direct(planes, kernel) } else { convolve_fft(planes, kernel) }
}

pub(crate) fn padded_plane(plane: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let (pw, ph) = (w + 2 * r, h + 2 * r);
    let cols: Vec<usize> = (0..pw).map(|x| reflect(x as i64 - r as i64, w)).collect();
    let mut out = Vec::with_capacity(pw * ph);
    for y in 0..ph {
        let row = &plane[reflect(y as i64 - r as i64, h) * w..][..w];
        out.extend(cols.iter().map(|&x| row[x]));
    }
    out
}

pub(crate) fn convolve_direct(planes: &Planes, kernel: &Kernel) -> Planes {
    let (w, h, k) = (planes.width, planes.height, kernel.size);
    let r = k / 2;
    let pw = w + 2 * r;
    let mut out = planes.clone();
    for c in 0..planes.channels {
        let padded = padded_plane(planes.plane(c), w, h, r);
        out.plane_mut(c).par_chunks_mut(w).enumerate().for_each(|(y, dst)| {
            dst.fill(0.0);
            for ky in 0..k {
                let src = &padded[(y + ky) * pw..][..pw];
                for kx in 0..k {
                    let wt = kernel.data[ky * k + kx];
                    for (d, s) in dst.iter_mut().zip(&src[kx..kx + w]) {
                        *d += wt * s;
                    }
                }
            }
        });
    }
    out
}

pub(crate) fn convolve_fft(planes: &Planes, kernel: &Kernel) -> Planes {
    let (w, h, k) = (planes.width, planes.height, kernel.size);
    let r = k / 2;
    let (pw, ph) = (w + 2 * r, h + 2 * r);
    let fft = Fft2::new(pw, ph);
    // Correlation out[y][x] = Σ k[j][i] in[y + j - r][x + i - r] is a circular convolution with
    // the kernel flipped and centred at the origin; padding by r keeps the wrap-around out of
    // the cropped result.
    let mut kbuf = vec![Complex::new(0.0f32, 0.0); pw * ph];
    for ky in 0..k {
        for kx in 0..k {
            let y = (ph + r - ky) % ph;
            let x = (pw + r - kx) % pw;
            kbuf[y * pw + x].re += kernel.get(ky, kx);
        }
    }
    let kspec = fft.forward_transposed(kbuf);
    let mut out = planes.clone();
    let mut c = 0;
    while c < planes.channels {
        let pair = c + 1 < planes.channels;
        let a = padded_plane(planes.plane(c), w, h, r);
        let b = if pair { padded_plane(planes.plane(c + 1), w, h, r) } else { vec![0.0; pw * ph] };
        let buf: Vec<Complex<f32>> = a.iter().zip(&b).map(|(&re, &im)| Complex::new(re, im)).collect();
        let mut spec = fft.forward_transposed(buf);
        spec.par_iter_mut().zip(kspec.par_iter()).for_each(|(s, k)| *s *= k);
        let res = fft.inverse_transposed(spec);
        for y in 0..h {
            let src = &res[(y + r) * pw + r..][..w];
            let dst = &mut out.plane_mut(c)[y * w..][..w];
            for (d, s) in dst.iter_mut().zip(src) {
                *d = s.re;
            }
            if pair {
                let dst = &mut out.plane_mut(c + 1)[y * w..][..w];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = s.im;
                }
            }
        }
        c += 2;
    }
    out
}
