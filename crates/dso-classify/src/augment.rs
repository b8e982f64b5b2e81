//! Augmentation suited to sky images: any-angle rotation, flips, zoom/shift crops, stretch and
//! brightness changes, a random background level, per-channel colour jitter, greyscale and noise.

use astro_image::Planes;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// Strength of each random change applied to a training image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Rotate by a uniformly random angle (sky images have no "up").
    pub rotate: bool,
    /// Mirror half of the images.
    pub flip: bool,
    /// Zoom range (1 = the whole frame; >1 crops in).
    pub zoom: (f32, f32),
    /// Largest shift of the centre, as a fraction of the side.
    pub shift: f32,
    /// Range of the gamma applied to intensities (display-stretch change).
    pub gamma: (f32, f32),
    /// Range of the contrast gain.
    pub contrast: (f32, f32),
    /// Largest random background offset added (sky level / light pollution).
    pub background: f32,
    /// Largest relative per-channel gain change (colour balance).
    pub colour_jitter: f32,
    /// Probability of turning the image grey (many survey images are monochrome).
    pub greyscale: f32,
    /// Largest standard deviation of additive Gaussian noise.
    pub noise: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            rotate: true,
            flip: true,
            zoom: (0.9, 1.3),
            shift: 0.06,
            gamma: (0.7, 1.4),
            contrast: (0.75, 1.25),
            background: 0.08,
            colour_jitter: 0.15,
            greyscale: 0.15,
            noise: 0.03,
        }
    }
}

impl AugmentConfig {
    /// Milder photometric changes (same geometry): for short CPU training runs.
    pub fn light() -> Self {
        AugmentConfig {
            zoom: (0.95, 1.2),
            shift: 0.05,
            gamma: (0.8, 1.25),
            contrast: (0.85, 1.15),
            background: 0.04,
            colour_jitter: 0.1,
            greyscale: 0.1,
            noise: 0.02,
            ..AugmentConfig::default()
        }
    }

    /// A named preset: `default`, `light` or `none`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "default" | "strong" => Some(AugmentConfig::default()),
            "light" => Some(AugmentConfig::light()),
            "none" => Some(AugmentConfig::none()),
            _ => None,
        }
    }

    /// No change at all (evaluation).
    pub fn none() -> Self {
        AugmentConfig {
            rotate: false,
            flip: false,
            zoom: (1.0, 1.0),
            shift: 0.0,
            gamma: (1.0, 1.0),
            contrast: (1.0, 1.0),
            background: 0.0,
            colour_jitter: 0.0,
            greyscale: 0.0,
            noise: 0.0,
        }
    }
}

fn range<R: Rng>(rng: &mut R, (lo, hi): (f32, f32)) -> f32 {
    if hi > lo { rng.random_range(lo..hi) } else { lo }
}

/// Per-channel mean of the outermost ring of pixels: the sky level used to fill rotated corners.
pub fn border_level(img: &Planes) -> Vec<f32> {
    let (w, h) = (img.width, img.height);
    (0..img.channels)
        .map(|c| {
            let p = img.plane(c);
            let mut sum = 0.0f64;
            let mut n = 0usize;
            for x in 0..w {
                sum += (p[x] + p[(h - 1) * w + x]) as f64;
                n += 2;
            }
            for y in 0..h {
                sum += (p[y * w] + p[y * w + w - 1]) as f64;
                n += 2;
            }
            (sum / n.max(1) as f64) as f32
        })
        .collect()
}

