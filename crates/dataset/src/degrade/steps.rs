//! The degradation steps: colour bands, saturation, noise, grain, JPEG and the Real-ESRGAN orders.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;

use super::*;
use crate::error::Result;
use astro_image::image_io::Planes;
use astro_image::resize::{ResizeKernel, imresize_with};

/// Map the input's channels to the instrument's bands: 3 (full), 1 (mono) or 2 (red, blue plate).
///
/// Grey input stays grey whatever the mode.
pub fn to_bands(planes: &Planes, mode: &ColourMode) -> Planes {
    if planes.channels != 3 {
        return planes.clone();
    }
    let mix = |wts: [f32; 3]| -> Vec<f32> {
        let s: f32 = wts.iter().sum();
        let (r, g, b) = (planes.plane(0), planes.plane(1), planes.plane(2));
        r.iter().zip(g).zip(b).map(|((r, g), b)| (wts[0] * r + wts[1] * g + wts[2] * b) / s).collect()
    };
    match *mode {
        ColourMode::Full => planes.clone(),
        ColourMode::Mono { weights } => Planes { channels: 1, data: mix(weights), ..*planes },
        ColourMode::TwoPlate { red, blue } => {
            let mut data = mix(red);
            data.extend(mix(blue));
            Planes { channels: 2, data, ..*planes }
        }
    }
}

/// Back from bands to `channels` output channels: two plates become (R, (R+B)/2, B), one plate
/// is replicated.
pub fn from_bands(bands: &Planes, channels: usize) -> Planes {
    match (bands.channels, channels) {
        (2, 3) => {
            let (r, b) = (bands.plane(0), bands.plane(1));
            let g: Vec<f32> = r.iter().zip(b).map(|(r, b)| 0.5 * (r + b)).collect();
            let mut data = Vec::with_capacity(3 * bands.pixels());
            data.extend_from_slice(r);
            data.extend(g);
            data.extend_from_slice(b);
            Planes { channels: 3, data, ..*bands }
        }
        (2, 1) => {
            let (r, b) = (bands.plane(0), bands.plane(1));
            Planes { channels: 1, data: r.iter().zip(b).map(|(r, b)| 0.5 * (r + b)).collect(), ..*bands }
        }
        (1, 3) => bands.to_rgb(),
        _ => bands.clone(),
    }
}

/// Soft saturation: identity below `level − knee`, a tanh shoulder up to `level`, then `/ level`.
pub fn saturate(planes: &mut Planes, level: f32, knee: f32) {
    let start = level - knee;
    planes.data.par_iter_mut().for_each(|v| {
        let s = if *v <= start {
            *v
        } else if knee > 0.0 {
            start + knee * ((*v - start) / knee).tanh()
        } else {
            level
        };
        *v = s / level;
    });
}

/// Black point (levels): `x → max(0, x − level) / (1 − level)` — the sky clipped to black.
pub fn black_point(planes: &mut Planes, level: f32) {
    let gain = 1.0 / (1.0 - level).max(1e-3);
    planes.data.par_iter_mut().for_each(|v| *v = (*v - level).max(0.0) * gain);
}

/// Add Gaussian noise of σ `sigma`; `grey` uses the same noise in every channel.
pub fn add_gaussian_noise(planes: &mut Planes, sigma: f32, grey: bool, rng: &mut ChaCha8Rng) {
    let n = planes.pixels();
    if grey {
        let noise: Vec<f32> = (0..n).map(|_| sigma * rng.sample::<f32, _>(StandardNormal)).collect();
        for c in 0..planes.channels {
            planes.plane_mut(c).iter_mut().zip(&noise).for_each(|(v, e)| *v += e);
        }
    } else {
        planes.data.iter_mut().for_each(|v| *v += sigma * rng.sample::<f32, _>(StandardNormal));
    }
}

pub(crate) fn poisson_sample(lambda: f64, rng: &mut ChaCha8Rng) -> f64 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0.0;
    }
    match Poisson::new(lambda) {
        Ok(p) => p.sample(rng),
        // Beyond Poisson::MAX_LAMBDA the normal approximation is exact to f32 precision.
        Err(_) => lambda + lambda.sqrt() * rng.sample::<f64, _>(StandardNormal),
    }
}

/// Add photon noise: `(Poisson(v · peak) / peak − v) · scale`; `grey` draws it from the channel
/// mean and adds it to every channel (BasicSR's grey Poisson noise).
pub fn add_poisson_noise(planes: &mut Planes, peak: f64, scale: f32, grey: bool, rng: &mut ChaCha8Rng) {
    let n = planes.pixels();
    if grey && planes.channels > 1 {
        let ch = planes.channels as f32;
        let noise: Vec<f32> = (0..n)
            .map(|i| {
                let v = (0..planes.channels).map(|c| planes.data[c * n + i]).sum::<f32>() / ch;
                let v = v.max(0.0) as f64;
                ((poisson_sample(v * peak, rng) / peak - v) as f32) * scale
            })
            .collect();
        for c in 0..planes.channels {
            planes.plane_mut(c).iter_mut().zip(&noise).for_each(|(v, e)| *v += e);
        }
    } else {
        for v in planes.data.iter_mut() {
            let x = v.max(0.0) as f64;
            *v += ((poisson_sample(x * peak, rng) / peak - x) as f32) * scale;
        }
    }
}

