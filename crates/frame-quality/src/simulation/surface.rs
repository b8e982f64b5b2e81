//! Surface footage: lunar terrain, solar granulation and a planet close-up larger than the frame,
//! through **layered** anisoplanatic seeing (no disc, no black sky: the frame is full of contrast).
//!
//! Seeing: per frame, a few Kolmogorov phase screens at different heights (the FFT method on a
//! screen wider than the pupil). A point of the field at normalised position `u ∈ [−½, ½]²` sees each
//! layer's screen shifted by `u × shift` pupil diameters (a ground layer has shift 0 and is common to
//! the whole field; high layers decorrelate across it), and its phase is the sum of the layers. The
//! PSF is computed at a K×K grid of nodes spanning the frame; the noise-free frame is
//! `Σ_k w_k(x)·(object ⊛ PSF_k)` with bilinear weights that sum to 1, so the PSF varies smoothly
//! (no tiles, no seams). Every node keeps its own tilt (local distortion). The scene is rendered and
//! blurred on a frame padded by the PSF's reach, then cropped, so the periodic FFT convolution never
//! wraps the far edge into the frame.
//!
//! Truth: the local Strehl at a pixel is the bilinear blend of the node Strehls; a frame's truth is
//! its mean over the frame (`truth.csv`, column `strehl`), a region's its mean over the region
//! (`regions.csv`, an R×R grid of regions).

use std::io::Write;
use std::path::Path;

use astro_image::Planes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use rustfft::num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result, io_err};
use crate::simulation::render::{Target, load_texture};
use crate::simulation::sim::{FrameTruth, SimConfig, Simulator};
use astro_image::fft::{Fft2, signed_freq};

/// What a surface cell looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scene {
    /// Stellarium's lunar mosaic filling the frame.
    Lunar,
    /// Procedural solar granulation (Voronoi cells with dark intergranular lanes).
    Granulation,
    /// Jupiter with a radius 1.5× the frame side: the frame is on the disc, the limb crosses a corner.
    PlanetCloseUp,
}

/// One turbulent layer: its share of the turbulence (Cn² weight) and how far its screen shifts
/// across the frame, in pupil diameters (0 = ground layer, common to the whole field).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// Share of r0^(−5/3); the shares of a config are normalised to sum to 1.
    pub weight: f32,
    /// Screen shift across the frame width, pupil diameters.
    pub shift: f32,
}

/// Settings of a surface simulation (written as `surface.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurfaceConfig {
    /// The scene.
    pub scene: Scene,
    /// Frame side (after cropping), pixels.
    pub size: usize,
    /// Pupil diameter in phase-screen samples.
    pub pupil_px: usize,
    /// Lowest D/r0 of the per-frame (log-uniform) draw.
    pub d_over_r0: f32,
    /// Highest D/r0 of the draw.
    pub d_over_r0_max: f32,
    /// The turbulent layers.
    pub layers: Vec<Layer>,
    /// PSF nodes per side (K×K).
    pub nodes: usize,
    /// Truth regions per side (R×R) in `regions.csv`.
    pub regions: usize,
    /// Common tip/tilt jitter, RMS pixels per axis.
    pub jitter_px: f32,
    /// Electrons at the brightest point of the diffraction-limited image.
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

impl Default for SurfaceConfig {
    fn default() -> Self {
        SurfaceConfig {
            scene: Scene::Lunar,
            size: 256,
            pupil_px: 32,
            d_over_r0: 4.0,
            d_over_r0_max: 8.0,
            layers: vec![
                Layer { weight: 0.4, shift: 0.0 },
                Layer { weight: 0.3, shift: 1.0 },
                Layer { weight: 0.3, shift: 2.5 },
            ],
            nodes: 4,
            regions: 4,
            jitter_px: 1.5,
            peak_electrons: 5000.0,
            read_noise: 3.0,
            bit_depth: 12,
            frames: 200,
            seed: 1,
        }
    }
}

/// Truth of one surface frame (both simulators).
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceTruth {
    /// Mean local Strehl over the frame.
    pub strehl: f32,
    /// Mean local Strehl of each region, row-major over the R×R grid.
    pub regions: Vec<f32>,
    /// The frame's overall D/r0.
    pub d_over_r0: f32,
    /// Common jitter (x, y), pixels.
    pub jitter: (f32, f32),
}

