//! A second, independent surface simulator, for checking only (nothing is tuned on it): its own
//! texture source and its own turbulence model, sharing nothing with [`crate::simulation::surface`] but the
//! camera model and the output files.
//!
//! - **Texture**: procedural cratered terrain — a fractal height field (spectral synthesis, power
//!   ∝ f⁻³) plus craters with power-law radii (bowl and raised rim), lit by a low sun (Lambert
//!   shading), times a smooth albedo field.
//! - **Turbulence**: no phase screens. Per frame, a global D/r0 (log-uniform) modulated by a smooth
//!   random field `D(x) = D·exp(a·G(x))` (G: a few random long-wavelength cosine modes, unit
//!   variance); the local PSF is an analytic short-exposure model — a diffraction core (Gaussian,
//!   σ 0.88 px at Nyquist sampling) holding `S₀ = exp(−0.134·D^{5/3})` of the light, the rest in a
//!   seeing halo of FWHM λ/r0 (σ = 0.85·D px). The image is computed at a few D levels (separable
//!   Gaussian convolutions) and blended per pixel by log D, so the PSF varies smoothly. A smooth
//!   random displacement field (∝ D^{5/6}) warps the result (local distortion), plus common jitter.
//! - **Truth**: local Strehl `S₀ + (1 − S₀)(σ_core/σ_halo)²` at every pixel, averaged over the
//!   frame (`truth.csv`) and over an R×R grid of regions (`regions.csv`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use rustfft::num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result};
use crate::simulation::sim::SimConfig;
use crate::simulation::surface::{SurfaceTruth, crop, write_surface_video};
use astro_image::fft::{Fft2, signed_freq};

/// Settings of the check simulator (written as `surface.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckConfig {
    /// Frame side (after cropping), pixels.
    pub size: usize,
    /// Lowest D/r0 of the per-frame (log-uniform) draw.
    pub d_over_r0: f32,
    /// Highest D/r0 of the draw.
    pub d_over_r0_max: f32,
    /// Strength a of the log-D/r0 field across the frame (0 = isoplanatic).
    pub aniso: f32,
    /// Truth regions per side.
    pub regions: usize,
    /// Craters per 10 000 pixels.
    pub crater_density: f32,
    /// Common jitter, RMS pixels per axis.
    pub jitter_px: f32,
    /// Electrons at the brightest point.
    pub peak_electrons: f32,
    /// Read noise, electrons RMS.
    pub read_noise: f32,
    /// Bits per sample (8, 12 or 16).
    pub bit_depth: u32,
    /// Frames to simulate.
    pub frames: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            size: 256,
            d_over_r0: 3.0,
            d_over_r0_max: 8.0,
            aniso: 0.6,
            regions: 4,
            crater_density: 2.0,
            jitter_px: 1.5,
            peak_electrons: 4000.0,
            read_noise: 3.0,
            bit_depth: 12,
            frames: 200,
            seed: 1,
        }
    }
}

const CORE_SIGMA: f32 = 0.88;

/// Local Strehl of the analytic PSF at D/r0 = `d`.
pub fn local_strehl(d: f32) -> f32 {
    let s0 = (-0.134 * d.powf(5.0 / 3.0)).exp();
    let halo = (0.85 * d).max(CORE_SIGMA);
    (s0 + (1.0 - s0) * (CORE_SIGMA / halo).powi(2)).min(1.0)
}

