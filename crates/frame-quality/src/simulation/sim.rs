//! Turbulence simulator: a lit planet from a texture, Kolmogorov phase screens, PSF from the
//! pupil, tip/tilt jitter, Poisson and read noise, quantisation; writes SER + per-frame truth.
//!
//! Sampling: the pupil (diameter `pupil_px`) sits in a grid twice its size, so the PSF and the
//! frames are Nyquist-sampled (one pixel = λ/2D). Phase screens use the FFT method on a grid four
//! times the pupil (which keeps most of the tip/tilt power) with the Kolmogorov spectrum
//! `0.023 r0^(−5/3) f^(−11/3)`. Each frame gets an independent screen (frames far apart in time).
//! Truth per frame: the Strehl ratio (PSF peak over the diffraction-limited peak) and the SSIM of
//! the noise-free, re-centred frame to the diffraction-limited image; a frame whose disc is cut by
//! the frame edge is useless however sharp, and its ranking truth ([`FrameTruth::quality`]) is 0.
//!
//! Beyond the basic case (one D/r0, fixed transparency, mono), a configuration can draw D/r0 per
//! frame (log-uniform in `d_over_r0..d_over_r0_max`), vary the transparency per frame with thin
//! cloud haze, cut some frames' discs by the frame edge, record a colour scene through an RGGB
//! Bayer mosaic, and render rings or a frame-filling surface ([`crate::simulation::render::Target`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use astro_image::Planes;
use astro_image::quality::ssim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};
use rustfft::num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result, io_err};
use crate::io::{BayerPattern, ColorId, SerHeader, SerWriter};
use crate::simulation::render::{Target, View, render, render_unnormalised};
use astro_image::fft::{Fft2, signed_freq};

/// The smallest simulated frame side.
pub const MIN_SIM_SIZE: usize = 32;
/// The largest simulated frame side: a 4096² frame's FFT work arrays are a few hundred MB;
/// 100000 asked for 80 GB and aborted.
pub const MAX_SIM_SIZE: usize = 4096;

/// Simulation settings (serialised next to the output as `sim.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimConfig {
    /// Frame side in pixels (square frames).
    pub size: usize,
    /// Planet disc radius in pixels.
    pub disc_radius: f32,
    /// Telescope diameter over Fried's parameter: 2 = excellent seeing, 10+ = poor.
    pub d_over_r0: f32,
    /// Pupil diameter in phase-screen samples.
    pub pupil_px: usize,
    /// Extra random tip/tilt (telescope shake) per axis, RMS pixels.
    pub jitter_px: f32,
    /// Electrons at the brightest point of the diffraction-limited image.
    pub peak_electrons: f32,
    /// Read noise in electrons RMS.
    pub read_noise: f32,
    /// Output bit depth: 8 or 12 (stored in 16-bit samples).
    pub bit_depth: u32,
    /// Number of frames.
    pub frames: usize,
    /// Random seed (the whole run is reproducible).
    pub seed: u64,
    /// Sun–planet–observer angle in degrees (0 = full disc).
    pub phase_deg: f32,
    /// Longitude facing the observer, degrees.
    pub central_meridian_deg: f32,
    /// Disc centre offset from the frame centre (x, y) in pixels (to test half-cut planets).
    pub offset: (f32, f32),
    /// Upper end of a per-frame D/r0 drawn log-uniformly from `d_over_r0` (≤ `d_over_r0` = fixed).
    #[serde(default)]
    pub d_over_r0_max: f32,
    /// Lowest per-frame transparency (thin clouds); each frame draws uniformly in `[min, 1]`.
    #[serde(default = "one")]
    pub transparency_min: f32,
    /// Scattered cloud light added per frame: `haze × (1 − transparency)` of the peak, uniform.
    #[serde(default)]
    pub haze: f32,
    /// Share of frames whose disc is cut by the frame edge (ranking truth 0).
    #[serde(default)]
    pub cut_fraction: f32,
    /// Record through an RGGB Bayer mosaic (colour camera) instead of mono.
    #[serde(default)]
    pub bayer: bool,
    /// The scene: disc, ringed disc or frame-filling surface.
    #[serde(default)]
    pub target: Target,
}

