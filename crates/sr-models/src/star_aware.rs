//! `prettify` v2, the star-aware pipeline (issue #25): the stars of the input are measured
//! (`star_field`), removed, the starless image is enhanced by the model, and every measured star
//! is drawn again at the output scale as a round profile of its own flux and colour. The model
//! never sees a star, so it can neither turn an elongated plate star into a dash nor add one;
//! saturated stars keep their own pixels. An optional declared layer (`star_field::dream`) adds
//! what a deeper, sharper telescope would show.

use astro_image::Planes;
use burn::prelude::*;
use star_field::StarField;
use star_field::{RenderOptions, render_stars, saturated_layer};

use crate::error::Result;
use crate::inference::{Tiling, bicubic_upscale, upscale_tiled};
use crate::model::{Generator, GeneratorConfig};

/// Default drawn star width over the input's measured PSF width (`--star-size`), chosen by
/// measurement on real survey images (docs/models.md, "prettify v2").
pub const DEFAULT_STAR_SIZE: f32 = 0.35;
/// Narrowest drawn star (output pixels): much below this a star becomes a hot-pixel-like point.
pub const MIN_DRAWN_FWHM: f32 = 2.0;

/// How the stars are treated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StarOptions {
    /// Drawn half-maximum width over the input's PSF width (both at the output scale).
    pub star_size: f32,
    /// Hubble-style diffraction spikes on the brightest stars.
    pub spikes: bool,
}

impl Default for StarOptions {
    fn default() -> Self {
        StarOptions { star_size: DEFAULT_STAR_SIZE, spikes: false }
    }
}

/// A model and its configuration.
pub type Stage<'a, B> = (&'a GeneratorConfig, &'a Generator<B>);

/// What the pipeline produced.
#[derive(Debug, Clone)]
pub struct StarAware {
    /// The prettified image at the output scale.
    pub image: Planes,
    /// The starless input (the input's scale), as StarNet users expect.
    pub starless: Planes,
    /// The stars that were measured (and drawn again).
    pub field: StarField,
    /// Half-maximum width (output pixels) a star of modest flux is drawn with.
    pub drawn_fwhm: f32,
}

/// An extra layer to add at the drawing scale before the colour finish (the dream layer).
pub type ExtraLayer<'a> = &'a mut dyn FnMut(&StarField, &Planes, f32, usize) -> Planes;

/// Run the pipeline on `input`: `model` (×2) on the starless image with `tiling`'s finish, then
/// `next` when given (prettify ×4), the finish's colour saturation on that, the stars drawn at
/// that scale in their own colours, `extra` added, the strength blend, and with `area_back` the result
/// area-averaged back to the input's pixels (prettify ×1).
#[allow(clippy::too_many_arguments)]
pub fn prettify_stars<B: Backend>(
    input: &Planes,
    model: Stage<'_, B>,
    next: Option<Stage<'_, B>>,
    area_back: bool,
    tiling: Tiling,
    stars: StarOptions,
    extra: Option<ExtraLayer<'_>>,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<StarAware> {
    let mut field = StarField::measure(input);
    let starless = star_field::starless(input, &mut field);
    let finish = tiling.finish;
    // The starless image gets the model's detail and the input's colour; saturation and strength
    // act on the whole picture below, saturated cores come back with their own pixels.
    let inner = crate::star_protection::Finish { strength: 1.0, protect_saturated: false, saturation: 1.0, ..finish };
    let mut enhanced =
        upscale_tiled(model.1, model.0, &starless, Tiling { finish: inner, ..tiling }, device, progress)?;
    if let Some((c, m)) = next {
        enhanced = upscale_tiled(m, c, &enhanced, Tiling { finish: Default::default(), ..tiling }, device, progress)?;
    }
    let (ow, oh) = (enhanced.width, enhanced.height);
    let s = ow / input.width.max(1);
    let drawn_fwhm = (stars.star_size * field.psf.fwhm * s as f32).max(MIN_DRAWN_FWHM);
    let opts = RenderOptions { scale: s, fwhm: drawn_fwhm, spikes: stars.spikes };
    let layer = render_stars(&field, &enhanced, &opts);
    let saturated = saturated_layer(input, &starless, &field, ow, oh);
    // The colour gain is for the extended signal; stars keep their measured colour and
    // saturated stars their own pixels.
    let mut out = enhanced;
    saturate(&mut out, finish.saturation);
    for ((o, l), q) in out.data.iter_mut().zip(&layer.data).zip(&saturated.data) {
        *o += l + q;
    }
    if finish.guard_invented {
        guard_invented(input, &mut out, s);
    }
    // The dream layer goes on after the colour gain, so it only ever adds light.
    if let Some(f) = extra {
        let add = f(&field, &out, drawn_fwhm, s);
        out.data.iter_mut().zip(&add.data).for_each(|(o, a)| *o += a);
    }
    blend_with_bicubic(input, &mut out, finish.strength);
    if area_back {
        out = astro_image::resize::imresize_with(
            &out,
            input.width,
            input.height,
            astro_image::resize::ResizeKernel::Box,
            true,
        );
    }
    restore_no_data(input, &mut out);
    out.bit_depth = input.bit_depth;
    Ok(StarAware { image: out, starless, field, drawn_fwhm })
}