/// Procedural cratered terrain, `n × n`, peak-normalised (values in (0, 1]).
pub fn crater_terrain(n: usize, density: f32, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).expect("unit normal");
    let m = n.next_power_of_two();
    let fft = Fft2::new(m, m);
    let fractal = |rng: &mut ChaCha8Rng, slope: f32| -> Vec<f32> {
        let mut spec = vec![Complex32::new(0.0, 0.0); m * m];
        for ky in 0..m {
            for kx in 0..m {
                let f = (signed_freq(kx, m).powi(2) + signed_freq(ky, m).powi(2)).sqrt();
                if f > 0.0 {
                    let a = f.powf(-slope);
                    spec[ky * m + kx] = Complex32::new(normal.sample(rng) * a, normal.sample(rng) * a);
                }
            }
        }
        fft.inverse(&mut spec, &mut Vec::new());
        let v: Vec<f32> = spec.iter().map(|c| c.re).collect();
        let sd = (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt().max(1e-12);
        v.iter().map(|x| x / sd).collect()
    };
    let mut h: Vec<f32> = fractal(&mut rng, 1.5).iter().map(|v| 4.0 * v).collect();
    let albedo = fractal(&mut rng, 1.8);
    let craters = (density * (m * m) as f32 / 10_000.0) as usize;
    for _ in 0..craters {
        let (cx, cy) = (rng.random::<f32>() * m as f32, rng.random::<f32>() * m as f32);
        // Power-law radii from 2 to 40 px (p(r) ∝ r^−2.5, by inverse transform).
        let u: f32 = rng.random();
        let r = (2f32.powf(-1.5) - u * (2f32.powf(-1.5) - 40f32.powf(-1.5))).powf(-1.0 / 1.5);
        let depth = 0.5 * r;
        let reach = (1.6 * r).ceil() as isize;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let d = ((dx * dx + dy * dy) as f32).sqrt() / r;
                let (x, y) = ((cx as isize + dx).rem_euclid(m as isize), (cy as isize + dy).rem_euclid(m as isize));
                let bowl = if d < 1.0 { depth * (d * d - 1.0) } else { 0.0 };
                let rim = 0.3 * depth * (-((d - 1.0) / 0.25).powi(2)).exp();
                h[y as usize * m + x as usize] += bowl + rim;
            }
        }
    }
    // Sun at azimuth 250°, elevation 25°.
    let (az, el) = (250f32.to_radians(), 25f32.to_radians());
    let sun = (el.cos() * az.cos(), el.cos() * az.sin(), el.sin());
    let mut img = vec![0f32; n * n];
    for y in 0..n {
        for x in 0..n {
            let at = |xx: usize, yy: usize| h[(yy % m) * m + (xx % m)];
            let gx = (at(x + 1, y) - at(x + m - 1, y)) / 2.0;
            let gy = (at(x, y + 1) - at(x, y + m - 1)) / 2.0;
            let norm = (gx * gx + gy * gy + 1.0).sqrt();
            let shade = ((-gx * sun.0 - gy * sun.1 + sun.2) / norm).max(0.0);
            let a = (0.75 + 0.15 * albedo[y * m + x]).clamp(0.4, 1.0);
            img[y * n + x] = 0.04 + shade * a;
        }
    }
    let peak = img.iter().fold(0f32, |p, &v| p.max(v)).max(1e-12);
    img.iter_mut().for_each(|v| *v /= peak);
    img
}

/// A smooth random field on an `n × n` grid: `modes` cosines with wavelengths of 0.6–2 × `n`,
/// scaled to unit RMS.
fn smooth_field(n: usize, modes: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let waves: Vec<(f32, f32, f32)> = (0..modes)
        .map(|_| {
            let (ang, lam) =
                (rng.random::<f32>() * std::f32::consts::TAU, (0.6 + 1.4 * rng.random::<f32>()) * n as f32);
            let k = std::f32::consts::TAU / lam;
            (k * ang.cos(), k * ang.sin(), rng.random::<f32>() * std::f32::consts::TAU)
        })
        .collect();
    let scale = (2.0 / modes.max(1) as f32).sqrt();
    (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32, (i / n) as f32);
            scale * waves.iter().map(|&(kx, ky, p)| (kx * x + ky * y + p).cos()).sum::<f32>()
        })
        .collect()
}

/// Separable Gaussian blur of an `n × n` image (edges clamped).
fn gauss_blur(img: &[f32], n: usize, sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil() as isize;
    let k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let s: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / s).collect();
    let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0f32; n * n];
        out.par_chunks_mut(n).enumerate().for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                let mut acc = 0f32;
                for (j, &w) in k.iter().enumerate() {
                    let d = j as isize - r;
                    let (xx, yy) = if horizontal { (x as isize + d, y as isize) } else { (x as isize, y as isize + d) };
                    let (xx, yy) = (xx.clamp(0, n as isize - 1) as usize, yy.clamp(0, n as isize - 1) as usize);
                    acc += w * src[yy * n + xx];
                }
                *o = acc;
            }
        });
        out
    };
    pass(&pass(img, true), false)
}