fn one() -> f32 {
    1.0
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            size: 256,
            disc_radius: 80.0,
            d_over_r0: 6.0,
            pupil_px: 64,
            jitter_px: 1.5,
            peak_electrons: 2000.0,
            read_noise: 3.0,
            bit_depth: 8,
            frames: 300,
            seed: 1,
            phase_deg: 20.0,
            central_meridian_deg: 0.0,
            offset: (0.0, 0.0),
            d_over_r0_max: 0.0,
            transparency_min: 1.0,
            haze: 0.0,
            cut_fraction: 0.0,
            bayer: false,
            target: Target::Disc,
        }
    }
}

impl SimConfig {
    /// Refuse settings the simulator cannot run, naming only the conditions that fail (before
    /// any texture is loaded or buffer allocated).
    pub fn validate(&self) -> Result<()> {
        // Only the conditions that fail are named (a message listing met ones misleads).
        let mut unmet = Vec::new();
        if !(MIN_SIM_SIZE..=MAX_SIM_SIZE).contains(&self.size) {
            unmet.push(format!("size {} must be {MIN_SIM_SIZE}–{MAX_SIM_SIZE}", self.size));
        }
        if self.pupil_px < 8 {
            unmet.push(format!("pupil {} must be at least 8", self.pupil_px));
        } else if self.pupil_px > self.size {
            unmet.push(format!("pupil {} must be at most the frame size {}", self.pupil_px, self.size));
        }
        if self.frames == 0 {
            unmet.push("frames must be at least 1".to_string());
        }
        if !(self.d_over_r0.is_finite() && self.d_over_r0 > 0.0) {
            unmet.push(format!("D/r0 {} must be > 0", self.d_over_r0));
        }
        if !matches!(self.bit_depth, 8 | 12 | 16) {
            unmet.push(format!("bit depth {} must be 8, 12 or 16", self.bit_depth));
        }
        if !(self.transparency_min > 0.0 && self.transparency_min <= 1.0) {
            unmet.push(format!("transparency_min {} must be in (0, 1]", self.transparency_min));
        }
        if !(0.0..=1.0).contains(&self.cut_fraction) {
            unmet.push(format!("cut_fraction {} must be in [0, 1]", self.cut_fraction));
        }
        if !(self.haze >= 0.0 && self.haze.is_finite()) {
            unmet.push(format!("haze {} must be ≥ 0", self.haze));
        }
        if !self.d_over_r0_max.is_finite() {
            unmet.push(format!("D/r0 max {} must be finite", self.d_over_r0_max));
        }
        if !unmet.is_empty() {
            return Err(FrameError::Invalid(format!("simulator: {}", unmet.join("; "))));
        }
        if self.cut_fraction > 0.0 && self.target == Target::Field {
            return Err(FrameError::Invalid("simulator: a frame-filling field has no disc to cut".into()));
        }
        Ok(())
    }

    /// The scene geometry of this configuration.
    pub fn view(&self) -> View {
        View {
            size: self.size,
            disc_radius: self.disc_radius,
            offset: self.offset,
            phase_deg: self.phase_deg,
            central_meridian_deg: self.central_meridian_deg,
        }
    }
}

/// Ground truth of one simulated frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameTruth {
    /// Strehl ratio of the frame's PSF.
    pub strehl: f32,
    /// SSIM of the noise-free, re-centred frame to the diffraction-limited image.
    pub ssim: f32,
    /// Image shift (PSF centroid + jitter), x, pixels.
    pub shift_x: f32,
    /// Image shift, y, pixels.
    pub shift_y: f32,
    /// D/r0 of this frame's phase screen.
    #[serde(default)]
    pub d_over_r0: f32,
    /// Transparency of this frame (1 = clear).
    #[serde(default = "one")]
    pub transparency: f32,
    /// Whether the disc is cut by the frame edge (sharp but useless).
    #[serde(default)]
    pub cut: bool,
}

impl FrameTruth {
    /// What a ranker should reproduce: the Strehl ratio, or 0 for a frame whose disc is cut.
    pub fn quality(&self) -> f32 {
        if self.cut { 0.0 } else { self.strehl }
    }
}

/// Render an orthographic view of a lit planet from an equirectangular texture (mono, peak ≈ 1).
pub fn render_planet(texture: &Planes, cfg: &SimConfig) -> Vec<f32> {
    render(Target::Disc, texture, None, &cfg.view(), 1).data
}

