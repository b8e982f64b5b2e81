//! Synthetic low-resolution inputs that look like sky-survey images (and Real-ESRGAN's generic ones).
//!
//! [`degrade`] turns a clean high-resolution image into the input a super-resolution (or, at
//! scale 1, a "prettify" translation) model will see. The steps, in order (each optional, each
//! drawn from the caller's seeded [`ChaCha8Rng`]):
//!
//! 1. **colour reduction** ([`ColourMode`]): full colour, one plate (grey), or DSS-style two plates
//!    (a red and a blue band; green is synthesised as their mean at the end);
//! 2. **seeing** ([`SeeingConfig`]): a Gaussian or Moffat PSF whose FWHM is given in arcseconds
//!    and converted to pixels with the source pixel scale;
//! 3. **saturation** ([`SaturationConfig`]): a soft shoulder then clipping, as plates and CCDs
//!    saturate on bright stars;
//! 4. **first and second order** ([`OrderConfig`], Real-ESRGAN): random blur kernel
//!    ([`BlurConfig`]: isotropic/anisotropic Gaussian, generalised Gaussian, plateau), random
//!    resize ([`RandomResize`]), noise ([`NoiseConfig`]), JPEG ([`JpegConfig`]);
//! 5. **survey sampling**: MATLAB bicubic [`imresize`](astro_image::resize::imresize) to the output grid,
//!    through the survey's pixel scale when it is coarser than the output grid;
//! 6. **plate grain** ([`GrainConfig`]), **noise**, colour synthesis, **JPEG**, **black point**
//!    ([`BlackPointConfig`]: the sky clipped to black, as processed survey images), clamp to [0, 1].
//!
//! Presets: [`DegradationConfig::bicubic`], [`DegradationConfig::dss`],
//! [`DegradationConfig::sdss`], [`DegradationConfig::real_esrgan`]. `docs/degradations.md`
//! describes every parameter and default.

mod config;
mod kernel;
mod presets;
mod steps;

pub use config::*;
pub use kernel::*;
pub use steps::*;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{DatasetError, Result};
use astro_image::image_io::Planes;
use astro_image::resize::imresize_with;

/// Size ratio (output / input) that takes an image at `source` ″/px to a survey at `target` ″/px,
/// e.g. 0.25″/px → DSS (1.0″/px) is 0.25, i.e. a ×4 downscale.
pub fn survey_size_ratio(source_arcsec_per_px: f64, target_arcsec_per_px: f64) -> f64 {
    source_arcsec_per_px / target_arcsec_per_px
}