/// Procedural granulation texture (`w × h`, mono, values in [0, 1]): Voronoi cells of about
/// `cell` pixels, bright centres, dark lanes, cell-to-cell brightness spread.
pub fn granulation_texture(w: usize, h: usize, cell: f32, seed: u64) -> Planes {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (gw, gh) = ((w as f32 / cell).ceil() as usize + 1, (h as f32 / cell).ceil() as usize + 1);
    let pts: Vec<(f32, f32, f32)> = (0..gw * gh)
        .map(|i| {
            let (gx, gy) = ((i % gw) as f32, (i / gw) as f32);
            ((gx + rng.random::<f32>()) * cell, (gy + rng.random::<f32>()) * cell, 0.75 + 0.25 * rng.random::<f32>())
        })
        .collect();
    let mut data = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let (cx, cy) = ((px / cell) as isize, (py / cell) as isize);
            let (mut d1, mut d2, mut b1) = (f32::MAX, f32::MAX, 0f32);
            for j in cy - 1..=cy + 1 {
                for i in cx - 1..=cx + 1 {
                    if i < 0 || j < 0 || i as usize >= gw || j as usize >= gh {
                        continue;
                    }
                    let p = pts[j as usize * gw + i as usize];
                    let d = ((p.0 - px).powi(2) + (p.1 - py).powi(2)).sqrt();
                    if d < d1 {
                        (d2, d1, b1) = (d1, d, p.2);
                    } else if d < d2 {
                        d2 = d;
                    }
                }
            }
            let lane = (-((d2 - d1) / (0.12 * cell)).powi(2)).exp();
            let dome = 1.0 - 0.25 * (d1 / cell).min(1.0).powi(2);
            data[y * w + x] = (b1 * dome * (1.0 - 0.6 * lane)).clamp(0.0, 1.0);
        }
    }
    Planes { channels: 1, width: w, height: h, data, bit_depth: 32 }
}

/// A Kolmogorov phase-screen generator on an `m × m` grid (FFT method, PSD `0.023 r0^−5/3 f^−11/3`).
pub(crate) struct ScreenGen {
    fft: Fft2,
    /// Screen side.
    pub m: usize,
}

impl ScreenGen {
    /// Plan an `m × m` generator.
    pub fn new(m: usize) -> ScreenGen {
        ScreenGen { fft: Fft2::new(m, m), m }
    }

    /// One screen (radians) for Fried parameter `r0` in screen samples.
    pub fn screen(&self, r0: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let m = self.m;
        let df = 1.0 / m as f32;
        let normal = Normal::new(0.0f32, 1.0).expect("unit normal");
        let mut spec = vec![Complex32::new(0.0, 0.0); m * m];
        for ky in 0..m {
            for kx in 0..m {
                if kx == 0 && ky == 0 {
                    continue;
                }
                let f = (signed_freq(kx, m).powi(2) + signed_freq(ky, m).powi(2)).sqrt() * df;
                let a = (0.023 * r0.powf(-5.0 / 3.0) * f.powf(-11.0 / 3.0)).sqrt() * df;
                spec[ky * m + kx] = Complex32::new(normal.sample(rng) * a, normal.sample(rng) * a);
            }
        }
        let mut tmp = Vec::new();
        self.fft.forward(&mut spec, &mut tmp);
        spec.iter().map(|c| c.re).collect()
    }
}

/// Bilinear node weights along one axis: lower node and fraction (clamped outside the node span).
pub(crate) fn node_axis(v: f32, first: f32, spacing: f32, k: usize) -> (usize, f32) {
    if k == 1 {
        return (0, 0.0);
    }
    let u = ((v - first) / spacing).clamp(0.0, (k - 1) as f32);
    let i = (u.floor() as usize).min(k - 2);
    (i, u - i as f32)
}

/// Simulator of surface footage through layered seeing (see the module documentation).
pub struct SurfaceSimulator {
    cfg: SurfaceConfig,
    inner: Simulator,
    pad: usize,
    screens: ScreenGen,
    dl_peak: f32,
    /// Node-weight share of every region (R² rows of K² weights).
    region_weights: Vec<Vec<f32>>,
    frame_weights: Vec<f32>,
    rng: ChaCha8Rng,
}

