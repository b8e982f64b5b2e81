//! Spatially varying (anisoplanatic) seeing: a K×K grid of isoplanatic patches across the planet
//! disc, each blurred by its own PSF, blended with smooth partition-of-unity weights.
//!
//! Per frame, one common Kolmogorov screen φ_c and one own screen φ_r per patch are drawn (the
//! [`Simulator`]'s FFT method); patch r sees `φ_r = √c·φ_c + √(1−c)·φ_own,r`, so `c = 1` gives the
//! same PSF everywhere and `c = 0` independent ones (both keep the Kolmogorov statistics). The noise-free
//! frame is `Σ_r w_r(x)·(object ⊛ PSF_r)` with bilinear tent weights `w_r` centred on the patch
//! centres (they sum to 1 at every pixel), shifted by a common tip/tilt jitter; then Poisson and read
//! noise and quantisation as in [`Simulator`]. Each patch's PSF keeps its own tilt, so patches also
//! move against each other (local distortion), as real anisoplanatic seeing does.
//!
//! Truth per frame ([`AnisoTruth`]): the Strehl ratio of every patch's PSF, the global Strehl (patch
//! Strehls averaged with each patch's share of the disc), and the patch centres. The truth of a
//! region is [`AnisoSimulator::region_strehl`] (patch Strehls averaged with the region's mean weights).

use std::io::Write;
use std::path::{Path, PathBuf};

use astro_image::Planes;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result, io_err};
use crate::io::{ColorId, SerHeader};
use crate::simulation::sim::{SimConfig, Simulator};

/// Largest patch grid side accepted by [`AnisoSimulator::new`].
pub const MAX_PATCHES: usize = 8;

/// Ground truth of one anisoplanatic frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnisoTruth {
    /// Global Strehl: the patch Strehls averaged with each patch's share of the disc.
    pub strehl: f32,
    /// Strehl ratio of each patch's PSF, row-major over the K×K grid (`patch = iy·K + ix`).
    pub patch_strehl: Vec<f32>,
    /// Centre (x, y) of each patch in pixels, same order as `patch_strehl`.
    pub patch_centres: Vec<(f32, f32)>,
    /// Image shift of each patch (its PSF centroid plus the common jitter), pixels.
    pub patch_shifts: Vec<(f32, f32)>,
    /// Common tip/tilt jitter (x, y) of the frame, pixels.
    pub jitter: (f32, f32),
}

/// Settings of an anisoplanatic run (written next to the output as `aniso.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnisoConfig {
    /// Seeing, optics, noise and frame settings (as for [`Simulator`]).
    pub sim: SimConfig,
    /// Patch grid side K (K×K patches across the disc), 1 to [`MAX_PATCHES`].
    pub patches: usize,
    /// Share c of the phase variance common to all patches, in [0, 1].
    pub correlation: f32,
}

/// Simulator of frames whose seeing differs across the disc (see the module documentation).
pub struct AnisoSimulator {
    inner: Simulator,
    patches: usize,
    correlation: f32,
    centres: Vec<(f32, f32)>,
    /// First centre and spacing of the grid, per axis (x, y).
    grid: ((f32, f32), f32),
    disc_share: Vec<f32>,
    dl_peak: f32,
    rng: ChaCha8Rng,
}

