//! Turbulence simulator: a lit planet from a texture, Kolmogorov phase screens, PSF from the
//! pupil, tip/tilt jitter, Poisson and read noise, quantisation; writes SER + per-frame truth.
//!
//! Sampling: the pupil (diameter `pupil_px`) sits in a grid twice its size, so the PSF and the
//! frames are Nyquist-sampled (one pixel = λ/2D). Phase screens use the FFT method on a grid four
//! times the pupil (which keeps most of the tip/tilt power) with the Kolmogorov spectrum
//! `0.023 r0^(−5/3) f^(−11/3)`. Each frame gets an independent screen (frames far apart in time).
//! Truth per frame: the Strehl ratio (PSF peak over the diffraction-limited peak) and the SSIM of
//! the noise-free, re-centred frame to the diffraction-limited image.

use std::io::Write;
use std::path::{Path, PathBuf};

use dataset::{ColorMode, ImageLimits, Planes};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};
use rustfft::num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result, io_err};
use crate::eval::ssim;
use crate::fft::{Fft2, signed_freq};
use crate::ser::{ColorId, SerHeader, SerWriter};

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
}

/// Render an orthographic view of a lit planet from an equirectangular texture (mono, peak ≈ 1).
pub fn render_planet(texture: &Planes, cfg: &SimConfig) -> Vec<f32> {
    let n = cfg.size;
    let tex = texture.to_luma();
    let (tw, th) = (tex.width, tex.height);
    let r = cfg.disc_radius;
    let (cx, cy) = (n as f32 / 2.0 + cfg.offset.0, n as f32 / 2.0 + cfg.offset.1);
    let alpha = cfg.phase_deg.to_radians();
    let sun = (alpha.sin(), 0.0f32, alpha.cos());
    let cm = cfg.central_meridian_deg.to_radians();
    let sample = |u: f32, v: f32| -> f32 {
        let x = (u * tw as f32 - 0.5).rem_euclid(tw as f32);
        let y = (v * th as f32 - 0.5).clamp(0.0, th as f32 - 1.0);
        let (x0, y0) = (x.floor() as usize % tw, y.floor() as usize);
        let (x1, y1) = ((x0 + 1) % tw, (y0 + 1).min(th - 1));
        let (fx, fy) = (x - x.floor(), y - y.floor());
        let p = tex.plane(0);
        let a = p[y0 * tw + x0] * (1.0 - fx) + p[y0 * tw + x1] * fx;
        let b = p[y1 * tw + x0] * (1.0 - fx) + p[y1 * tw + x1] * fx;
        a * (1.0 - fy) + b * fy
    };
    let ss = 3; // supersampling per axis
    let mut img = vec![0f32; n * n];
    for py in 0..n {
        for px in 0..n {
            let mut acc = 0.0;
            for sy in 0..ss {
                for sx in 0..ss {
                    let x = (px as f32 + (sx as f32 + 0.5) / ss as f32 - cx) / r;
                    let y = (py as f32 + (sy as f32 + 0.5) / ss as f32 - cy) / r;
                    let rr = x * x + y * y;
                    if rr >= 1.0 {
                        continue;
                    }
                    let z = (1.0 - rr).sqrt();
                    let shade = (x * sun.0 + y * sun.1 + z * sun.2).max(0.0);
                    if shade <= 0.0 {
                        continue;
                    }
                    let lat = (-y).asin();
                    let lon = cm + x.atan2(z);
                    let u = lon / std::f32::consts::TAU + 0.5;
                    let v = 0.5 - lat / std::f32::consts::PI;
                    acc += (0.25 + sample(u, v)) * shade.powf(0.8);
                }
            }
            img[py * n + px] = acc / (ss * ss) as f32;
        }
    }
    let max = img.iter().fold(0f32, |m, &v| m.max(v));
    if max > 0.0 {
        img.iter_mut().for_each(|v| *v /= max);
    }
    img
}

/// A simulator for one configuration: precomputed object spectrum and diffraction-limited PSF.
pub struct Simulator {
    cfg: SimConfig,
    frame_fft: Fft2,
    psf_fft: Fft2,
    screen_fft: Fft2,
    object_spec: Vec<Complex32>,
    pupil: Vec<bool>,
    dl_peak: f32,
    /// The diffraction-limited, noise-free image (same photometric scale as the noise-free frames).
    pub truth_image: Vec<f32>,
    rng: ChaCha8Rng,
}