/// A simulator for one configuration: precomputed object spectra and diffraction-limited PSF.
pub struct Simulator {
    cfg: SimConfig,
    frame_fft: Fft2,
    psf_fft: Fft2,
    screen_fft: Fft2,
    object_spec: Vec<Complex32>,
    /// Per-channel spectra of the colour scene (Bayer recording only).
    colour_specs: Vec<Vec<Complex32>>,
    /// Spectra of the scene with its disc cut by the frame edge: luma, then colour channels.
    cut_specs: Vec<Vec<Complex32>>,
    /// Left columns of a cut frame that hold the periodic wrap of the disc and are reset to sky.
    cut_sky_cols: usize,
    pupil: Vec<bool>,
    dl_peak: f32,
    /// The diffraction-limited, noise-free image (same photometric scale as the noise-free frames).
    pub truth_image: Vec<f32>,
    rng: ChaCha8Rng,
}

/// Forward 2-D FFT of each plane of `p`.
fn spectra(fft: &Fft2, p: &Planes) -> Vec<Vec<Complex32>> {
    let mut tmp = Vec::new();
    (0..p.channels)
        .map(|c| {
            let mut spec: Vec<Complex32> = p.plane(c).iter().map(|&v| Complex32::new(v, 0.0)).collect();
            fft.forward(&mut spec, &mut tmp);
            spec
        })
        .collect()
}

impl Simulator {
    /// Prepare a simulator from a planet texture (a plain disc; see [`Simulator::with_scene`]).
    pub fn new(cfg: SimConfig, texture: &Planes) -> Result<Simulator> {
        Simulator::with_scene(cfg, texture, None)
    }