impl AnisoSimulator {
    /// Prepare a simulator: `patches` = grid side K (1 to [`MAX_PATCHES`]), `correlation` = c in [0, 1].
    pub fn new(cfg: SimConfig, texture: &Planes, patches: usize, correlation: f32) -> Result<AnisoSimulator> {
        if !(1..=MAX_PATCHES).contains(&patches) {
            return Err(FrameError::Invalid(format!(
                "anisoplanatic simulator: patches {patches}: expected a grid side from 1 to {MAX_PATCHES}"
            )));
        }
        if !(correlation.is_finite() && (0.0..=1.0).contains(&correlation)) {
            return Err(FrameError::Invalid(format!(
                "anisoplanatic simulator: correlation {correlation}: expected a value in [0, 1]"
            )));
        }
        if !(cfg.disc_radius.is_finite() && cfg.disc_radius > 0.0) {
            return Err(FrameError::Invalid(format!(
                "anisoplanatic simulator: disc radius {}: expected a finite radius > 0",
                cfg.disc_radius
            )));
        }
        let seed = cfg.seed;
        let inner = Simulator::new(cfg, texture)?;
        let c = inner.config();
        let n = c.size;
        let (cx, cy) = (n as f32 / 2.0 + c.offset.0, n as f32 / 2.0 + c.offset.1);
        let r = c.disc_radius;
        let spacing = 2.0 * r / patches as f32;
        let first = (cx - r + 0.5 * spacing, cy - r + 0.5 * spacing);
        let centres = (0..patches * patches)
            .map(|i| (first.0 + (i % patches) as f32 * spacing, first.1 + (i / patches) as f32 * spacing))
            .collect();
        let g = 2 * c.pupil_px;
        let dl_psf = inner.psf(&vec![0f32; g * g]);
        let dl_peak = dl_psf.iter().fold(0f32, |m, &v| m.max(v)).max(1e-30);
        let mut sim = AnisoSimulator {
            inner,
            patches,
            correlation,
            centres,
            grid: (first, spacing),
            disc_share: Vec::new(),
            dl_peak,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xA115_0000_5EED_0001),
        };
        // Each patch's share of the disc (pixels within the disc radius of its centre).
        let mut share = vec![0f64; patches * patches];
        let mut w = vec![0f32; patches * patches];
        let mut count = 0usize;
        for y in 0..n {
            for x in 0..n {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                if (px - cx).powi(2) + (py - cy).powi(2) <= r * r {
                    sim.patch_weights_into(px, py, &mut w);
                    share.iter_mut().zip(&w).for_each(|(s, &v)| *s += v as f64);
                    count += 1;
                }
            }
        }
        sim.disc_share = share.iter().map(|&s| (s / count.max(1) as f64) as f32).collect();
        Ok(sim)
    }

    /// The seeing, optics and noise settings.
    pub fn config(&self) -> &SimConfig {
        self.inner.config()
    }

    /// Patch grid side K.
    pub fn patches(&self) -> usize {
        self.patches
    }

    /// Share of the phase variance common to all patches.
    pub fn correlation(&self) -> f32 {
        self.correlation
    }

    /// Patch centres (x, y) in pixels, row-major (`patch = iy·K + ix`).
    pub fn patch_centres(&self) -> &[(f32, f32)] {
        &self.centres
    }

    /// Each patch's share of the disc (the weights of the global Strehl; they sum to 1).
    pub fn disc_share(&self) -> &[f32] {
        &self.disc_share
    }

    /// The diffraction-limited, noise-free image (the truth a stack is compared with).
    pub fn truth_image(&self) -> &[f32] {
        &self.inner.truth_image
    }

    /// The truth image on the frames' [0, 1] scale.
    pub fn truth_on_frame_scale(&self) -> Vec<f32> {
        self.inner.truth_on_frame_scale()
    }

    /// Blend weight of every patch at pixel position (x, y) (bilinear tents; they sum to 1).
    pub fn patch_weight(&self, x: f32, y: f32) -> Vec<f32> {
        let mut w = vec![0f32; self.patches * self.patches];
        self.patch_weights_into(x, y, &mut w);
        w
    }

    /// [`AnisoSimulator::patch_weight`] into `out` (length K², overwritten).
    pub fn patch_weights_into(&self, x: f32, y: f32, out: &mut [f32]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        let ((i0, fx), (j0, fy)) = (self.axis(x, 0), self.axis(y, 1));
        let k = self.patches;
        let (i1, j1) = ((i0 + 1).min(k - 1), (j0 + 1).min(k - 1));
        out[j0 * k + i0] += (1.0 - fx) * (1.0 - fy);
        out[j0 * k + i1] += fx * (1.0 - fy);
        out[j1 * k + i0] += (1.0 - fx) * fy;
        out[j1 * k + i1] += fx * fy;
    }

    /// Lower grid node and fraction towards the next one along an axis (clamped outside the grid).
    fn axis(&self, v: f32, axis: usize) -> (usize, f32) {
        let first = if axis == 0 { self.grid.0.0 } else { self.grid.0.1 };
        let k = self.patches;
        if k == 1 {
            return (0, 0.0);
        }
        let u = ((v - first) / self.grid.1).clamp(0.0, (k - 1) as f32);
        let i = (u.floor() as usize).min(k - 2);
        (i, u - i as f32)
    }

    /// Mean patch weights over the pixels of the rectangle `[x0, x0+w) × [y0, y0+h)` (pixel centres).
    pub fn region_weights(&self, x0: usize, y0: usize, w: usize, h: usize) -> Vec<f32> {
        let mut acc = vec![0f64; self.patches * self.patches];
        let mut tmp = vec![0f32; acc.len()];
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                self.patch_weights_into(x as f32 + 0.5, y as f32 + 0.5, &mut tmp);
                acc.iter_mut().zip(&tmp).for_each(|(a, &t)| *a += t as f64);
            }
        }
        let n = (w * h).max(1) as f64;
        acc.iter().map(|&a| (a / n) as f32).collect()
    }

    /// Truth of a region: the frame's patch Strehls averaged with the region's mean patch weights.
    pub fn region_strehl(&self, truth: &AnisoTruth, x0: usize, y0: usize, w: usize, h: usize) -> f32 {
        self.region_weights(x0, y0, w, h).iter().zip(&truth.patch_strehl).map(|(a, s)| a * s).sum()
    }

    /// The next frame without noise: (noise-free frame on the object's scale, truth).
    pub fn frame_clean(&mut self) -> (Vec<f32>, AnisoTruth) {
        let kk = self.patches * self.patches;
        let common = self.inner.phase_screen();
        let (a, b) = (self.correlation.sqrt(), (1.0 - self.correlation).sqrt());
        let screens: Vec<Vec<f32>> = (0..kk)
            .map(|_| {
                let own = self.inner.phase_screen();
                common.iter().zip(&own).map(|(c, o)| a * c + b * o).collect()
            })
            .collect();
        let jit = Normal::new(0.0f32, self.config().jitter_px.max(0.0)).expect("finite jitter");
        let (jx, jy) = (jit.sample(&mut self.rng), jit.sample(&mut self.rng));
        let inner = &self.inner;
        let dl_peak = self.dl_peak;
        let rendered: Vec<(Vec<f32>, f32, (f32, f32))> = screens
            .par_iter()
            .map(|phase| {
                let psf = inner.psf(phase);
                let peak = psf.iter().fold(0f32, |m, &v| m.max(v));
                let (img, (mx, my)) = inner.convolve(&psf, jx, jy, false);
                (img, peak / dl_peak, (jx + mx, jy + my))
            })
            .collect();
        let n = self.config().size;
        let mut clean = vec![0f32; n * n];
        let k = self.patches;
        for y in 0..n {
            let (j0, fy) = self.axis(y as f32 + 0.5, 1);
            let j1 = (j0 + 1).min(k - 1);
            for x in 0..n {
                let (i0, fx) = self.axis(x as f32 + 0.5, 0);
                let i1 = (i0 + 1).min(k - 1);
                let p = y * n + x;
                let at = |j: usize, i: usize| rendered[j * k + i].0[p];
                clean[p] = (1.0 - fy) * ((1.0 - fx) * at(j0, i0) + fx * at(j0, i1))
                    + fy * ((1.0 - fx) * at(j1, i0) + fx * at(j1, i1));
            }
        }
        let patch_strehl: Vec<f32> = rendered.iter().map(|r| r.1).collect();
        let strehl = patch_strehl.iter().zip(&self.disc_share).map(|(s, a)| s * a).sum();
        let truth = AnisoTruth {
            strehl,
            patch_strehl,
            patch_centres: self.centres.clone(),
            patch_shifts: rendered.iter().map(|r| r.2).collect(),
            jitter: (jx, jy),
        };
        (clean, truth)
    }

    /// The next frame: (noisy frame in [0, 1], truth).
    pub fn frame(&mut self) -> (Vec<f32>, AnisoTruth) {
        let (clean, truth) = self.frame_clean();
        (self.expose(&clean), truth)
    }

    /// The camera model of [`Simulator`] (`sim::expose`) on this simulator's own noise stream.
    fn expose(&mut self, clean: &[f32]) -> Vec<f32> {
        crate::simulation::sim::expose(clean, self.inner.config(), &mut self.rng)
    }
}