impl SurfaceSimulator {
    /// Prepare a simulator (loads the lunar or Jupiter texture from the Stellarium data set).
    pub fn new(cfg: SurfaceConfig) -> Result<SurfaceSimulator> {
        let bad = |m: &str| Err(FrameError::Invalid(format!("surface simulator: {m}")));
        if cfg.size < 32 || cfg.pupil_px < 8 || cfg.frames == 0 {
            return bad("need size ≥ 32, pupil ≥ 8 and frames ≥ 1");
        }
        if !(1..=8).contains(&cfg.nodes) || !(1..=16).contains(&cfg.regions) || !cfg.size.is_multiple_of(cfg.regions) {
            return bad("nodes must be 1–8 and regions 1–16, dividing the frame side");
        }
        let wsum: f32 = cfg.layers.iter().map(|l| l.weight).sum();
        if cfg.layers.is_empty() || !(wsum.is_finite() && wsum > 0.0) || cfg.layers.iter().any(|l| l.weight < 0.0) {
            return bad("layers need weights ≥ 0 with a positive sum");
        }
        if cfg.layers.iter().any(|l| !(l.shift.is_finite() && (0.0..=4.0).contains(&l.shift))) {
            return bad("layer shifts must be in [0, 4] pupil diameters");
        }
        let pad = cfg.pupil_px + (4.0 * cfg.jitter_px).ceil() as usize + 8;
        let n = cfg.size + 2 * pad;
        let (target, texture, radius, offset) = match cfg.scene {
            Scene::Lunar => (Target::Field, load_texture("moon_4k")?, 100.0, (0.0, 0.0)),
            Scene::Granulation => {
                (Target::Field, granulation_texture(1024, 512, 14.0, cfg.seed ^ 0x5011), 100.0, (0.0, 0.0))
            }
            Scene::PlanetCloseUp => {
                let r = 1.5 * cfg.size as f32;
                let d = (r - 0.3 * cfg.size as f32) / std::f32::consts::SQRT_2;
                (Target::Disc, load_texture("jupiter")?, r, (d, d))
            }
        };
        let sim_cfg = SimConfig {
            size: n,
            disc_radius: radius,
            offset,
            pupil_px: cfg.pupil_px,
            d_over_r0: cfg.d_over_r0,
            jitter_px: cfg.jitter_px,
            peak_electrons: cfg.peak_electrons,
            read_noise: cfg.read_noise,
            bit_depth: cfg.bit_depth,
            frames: cfg.frames,
            seed: cfg.seed,
            phase_deg: 5.0,
            target,
            ..SimConfig::default()
        };
        let inner = Simulator::new(sim_cfg, &texture)?;
        let g = 2 * cfg.pupil_px;
        let max_shift = cfg.layers.iter().map(|l| l.shift).fold(0f32, f32::max);
        let m = (g + (max_shift * cfg.pupil_px as f32).ceil() as usize + 2).max(4 * cfg.pupil_px).next_power_of_two();
        let dl = inner.psf(&vec![0f32; g * g]);
        let dl_peak = dl.iter().fold(0f32, |a, &v| a.max(v)).max(1e-30);
        let mut sim = SurfaceSimulator {
            screens: ScreenGen::new(m),
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5BF_ACE0_0000_0001),
            inner,
            pad,
            dl_peak,
            region_weights: Vec::new(),
            frame_weights: Vec::new(),
            cfg,
        };
        let (r, side) = (sim.cfg.regions, sim.cfg.size / sim.cfg.regions);
        sim.region_weights =
            (0..r * r).map(|i| sim.region_node_weights((i % r) * side, (i / r) * side, side, side)).collect();
        sim.frame_weights = sim.region_node_weights(0, 0, sim.cfg.size, sim.cfg.size);
        Ok(sim)
    }

    /// The settings.
    pub fn config(&self) -> &SurfaceConfig {
        &self.cfg
    }

    /// First node centre and node spacing, in cropped-frame pixels.
    fn node_grid(&self) -> (f32, f32) {
        let k = self.cfg.nodes;
        let s = self.cfg.size as f32;
        if k == 1 { (s / 2.0, 1.0) } else { (0.5, (s - 1.0) / (k - 1) as f32) }
    }

    /// Bilinear node weights at (x, y) of the cropped frame (they sum to 1).
    pub fn node_weights(&self, x: f32, y: f32) -> Vec<f32> {
        let k = self.cfg.nodes;
        let (first, sp) = self.node_grid();
        let ((i0, fx), (j0, fy)) = (node_axis(x, first, sp, k), node_axis(y, first, sp, k));
        let (i1, j1) = ((i0 + 1).min(k - 1), (j0 + 1).min(k - 1));
        let mut w = vec![0f32; k * k];
        w[j0 * k + i0] += (1.0 - fx) * (1.0 - fy);
        w[j0 * k + i1] += fx * (1.0 - fy);
        w[j1 * k + i0] += (1.0 - fx) * fy;
        w[j1 * k + i1] += fx * fy;
        w
    }

    /// Mean node weights over a rectangle of the cropped frame.
    pub fn region_node_weights(&self, x0: usize, y0: usize, w: usize, h: usize) -> Vec<f32> {
        let mut acc = vec![0f64; self.cfg.nodes * self.cfg.nodes];
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let nw = self.node_weights(x as f32 + 0.5, y as f32 + 0.5);
                acc.iter_mut().zip(&nw).for_each(|(a, &v)| *a += v as f64);
            }
        }
        acc.iter().map(|&a| (a / (w * h).max(1) as f64) as f32).collect()
    }

    /// The diffraction-limited, noise-free truth image on the frame scale (cropped).
    pub fn truth_image(&self) -> Vec<f32> {
        crop(&self.inner.truth_on_frame_scale(), self.cfg.size + 2 * self.pad, self.pad, self.cfg.size)
    }

    /// The next frame: (noisy frame in [0, 1], truth).
    pub fn frame(&mut self) -> (Vec<f32>, SurfaceTruth) {
        let c = self.cfg.clone();
        let (a, b) = (c.d_over_r0.ln(), c.d_over_r0_max.max(c.d_over_r0).ln());
        let d = (a + (b - a) * self.rng.random::<f32>()).exp();
        let r0 = c.pupil_px as f32 / d;
        let wsum: f32 = c.layers.iter().map(|l| l.weight).sum();
        let layers: Vec<Vec<f32>> = c
            .layers
            .iter()
            .map(|l| {
                let share = (l.weight / wsum).max(1e-6);
                self.screens.screen(r0 * share.powf(-0.6), &mut self.rng)
            })
            .collect();
        let jit = Normal::new(0.0f32, c.jitter_px.max(0.0)).expect("finite jitter");
        let (jx, jy) = (jit.sample(&mut self.rng), jit.sample(&mut self.rng));
        let k = c.nodes;
        let (g, m) = (2 * c.pupil_px, self.screens.m);
        let (first, sp) = self.node_grid();
        let phases: Vec<Vec<f32>> = (0..k * k)
            .map(|node| {
                let (x, y) = (first + (node % k) as f32 * sp, first + (node / k) as f32 * sp);
                let (u, v) = (x / c.size as f32 - 0.5, y / c.size as f32 - 0.5);
                let mut ph = vec![0f32; g * g];
                for (l, s) in c.layers.iter().zip(&layers) {
                    let ox = ((m - g) as f32 / 2.0 + u * l.shift * c.pupil_px as f32).round() as usize;
                    let oy = ((m - g) as f32 / 2.0 + v * l.shift * c.pupil_px as f32).round() as usize;
                    for yy in 0..g {
                        let row = &s[(oy + yy) * m + ox..(oy + yy) * m + ox + g];
                        ph[yy * g..(yy + 1) * g].iter_mut().zip(row).for_each(|(p, &q)| *p += q);
                    }
                }
                ph
            })
            .collect();
        let inner = &self.inner;
        let dl_peak = self.dl_peak;
        let (n, pad) = (c.size + 2 * self.pad, self.pad);
        let rendered: Vec<(Vec<f32>, f32)> = phases
            .par_iter()
            .map(|ph| {
                let psf = inner.psf(ph);
                let peak = psf.iter().fold(0f32, |a, &v| a.max(v));
                let (img, _) = inner.convolve(&psf, jx, jy, false);
                (crop(&img, n, pad, c.size), peak / dl_peak)
            })
            .collect();
        let s = c.size;
        let mut clean = vec![0f32; s * s];
        for y in 0..s {
            let (j0, fy) = node_axis(y as f32 + 0.5, first, sp, k);
            let j1 = (j0 + 1).min(k - 1);
            for x in 0..s {
                let (i0, fx) = node_axis(x as f32 + 0.5, first, sp, k);
                let i1 = (i0 + 1).min(k - 1);
                let p = y * s + x;
                let at = |j: usize, i: usize| rendered[j * k + i].0[p];
                clean[p] = (1.0 - fy) * ((1.0 - fx) * at(j0, i0) + fx * at(j0, i1))
                    + fy * ((1.0 - fx) * at(j1, i0) + fx * at(j1, i1));
            }
        }
        let node_strehl: Vec<f32> = rendered.iter().map(|r| r.1).collect();
        let mix = |w: &[f32]| w.iter().zip(&node_strehl).map(|(a, s)| a * s).sum::<f32>();
        let truth = SurfaceTruth {
            strehl: mix(&self.frame_weights),
            regions: self.region_weights.iter().map(|w| mix(w)).collect(),
            d_over_r0: d,
            jitter: (jx, jy),
        };
        let exp_cfg = self.inner.config().clone();
        (crate::simulation::sim::expose(&clean, &exp_cfg, &mut self.rng), truth)
    }
}