/// Degrade a clean image into a survey-like (or Real-ESRGAN-like) low-resolution input.
///
/// The output is `⌊w / scale⌋ × ⌊h / scale⌋` (scale 1: same size) with the input's channel count.
/// Every random draw comes from `rng`, so a seed fixes the result.
pub fn degrade(hr: &Planes, cfg: &DegradationConfig, scale: usize, rng: &mut ChaCha8Rng) -> Result<Planes> {
    cfg.validate()?;
    if scale == 0 {
        return Err(DatasetError::Config("degradation scale must be at least 1".into()));
    }
    let (out_w, out_h) = (hr.width / scale, hr.height / scale);
    if out_w == 0 || out_h == 0 || hr.data.len() != hr.channels * hr.width * hr.height {
        return Err(DatasetError::Shape(format!(
            "cannot degrade a {}x{} image with {} channels by ×{scale}",
            hr.width, hr.height, hr.channels
        )));
    }
    // Pixel scale of the clean input: given, or `scale` times finer than the survey.
    let source_scale = cfg.source_pixel_scale_arcsec.or(cfg.survey_pixel_scale_arcsec.map(|s| s / scale as f64));

    // Draw only when the reduction is optional, so presets keep their random streams.
    let colour =
        if cfg.colour_prob < 1.0 && rng.random::<f64>() >= cfg.colour_prob { ColourMode::Full } else { cfg.colour };
    let mut img = to_bands(hr, &colour);
    if let Some(s) = &cfg.seeing
        && rng.random::<f64>() < s.prob
        && let Some(px) = source_scale
    {
        let fwhm_px = s.fwhm_arcsec.sample(rng) / px;
        let beta = match s.profile {
            PsfProfile::Moffat { beta } => beta.sample(rng),
            PsfProfile::Gaussian => 0.0,
        };
        tracing::trace!(fwhm_px, beta, "seeing");
        img = convolve(&img, &psf_kernel(s.profile, fwhm_px, beta));
    }
    if let Some(s) = &cfg.saturation
        && rng.random::<f64>() < s.prob
    {
        let level = s.level.sample(rng) as f32;
        saturate(&mut img, level, s.knee as f32);
    }
    if let Some(o) = &cfg.first_order {
        apply_order(&mut img, o, out_w, out_h, rng)?;
    }
    if let Some(o) = &cfg.second_order {
        apply_order(&mut img, o, out_w, out_h, rng)?;
    }
    // Survey sampling: through the survey grid when it is coarser than the output grid.
    if let (Some(src), Some(survey)) = (source_scale, cfg.survey_pixel_scale_arcsec) {
        let ratio = survey_size_ratio(src, survey);
        let (sw, sh) = ((hr.width as f64 * ratio).round() as usize, (hr.height as f64 * ratio).round() as usize);
        if sw < out_w && sh < out_h && sw > 0 && sh > 0 {
            tracing::trace!(sw, sh, "survey grid");
            img = imresize_with(&img, sw, sh, cfg.final_kernel, true);
        }
    }
    if (img.width, img.height) != (out_w, out_h) {
        img = imresize_with(&img, out_w, out_h, cfg.final_kernel, true);
    }
    if let Some(k) = &cfg.sky
        && rng.random::<f64>() < k.prob
    {
        let (level, gamma) = (k.level.sample(rng) as f32, k.gamma.sample(rng) as f32);
        img.data.par_iter_mut().for_each(|v| *v = level + (1.0 - level) * v.max(0.0).powf(gamma));
    }
    if let Some(g) = &cfg.grain
        && rng.random::<f64>() < g.prob
    {
        let amplitude = g.amplitude.sample(rng) as f32;
        let size = g.size_px.sample(rng);
        add_grain(&mut img, amplitude, size, g.fog as f32, rng);
    }
    if let Some(n) = &cfg.noise {
        apply_noise(&mut img, n, rng);
    }
    let mut img = from_bands(&img, hr.channels);
    if let Some(j) = &cfg.jpeg {
        img.clamp01();
        apply_jpeg(&mut img, j, rng)?;
    }
    if let Some(b) = &cfg.black_point
        && rng.random::<f64>() < b.prob
    {
        black_point(&mut img, b.level.sample(rng) as f32);
    }
    img.clamp01();
    img.bit_depth = hr.bit_depth;
    Ok(img)
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::*;
    use astro_image::resize::imresize;
    use rand::SeedableRng;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// A smooth synthetic "galaxy" with a few stars on a dark sky.
    fn sky(c: usize, h: usize, w: usize) -> Planes {
        let mut p = Planes::zeros(c, h, w);
        let stars = [(0.2, 0.3, 0.9), (0.7, 0.6, 1.0), (0.45, 0.8, 0.6), (0.85, 0.15, 0.8)];
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let (fx, fy) = (x as f64 / w as f64 - 0.5, y as f64 / h as f64 - 0.5);
                    let mut v = 0.02 + 0.5 * (-(fx * fx * 30.0 + fy * fy * 80.0)).exp() * (1.0 - 0.2 * ch as f64);
                    for (sx, sy, a) in stars {
                        let (dx, dy) = ((x as f64 - sx * w as f64), (y as f64 - sy * h as f64));
                        v += a * (-(dx * dx + dy * dy) / 2.0).exp();
                    }
                    p.data[(ch * h + y) * w + x] = v.min(1.0) as f32;
                }
            }
        }
        p
    }

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
        (m, var.sqrt())
    }

    /// FWHM of the row through the peak, by linear interpolation of the half-maximum crossings.
    fn fwhm_of(p: &Planes) -> f64 {
        let (mut py, mut px, mut peak) = (0, 0, f32::MIN);
        for y in 0..p.height {
            for x in 0..p.width {
                if p.get(0, y, x) > peak {
                    (py, px, peak) = (y, x, p.get(0, y, x));
                }
            }
        }
        let half = peak / 2.0;
        let row: Vec<f32> = (0..p.width).map(|x| p.get(0, py, x)).collect();
        let mut r = px;
        while row[r + 1] > half {
            r += 1;
        }
        let right = r as f64 + ((row[r] - half) / (row[r] - row[r + 1])) as f64;
        let mut l = px;
        while row[l - 1] > half {
            l -= 1;
        }
        let left = l as f64 - ((row[l] - half) / (row[l] - row[l - 1])) as f64;
        right - left
    }

    #[test]
    fn presets_validate_and_round_trip_through_json() {
        for name in ["bicubic", "dss", "sdss", "survey-calibrated", "real_esrgan"] {
            let cfg = DegradationConfig::preset(name).unwrap();
            cfg.validate().unwrap();
            let json = serde_json::to_string_pretty(&cfg).unwrap();
            let back: DegradationConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cfg, "{name}");
        }
        assert!(DegradationConfig::preset("hubble").unwrap_err().to_string().contains("unknown degradation preset"));
        // Partial JSON fills from the bicubic defaults; typos are refused.
        let cfg: DegradationConfig = serde_json::from_str(r#"{"jpeg": {"quality": [50, 60]}}"#).unwrap();
        assert_eq!(cfg.jpeg, Some(JpegConfig { prob: 1.0, quality: Span(50.0, 60.0) }));
        assert!(serde_json::from_str::<DegradationConfig>(r#"{"jpg": {}}"#).is_err());
        let bad = DegradationConfig {
            jpeg: Some(JpegConfig { prob: 1.0, quality: Span(90.0, 10.0) }),
            ..DegradationConfig::bicubic()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("jpeg.quality"));
        let no_scale = DegradationConfig { seeing: Some(SeeingConfig::default()), ..DegradationConfig::bicubic() };
        assert!(no_scale.validate().unwrap_err().to_string().contains("pixel_scale"));
    }

    #[test]
    fn load_names_the_file_on_bad_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deg.json");
        std::fs::write(&path, serde_json::to_string(&DegradationConfig::dss()).unwrap()).unwrap();
        assert_eq!(DegradationConfig::load(&path).unwrap(), DegradationConfig::dss());
        std::fs::write(&path, r#"{"noise": {"prob": 2.0}}"#).unwrap();
        let err = DegradationConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("deg.json") && err.contains("noise.prob"), "{err}");
    }

    #[test]
    fn output_sizes_follow_the_scale_for_every_preset() {
        let hr = sky(3, 67, 90);
        for name in ["bicubic", "dss", "sdss", "real_esrgan"] {
            let cfg = DegradationConfig::preset(name).unwrap();
            for scale in [1, 2, 3, 4] {
                let lr = degrade(&hr, &cfg, scale, &mut rng(scale as u64)).unwrap();
                assert_eq!((lr.channels, lr.width, lr.height), (3, 90 / scale, 67 / scale), "{name} ×{scale}");
                assert!(lr.data.iter().all(|v| (0.0..=1.0).contains(v)), "{name}: values outside [0, 1]");
            }
        }
        let grey = degrade(&sky(1, 32, 32), &DegradationConfig::dss(), 2, &mut rng(0)).unwrap();
        assert_eq!((grey.channels, grey.width), (1, 16));
        assert!(degrade(&hr, &DegradationConfig::bicubic(), 0, &mut rng(0)).is_err());
        let err = degrade(&sky(3, 3, 3), &DegradationConfig::bicubic(), 4, &mut rng(0)).unwrap_err();
        assert!(err.to_string().contains("3x3"), "{err}");
    }

    #[test]
    fn same_seed_same_result_other_seed_other_result() {
        let hr = sky(3, 64, 64);
        for name in ["dss", "sdss", "real_esrgan"] {
            let cfg = DegradationConfig::preset(name).unwrap();
            let a = degrade(&hr, &cfg, 2, &mut rng(7)).unwrap();
            let b = degrade(&hr, &cfg, 2, &mut rng(7)).unwrap();
            let c = degrade(&hr, &cfg, 2, &mut rng(8)).unwrap();
            assert_eq!(a, b, "{name}: not deterministic");
            assert_ne!(a, c, "{name}: seed has no effect");
        }
    }

    #[test]
    fn bicubic_preset_is_exactly_imresize() {
        let hr = sky(3, 48, 40);
        let lr = degrade(&hr, &DegradationConfig::bicubic(), 4, &mut rng(1)).unwrap();
        let mut expected = imresize(&hr, 10, 12);
        expected.clamp01();
        assert_eq!(lr.data, expected.data);
    }

    #[test]
    fn gaussian_noise_sigma_is_measured_within_ten_percent() {
        for (sigma, grey) in [(0.02f32, false), (0.08, true)] {
            let mut p = Planes::from_vec(3, 128, 128, vec![0.5; 3 * 128 * 128]).unwrap();
            add_gaussian_noise(&mut p, sigma, grey, &mut rng(3));
            for c in 0..3 {
                let (m, s) = mean_std(p.plane(c));
                assert!((m - 0.5).abs() < 0.01, "mean {m}");
                assert!((s / sigma as f64 - 1.0).abs() < 0.1, "σ {s} vs {sigma}");
            }
            assert_eq!(p.plane(0) == p.plane(2), grey, "grey noise must be identical across channels");
        }
        // Through the config: fixed σ, Gaussian only.
        let cfg = NoiseConfig {
            gaussian_prob: 1.0,
            gaussian_sigma: Span::fixed(0.05),
            grey_prob: 0.0,
            ..NoiseConfig::default()
        };
        let mut p = Planes::from_vec(1, 128, 128, vec![0.4; 128 * 128]).unwrap();
        apply_noise(&mut p, &cfg, &mut rng(4));
        let (_, s) = mean_std(&p.data);
        assert!((s / 0.05 - 1.0).abs() < 0.1, "σ {s}");
    }

    #[test]
    fn poisson_noise_variance_follows_the_signal() {
        // Var(Poisson(v·peak)/peak) = v / peak.
        for v in [0.1f32, 0.6] {
            let mut p = Planes::from_vec(1, 128, 128, vec![v; 128 * 128]).unwrap();
            add_poisson_noise(&mut p, 400.0, 1.0, false, &mut rng(5));
            let (m, s) = mean_std(&p.data);
            let expected = (v as f64 / 400.0).sqrt();
            assert!((m - v as f64).abs() < 0.005, "mean {m}");
            assert!((s / expected - 1.0).abs() < 0.1, "σ {s} vs {expected} at v = {v}");
        }
    }

    #[test]
    fn blur_kernels_are_normalised_and_shaped_as_asked() {
        let mut r = rng(9);
        for _ in 0..40 {
            let k = random_blur_kernel(&BlurConfig::default(), &mut r);
            assert!(k.size % 2 == 1 && (7..=21).contains(&k.size));
            assert!((k.sum() - 1.0).abs() < 1e-4, "sum {}", k.sum());
            assert!(k.data.iter().all(|v| *v >= 0.0));
            let c = k.size / 2;
            // Point symmetric: k(x) = k(-x).
            for y in 0..k.size {
                for x in 0..k.size {
                    assert!((k.get(y, x) - k.get(2 * c - y, 2 * c - x)).abs() < 1e-6);
                }
            }
        }
        // Anisotropic Gaussian σx = 3, σy = 1, θ = 0: measured second moments.
        let k = bivariate_kernel(KernelShape::Gaussian, 31, 3.0, 1.0, 0.0, 1.0);
        let (mut vx, mut vy) = (0.0, 0.0);
        for y in 0..31 {
            for x in 0..31 {
                vx += k.get(y, x) as f64 * (x as f64 - 15.0).powi(2);
                vy += k.get(y, x) as f64 * (y as f64 - 15.0).powi(2);
            }
        }
        assert!((vx.sqrt() - 3.0).abs() < 0.05 && (vy.sqrt() - 1.0).abs() < 0.05, "{vx} {vy}");
        // Rotated by 90° it swaps axes.
        let r90 = bivariate_kernel(KernelShape::Gaussian, 31, 3.0, 1.0, PI / 2.0, 1.0);
        assert!((r90.get(15, 20) - k.get(20, 15)).abs() < 1e-6);
        // Plateau is flatter at the top than a generalised Gaussian with β = 1 (a Gaussian).
        let plateau = bivariate_kernel(KernelShape::Plateau, 21, 2.0, 2.0, 0.0, 2.0);
        let generalized = bivariate_kernel(KernelShape::Generalized, 21, 2.0, 2.0, 0.0, 1.0);
        let gauss = bivariate_kernel(KernelShape::Gaussian, 21, 2.0, 2.0, 0.0, 1.0);
        assert!(generalized.data.iter().zip(&gauss.data).all(|(a, b)| (a - b).abs() < 1e-7));
        assert!(plateau.get(10, 11) / plateau.get(10, 10) > gauss.get(10, 11) / gauss.get(10, 10));
    }

    #[test]
    fn fft_and_direct_convolution_agree_and_preserve_flux() {
        let p = sky(3, 40, 52);
        // An asymmetric kernel catches flipped or shifted FFT placement.
        let mut k = bivariate_kernel(KernelShape::Gaussian, 9, 2.0, 0.7, 0.5, 1.0);
        k.data[3] += 0.05;
        k.data[70] += 0.1;
        let direct = convolve_direct(&p, &k);
        let fft = convolve_fft(&p, &k);
        let max = direct.data.iter().zip(&fft.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(max < 1e-5, "FFT and direct differ by {max}");
        // A delta kernel is the identity; a shifted delta shifts.
        let mut delta = Kernel { size: 3, data: vec![0.0; 9] };
        delta.data[4] = 1.0;
        assert_eq!(convolve(&p, &delta).data, p.data);
        delta.data[4] = 0.0;
        delta.data[5] = 1.0; // weight at (dy 0, dx +1): out[x] = in[x + 1]
        let shifted = convolve(&p, &delta);
        assert_eq!(shifted.get(1, 10, 10), p.get(1, 10, 11));
        // A large PSF keeps the mean (reflect padding conserves flux on smooth images).
        let psf = psf_kernel(PsfProfile::Moffat { beta: Span::fixed(3.0) }, 6.0, 3.0);
        assert!(psf.size > DIRECT_MAX);
        let out = convolve(&p, &psf);
        let (m0, _) = mean_std(&p.data);
        let (m1, _) = mean_std(&out.data);
        assert!((m0 - m1).abs() / m0 < 0.05, "{m0} vs {m1}");
    }

    #[test]
    fn psf_fwhm_is_measured_as_requested() {
        for (profile, beta) in [
            (PsfProfile::Gaussian, 0.0),
            (PsfProfile::Moffat { beta: Span::fixed(2.5) }, 2.5),
            (PsfProfile::Moffat { beta: Span::fixed(4.765) }, 4.765),
        ] {
            for fwhm in [2.0, 3.0, 4.0, 6.0, 10.0] {
                let k = psf_kernel(profile, fwhm, beta);
                assert!((k.sum() - 1.0).abs() < 1e-4);
                let mut point = Planes::zeros(1, 81, 81);
                point.data[40 * 81 + 40] = 1.0;
                let img = convolve(&point, &k);
                let measured = fwhm_of(&img);
                // Pixel integration broadens narrow PSFs a little (in quadrature, ≈ +0.46 px²).
                let tolerance = if fwhm >= 4.0 { 0.03 } else { 0.15 };
                assert!(
                    measured >= fwhm && measured / fwhm - 1.0 < tolerance,
                    "{profile:?}: measured {measured} vs {fwhm}"
                );
            }
        }
        // Through the config: 2″ seeing on a 0.5″/px image is a 4 px FWHM.
        let cfg = DegradationConfig {
            source_pixel_scale_arcsec: Some(0.5),
            seeing: Some(SeeingConfig { prob: 1.0, fwhm_arcsec: Span::fixed(2.0), profile: PsfProfile::Gaussian }),
            ..DegradationConfig::bicubic()
        };
        let mut point = Planes::zeros(1, 61, 61);
        point.data[30 * 61 + 30] = 1.0;
        let img = degrade(&point, &cfg, 1, &mut rng(0)).unwrap();
        let measured = fwhm_of(&img);
        assert!((measured / 4.0 - 1.0).abs() < 0.05, "measured {measured}");
    }

    #[test]
    fn black_point_clips_a_noisy_sky_to_black_and_keeps_the_signal_above() {
        // Noise on a black sky leaves it grey; a black point at 2.5 σ clips most of it to 0,
        // as in the processed survey images, and maps signal above the level linearly.
        let hr = sky(1, 96, 96);
        let noisy = DegradationConfig {
            noise: Some(NoiseConfig {
                prob: 1.0,
                combine: true,
                gaussian_prob: 1.0,
                gaussian_sigma: Span::fixed(0.004),
                poisson_peak: Span::fixed(1000.0),
                poisson_scale: Span::fixed(0.0),
                grey_prob: 0.0,
            }),
            ..DegradationConfig::bicubic()
        };
        let clipped = DegradationConfig {
            black_point: Some(BlackPointConfig { prob: 1.0, level: Span::fixed(0.03) }),
            ..noisy.clone()
        };
        let a = degrade(&hr, &noisy, 1, &mut rng(5)).unwrap();
        let b = degrade(&hr, &clipped, 1, &mut rng(5)).unwrap();
        let black = |p: &Planes| p.data.iter().filter(|&&v| v == 0.0).count() as f64 / p.data.len() as f64;
        // The sky of `sky()` sits at 0.02, below the 0.03 black point: it clips (the galaxy and
        // the stars, a quarter of the image, stay).
        assert!(black(&a) < 0.01 && black(&b) > 0.6, "black {} → {}", black(&a), black(&b));
        for (x, y) in a.data.iter().zip(&b.data) {
            let want = ((x - 0.03).max(0.0) / 0.97).min(1.0);
            assert!((y - want).abs() < 1e-5, "{x} → {y}, expected {want}");
        }
        let bad =
            DegradationConfig { black_point: Some(BlackPointConfig { prob: 1.0, level: Span(0.2, 0.9) }), ..noisy };
        assert!(bad.validate().unwrap_err().to_string().contains("black_point.level"));
    }

    #[test]
    fn jpeg_changes_the_image_but_keeps_it_close() {
        let p = sky(3, 64, 64);
        let mut p8 = p.clone();
        p8.data.iter_mut().for_each(|v| *v = (*v * 255.0).round() / 255.0);
        for q in [30u8, 90] {
            let j = jpeg_roundtrip(&p8, q).unwrap();
            assert_eq!((j.channels, j.width, j.height), (3, 64, 64));
            let mae = j.data.iter().zip(&p8.data).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / p.data.len() as f64;
            assert!(j.data != p8.data, "q{q}: JPEG left the image untouched");
            assert!(mae < if q < 50 { 0.03 } else { 0.01 }, "q{q}: mean error {mae}");
        }
        let two = Planes { channels: 2, data: p.data[..2 * 64 * 64].to_vec(), ..p.clone() };
        assert_eq!(jpeg_roundtrip(&two, 80).unwrap().channels, 2);
    }

    #[test]
    fn two_plate_colour_makes_green_the_mean_of_red_and_blue() {
        let hr = sky(3, 64, 64);
        let cfg = DegradationConfig { jpeg: None, ..DegradationConfig::dss() };
        let lr = degrade(&hr, &cfg, 2, &mut rng(11)).unwrap();
        let n = lr.pixels();
        for i in 0..n {
            let (r, g, b) = (lr.data[i], lr.data[n + i], lr.data[2 * n + i]);
            assert!((g - 0.5 * (r + b)).abs() < 1e-6, "pixel {i}: {r} {g} {b}");
        }
        assert_ne!(lr.plane(0), lr.plane(2), "the two plates must differ");
        // Mono gives identical channels.
        let mono = DegradationConfig { colour: ColourMode::Mono { weights: [1.0, 1.0, 1.0] }, ..cfg };
        let lr = degrade(&hr, &mono, 2, &mut rng(11)).unwrap();
        assert!(lr.plane(0) == lr.plane(1) && lr.plane(1) == lr.plane(2));
    }

    #[test]
    fn saturation_flattens_bright_cores_to_white() {
        let mut p = Planes::from_vec(1, 1, 5, vec![0.1, 0.5, 0.7, 0.9, 3.0]).unwrap();
        saturate(&mut p, 0.8, 0.1);
        assert!((p.data[0] - 0.1 / 0.8).abs() < 1e-6 && (p.data[1] - 0.5 / 0.8).abs() < 1e-6);
        assert!(p.data.windows(2).all(|w| w[0] < w[1]), "monotonic: {:?}", p.data);
        assert!(p.data[4] <= 1.0 && p.data[4] > 0.999, "{:?}", p.data);
        let mut hard = Planes::from_vec(1, 1, 2, vec![0.5, 0.95]).unwrap();
        saturate(&mut hard, 0.9, 0.0);
        assert_eq!(hard.data, vec![0.5 / 0.9, 1.0]);
    }

    #[test]
    fn grain_is_correlated_and_grows_with_signal() {
        let mut dark = Planes::from_vec(1, 128, 128, vec![0.0; 128 * 128]).unwrap();
        let mut bright = Planes::from_vec(1, 128, 128, vec![0.8; 128 * 128]).unwrap();
        add_grain(&mut dark, 0.03, 1.0, 0.05, &mut rng(2));
        add_grain(&mut bright, 0.03, 1.0, 0.05, &mut rng(2));
        let (_, sd) = mean_std(&dark.data);
        let (_, sb) = mean_std(&bright.data);
        assert!((sd / (0.03 * 0.05f64.sqrt()) - 1.0).abs() < 0.15, "dark grain σ {sd}");
        assert!((sb / (0.03 * 0.85f64.sqrt()) - 1.0).abs() < 0.15, "bright grain σ {sb}");
        // Neighbouring pixels are correlated (white noise would give ≈ 0).
        let d: Vec<f64> = bright.data.iter().map(|v| *v as f64 - 0.8).collect();
        let corr = d.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / d.iter().map(|v| v * v).sum::<f64>();
        assert!(corr > 0.5, "lag-1 correlation {corr}");
    }

    #[test]
    fn survey_sampling_loses_detail_finer_than_the_survey_pixel() {
        // Stars (σ 1 px) on a 0.1″/px image at ×2 output (0.2″/px grid) imitating a 1″/px survey
        // must come out much fainter and wider than with plain ×2 bicubic.
        let mut hr = Planes::zeros(1, 96, 96);
        for (sx, sy) in [(20.0, 30.0), (60.0, 50.0), (75.0, 80.0)] {
            for y in 0..96 {
                for x in 0..96 {
                    let (dx, dy) = (x as f32 - sx, y as f32 - sy);
                    hr.data[y * 96 + x] += (-(dx * dx + dy * dy) / 2.0).exp();
                }
            }
        }
        let plain = degrade(&hr, &DegradationConfig::bicubic(), 2, &mut rng(0)).unwrap();
        let survey = DegradationConfig {
            source_pixel_scale_arcsec: Some(0.1),
            survey_pixel_scale_arcsec: Some(1.0),
            ..DegradationConfig::bicubic()
        };
        let coarse = degrade(&hr, &survey, 2, &mut rng(0)).unwrap();
        assert_eq!((coarse.width, coarse.height), (48, 48));
        let peak = |p: &Planes| p.data.iter().cloned().fold(0.0, f32::max);
        assert!(peak(&coarse) < 0.3 * peak(&plain), "{} vs {}", peak(&coarse), peak(&plain));
        assert!((survey_size_ratio(0.25, 1.0) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn reflect_index_folds_without_repeating_the_edge() {
        assert_eq!(reflect(-1, 5), 1);
        assert_eq!(reflect(-2, 5), 2);
        assert_eq!(reflect(5, 5), 3);
        assert_eq!(reflect(12, 5), 4);
        assert_eq!(reflect(-7, 1), 0);
    }
}