/// The invention guard on the whole picture: compact sources the input does not have (the
/// model sharpening a leftover of the starless image into a point) go back to the input's
/// bicubic pixels, feathered (`star_protection::invention_mask`).
fn guard_invented(input: &Planes, out: &mut Planes, s: usize) {
    let mask = crate::star_protection::invention_mask(input, out, s);
    if mask.iter().all(|m| *m == 0.0) {
        return;
    }
    let (ow, oh, iw, ih) = (out.width, out.height, input.width, input.height);
    let bic = bicubic_upscale(input, ow, oh);
    for y in 0..oh {
        for x in 0..ow {
            let m = mask[(y / s).min(ih - 1) * iw + (x / s).min(iw - 1)];
            if m > 0.0 {
                for c in 0..out.channels.min(bic.channels) {
                    let i = c * ow * oh + y * ow + x;
                    let b = if bic.data[i].is_finite() { bic.data[i] } else { out.data[i] };
                    out.data[i] += m * (b - out.data[i]);
                }
            }
        }
    }
}

/// Saturation gain about the luma.
fn saturate(out: &mut Planes, saturation: f32) {
    let n = out.width * out.height;
    if out.channels == 3 && saturation != 1.0 {
        for i in 0..n {
            let y = astro_image::luma::bt601(out.data[i], out.data[n + i], out.data[2 * n + i]);
            for c in 0..3 {
                let v = &mut out.data[c * n + i];
                *v = y + saturation * (*v - y);
            }
        }
    }
}

/// Clamp to [0, 1], then blend with plain bicubic (`strength` 1: the picture as it is).
fn blend_with_bicubic(input: &Planes, out: &mut Planes, strength: f32) {
    out.data.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    let k = strength.clamp(0.0, 1.0);
    if k < 1.0 {
        let bic = bicubic_upscale(input, out.width, out.height);
        for (o, b) in out.data.iter_mut().zip(&bic.data) {
            let b = if b.is_finite() { b.clamp(0.0, 1.0) } else { 0.0 };
            *o = b + k * (*o - b);
        }
    }
}

/// Output pixels over input pixels with no data (NaN) stay without data.
fn restore_no_data(input: &Planes, out: &mut Planes) {
    if input.data.iter().all(|v| v.is_finite()) {
        return;
    }
    let s = (out.width / input.width.max(1)).max(1);
    let (iw, ih, ow, oh) = (input.width, input.height, out.width, out.height);
    for c in 0..out.channels {
        let ic = c.min(input.channels - 1);
        for y in 0..oh {
            for x in 0..ow {
                let (xi, yi) = ((x / s).min(iw - 1), (y / s).min(ih - 1));
                if !input.data[ic * iw * ih + yi * iw + xi].is_finite() {
                    out.data[c * ow * oh + y * ow + x] = f32::NAN;
                }
            }
        }
    }
}