/// The central `side × side` crop of an `n × n` image, `pad` pixels in.
pub(crate) fn crop(img: &[f32], n: usize, pad: usize, side: usize) -> Vec<f32> {
    (0..side).flat_map(|y| img[(y + pad) * n + pad..(y + pad) * n + pad + side].iter().copied()).collect()
}

/// Write a surface video (side, bit depth, frame count) and its truth into `dir`: `frames.ser`, `truth.csv` (the disc simulator's
/// columns: strehl = mean local Strehl, ssim 0 = not computed), `regions.csv` (`frame,r0,…`),
/// `truth.png` and `config_json` as `surface.json`. One frame in memory at a time.
pub fn write_surface_video(
    dir: &Path,
    (size, bit_depth, frames): (usize, u32, usize),
    truth_image: &[f32],
    config_json: Vec<u8>,
    next: impl FnMut() -> (Vec<f32>, SurfaceTruth),
    progress: &dyn Fn(usize),
) -> Result<Vec<SurfaceTruth>> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut header = crate::io::SerHeader::new(size, size, crate::io::ColorId::Mono, bit_depth);
    header.instrument = "prettier-space surface sim".into();
    let truth = crate::simulation::sim::record_ser(&dir.join("frames.ser"), header, frames, next, progress)?;
    let (mut csv, mut reg) = (Vec::new(), Vec::new());
    writeln!(csv, "frame,strehl,ssim,shift_x,shift_y,d_over_r0,transparency,cut").ok();
    let nr = truth.first().map_or(0, |t| t.regions.len());
    let head: Vec<String> = (0..nr).map(|r| format!("r{r}")).collect();
    writeln!(reg, "frame,{}", head.join(",")).ok();
    for (i, t) in truth.iter().enumerate() {
        let (s, (x, y)) = (t.strehl, t.jitter);
        writeln!(csv, "{i},{s:.6},0,{x:.3},{y:.3},{:.3},1,0", t.d_over_r0).ok();
        let r: Vec<String> = t.regions.iter().map(|v| format!("{v:.6}")).collect();
        writeln!(reg, "{i},{}", r.join(",")).ok();
    }
    astro_image::image_io::write_atomic(&dir.join("truth.csv"), &csv)?;
    astro_image::image_io::write_atomic(&dir.join("regions.csv"), &reg)?;
    let mut tp = Planes::from_vec(1, size, size, truth_image.to_vec())?;
    tp.clamp01();
    astro_image::image_io::save_image(&tp, &dir.join("truth.png"), 16)?;
    astro_image::image_io::write_atomic(&dir.join("surface.json"), &config_json)?;
    Ok(truth)
}

