//! What `prettify` does to the model's output before it is written: a `--strength` blend with
//! plain bicubic, and protection of saturated stars (GraXpert-style: the model may not redraw a
//! burnt-out core — a big star turned into a cluster, spikes into stars — so where the input is
//! saturated the output is the input's bicubic upsample, feathered into the model's picture).
//!
//! It runs per tile, on the tile's input and output, so it streams with the tiled inference.

use astro_image::Planes;

use astro_image::resize::imresize_to as bicubic_upscale;

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
    /// Keep the input's colour: the model's luminance on the input's chromaticity, so a learned
    /// colour translation cannot shift hues (it turned yellow DSS galaxy cores pink).
    pub keep_colour: bool,
    /// Replace sources the output has and the input has not (detected at the input's resolution,
    /// as `dataset::stars::compare_stars` does) with the input's bicubic pixels, feathered.
    pub guard_invented: bool,
    /// Colour saturation gain about the luma (1 = unchanged). Outreach images are about 1.8×
    /// as colourful as survey images (median chroma, docs/degradations.md); prettify's default.
    pub saturation: f32,
}

impl Default for Finish {
    fn default() -> Self {
        Finish { strength: 1.0, protect_saturated: false, keep_colour: false, guard_invented: false, saturation: 1.0 }
    }
}

/// Median chroma of clean outreach images over that of real DSS images (0.0114 / 0.0062, the
/// calibration table in docs/degradations.md): `prettify`'s default saturation gain.
pub const OUTREACH_SATURATION: f32 = 1.8;

/// Softening of the luminance ratio in [`Finish::keep_colour`], so dark sky is not amplified.
pub const COLOUR_EPSILON: f32 = 0.02;

/// BT.601 luma.
fn luma(r: f32, g: f32, b: f32) -> f32 {
    astro_image::luma::bt601(r, g, b)
}

impl Finish {
    /// Whether this finish changes anything.
    pub fn is_identity(&self) -> bool {
        self.strength >= 1.0
            && !self.protect_saturated
            && !self.keep_colour
            && !self.guard_invented
            && self.saturation == 1.0
    }

    /// Apply to the model's output `out` of the input tile `input` (`out` is `scale` × larger).
    pub fn apply(&self, input: &Planes, mut out: Planes) -> Planes {
        if self.is_identity() {
            return out;
        }
        let (ow, oh) = (out.width, out.height);
        let scale = ow / input.width.max(1);
        let bic = bicubic_upscale(input, ow, oh);
        if self.keep_colour && out.channels == 3 && bic.channels == 3 {
            let n = ow * oh;
            for i in 0..n {
                let (o, b) = (
                    [out.data[i], out.data[n + i], out.data[2 * n + i]],
                    [bic.data[i], bic.data[n + i], bic.data[2 * n + i]],
                );
                let gain = (luma(o[0], o[1], o[2]).max(0.0) + COLOUR_EPSILON)
                    / (luma(b[0], b[1], b[2]).max(0.0) + COLOUR_EPSILON);
                for (c, bc) in b.iter().enumerate() {
                    out.data[c * n + i] = (bc.max(0.0) * gain).min(1.0);
                }
            }
        }
        // Protected pixels (saturated cores, invented sources) become bicubic before the
        // saturation gain, so they take the same colour treatment as their surroundings.
        let mut mask = if self.protect_saturated { saturated_mask(input) } else { Vec::new() };
        if self.guard_invented {
            let guard = invention_mask(input, &out, scale);
            if mask.is_empty() {
                mask = guard;
            } else {
                mask.iter_mut().zip(guard).for_each(|(m, g)| *m = m.max(g));
            }
        }
        if !mask.is_empty() {
            let n = ow * oh;
            for y in 0..oh {
                for x in 0..ow {
                    let m = mask[(y / scale).min(input.height - 1) * input.width + (x / scale).min(input.width - 1)];
                    if m > 0.0 {
                        let i = y * ow + x;
                        for c in 0..out.channels.min(bic.channels) {
                            let (o, b) = (out.data[c * n + i], bic.data[c * n + i]);
                            out.data[c * n + i] = o + m * (b - o);
                        }
                    }
                }
            }
        }
        if self.saturation != 1.0 && out.channels == 3 {
            let n = ow * oh;
            let k = self.saturation.max(0.0);
            for i in 0..n {
                let y = luma(out.data[i], out.data[n + i], out.data[2 * n + i]);
                for c in 0..3 {
                    let v = &mut out.data[c * n + i];
                    *v = (y + k * (*v - y)).clamp(0.0, 1.0);
                }
            }
        }
        // Strength: a blend of the finished picture with plain bicubic.
        let k = self.strength.clamp(0.0, 1.0);
        if k < 1.0 {
            let n = ow * oh * out.channels.min(bic.channels);
            for (o, b) in out.data[..n].iter_mut().zip(&bic.data[..n]) {
                *o = b + k * (*o - b);
            }
        }
        out
    }
}