    /// Prepare a simulator for `cfg.target` rendered from a surface texture and, for ringed
    /// targets, a radial ring texture.
    pub fn with_scene(cfg: SimConfig, texture: &Planes, rings: Option<&Planes>) -> Result<Simulator> {
        cfg.validate()?;
        let n = cfg.size;
        let frame_fft = Fft2::new(n, n);
        let view = cfg.view();
        let channels = if cfg.bayer { 3 } else { 1 };
        // Peak-normalised like `render`; the cut scene below shares this scale.
        let mut scene = render_unnormalised(cfg.target, texture, rings, &view, channels);
        let peak = scene.data.iter().fold(0f32, |m, &v| m.max(v)).max(1e-12);
        scene.data.iter_mut().for_each(|v| *v /= peak);
        let luma_of = |p: &Planes| if p.channels == 1 { p.clone() } else { p.to_luma() };
        let object_spec = spectra(&frame_fft, &luma_of(&scene)).remove(0);
        let colour_specs = if cfg.bayer { spectra(&frame_fft, &scene) } else { Vec::new() };
        let (cut_specs, cut_sky_cols) = if cfg.cut_fraction > 0.0 {
            // The disc centre 0.35 radii inside the right edge: about 60 % of the disc is outside.
            // The FFT convolution is periodic, so the part beyond the right edge is rendered into
            // the left columns too (the blur at the edge then sees the disc, not the far sky), and
            // those columns are set back to sky after the convolution (`cut_sky_cols`).
            let cx = n as f32 / 2.0 - 0.35 * cfg.disc_radius;
            let right = render_unnormalised(
                cfg.target,
                texture,
                rings,
                &View { offset: (cx, view.offset.1), ..view },
                channels,
            );
            let wrap = View { offset: (cx - n as f32, view.offset.1), ..view };
            let left = render_unnormalised(cfg.target, texture, rings, &wrap, channels);
            let data = right.data.iter().zip(&left.data).map(|(a, b)| (a + b) / peak).collect();
            let cut = Planes { data, ..right };
            let mut v = spectra(&frame_fft, &luma_of(&cut));
            if cfg.bayer {
                v.extend(spectra(&frame_fft, &cut));
            }
            let sky = (0.65 * cfg.disc_radius + 4.0 * cfg.jitter_px + cfg.pupil_px as f32 / 4.0).ceil() as usize;
            (v, sky.min(n / 2))
        } else {
            (Vec::new(), 0)
        };
        let g = 2 * cfg.pupil_px;
        let psf_fft = Fft2::new(g, g);
        let screen_fft = Fft2::new(4 * cfg.pupil_px, 4 * cfg.pupil_px);
        let rad = cfg.pupil_px as f32 / 2.0;
        let pupil: Vec<bool> = (0..g * g)
            .map(|i| {
                let (x, y) = ((i % g) as f32 + 0.5 - g as f32 / 2.0, (i / g) as f32 + 0.5 - g as f32 / 2.0);
                x * x + y * y <= rad * rad
            })
            .collect();
        let mut sim = Simulator {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            cfg,
            frame_fft,
            psf_fft,
            screen_fft,
            object_spec,
            colour_specs,
            cut_specs,
            cut_sky_cols,
            pupil,
            dl_peak: 1.0,
            truth_image: Vec::new(),
        };
        let flat = vec![0f32; g * g];
        let dl_psf = sim.psf(&flat);
        sim.dl_peak = dl_psf.iter().fold(0f32, |m, &v| m.max(v));
        let (img, _) = sim.convolve(&dl_psf, 0.0, 0.0, false);
        sim.truth_image = img;
        Ok(sim)
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// A Kolmogorov phase screen (radians) over the pupil grid, by the FFT method.
    pub fn phase_screen(&mut self) -> Vec<f32> {
        self.phase_screen_for(self.cfg.d_over_r0)
    }

    /// A Kolmogorov phase screen for a given D/r0.
    pub fn phase_screen_for(&mut self, d_over_r0: f32) -> Vec<f32> {
        let m = self.screen_fft.width;
        let r0 = self.cfg.pupil_px as f32 / d_over_r0;
        let df = 1.0 / m as f32;
        let normal = Normal::new(0.0f32, 1.0).expect("unit normal");
        let mut spec = vec![Complex32::new(0.0, 0.0); m * m];
        for ky in 0..m {
            for kx in 0..m {
                if kx == 0 && ky == 0 {
                    continue;
                }
                let f = (signed_freq(kx, m).powi(2) + signed_freq(ky, m).powi(2)).sqrt() * df;
                let psd = 0.023 * r0.powf(-5.0 / 3.0) * f.powf(-11.0 / 3.0);
                let a = psd.sqrt() * df;
                spec[ky * m + kx] = Complex32::new(normal.sample(&mut self.rng) * a, normal.sample(&mut self.rng) * a);
            }
        }
        let mut tmp = Vec::new();
        // Unnormalised inverse sum = forward transform of the conjugate; the real part is the screen.
        self.screen_fft.forward(&mut spec, &mut tmp);
        let g = self.psf_fft.width;
        let off = (m - g) / 2;
        let mut screen = vec![0f32; g * g];
        for y in 0..g {
            for x in 0..g {
                screen[y * g + x] = spec[(y + off) * m + x + off].re;
            }
        }
        screen
    }

    /// PSF = |FFT(pupil · e^{iφ})|², centred, normalised to unit sum.
    pub fn psf(&self, phase: &[f32]) -> Vec<f32> {
        let g = self.psf_fft.width;
        let mut field: Vec<Complex32> = (0..g * g)
            .map(|i| if self.pupil[i] { Complex32::from_polar(1.0, phase[i]) } else { Complex32::new(0.0, 0.0) })
            .collect();
        let mut tmp = Vec::new();
        self.psf_fft.forward(&mut field, &mut tmp);
        let mut psf = vec![0f32; g * g];
        for y in 0..g {
            for x in 0..g {
                // fftshift
                let (sx, sy) = ((x + g / 2) % g, (y + g / 2) % g);
                psf[sy * g + sx] = field[y * g + x].norm_sqr();
            }
        }
        let s: f32 = psf.iter().sum();
        psf.iter_mut().for_each(|v| *v /= s);
        psf
    }

    /// Convolve the object with a centred PSF and shift by (dx, dy); with `recentre`, first move the
    /// PSF centroid to the centre. Returns the image and the PSF centroid offset.
    pub(crate) fn convolve(&self, psf: &[f32], dx: f32, dy: f32, recentre: bool) -> (Vec<f32>, (f32, f32)) {
        let (otf, centroid) = self.otf(psf, dx, dy, recentre);
        (self.apply_otf(&otf, &self.object_spec), centroid)
    }

    /// Transfer function of a centred PSF shifted by (dx, dy) (after moving its centroid to the
    /// centre with `recentre`), on the frame grid; and the PSF centroid offset.
    fn otf(&self, psf: &[f32], dx: f32, dy: f32, recentre: bool) -> (Vec<Complex32>, (f32, f32)) {
        let n = self.cfg.size;
        let g = self.psf_fft.width;
        let (mut mx, mut my) = (0f32, 0f32);
        for y in 0..g {
            for x in 0..g {
                let v = psf[y * g + x];
                mx += v * (x as f32 - g as f32 / 2.0);
                my += v * (y as f32 - g as f32 / 2.0);
            }
        }
        let (sx, sy) = if recentre { (dx - mx, dy - my) } else { (dx, dy) };
        // Place the PSF with its centre at (0, 0) (wrapped), cropping to the frame if needed.
        let mut kern = vec![Complex32::new(0.0, 0.0); n * n];
        let half = g as isize / 2;
        for y in 0..g {
            for x in 0..g {
                let (ox, oy) = (x as isize - half, y as isize - half);
                if ox.unsigned_abs() >= n / 2 || oy.unsigned_abs() >= n / 2 {
                    continue;
                }
                let (kx, ky) = (ox.rem_euclid(n as isize) as usize, oy.rem_euclid(n as isize) as usize);
                kern[ky * n + kx].re += psf[y * g + x];
            }
        }
        let mut tmp = Vec::new();
        self.frame_fft.forward(&mut kern, &mut tmp);
        for ky in 0..n {
            let fy = signed_freq(ky, n) / n as f32;
            for kx in 0..n {
                let fx = signed_freq(kx, n) / n as f32;
                let ramp = Complex32::from_polar(1.0, -std::f32::consts::TAU * (fx * sx + fy * sy));
                kern[ky * n + kx] *= ramp;
            }
        }
        (kern, (mx, my))
    }

    /// Multiply an object spectrum by a transfer function and return the (non-negative) image.
    fn apply_otf(&self, otf: &[Complex32], spec: &[Complex32]) -> Vec<f32> {
        let mut prod: Vec<Complex32> = otf.iter().zip(spec).map(|(a, b)| a * b).collect();
        let mut tmp = Vec::new();
        self.frame_fft.inverse(&mut prod, &mut tmp);
        prod.iter().map(|c| c.re.max(0.0)).collect()
    }

    /// Simulate one frame: (noisy frame in [0, 1] — mono, or the raw RGGB mosaic with `bayer` — and truth).
    pub fn frame(&mut self) -> (Vec<f32>, FrameTruth) {
        let cfg = self.cfg.clone();
        let d = if cfg.d_over_r0_max > cfg.d_over_r0 {
            let (a, b) = (cfg.d_over_r0.ln(), cfg.d_over_r0_max.ln());
            (a + (b - a) * self.rng.random::<f32>()).exp()
        } else {
            cfg.d_over_r0
        };
        let phase = self.phase_screen_for(d);
        let psf = self.psf(&phase);
        let peak = psf.iter().fold(0f32, |m, &v| m.max(v));
        let strehl = peak / self.dl_peak;
        let jit = Normal::new(0.0f32, cfg.jitter_px.max(0.0)).expect("finite jitter");
        let (jx, jy) = (jit.sample(&mut self.rng), jit.sample(&mut self.rng));
        // Extras draw from the stream only when enabled, so basic runs stay reproducible across versions.
        let cut = cfg.cut_fraction > 0.0 && self.rng.random::<f32>() < cfg.cut_fraction;
        let transparency = if cfg.transparency_min < 1.0 {
            cfg.transparency_min + (1.0 - cfg.transparency_min) * self.rng.random::<f32>()
        } else {
            1.0
        };
        let (otf, (mx, my)) = self.otf(&psf, jx, jy, false);
        let n = cfg.size;
        let mut clean: Vec<f32> = if cfg.bayer {
            let specs = if cut { &self.cut_specs[1..] } else { &self.colour_specs[..] };
            let planes: Vec<Vec<f32>> = specs.iter().map(|s| self.apply_otf(&otf, s)).collect();
            // RGGB: R at (even x, even y), B at (odd, odd), G elsewhere.
            (0..n * n)
                .map(|i| {
                    let (x, y) = (i % n, i / n);
                    let c = match (x % 2, y % 2) {
                        (0, 0) => 0,
                        (1, 1) => 2,
                        _ => 1,
                    };
                    planes[c][i]
                })
                .collect()
        } else if cut {
            self.apply_otf(&otf, &self.cut_specs[0])
        } else {
            self.apply_otf(&otf, &self.object_spec)
        };
        if cut {
            for row in clean.chunks_exact_mut(n) {
                row[..self.cut_sky_cols].iter_mut().for_each(|v| *v = 0.0);
            }
        }
        let (centred, _) = self.convolve(&psf, 0.0, 0.0, true);
        let s = ssim(&centred, &self.truth_image, n, n, 1.0) as f32;
        let haze = cfg.haze * (1.0 - transparency);
        let lit: Vec<f32> = if transparency < 1.0 || haze > 0.0 {
            clean.iter().map(|v| v * transparency + haze).collect()
        } else {
            clean
        };
        let noisy = self.expose(&lit);
        let truth = FrameTruth { strehl, ssim: s, shift_x: jx + mx, shift_y: jy + my, d_over_r0: d, transparency, cut };
        (noisy, truth)
    }

    /// The camera model ([`expose`]) with this simulator's sensor settings and noise stream.
    fn expose(&mut self, clean: &[f32]) -> Vec<f32> {
        expose(clean, &self.cfg, &mut self.rng)
    }

    /// The truth image on the frames' [0, 1] scale (noise-free, diffraction-limited).
    pub fn truth_on_frame_scale(&self) -> Vec<f32> {
        let max_adu = ((1u32 << self.cfg.bit_depth) - 1) as f32;
        let gain = self.cfg.peak_electrons / (0.8 * max_adu);
        self.truth_image.iter().map(|v| (v * self.cfg.peak_electrons / gain / max_adu).min(1.0)).collect()
    }

    /// Random value in [0, 1) from the simulator's stream (for reproducible extras).
    pub fn uniform(&mut self) -> f32 {
        self.rng.random::<f32>()
    }
}

/// Files written by [`simulate_to_dir`].
#[derive(Debug, Clone)]
pub struct SimOutput {
    /// The SER video.
    pub ser: PathBuf,
    /// `frame,strehl,ssim,shift_x,shift_y` CSV.
    pub truth_csv: PathBuf,
    /// The diffraction-limited truth image (16-bit PNG, frame scale).
    pub truth_png: PathBuf,
    /// Per-frame truth.
    pub truth: Vec<FrameTruth>,
}

/// The camera model of every simulator: photon (Poisson) and read noise in electrons, gain so the
/// peak fills 80% of the range, quantisation to `cfg.bit_depth` bits; returns values in [0, 1].
pub(crate) fn expose(clean: &[f32], cfg: &SimConfig, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let max_adu = ((1u32 << cfg.bit_depth) - 1) as f32;
    let gain = cfg.peak_electrons / (0.8 * max_adu);
    let read = Normal::new(0.0f32, cfg.read_noise.max(0.0)).expect("finite read noise");
    clean
        .iter()
        .map(|&v| {
            let lambda = (v * cfg.peak_electrons).max(0.0) as f64 + 1e-9;
            let e = match Poisson::new(lambda) {
                Ok(p) => p.sample(rng) as f32,
                Err(_) => 0.0,
            } + read.sample(rng);
            ((e / gain).round().clamp(0.0, max_adu)) / max_adu
        })
        .collect()
}

/// Write `frames` simulated mono frames (from `next`, each with its truth) into a SER video at
/// `ser`, 10 ms apart, one frame in memory at a time; returns the truths in frame order.
pub(crate) fn record_ser<T>(
    ser: &Path,
    header: SerHeader,
    frames: usize,
    mut next: impl FnMut() -> (Vec<f32>, T),
    progress: &dyn Fn(usize),
) -> Result<Vec<T>> {
    let (w, h) = (header.width, header.height);
    let mut writer = SerWriter::create(ser, header)?;
    let mut truth = Vec::with_capacity(frames);
    for i in 0..frames {
        let (frame, t) = next();
        writer.write_planes(&Planes::from_vec(1, h, w, frame)?)?;
        writer.push_timestamp(i as u64 * 100_000);
        truth.push(t);
        progress(i + 1);
    }
    writer.finish()?;
    Ok(truth)
}

/// Load a planet texture by name ("mars", "jupiter") from the Stellarium data set.
pub fn planet_texture(name: &str) -> Result<Planes> {
    crate::simulation::render::load_texture(name)
}

/// Simulate `cfg.frames` frames of a plain disc into `dir` (`frames.ser`, `truth.csv`, `truth.png`, `sim.json`).
pub fn simulate_to_dir(cfg: &SimConfig, texture: &Planes, dir: &Path, progress: &dyn Fn(usize)) -> Result<SimOutput> {
    let mut sim = Simulator::new(cfg.clone(), texture)?;
    write_simulation(&mut sim, dir, progress)
}

/// Run a prepared simulator for its configured number of frames and write the video and truth into `dir`.
pub fn write_simulation(sim: &mut Simulator, dir: &Path, progress: &dyn Fn(usize)) -> Result<SimOutput> {
    let cfg = sim.config().clone();
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let n = cfg.size;
    let ser = dir.join("frames.ser");
    let colour = if cfg.bayer { ColorId::Bayer(BayerPattern::Rggb) } else { ColorId::Mono };
    let mut header = SerHeader::new(n, n, colour, cfg.bit_depth);
    header.instrument = "prettier-space frame-sim".into();
    let truth = record_ser(&ser, header, cfg.frames, || sim.frame(), progress)?;
    let mut csv = Vec::new();
    writeln!(csv, "frame,strehl,ssim,shift_x,shift_y,d_over_r0,transparency,cut").ok();
    for (i, t) in truth.iter().enumerate() {
        let (s, m, x, y) = (t.strehl, t.ssim, t.shift_x, t.shift_y);
        writeln!(csv, "{i},{s:.6},{m:.6},{x:.3},{y:.3},{:.3},{:.4},{}", t.d_over_r0, t.transparency, t.cut as u8).ok();
    }
    let truth_csv = dir.join("truth.csv");
    astro_image::image_io::write_atomic(&truth_csv, &csv)?;
    let truth_png = dir.join("truth.png");
    let mut tp = Planes::from_vec(1, n, n, sim.truth_on_frame_scale())?;
    tp.clamp01();
    astro_image::image_io::save_image(&tp, &truth_png, 16)?;
    let json = serde_json::to_vec_pretty(&cfg).map_err(|e| FrameError::Invalid(e.to_string()))?;
    astro_image::image_io::write_atomic(&dir.join("sim.json"), &json)?;
    Ok(SimOutput { ser, truth_csv, truth_png, truth })
}

/// Read a `truth.csv` written by [`simulate_to_dir`].
pub fn read_truth_csv(path: &Path) -> Result<Vec<FrameTruth>> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<f32> = line
            .split(',')
            .map(|s| s.trim().parse::<f32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| FrameError::Invalid(format!("{}: line {}: {e}", path.display(), ln + 1)))?;
        if f.len() < 5 {
            return Err(FrameError::Invalid(format!("{}: line {}: expected 5 columns", path.display(), ln + 1)));
        }
        let (d_over_r0, transparency, cut) = match f.get(5..8) {
            Some(x) => (x[0], x[1], x[2] != 0.0),
            None => (0.0, 1.0, false),
        };
        out.push(FrameTruth { strehl: f[1], ssim: f[2], shift_x: f[3], shift_y: f[4], d_over_r0, transparency, cut });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_cfg(d_over_r0: f32) -> SimConfig {
        SimConfig { size: 64, disc_radius: 20.0, pupil_px: 16, frames: 4, d_over_r0, ..SimConfig::default() }
    }