/// Apply one random augmentation to an RGB image; the output has the same size.
pub fn augment<R: Rng>(img: &Planes, cfg: &AugmentConfig, rng: &mut R) -> Planes {
    let (w, h, ch) = (img.width, img.height, img.channels);
    let theta = if cfg.rotate { rng.random_range(0.0..std::f32::consts::TAU) } else { 0.0 };
    let flip = cfg.flip && rng.random_bool(0.5);
    let zoom = range(rng, cfg.zoom);
    let dx = if cfg.shift > 0.0 { rng.random_range(-cfg.shift..cfg.shift) * w as f32 } else { 0.0 };
    let dy = if cfg.shift > 0.0 { rng.random_range(-cfg.shift..cfg.shift) * h as f32 } else { 0.0 };
    let fill = border_level(img);
    let (sin, cos) = theta.sin_cos();
    let (cx, cy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
    let mut out = Planes::zeros(ch, h, w);
    out.bit_depth = img.bit_depth;
    // Geometry: inverse-map every output pixel into the source and sample bilinearly.
    for y in 0..h {
        for x in 0..w {
            let mut u = (x as f32 - cx) / zoom;
            let v = (y as f32 - cy) / zoom;
            if flip {
                u = -u;
            }
            let sx = cos * u - sin * v + cx + dx;
            let sy = sin * u + cos * v + cy + dy;
            for (c, level) in fill.iter().enumerate() {
                out.data[(c * h + y) * w + x] = bilinear(img, c, sx, sy, *level);
            }
        }
    }
    // Photometry.
    let gamma = range(rng, cfg.gamma);
    let contrast = range(rng, cfg.contrast);
    let offset = if cfg.background > 0.0 { rng.random_range(-cfg.background..cfg.background) } else { 0.0 };
    let gains: Vec<f32> =
        (0..ch)
            .map(|_| {
                if cfg.colour_jitter > 0.0 {
                    1.0 + rng.random_range(-cfg.colour_jitter..cfg.colour_jitter)
                } else {
                    1.0
                }
            })
            .collect();
    let grey = ch == 3 && cfg.greyscale > 0.0 && rng.random_bool(cfg.greyscale as f64);
    let sigma = if cfg.noise > 0.0 { rng.random_range(0.0..cfg.noise) } else { 0.0 };
    if grey {
        let n = w * h;
        for i in 0..n {
            let l = astro_image::luma::bt601(out.data[i], out.data[n + i], out.data[2 * n + i]);
            out.data[i] = l;
            out.data[n + i] = l;
            out.data[2 * n + i] = l;
        }
    }
    let normal = Normal::new(0.0f32, sigma.max(1e-9)).ok();
    let plane = w * h;
    for (i, v) in out.data.iter_mut().enumerate() {
        let c = i / plane;
        let mut s = v.max(0.0).powf(gamma) * contrast * gains[c] + offset;
        if sigma > 0.0
            && let Some(n) = &normal
        {
            s += n.sample(rng);
        }
        *v = s.clamp(0.0, 1.0);
    }
    out
}

fn bilinear(img: &Planes, c: usize, x: f32, y: f32, fill: f32) -> f32 {
    let (w, h) = (img.width as isize, img.height as isize);
    let x0 = x.floor();
    let y0 = y.floor();
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as isize, y0 as isize);
    let p = img.plane(c);
    let at = |xx: isize, yy: isize| -> f32 {
        if xx < 0 || yy < 0 || xx >= w || yy >= h { fill } else { p[(yy * w + xx) as usize] }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn gradient_image() -> Planes {
        let (w, h) = (32, 32);
        let mut p = Planes::zeros(3, h, w);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    p.data[(c * h + y) * w + x] = (x as f32 / 31.0) * (c as f32 + 1.0) / 3.0;
                }
            }
        }
        p
    }

    #[test]
    fn no_augmentation_is_identity_and_random_one_changes_pixels_within_range() {
        let img = gradient_image();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let same = augment(&img, &AugmentConfig::none(), &mut rng);
        for (a, b) in same.data.iter().zip(&img.data) {
            assert!((a - b).abs() < 1e-5);
        }
        let changed = augment(&img, &AugmentConfig::default(), &mut rng);
        assert_eq!((changed.width, changed.height, changed.channels), (32, 32, 3));
        let diff: f32 =
            changed.data.iter().zip(&img.data).map(|(a, b)| (a - b).abs()).sum::<f32>() / img.data.len() as f32;
        assert!(diff > 0.01, "mean change {diff}");
        assert!(changed.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn half_turn_rotation_mirrors_the_gradient() {
        let img = gradient_image();
        let mut cfg = AugmentConfig::none();
        cfg.rotate = true;
        // Find a seed whose angle is near 180°, then check the horizontal gradient is reversed.
        let mut found = false;
        for seed in 0..200 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let theta: f32 = rng.random_range(0.0..std::f32::consts::TAU);
            if (theta - std::f32::consts::PI).abs() < 0.15 {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let out = augment(&img, &cfg, &mut rng);
                let left = out.get(0, 16, 1);
                let right = out.get(0, 16, 30);
                assert!(left > right + 0.2, "left {left} right {right}");
                found = true;
                break;
            }
        }
        assert!(found, "no seed gave a half turn");
    }
}
