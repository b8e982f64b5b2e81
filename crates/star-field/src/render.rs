//! Stars drawn again at the output scale: each measured star as a round Moffat profile of its
//! own flux and colour, centred where it was measured; saturated stars as their own pixels
//! (image − starless, bicubic-enlarged), so a burnt-out core keeps its look. Optional Hubble-style
//! diffraction spikes. Nothing is drawn that the star list does not hold.

use astro_image::Planes;

use crate::photometry::StarField;

/// Moffat β of the drawn profile: a Gaussian-like core with the faint wings real telescopes
/// have (β ≈ 3–4.5 for seeing- and optics-limited stars).
pub const MOFFAT_BETA: f32 = 3.5;
/// Sub-samples per pixel side when drawing (point-like stars are integrated over the pixel).
const SUPERSAMPLE: usize = 3;
/// The drawn peak (on top of the sky) may reach this level; brighter stars are drawn wider so
/// that their flux is kept instead of clipped.
pub const PEAK_CAP: f32 = 0.96;

/// How the stars are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Output pixels per input pixel.
    pub scale: usize,
    /// Half-maximum width of a drawn star in output pixels (before the peak cap widens it).
    pub fwhm: f32,
    /// Draw four diffraction spikes on the brightest stars.
    pub spikes: bool,
}

/// Moffat α for a half-maximum width.
fn moffat_alpha(fwhm: f32) -> f32 {
    fwhm / (2.0 * (2f32.powf(1.0 / MOFFAT_BETA) - 1.0).sqrt())
}

/// Half-maximum width for a Moffat α.
fn moffat_fwhm(alpha: f32) -> f32 {
    alpha * 2.0 * (2f32.powf(1.0 / MOFFAT_BETA) - 1.0).sqrt()
}

/// Add one round Moffat star of total flux `flux` (per channel, output pixel units) at output
/// position (`cx`, `cy`) with width `fwhm` to `layer`; returns the drawn half-maximum width.
pub fn draw_moffat(layer: &mut Planes, cx: f32, cy: f32, flux: [f32; 3], fwhm: f32) -> f32 {
    let (w, h) = (layer.width, layer.height);
    let alpha = moffat_alpha(fwhm.max(0.5));
    // Out to where the profile holds all but 0.2 % of the light; renormalised over what is drawn.
    let reach = alpha * (500f32.powf(1.0 / (MOFFAT_BETA - 1.0)) - 1.0).sqrt();
    let ri = reach.ceil() as isize;
    let (x0, y0) = (cx.round() as isize, cy.round() as isize);
    let (xs, xe) = ((x0 - ri).max(0), (x0 + ri + 1).min(w as isize));
    let (ys, ye) = ((y0 - ri).max(0), (y0 + ri + 1).min(h as isize));
    if xs >= xe || ys >= ye {
        return fwhm;
    }
    let inv_a2 = 1.0 / (alpha * alpha);
    let n = SUPERSAMPLE as f32;
    let mut weights = Vec::with_capacity(((xe - xs) * (ye - ys)) as usize);
    for y in ys..ye {
        for x in xs..xe {
            let mut v = 0.0;
            for sy in 0..SUPERSAMPLE {
                for sx in 0..SUPERSAMPLE {
                    let dx = x as f32 - 0.5 + (sx as f32 + 0.5) / n - cx;
                    let dy = y as f32 - 0.5 + (sy as f32 + 0.5) / n - cy;
                    v += (1.0 + (dx * dx + dy * dy) * inv_a2).powf(-MOFFAT_BETA);
                }
            }
            weights.push(v);
        }
    }
    // The whole profile's integral (π α² / (β − 1) per unit peak) × n² sub-samples: a star at
    // the image edge loses what falls outside, as a real one would.
    let total = std::f32::consts::PI / (inv_a2 * (MOFFAT_BETA - 1.0)) * n * n;
    let mut k = 0;
    for y in ys..ye {
        for x in xs..xe {
            let wv = weights[k] / total;
            k += 1;
            let i = y as usize * w + x as usize;
            for (c, f) in flux.iter().enumerate().take(layer.channels) {
                layer.data[c * w * h + i] += f * wv;
            }
        }
    }
    moffat_fwhm(alpha)
}

/// Four thin spikes (0°, 90°, 180°, 270°) carrying `fraction` of `flux`, exponential along the
/// spike (scale `length`/3), Gaussian across (σ 0.5 px).
fn draw_spikes(layer: &mut Planes, cx: f32, cy: f32, flux: [f32; 3], length: f32, fraction: f32) {
    let (w, h) = (layer.width, layer.height);
    let l = length.max(2.0);
    let per = fraction / 4.0;
    let scale = l / 3.0;
    // Normalisation: ∫ exp(−t/scale) dt over [0, l] × √(2π) σ across.
    let norm = scale * (1.0 - (-3.0f32).exp()) * (2.0 * std::f32::consts::PI).sqrt() * 0.5;
    for (ux, uy) in [(1.0f32, 0.0f32), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
        for t in 1..=(l as usize) {
            let along = (-(t as f32) / scale).exp() / norm * per;
            let (px, py) = (cx + ux * t as f32, cy + uy * t as f32);
            for off in -2i32..=2 {
                let (qx, qy) = (px + uy * off as f32, py + ux * off as f32);
                let (xi, yi) = (qx.round() as isize, qy.round() as isize);
                if xi < 0 || yi < 0 || xi >= w as isize || yi >= h as isize {
                    continue;
                }
                let d = if ux != 0.0 { qy - cy } else { qx - cx };
                let across = (-(d * d) / (2.0 * 0.25)).exp();
                let i = yi as usize * w + xi as usize;
                for (c, f) in flux.iter().enumerate().take(layer.channels) {
                    layer.data[c * w * h + i] += f * along * across;
                }
            }
        }
    }
}

