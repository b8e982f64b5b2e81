//! What `prettify` does to the model's output before it is written: a `--strength` blend with
//! plain bicubic, and protection of saturated stars (GraXpert-style: the model may not redraw a
//! burnt-out core — a big star turned into a cluster, spikes into stars — so where the input is
//! saturated the output is the input's bicubic upsample, feathered into the model's picture).
//!
//! It runs per tile, on the tile's input and output, so it streams with the tiled inference.

use dataset::Planes;

use crate::inference::bicubic_upscale;

/// Input luma at or above this level is a saturated core.
pub const SATURATED_LUMA: f32 = 0.95;
/// How far around a saturated core (input pixels) the protection reaches at full weight.
pub const PROTECT_RADIUS: usize = 2;
/// Width of the feathered edge of the protection (input pixels).
pub const PROTECT_FEATHER: usize = 2;

/// The finish applied to each tile: 1 and `false` leave the model's output as it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finish {
    /// Blend with bicubic: 0 = bicubic, 1 = the model's output.
    pub strength: f32,
    /// Keep saturated stars as they were (bicubic) instead of the model's version.
    pub protect_saturated: bool,
}

impl Default for Finish {
    fn default() -> Self {
        Finish { strength: 1.0, protect_saturated: false }
    }
}

impl Finish {
    /// Whether this finish changes anything.
    pub fn is_identity(&self) -> bool {
        self.strength >= 1.0 && !self.protect_saturated
    }

    /// Apply to the model's output `out` of the input tile `input` (`out` is `scale` × larger).
    pub fn apply(&self, input: &Planes, mut out: Planes) -> Planes {
        if self.is_identity() {
            return out;
        }
        let (ow, oh) = (out.width, out.height);
        let scale = ow / input.width.max(1);
        let bic = bicubic_upscale(input, ow, oh);
        // Weight of the model's output per output pixel.
        let mut keep = vec![self.strength.clamp(0.0, 1.0); ow * oh];
        if self.protect_saturated {
            let mask = saturated_mask(input);
            for y in 0..oh {
                for x in 0..ow {
                    let m = mask[(y / scale).min(input.height - 1) * input.width + (x / scale).min(input.width - 1)];
                    keep[y * ow + x] *= 1.0 - m;
                }
            }
        }
        let channels = out.channels.min(bic.channels);
        for c in 0..channels {
            let b = bic.plane(c).to_vec();
            for ((o, b), k) in out.plane_mut(c).iter_mut().zip(b).zip(&keep) {
                *o = b + k * (*o - b);
            }
        }
        out
    }
}

/// Per input pixel, how strongly it is protected: 1 within [`PROTECT_RADIUS`] of a saturated
/// pixel, falling linearly to 0 over [`PROTECT_FEATHER`] more pixels.
pub fn saturated_mask(input: &Planes) -> Vec<f32> {
    let luma = input.to_luma();
    let l = luma.plane(0);
    let (w, h) = (input.width, input.height);
    let reach = (PROTECT_RADIUS + PROTECT_FEATHER) as isize;
    let mut mask = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            if l[y * w + x] < SATURATED_LUMA {
                continue;
            }
            for dy in -reach..=reach {
                for dx in -reach..=reach {
                    let (yy, xx) = (y as isize + dy, x as isize + dx);
                    if yy < 0 || xx < 0 || yy >= h as isize || xx >= w as isize {
                        continue;
                    }
                    let d = ((dx * dx + dy * dy) as f32).sqrt();
                    let m = (1.0 - (d - PROTECT_RADIUS as f32) / (PROTECT_FEATHER as f32 + 1.0)).clamp(0.0, 1.0);
                    let i = yy as usize * w + xx as usize;
                    mask[i] = mask[i].max(m);
                }
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Planes {
        let mut p = Planes::zeros(3, h, w);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    p.plane_mut(c)[y * w + x] = f(x, y);
                }
            }
        }
        p
    }

    #[test]
    fn strength_blends_with_bicubic_and_saturated_cores_are_kept() {
        // A saturated star at (8, 8) of a 32² input, a faint one at (24, 24).
        let star = |x: usize, y: usize, cx: f32, cy: f32, a: f32| {
            a * (-((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)) / 3.0).exp()
        };
        let input = image(32, 32, |x, y| (0.05 + star(x, y, 8.0, 8.0, 1.5) + star(x, y, 24.0, 24.0, 0.3)).min(1.0));
        let bic = bicubic_upscale(&input, 64, 64);
        let model = image(64, 64, |_, _| 0.5);
        let half = Finish { strength: 0.5, protect_saturated: false }.apply(&input, model.clone());
        for i in [0, 100, 2000, 4095] {
            assert!((half.plane(1)[i] - 0.5 * (bic.plane(1)[i] + 0.5)).abs() < 1e-6);
        }
        let full = Finish::default().apply(&input, model.clone());
        assert_eq!(full, model);
        let protected = Finish { strength: 1.0, protect_saturated: true }.apply(&input, model);
        // The saturated core is bicubic; the faint star and the sky are the model's.
        let at = |p: &Planes, x: usize, y: usize| p.plane(0)[y * 64 + x];
        assert!((at(&protected, 16, 16) - at(&bic, 16, 16)).abs() < 1e-6);
        assert!((at(&protected, 48, 48) - 0.5).abs() < 1e-6);
        assert!((at(&protected, 4, 60) - 0.5).abs() < 1e-6);
        // The edge of the protection is feathered, neither the model's nor bicubic.
        let edge = (0..64).map(|x| at(&protected, x, 16)).filter(|v| (v - 0.5).abs() > 1e-3).count();
        assert!(edge > 10 && edge < 40, "{edge} protected output pixels on the star's row");
    }
}