/// Files written by [`simulate_aniso_to_dir`].
#[derive(Debug, Clone)]
pub struct AnisoOutput {
    /// The SER video (`frames.ser`).
    pub ser: PathBuf,
    /// `frame,strehl,patch0,…` CSV (`truth.csv`).
    pub truth_csv: PathBuf,
    /// The diffraction-limited truth image, 16-bit PNG on the frame scale (`truth.png`).
    pub truth_png: PathBuf,
    /// Per-frame truth.
    pub truth: Vec<AnisoTruth>,
    /// The truth image on the frame scale (what `truth.png` holds, unquantised).
    pub truth_image: Vec<f32>,
}

/// Simulate `cfg.sim.frames` anisoplanatic frames into `dir` (`frames.ser`, `truth.csv`,
/// `truth.png`, `aniso.json`), one frame in memory at a time; files are written atomically.
pub fn simulate_aniso_to_dir(
    cfg: &AnisoConfig,
    texture: &Planes,
    dir: &Path,
    progress: &dyn Fn(usize),
) -> Result<AnisoOutput> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut sim = AnisoSimulator::new(cfg.sim.clone(), texture, cfg.patches, cfg.correlation)?;
    let n = cfg.sim.size;
    let ser = dir.join("frames.ser");
    let mut header = SerHeader::new(n, n, ColorId::Mono, cfg.sim.bit_depth);
    header.instrument = "prettier-space anisoplanatic sim".into();
    let truth = crate::simulation::sim::record_ser(&ser, header, cfg.sim.frames, || sim.frame(), progress)?;
    let mut csv = Vec::new();
    let kk = cfg.patches * cfg.patches;
    let head: Vec<String> = (0..kk).map(|r| format!("patch{r}")).collect();
    writeln!(csv, "frame,strehl,{}", head.join(",")).ok();
    for (i, t) in truth.iter().enumerate() {
        let p: Vec<String> = t.patch_strehl.iter().map(|s| format!("{s:.6}")).collect();
        writeln!(csv, "{i},{:.6},{}", t.strehl, p.join(",")).ok();
    }
    let truth_csv = dir.join("truth.csv");
    astro_image::image_io::write_atomic(&truth_csv, &csv)?;
    let truth_image = sim.truth_on_frame_scale();
    let truth_png = dir.join("truth.png");
    let mut tp = Planes::from_vec(1, n, n, truth_image.clone())?;
    tp.clamp01();
    astro_image::image_io::save_image(&tp, &truth_png, 16)?;
    let json = serde_json::to_vec_pretty(cfg).map_err(|e| FrameError::Invalid(e.to_string()))?;
    astro_image::image_io::write_atomic(&dir.join("aniso.json"), &json)?;
    Ok(AnisoOutput { ser, truth_csv, truth_png, truth, truth_image })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::sim::planet_texture;

    fn small(d_over_r0: f32, seed: u64) -> SimConfig {
        SimConfig { size: 64, disc_radius: 20.0, pupil_px: 16, frames: 4, d_over_r0, seed, ..SimConfig::default() }
    }

    #[test]
    fn full_correlation_gives_equal_patches_and_none_gives_different_ones() {
        let tex = planet_texture("mars").expect("Stellarium data (run datasets/stellarium/fetch.sh)");
        let mut same = AnisoSimulator::new(small(6.0, 3), &tex, 3, 1.0).unwrap();
        for _ in 0..3 {
            let (_, t) = same.frame();
            assert_eq!(t.patch_strehl.len(), 9);
            let s0 = t.patch_strehl[0];
            assert!(t.patch_strehl.iter().all(|&s| (s - s0).abs() <= 1e-5 * s0), "{:?}", t.patch_strehl);
            assert!((t.strehl - s0).abs() <= 1e-4 * s0, "global {} vs patch {s0}", t.strehl);
        }
        let mut indep = AnisoSimulator::new(small(6.0, 3), &tex, 3, 0.0).unwrap();
        let mut spread = 0f32;
        for _ in 0..3 {
            let (_, t) = indep.frame();
            let max = t.patch_strehl.iter().fold(0f32, |m, &s| m.max(s));
            let min = t.patch_strehl.iter().fold(f32::INFINITY, |m, &s| m.min(s));
            assert!(min > 0.0 && max <= 1.0001);
            spread = spread.max(max / min);
            assert!(t.strehl >= min && t.strehl <= max);
        }
        assert!(spread > 1.3, "independent patches: largest max/min Strehl ratio {spread}");
    }

    #[test]
    fn patch_weights_are_a_partition_of_unity_peaking_at_the_centres() {
        let tex = planet_texture("mars").unwrap();
        let sim = AnisoSimulator::new(small(4.0, 1), &tex, 3, 0.5).unwrap();
        for y in (0..64).step_by(3) {
            for x in (0..64).step_by(5) {
                let w = sim.patch_weight(x as f32 + 0.3, y as f32 + 0.7);
                assert!(w.iter().all(|&v| (0.0..=1.0).contains(&v)));
                assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5, "({x},{y}): {w:?}");
            }
        }
        for (r, &(cx, cy)) in sim.patch_centres().iter().enumerate() {
            let w = sim.patch_weight(cx, cy);
            assert!((w[r] - 1.0).abs() < 1e-5, "patch {r} at its centre: {w:?}");
        }
        assert!((sim.disc_share().iter().sum::<f32>() - 1.0).abs() < 1e-4);
        // The centre patch owns the middle; a region there is its Strehl.
        let t = AnisoTruth {
            strehl: 0.0,
            patch_strehl: (0..9).map(|r| r as f32 / 10.0).collect(),
            patch_centres: sim.patch_centres().to_vec(),
            patch_shifts: vec![(0.0, 0.0); 9],
            jitter: (0.0, 0.0),
        };
        assert!((sim.region_strehl(&t, 31, 31, 2, 2) - 0.4).abs() < 0.02);
    }

    #[test]
    fn bad_settings_are_refused() {
        let tex = planet_texture("mars").unwrap();
        for (k, c) in [(0usize, 0.5f32), (MAX_PATCHES + 1, 0.5), (3, -0.1), (3, 1.5), (3, f32::NAN)] {
            let e = AnisoSimulator::new(small(4.0, 1), &tex, k, c).err().expect("refused");
            assert!(e.to_string().contains("anisoplanatic"), "{e}");
        }
    }
}