/// Detection significance at which a drawn star keeps half of its measured colour.
pub const COLOUR_SNR: f32 = 15.0;

/// Stars brighter than this many times the detection limit get spikes.
pub const SPIKE_MIN_LIMITS: f32 = 60.0;
/// Share of a star's flux its spikes carry.
pub const SPIKE_FRACTION: f32 = 0.04;

/// Draw every unsaturated star of `field` on a `scale`× layer the size of `base` (the enhanced
/// starless image the layer will be added to: a star is widened where its peak would clip on it).
pub fn render_stars(field: &StarField, base: &Planes, opts: &RenderOptions) -> Planes {
    let s = opts.scale as f32;
    let mut layer = Planes::zeros(base.channels, base.height, base.width);
    let limit = field.limit_flux().max(1e-9);
    let bl = base.to_luma();
    for st in field.stars.iter().filter(|st| !st.saturated) {
        // A faint star's colour is mostly noise: shrink it towards grey by its significance
        // (half-way at COLOUR_SNR), so the sky does not fill with red and green dots.
        let y = st.luma_flux(field.channels);
        let k = st.snr * st.snr / (st.snr * st.snr + COLOUR_SNR * COLOUR_SNR);
        let flux = st.flux.map(|f| if field.channels >= 3 { (y + k * (f - y)).max(0.0) } else { f } * s * s);
        let (cx, cy) = ((st.x + 0.5) * s - 0.5, (st.y + 0.5) * s - 0.5);
        let (xi, yi) =
            (cx.round().clamp(0.0, base.width as f32 - 1.0), cy.round().clamp(0.0, base.height as f32 - 1.0));
        let sky = bl.plane(0)[yi as usize * base.width + xi as usize].max(0.0);
        let room = (PEAK_CAP - sky).max(0.15);
        let fmax = flux.iter().take(field.channels).cloned().fold(0.0f32, f32::max);
        // Peak of a unit Moffat: (β − 1) / (π α²) ≤ room / fmax.
        let alpha_min = (fmax * (MOFFAT_BETA - 1.0) / (std::f32::consts::PI * room)).sqrt();
        let fwhm = opts.fwhm.max(moffat_fwhm(alpha_min));
        draw_moffat(&mut layer, cx, cy, flux, fwhm);
        if opts.spikes && st.luma_flux(field.channels) >= SPIKE_MIN_LIMITS * limit {
            let length = 4.0 * fwhm * (st.luma_flux(field.channels) / limit / SPIKE_MIN_LIMITS).sqrt().min(8.0);
            draw_spikes(&mut layer, cx, cy, flux, length, SPIKE_FRACTION);
        }
    }
    layer
}

/// The saturated stars' own light (image − starless in their footprints), bicubic-enlarged to
/// `w`×`h`: added to the enhanced starless image it restores their look.
pub fn saturated_layer(img: &Planes, starless: &Planes, field: &StarField, w: usize, h: usize) -> Planes {
    let (iw, ih) = (field.width, field.height);
    let mut diff = Planes::zeros(starless.channels, ih, iw);
    let mut any = false;
    for st in field.stars.iter().filter(|s| s.saturated) {
        any = true;
        let ri = st.radius.ceil() as isize;
        let (x0, y0) = (st.x.round() as isize, st.y.round() as isize);
        for y in (y0 - ri).max(0)..(y0 + ri + 1).min(ih as isize) {
            for x in (x0 - ri).max(0)..(x0 + ri + 1).min(iw as isize) {
                let i = y as usize * iw + x as usize;
                for c in 0..starless.channels {
                    let o = img.data[c * iw * ih + i];
                    if o.is_finite() {
                        diff.data[c * iw * ih + i] = o - starless.data[c * iw * ih + i];
                    }
                }
            }
        }
    }
    if !any {
        return Planes::zeros(starless.channels, h, w);
    }
    astro_image::resize::imresize_to(&diff, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_star_has_its_flux_width_and_is_round() {
        let mut layer = Planes::zeros(3, 64, 64);
        let got = draw_moffat(&mut layer, 31.3, 30.8, [2.0, 1.0, 0.5], 3.0);
        assert!((got - 3.0).abs() < 1e-4);
        let sums: Vec<f32> = (0..3).map(|c| layer.plane(c).iter().sum()).collect();
        assert!((sums[0] - 2.0).abs() < 0.01 && (sums[2] - 0.5).abs() < 0.003, "{sums:?}");
        // Second moments equal along x and y (round), centroid where asked.
        let p = layer.plane(0);
        let (mut mx, mut my, mut s) = (0.0f32, 0.0f32, 0.0f32);
        for (i, v) in p.iter().enumerate() {
            let (x, y) = ((i % 64) as f32, (i / 64) as f32);
            mx += v * x;
            my += v * y;
            s += v;
        }
        let (mx, my) = (mx / s, my / s);
        assert!((mx - 31.3).abs() < 0.02 && (my - 30.8).abs() < 0.02, "{mx} {my}");
        let (mut xx, mut yy) = (0.0f32, 0.0f32);
        for (i, v) in p.iter().enumerate() {
            let (x, y) = ((i % 64) as f32 - mx, (i / 64) as f32 - my);
            if x * x + y * y < 36.0 {
                xx += v * x * x;
                yy += v * y * y;
            }
        }
        assert!((xx / yy - 1.0).abs() < 0.02, "{xx} {yy}");
    }
}