impl Simulator {
    /// Prepare a simulator from a planet texture.
    pub fn new(cfg: SimConfig, texture: &Planes) -> Result<Simulator> {
        if cfg.size < 32 || cfg.pupil_px < 8 || cfg.pupil_px * 2 > cfg.size * 2 || cfg.frames == 0 {
            return Err(FrameError::Invalid(format!(
                "simulator: need size ≥ 32, pupil_px ≥ 8 and frames ≥ 1 (got size {}, pupil {}, frames {})",
                cfg.size, cfg.pupil_px, cfg.frames
            )));
        }
        if cfg.d_over_r0.is_nan()
            || cfg.d_over_r0 <= 0.0
            || !(cfg.bit_depth == 8 || cfg.bit_depth == 12 || cfg.bit_depth == 16)
        {
            return Err(FrameError::Invalid("simulator: D/r0 must be > 0 and bit depth 8, 12 or 16".into()));
        }
        let object = render_planet(texture, &cfg);
        let n = cfg.size;
        let frame_fft = Fft2::new(n, n);
        let mut tmp = Vec::new();
        let mut object_spec: Vec<Complex32> = object.iter().map(|&v| Complex32::new(v, 0.0)).collect();
        frame_fft.forward(&mut object_spec, &mut tmp);
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
        let m = self.screen_fft.width;
        let r0 = self.cfg.pupil_px as f32 / self.cfg.d_over_r0;
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
                let i = ky * n + kx;
                kern[i] = kern[i] * self.object_spec[i] * ramp;
            }
        }
        self.frame_fft.inverse(&mut kern, &mut tmp);
        (kern.iter().map(|c| c.re.max(0.0)).collect(), (mx, my))
    }

    /// Simulate one frame: (noisy frame in [0, 1], truth).
    pub fn frame(&mut self) -> (Vec<f32>, FrameTruth) {
        let phase = self.phase_screen();
        let psf = self.psf(&phase);
        let peak = psf.iter().fold(0f32, |m, &v| m.max(v));
        let strehl = peak / self.dl_peak;
        let jit = Normal::new(0.0f32, self.cfg.jitter_px.max(0.0)).expect("finite jitter");
        let (jx, jy) = (jit.sample(&mut self.rng), jit.sample(&mut self.rng));
        let (clean, (mx, my)) = self.convolve(&psf, jx, jy, false);
        let (centred, _) = self.convolve(&psf, 0.0, 0.0, true);
        let n = self.cfg.size;
        let s = ssim(&centred, &self.truth_image, n, n, 1.0) as f32;
        let noisy = self.expose(&clean);
        (noisy, FrameTruth { strehl, ssim: s, shift_x: jx + mx, shift_y: jy + my })
    }

    /// Photon (Poisson) and read noise, gain so the peak fills 80% of the range, then quantisation.
    fn expose(&mut self, clean: &[f32]) -> Vec<f32> {
        let max_adu = ((1u32 << self.cfg.bit_depth) - 1) as f32;
        let gain = self.cfg.peak_electrons / (0.8 * max_adu);
        let read = Normal::new(0.0f32, self.cfg.read_noise.max(0.0)).expect("finite read noise");
        clean
            .iter()
            .map(|&v| {
                let lambda = (v * self.cfg.peak_electrons).max(0.0) as f64 + 1e-9;
                let e = match Poisson::new(lambda) {
                    Ok(p) => p.sample(&mut self.rng) as f32,
                    Err(_) => 0.0,
                } + read.sample(&mut self.rng);
                ((e / gain).round().clamp(0.0, max_adu)) / max_adu
            })
            .collect()
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

/// Load a planet texture by name ("mars", "jupiter") from the Stellarium data set.
pub fn planet_texture(name: &str) -> Result<Planes> {
    let set = dataset::stellarium::StellariumSet::locate()?;
    let path = set.planet_texture(name);
    Ok(dataset::image_io::load_image(&path, ColorMode::Rgb, ImageLimits::default())?)
}

/// Simulate `cfg.frames` frames into `dir` (`frames.ser`, `truth.csv`, `truth.png`, `sim.json`).
pub fn simulate_to_dir(cfg: &SimConfig, texture: &Planes, dir: &Path, progress: &dyn Fn(usize)) -> Result<SimOutput> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut sim = Simulator::new(cfg.clone(), texture)?;
    let n = cfg.size;
    let ser = dir.join("frames.ser");
    let mut header = SerHeader::new(n, n, ColorId::Mono, cfg.bit_depth);
    header.instrument = "prettier-space frame-sim".into();
    let mut writer = SerWriter::create(&ser, header)?;
    let mut truth = Vec::with_capacity(cfg.frames);
    for i in 0..cfg.frames {
        let (frame, t) = sim.frame();
        writer.write_planes(&Planes::from_vec(1, n, n, frame)?)?;
        writer.push_timestamp(i as u64 * 100_000);
        truth.push(t);
        progress(i + 1);
    }
    writer.finish()?;
    let mut csv = Vec::new();
    writeln!(csv, "frame,strehl,ssim,shift_x,shift_y").ok();
    for (i, t) in truth.iter().enumerate() {
        writeln!(csv, "{i},{:.6},{:.6},{:.3},{:.3}", t.strehl, t.ssim, t.shift_x, t.shift_y).ok();
    }
    let truth_csv = dir.join("truth.csv");
    dataset::image_io::write_atomic(&truth_csv, &csv)?;
    let truth_png = dir.join("truth.png");
    let mut tp = Planes::from_vec(1, n, n, sim.truth_on_frame_scale())?;
    tp.clamp01();
    dataset::image_io::save_image(&tp, &truth_png, 16)?;
    let json = serde_json::to_vec_pretty(cfg).map_err(|e| FrameError::Invalid(e.to_string()))?;
    dataset::image_io::write_atomic(&dir.join("sim.json"), &json)?;
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
        out.push(FrameTruth { strehl: f[1], ssim: f[2], shift_x: f[3], shift_y: f[4] });
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
        let r = crate::ser::SerReader::open(&out.ser).unwrap();
        assert_eq!(r.len(), 4);
        let back = read_truth_csv(&out.truth_csv).unwrap();
        assert_eq!(back.len(), 4);
        assert!(back.iter().all(|t| t.strehl > 0.0 && t.strehl <= 1.0 && t.ssim <= 1.0));
        let f = r.read_planes(0).unwrap();
        let mean = f.data.iter().sum::<f32>() / f.data.len() as f32;
        assert!(mean > 0.05 && mean < 0.8, "frame mean {mean}");
    }
}