/// Read `regions.csv`: one row of region truths per frame.
pub fn read_regions_csv(path: &Path) -> Result<Vec<Vec<f32>>> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let v: Vec<f32> = line
            .split(',')
            .skip(1)
            .map(|s| s.trim().parse::<f32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| FrameError::Invalid(format!("{}: line {}: {e}", path.display(), ln + 1)))?;
        out.push(v);
    }
    Ok(out)
}

/// The regional truth of the `size × size` point with top-left corner (x, y) in a `w × h` frame:
/// the area-weighted mean of the regions (a g×g grid over the frame, one row of `regions.csv`) it
/// covers, sampled every 4 pixels.
pub fn point_truth(regions: &[f32], w: usize, h: usize, x: usize, y: usize, size: usize) -> f32 {
    let g = (regions.len() as f64).sqrt().round() as usize;
    if g == 0 || w == 0 || h == 0 {
        return 0.0;
    }
    let (mut s, mut n) = (0f64, 0f64);
    for yy in (y..y + size).step_by(4) {
        for xx in (x..x + size).step_by(4) {
            let (rx, ry) = ((xx * g / w).min(g - 1), (yy * g / h).min(g - 1));
            s += regions[ry * g + rx] as f64;
            n += 1.0;
        }
    }
    (s / n.max(1.0)) as f32
}