pub(crate) fn apply_noise(planes: &mut Planes, cfg: &NoiseConfig, rng: &mut ChaCha8Rng) {
    if rng.random::<f64>() >= cfg.prob {
        return;
    }
    let grey = rng.random::<f64>() < cfg.grey_prob;
    let gaussian = cfg.combine || rng.random::<f64>() < cfg.gaussian_prob;
    let poisson = cfg.combine || !gaussian;
    if poisson {
        let peak = cfg.poisson_peak.sample(rng);
        let scale = cfg.poisson_scale.sample(rng) as f32;
        tracing::trace!(peak, scale, grey, "poisson noise");
        add_poisson_noise(planes, peak, scale, grey, rng);
    }
    if gaussian {
        let sigma = cfg.gaussian_sigma.sample(rng) as f32;
        tracing::trace!(sigma, grey, "gaussian noise");
        add_gaussian_noise(planes, sigma, grey, rng);
    }
    planes.clamp01();
}

/// Photographic grain: white noise smoothed by a Gaussian of σ `size_px`, renormalised to unit
/// variance, added with σ `amplitude · √(v + fog)` (granularity grows with density).
pub fn add_grain(planes: &mut Planes, amplitude: f32, size_px: f64, fog: f32, rng: &mut ChaCha8Rng) {
    let mut field = Planes { data: Vec::new(), ..*planes };
    field.data = (0..planes.data.len()).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    if size_px > 0.05 {
        let k = Kernel::gaussian(size_px);
        let norm = k.data.iter().map(|v| v * v).sum::<f32>().sqrt();
        field = convolve(&field, &k);
        field.data.iter_mut().for_each(|v| *v /= norm);
    }
    planes.data.par_iter_mut().zip(field.data.par_iter()).for_each(|(v, g)| {
        *v += amplitude * (v.max(0.0) + fog).sqrt() * g;
    });
}

/// Encode as JPEG at `quality` (1–100) and decode again. Two-band images are coded per band.
pub fn jpeg_roundtrip(planes: &Planes, quality: u8) -> Result<Planes> {
    let code = |p: &Planes| -> Result<Planes> {
        let err = |e: image::ImageError| astro_image::ImageError::Encode {
            path: format!("<jpeg degradation q{quality}>").into(),
            reason: e.to_string(),
        };
        let img = p.to_dynamic_image(8)?;
        let mut bytes = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100));
        img.write_with_encoder(enc).map_err(err)?;
        let dec = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).map_err(err)?;
        let mut out = Planes::from_dynamic_image(&dec, astro_image::image_io::ColorMode::Keep);
        out.bit_depth = p.bit_depth;
        Ok(out)
    };
    if planes.channels == 1 || planes.channels == 3 {
        return code(planes);
    }
    let mut out = planes.clone();
    for c in 0..planes.channels {
        let one = Planes { channels: 1, data: planes.plane(c).to_vec(), ..*planes };
        out.plane_mut(c).copy_from_slice(&code(&one)?.data);
    }
    Ok(out)
}

pub(crate) fn apply_jpeg(planes: &mut Planes, cfg: &JpegConfig, rng: &mut ChaCha8Rng) -> Result<()> {
    if rng.random::<f64>() >= cfg.prob {
        return Ok(());
    }
    let q = cfg.quality.sample(rng).round().clamp(1.0, 100.0) as u8;
    tracing::trace!(quality = q, "jpeg");
    *planes = jpeg_roundtrip(planes, q)?;
    Ok(())
}

pub(crate) fn apply_order(
    planes: &mut Planes,
    cfg: &OrderConfig,
    out_w: usize,
    out_h: usize,
    rng: &mut ChaCha8Rng,
) -> Result<()> {
    if let Some(b) = &cfg.blur
        && rng.random::<f64>() < b.prob
    {
        let k = random_blur_kernel(b, rng);
        *planes = convolve(planes, &k);
    }
    if let Some(r) = &cfg.resize {
        let f = match choose(&r.up_down_keep, rng) {
            0 => rng.random_range(1.0..=r.factor.1),
            1 => rng.random_range(r.factor.0..=1.0),
            _ => 1.0,
        };
        let (bw, bh) = if r.relative_to_output { (out_w, out_h) } else { (planes.width, planes.height) };
        let (nw, nh) = (((bw as f64 * f).round() as usize).max(1), ((bh as f64 * f).round() as usize).max(1));
        // PyTorch's area / bilinear / bicubic modes, drawn uniformly as Real-ESRGAN does.
        let (kernel, antialias) = match rng.random_range(0..3) {
            0 => (ResizeKernel::Box, true),
            1 => (ResizeKernel::Linear, false),
            _ => (ResizeKernel::Cubic, false),
        };
        tracing::trace!(f, nw, nh, ?kernel, "random resize");
        if (nw, nh) != (planes.width, planes.height) {
            *planes = imresize_with(planes, nw, nh, kernel, antialias);
        }
        planes.clamp01();
    }
    if let Some(n) = &cfg.noise {
        apply_noise(planes, n, rng);
    }
    if let Some(j) = &cfg.jpeg {
        apply_jpeg(planes, j, rng)?;
    }
    Ok(())
}