    #[test]
    fn stronger_turbulence_lowers_strehl() {
        let tex = planet_texture("mars").expect("Stellarium data (run datasets/stellarium/fetch.sh)");
        let mean_strehl = |d: f32| {
            let mut sim = Simulator::new(SimConfig { frames: 12, ..small_cfg(d) }, &tex).unwrap();
            (0..12).map(|_| sim.frame().1.strehl).sum::<f32>() / 12.0
        };
        let (good, bad) = (mean_strehl(1.0), mean_strehl(8.0));
        assert!(good > 0.5 && good <= 1.0001, "D/r0=1 Strehl {good}");
        assert!(bad < 0.5 * good, "D/r0=8 Strehl {bad} vs {good}");
    }

    #[test]
    fn writes_ser_and_truth_that_read_back() {
        let tex = planet_texture("jupiter").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = simulate_to_dir(&small_cfg(4.0), &tex, dir.path(), &|_| {}).unwrap();
        let r = crate::io::SerReader::open(&out.ser).unwrap();
        assert_eq!(r.len(), 4);
        let back = read_truth_csv(&out.truth_csv).unwrap();
        assert_eq!(back.len(), 4);
        assert!(back.iter().all(|t| t.strehl > 0.0 && t.strehl <= 1.0 && t.ssim <= 1.0));
        let f = r.read_planes(0).unwrap();
        let mean = f.data.iter().sum::<f32>() / f.data.len() as f32;
        assert!(mean > 0.05 && mean < 0.8, "frame mean {mean}");
    }
}