/// Simulate `cfg.frames` frames into `dir` (see [`write_surface_video`]).
pub fn simulate_surface_to_dir(cfg: &SurfaceConfig, dir: &Path, progress: &dyn Fn(usize)) -> Result<Vec<SurfaceTruth>> {
    let mut sim = SurfaceSimulator::new(cfg.clone())?;
    let json = serde_json::to_vec_pretty(cfg).map_err(|e| FrameError::Invalid(e.to_string()))?;
    let truth_image = sim.truth_image();
    write_surface_video(dir, (cfg.size, cfg.bit_depth, cfg.frames), &truth_image, json, || sim.frame(), progress)
}

/// Frame truths of a surface video in the disc simulator's form (for [`crate::simulation::grid_eval`]).
pub fn as_frame_truth(t: &SurfaceTruth) -> FrameTruth {
    FrameTruth {
        strehl: t.strehl,
        ssim: 0.0,
        shift_x: t.jitter.0,
        shift_y: t.jitter.1,
        d_over_r0: t.d_over_r0,
        transparency: 1.0,
        cut: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(scene: Scene, layers: Vec<Layer>) -> SurfaceConfig {
        SurfaceConfig { scene, size: 64, pupil_px: 16, frames: 6, nodes: 3, regions: 2, layers, ..Default::default() }
    }

    #[test]
    fn high_layers_make_the_field_anisoplanatic_and_a_ground_layer_does_not() {
        let ground = vec![Layer { weight: 1.0, shift: 0.0 }];
        let mut iso = SurfaceSimulator::new(small(Scene::Granulation, ground)).unwrap();
        let high = vec![Layer { weight: 1.0, shift: 2.0 }];
        let mut aniso = SurfaceSimulator::new(small(Scene::Granulation, high)).unwrap();
        let mut spread = 0f32;
        for _ in 0..4 {
            let (f, t) = iso.frame();
            assert_eq!(f.len(), 64 * 64);
            assert!(f.iter().all(|v| (0.0..=1.0).contains(v)));
            let r0 = t.regions[0];
            assert!(t.regions.iter().all(|&r| (r - r0).abs() <= 1e-4 * r0.max(1e-3)), "{:?}", t.regions);
            let (_, t) = aniso.frame();
            let (lo, hi) = t.regions.iter().fold((f32::MAX, 0f32), |(a, b), &r| (a.min(r), b.max(r)));
            assert!(t.strehl >= lo - 1e-6 && t.strehl <= hi + 1e-6);
            spread = spread.max(hi / lo.max(1e-6));
        }
        assert!(spread > 1.3, "regions of the high-layer field: largest max/min Strehl {spread}");
    }

    #[test]
    fn node_weights_are_smooth_and_a_partition_of_unity() {
        let sim = SurfaceSimulator::new(small(Scene::Granulation, SurfaceConfig::default().layers)).unwrap();
        let mut prev = sim.node_weights(0.5, 20.0);
        for i in 1..=128 {
            let w = sim.node_weights(i as f32 * 0.5, 20.0);
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let jump = w.iter().zip(&prev).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(jump < 0.03, "weights jump by {jump} at x = {}", i as f32 * 0.5);
            prev = w;
        }
    }

    #[test]
    fn surface_videos_fill_the_frame_and_write_region_truth() {
        for scene in [Scene::Lunar, Scene::PlanetCloseUp] {
            let cfg = small(scene, SurfaceConfig::default().layers);
            let dir = tempfile::tempdir().unwrap();
            let t = simulate_surface_to_dir(&cfg, dir.path(), &|_| {}).unwrap();
            assert_eq!(t.len(), 6);
            let regions = read_regions_csv(&dir.path().join("regions.csv")).unwrap();
            assert_eq!((regions.len(), regions[0].len()), (6, 4));
            let truth = crate::simulation::sim::read_truth_csv(&dir.path().join("truth.csv")).unwrap();
            assert!((truth[2].strehl - t[2].strehl).abs() < 1e-5);
            let r = crate::io::SerReader::open(&dir.path().join("frames.ser")).unwrap();
            let f = r.read_planes(0).unwrap();
            let lit = f.data.iter().filter(|&&v| v > 0.05).count() as f32 / f.data.len() as f32;
            assert!(lit > 0.7, "{scene:?}: only {lit} of the frame is lit");
        }
    }
}