/// Bilinear sample with clamped edges.
fn bilinear(img: &[f32], n: usize, x: f32, y: f32) -> f32 {
    let (x, y) = (x.clamp(0.0, n as f32 - 1.001), y.clamp(0.0, n as f32 - 1.001));
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx: usize, yy: usize| img[yy * n + xx];
    (1.0 - fy) * ((1.0 - fx) * p(x0, y0) + fx * p(x0 + 1, y0))
        + fy * ((1.0 - fx) * p(x0, y0 + 1) + fx * p(x0 + 1, y0 + 1))
}

/// The check simulator (see the module documentation).
pub struct CheckSimulator {
    cfg: CheckConfig,
    object: Vec<f32>,
    n: usize,
    pad: usize,
    camera: SimConfig,
    rng: ChaCha8Rng,
}

impl CheckSimulator {
    /// Prepare a simulator (renders the terrain).
    pub fn new(cfg: CheckConfig) -> Result<CheckSimulator> {
        if cfg.size < 32 || cfg.frames == 0 || !(1..=16).contains(&cfg.regions) || !cfg.size.is_multiple_of(cfg.regions)
        {
            return Err(FrameError::Invalid(
                "check simulator: size ≥ 32, frames ≥ 1, regions 1–16 dividing the size".into(),
            ));
        }
        let ok = |v: f32| v.is_finite() && v > 0.0;
        if !(ok(cfg.d_over_r0) && cfg.aniso.is_finite() && (0.0..=1.5).contains(&cfg.aniso)) {
            return Err(FrameError::Invalid("check simulator: D/r0 > 0 and aniso in [0, 1.5]".into()));
        }
        let pad = 48 + (4.0 * cfg.jitter_px).ceil() as usize;
        let n = cfg.size + 2 * pad;
        let object = crater_terrain(n, cfg.crater_density, cfg.seed ^ 0xC4A7);
        let camera = SimConfig {
            peak_electrons: cfg.peak_electrons,
            read_noise: cfg.read_noise,
            bit_depth: cfg.bit_depth,
            ..SimConfig::default()
        };
        Ok(CheckSimulator { rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xC8EC_0000_0001), object, n, pad, camera, cfg })
    }

    /// The diffraction-limited truth (object ⊛ core), cropped, on the frame scale.
    pub fn truth_image(&self) -> Vec<f32> {
        let core = gauss_blur(&self.object, self.n, CORE_SIGMA);
        let max_adu = ((1u32 << self.cfg.bit_depth) - 1) as f32;
        let gain = self.cfg.peak_electrons / (0.8 * max_adu);
        let scale = self.cfg.peak_electrons / gain / max_adu;
        crop(&core, self.n, self.pad, self.cfg.size).iter().map(|v| (v * scale).min(1.0)).collect()
    }

    /// The next frame: (noisy frame in [0, 1], truth).
    pub fn frame(&mut self) -> (Vec<f32>, SurfaceTruth) {
        let (c, n, pad) = (self.cfg.clone(), self.n, self.pad);
        let (a, b) = (c.d_over_r0.ln(), c.d_over_r0_max.max(c.d_over_r0).ln());
        let d = (a + (b - a) * self.rng.random::<f32>()).exp();
        let g = smooth_field(n, 6, &mut self.rng);
        let (tx, ty) = (smooth_field(n, 4, &mut self.rng), smooth_field(n, 4, &mut self.rng));
        let jit = Normal::new(0.0f32, c.jitter_px.max(0.0)).expect("finite jitter");
        let (jx, jy) = (jit.sample(&mut self.rng), jit.sample(&mut self.rng));
        let d_cap = pad as f32 / 3.0 / 0.85;
        let local: Vec<f32> = g.iter().map(|v| (d * (c.aniso * v).exp()).clamp(0.5, d_cap)).collect();
        let (lo, hi) = local.iter().fold((f32::MAX, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
        let levels = if hi / lo < 1.02 { 1 } else { 7 };
        let dl: Vec<f32> = (0..levels).map(|i| lo * (hi / lo).powf(i as f32 / (levels - 1).max(1) as f32)).collect();
        let core = gauss_blur(&self.object, n, CORE_SIGMA);
        let imgs: Vec<Vec<f32>> = dl
            .iter()
            .map(|&dd| {
                let s0 = (-0.134 * dd.powf(5.0 / 3.0)).exp();
                let halo = gauss_blur(&self.object, n, (0.85 * dd).clamp(CORE_SIGMA, pad as f32 / 3.0));
                core.iter().zip(&halo).map(|(a, h)| s0 * a + (1.0 - s0) * h).collect()
            })
            .collect();
        let blend = |i: usize| -> f32 {
            if levels == 1 {
                return imgs[0][i];
            }
            let t = ((local[i] / lo).ln() / (hi / lo).ln() * (levels - 1) as f32).clamp(0.0, (levels - 1) as f32);
            let k = (t.floor() as usize).min(levels - 2);
            let f = t - k as f32;
            (1.0 - f) * imgs[k][i] + f * imgs[k + 1][i]
        };
        let blurred: Vec<f32> = (0..n * n).map(blend).collect();
        let amp = 0.15 * d.powf(5.0 / 6.0) * c.aniso.clamp(0.1, 1.0);
        let s = c.size;
        let mut clean = vec![0f32; s * s];
        for y in 0..s {
            for x in 0..s {
                let i = (y + pad) * n + x + pad;
                let (sx, sy) = ((x + pad) as f32 - jx - amp * tx[i], (y + pad) as f32 - jy - amp * ty[i]);
                clean[y * s + x] = bilinear(&blurred, n, sx, sy);
            }
        }
        let strehl_map: Vec<f32> = crop(&local, n, pad, s).iter().map(|&v| local_strehl(v)).collect();
        let (r, side) = (c.regions, s / c.regions);
        let regions = (0..r * r)
            .map(|k| {
                let (x0, y0) = ((k % r) * side, (k / r) * side);
                let sum: f32 =
                    (y0..y0 + side).map(|y| strehl_map[y * s + x0..y * s + x0 + side].iter().sum::<f32>()).sum();
                sum / (side * side) as f32
            })
            .collect();
        let truth = SurfaceTruth {
            strehl: strehl_map.iter().sum::<f32>() / strehl_map.len() as f32,
            regions,
            d_over_r0: d,
            jitter: (jx, jy),
        };
        (crate::simulation::sim::expose(&clean, &self.camera, &mut self.rng), truth)
    }
}

/// Simulate `cfg.frames` frames into `dir` (the files of [`write_surface_video`]).
pub fn simulate_check_to_dir(
    cfg: &CheckConfig,
    dir: &std::path::Path,
    progress: &dyn Fn(usize),
) -> Result<Vec<SurfaceTruth>> {
    let mut sim = CheckSimulator::new(cfg.clone())?;
    let json = serde_json::to_vec_pretty(cfg).map_err(|e| FrameError::Invalid(e.to_string()))?;
    let truth_image = sim.truth_image();
    write_surface_video(dir, (cfg.size, cfg.bit_depth, cfg.frames), &truth_image, json, || sim.frame(), progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strehl_falls_with_seeing_and_the_field_varies_only_when_anisoplanatic() {
        assert!(local_strehl(1.0) > local_strehl(3.0) && local_strehl(3.0) > local_strehl(8.0));
        assert!(local_strehl(0.5) <= 1.0 && local_strehl(20.0) > 0.0);
        let small = |aniso| CheckConfig { size: 64, frames: 3, regions: 2, aniso, ..CheckConfig::default() };
        let mut iso = CheckSimulator::new(small(0.0)).unwrap();
        let mut aniso = CheckSimulator::new(small(0.8)).unwrap();
        let mut spread = 0f32;
        for _ in 0..3 {
            let (f, t) = iso.frame();
            assert_eq!(f.len(), 64 * 64);
            assert!(t.regions.iter().all(|&r| (r - t.strehl).abs() < 1e-4), "{t:?}");
            let (_, t) = aniso.frame();
            let (lo, hi) = t.regions.iter().fold((f32::MAX, 0f32), |(a, b), &r| (a.min(r), b.max(r)));
            spread = spread.max(hi / lo);
        }
        assert!(spread > 1.2, "anisoplanatic regions: largest max/min {spread}");
    }

    #[test]
    fn sharper_frames_are_closer_to_the_truth_image() {
        let cfg = |d| CheckConfig {
            size: 64,
            frames: 1,
            d_over_r0: d,
            d_over_r0_max: d,
            aniso: 0.0,
            jitter_px: 0.0,
            ..CheckConfig::default()
        };
        let err = |d| {
            let mut s = CheckSimulator::new(cfg(d)).unwrap();
            let t = s.truth_image();
            let (f, _) = s.frame();
            f.iter().zip(&t).map(|(a, b)| (a - b).powi(2)).sum::<f32>()
        };
        assert!(err(2.0) < err(8.0));
    }
}