/// Invented sources wider than this (input pixels FWHM) are not stars (a brightened patch of a
/// galaxy disc): the guard leaves them, since pasting bicubic there leaves a visible disc.
pub const MAX_GUARD_FWHM: f32 = 5.0;

/// Per input pixel, how strongly the output is replaced by bicubic around compact sources the
/// model invented: 1 within r = max(2, FWHM) input pixels of each, feathered over r more.
pub fn invention_mask(input: &Planes, output: &Planes, scale: usize) -> Vec<f32> {
    let (w, h) = (input.width, input.height);
    let down = if scale > 1 {
        astro_image::resize::imresize_with(output, w, h, astro_image::resize::ResizeKernel::Box, true)
    } else {
        output.clone()
    };
    let (li, lo) = (input.to_luma(), down.to_luma());
    let mut mask = vec![0.0f32; w * h];
    for st in dataset::stars::invented_sources(li.plane(0), lo.plane(0), w, h) {
        if st.fwhm > MAX_GUARD_FWHM {
            continue;
        }
        let r = st.fwhm.max(2.0);
        let reach = (2.0 * r + 1.0).ceil() as isize;
        let (cx, cy) = (st.x.round() as isize, st.y.round() as isize);
        for y in (cy - reach).max(0)..(cy + reach + 1).min(h as isize) {
            for x in (cx - reach).max(0)..(cx + reach + 1).min(w as isize) {
                let d = ((x as f32 - st.x).powi(2) + (y as f32 - st.y).powi(2)).sqrt();
                let m = (1.0 - (d - r) / r).clamp(0.0, 1.0);
                let i = y as usize * w + x as usize;
                mask[i] = mask[i].max(m);
            }
        }
    }
    mask
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
        let half = Finish { strength: 0.5, ..Finish::default() }.apply(&input, model.clone());
        for i in [0, 100, 2000, 4095] {
            assert!((half.plane(1)[i] - 0.5 * (bic.plane(1)[i] + 0.5)).abs() < 1e-6);
        }
        let full = Finish::default().apply(&input, model.clone());
        assert_eq!(full, model);
        let protected = Finish { strength: 1.0, protect_saturated: true, ..Finish::default() }.apply(&input, model);
        // The saturated core is bicubic; the faint star and the sky are the model's.
        let at = |p: &Planes, x: usize, y: usize| p.plane(0)[y * 64 + x];
        assert!((at(&protected, 16, 16) - at(&bic, 16, 16)).abs() < 1e-6);
        assert!((at(&protected, 48, 48) - 0.5).abs() < 1e-6);
        assert!((at(&protected, 4, 60) - 0.5).abs() < 1e-6);
        // The edge of the protection is feathered, neither the model's nor bicubic.
        let edge = (0..64).map(|x| at(&protected, x, 16)).filter(|v| (v - 0.5).abs() > 1e-3).count();
        assert!(edge > 10 && edge < 40, "{edge} protected output pixels on the star's row");
    }

    #[test]
    fn keeping_colour_takes_the_models_luminance_on_the_inputs_hue() {
        // A yellow input; the "model" made it brighter and pink.
        let mut input = Planes::zeros(3, 8, 8);
        for (c, v) in [0.6f32, 0.5, 0.1].iter().enumerate() {
            input.plane_mut(c).iter_mut().for_each(|x| *x = *v);
        }
        let mut model = Planes::zeros(3, 16, 16);
        for (c, v) in [0.8f32, 0.5, 0.6].iter().enumerate() {
            model.plane_mut(c).iter_mut().for_each(|x| *x = *v);
        }
        let out = Finish { keep_colour: true, ..Finish::default() }.apply(&input, model.clone());
        let px = |p: &Planes| [p.plane(0)[40], p.plane(1)[40], p.plane(2)[40]];
        let (o, m) = (px(&out), px(&model));
        // Same luminance as the model's (to the ε softening), the input's proportions.
        assert!((luma(o[0], o[1], o[2]) - luma(m[0], m[1], m[2])).abs() < 0.01, "{o:?}");
        assert!((o[0] / o[1] - 0.6 / 0.5).abs() < 1e-4 && (o[2] / o[0] - 0.1 / 0.6).abs() < 1e-4, "{o:?}");
        // A saturation gain of 1.2 moves every channel 1.2× as far from the luma (nothing clips here).
        let vivid = Finish { keep_colour: true, saturation: 1.2, ..Finish::default() }.apply(&input, model);
        let v = px(&vivid);
        let (yo, yv) = (luma(o[0], o[1], o[2]), luma(v[0], v[1], v[2]));
        assert!((yo - yv).abs() < 1e-4);
        for c in 0..3 {
            assert!(((v[c] - yv) - 1.2 * (o[c] - yo)).abs() < 1e-4, "{v:?} vs {o:?}");
        }
    }

    #[test]
    fn the_invention_guard_removes_a_new_star_and_keeps_a_sharpened_one() {
        // Input: one star at (12, 12) on a noisy-free textured sky; the "model" sharpened it and
        // added a new star at (24, 8).
        let star = |x: usize, y: usize, cx: f32, cy: f32, fwhm: f32| {
            let s2 = (fwhm / 2.3548).powi(2);
            0.4 * (-((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)) / (2.0 * s2)).exp()
        };
        let sky = |x: usize, y: usize| 0.05 + 0.003 * (((x * 7 + y * 13) % 11) as f32 / 11.0 - 0.5);
        let input = image(32, 32, |x, y| sky(x, y) + star(x, y, 12.0, 12.0, 3.0));
        let model = image(64, 64, |x, y| sky(x / 2, y / 2) + star(x, y, 24.5, 24.5, 3.0) + star(x, y, 48.5, 16.5, 3.0));
        let finish = Finish { guard_invented: true, ..Finish::default() };
        let out = finish.apply(&input, model.clone());
        let bic = bicubic_upscale(&input, 64, 64);
        let at = |p: &Planes, x: usize, y: usize| p.plane(0)[y * 64 + x];
        // The new star is gone (bicubic there), the real one is the model's.
        assert!((at(&out, 48, 16) - at(&bic, 48, 16)).abs() < 1e-6, "{}", at(&out, 48, 16));
        assert!((at(&out, 24, 24) - at(&model, 24, 24)).abs() < 1e-6);
        let down =
            |p: &Planes| astro_image::resize::imresize_with(p, 32, 32, astro_image::resize::ResizeKernel::Box, true);
        let (li, lm, lo) = (input.to_luma(), down(&model).to_luma(), down(&out).to_luma());
        assert_eq!(dataset::stars::invented_sources(li.plane(0), lm.plane(0), 32, 32).len(), 1);
        assert!(dataset::stars::invented_sources(li.plane(0), lo.plane(0), 32, 32).is_empty());
    }
}
