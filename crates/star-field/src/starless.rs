//! The starless image: the photometry's residual (each fitted star subtracted), with what a
//! Gaussian cannot model bounded. Inside each star's core the residual may exceed the sky
//! interpolated from the footprint's rim by at most [`RESIDUAL_SIGMA`] pixel-noise σ, and fall
//! below it by as much only where the image itself is brighter (a dark sky is never lifted) —
//! the extended signal under the star survives, the mismatch of a non-Gaussian plate profile
//! does not. Saturated stars and their halos are replaced by the interpolated sky alone (their core
//! has no measurable profile); the pipeline puts their own pixels back afterwards.
//!
//! The interpolation is inverse-distance weighting of the rim pixels (Shepard's method): smooth,
//! follows gradients, never overshoots the rim's range.

use astro_image::Planes;

use crate::photometry::{Star, StarField};

/// How far (pixel-noise σ) a starless pixel may differ from the interpolated sky in a footprint.
pub const RESIDUAL_SIGMA: f32 = 2.0;
/// Width (px) of the rim the sky under a footprint is interpolated from.
const RIM: f32 = 2.0;
/// Most rim pixels used per footprint (evenly thinned beyond that).
const MAX_RIM: usize = 256;

/// Radius (px) inside which an unsaturated star's residual is bounded: 2.5 σ of its major axis
/// (where a plate profile and its Gaussian model differ most), within its footprint.
fn clamp_radius(s: &Star) -> f32 {
    let [a, b, c] = s.cov;
    let major = ((a + b) / 2.0 + (((a - b) / 2.0).powi(2) + c * c).sqrt()).max(0.01).sqrt();
    (2.5 * major).max(1.5).min(s.radius)
}

/// Rim pixels of `star`'s footprint: (x, y, value per channel).
fn rim(img: &Planes, s: &Star) -> Vec<(f32, f32, [f32; 3])> {
    let (w, h) = (img.width, img.height);
    let r_out = s.radius + RIM;
    let ri = r_out.ceil() as isize;
    let (x0, y0) = (s.x.round() as isize, s.y.round() as isize);
    let mut out = Vec::new();
    for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
        for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
            let d = ((x as f32 - s.x).powi(2) + (y as f32 - s.y).powi(2)).sqrt();
            if d > s.radius && d <= r_out {
                let i = y as usize * w + x as usize;
                let mut v = [0.0f32; 3];
                for (c, vc) in v.iter_mut().enumerate().take(img.channels.min(3)) {
                    *vc = img.data[c * w * h + i];
                }
                out.push((x as f32, y as f32, v));
            }
        }
    }
    if out.len() > MAX_RIM {
        let step = out.len() as f32 / MAX_RIM as f32;
        out = (0..MAX_RIM).map(|k| out[(k as f32 * step) as usize]).collect();
    }
    out
}

/// Inverse-distance-squared interpolation of the rim at (x, y).
fn shepard(rim: &[(f32, f32, [f32; 3])], x: f32, y: f32) -> [f32; 3] {
    let (mut acc, mut sw) = ([0.0f32; 3], 0.0f32);
    for (rx, ry, v) in rim {
        let wgt = 1.0 / ((rx - x).powi(2) + (ry - y).powi(2)).max(0.25);
        for c in 0..3 {
            acc[c] += wgt * v[c];
        }
        sw += wgt;
    }
    acc.map(|a| a / sw.max(1e-12))
}

/// The starless image of `field` (built from its residual; `img` is the original). Also sets
/// each star's `flux` to what the starless image lost around it (image − starless over its
/// footprint, shared by overlapping footprints in proportion to the stars' fitted models), so
/// re-rendering exactly conserves light.
pub fn starless(img: &Planes, field: &mut StarField) -> Planes {
    reject_extended(field);
    let out = build(img, field);
    // A source whose light (image − starless) is far too much for a star of the field's width
    // at its peak is extended: give it back and build again.
    let balls = too_wide(img, field);
    if balls.iter().all(|b| !b) {
        return out;
    }
    for (s, _) in field.stars.iter().zip(&balls).filter(|(_, b)| **b) {
        crate::photometry::restore(&mut field.residual, s);
    }
    let mut it = balls.iter();
    field.stars.retain(|_| !*it.next().unwrap_or(&false));
    build(img, field)
}

/// Which stars' light (their attributed flux) over their input peak gives an effective
/// Gaussian σ² = F / (2π·peak) beyond (2 σ of the field PSF)²: not a star.
fn too_wide(img: &Planes, field: &StarField) -> Vec<bool> {
    let (w, h, ch) = (field.width, field.height, field.channels);
    let [a, b, c] = field.psf.cov;
    let psf_var = (a * b - c * c).max(1e-6).sqrt();
    let luma = img.to_luma();
    field
        .stars
        .iter()
        .map(|s| {
            if s.saturated {
                return false;
            }
            let (x, y) =
                (s.x.round().clamp(0.0, w as f32 - 1.0) as usize, s.y.round().clamp(0.0, h as f32 - 1.0) as usize);
            let peak = luma.data[y * w + x] - field.background.level[y * w + x];
            let var = s.luma_flux(ch) / (2.0 * std::f32::consts::PI * peak.max(1e-6));
            peak <= 0.0 || var > 4.0 * psf_var
        })
        .collect()
}

/// The starless image from the residual and the (kept) stars, with their fluxes attributed.
fn build(img: &Planes, field: &mut StarField) -> Planes {
    let (w, h, ch) = (field.width, field.height, field.channels);
    debug_assert_eq!((img.width, img.height), (w, h));
    let mut out = field.residual.clone();
    for s in &field.stars {
        let rim = rim(&field.residual, s);
        if rim.is_empty() {
            continue;
        }
        let ri = s.radius.ceil() as isize;
        let (x0, y0) = (s.x.round() as isize, s.y.round() as isize);
        for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
            for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
                let d2 = (x as f32 - s.x).powi(2) + (y as f32 - s.y).powi(2);
                // Saturated footprints are replaced whole; an unsaturated star's residual is
                // bounded only inside its core (a fainter neighbour just outside survives).
                let reach = if s.saturated { s.radius } else { clamp_radius(s) };
                if d2 > reach * reach {
                    continue;
                }
                let sky = shepard(&rim, x as f32, y as f32);
                let i = y as usize * w + x as usize;
                for (c, sky_c) in sky.iter().enumerate().take(ch) {
                    let v = &mut out.data[c * w * h + i];
                    *v = if s.saturated {
                        *sky_c
                    } else {
                        // Bounded above by the rim's sky; raised (an over-subtracted core) at
                        // most back to the image's own value, so a rim brighter on one side
                        // (a nebula's edge) never lifts a dark sky.
                        let k = RESIDUAL_SIGMA * field.noise[c];
                        let orig = img.data[c * w * h + i];
                        let floor = if orig.is_finite() { (sky_c - k).min(orig) } else { sky_c - k };
                        v.clamp(floor.min(sky_c + k), sky_c + k)
                    };
                }
            }
        }
    }
    attribute_flux(img, &out, field);
    out
}

/// A "star" whose core, after its Gaussian is subtracted, still holds more than this share of
/// the Gaussian's flux above the rim's sky sits on structure (a nebula's knot, a galaxy's core).
pub const EXTENDED_EXCESS: f32 = 0.5;

/// Give back to the image (model restored in the residual, dropped from the list) every
/// unsaturated star the residual bound would take [`EXTENDED_EXCESS`] of its flux or more from:
/// drawn as a star, that light would become a ball.
fn reject_extended(field: &mut StarField) {
    let (w, h, ch) = (field.width, field.height, field.channels);
    let weights: &[f32] = if ch >= 3 { &[0.299, 0.587, 0.114] } else { &[1.0] };
    let mut keep = vec![true; field.stars.len()];
    for (k, s) in field.stars.iter().enumerate().filter(|(_, s)| !s.saturated) {
        let rim = rim(&field.residual, s);
        if rim.is_empty() {
            continue;
        }
        let reach = clamp_radius(s);
        let ri = reach.ceil() as isize;
        let (x0, y0) = (s.x.round() as isize, s.y.round() as isize);
        let mut excess = 0.0f32;
        for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
            for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
                if (x as f32 - s.x).powi(2) + (y as f32 - s.y).powi(2) > reach * reach {
                    continue;
                }
                let sky = shepard(&rim, x as f32, y as f32);
                let i = y as usize * w + x as usize;
                for (c, wt) in weights.iter().enumerate() {
                    let v = field.residual.data[c * w * h + i];
                    excess += wt * (v - sky[c] - RESIDUAL_SIGMA * field.noise[c]).max(0.0);
                }
            }
        }
        keep[k] = excess <= EXTENDED_EXCESS * s.luma_flux(ch).max(0.0);
    }
    for (s, _) in field.stars.iter().zip(&keep).filter(|(_, k)| !**k) {
        crate::photometry::restore(&mut field.residual, s);
    }
    let mut it = keep.iter();
    field.stars.retain(|_| *it.next().unwrap_or(&true));
}

/// Each star's flux: image − starless over its footprint, shared where footprints overlap in
/// proportion to the stars' fitted models.
fn attribute_flux(img: &Planes, starless: &Planes, field: &mut StarField) {
    let (w, h, ch) = (field.width, field.height, field.channels);
    // Each star's fitted model (flux × unit-integral Gaussian) decides its share of a pixel.
    let profile = |s: &Star, x: f32, y: f32| {
        let [a, b, c] = s.cov;
        let det = (a * b - c * c).max(1e-6);
        let (dx, dy) = (x - s.x, y - s.y);
        let g = (-0.5 * (b * dx * dx + a * dy * dy - 2.0 * c * dx * dy) / det).exp();
        let flux = if s.saturated { 1.0 } else { s.luma_flux(ch).max(1e-6) };
        (flux * g / (2.0 * std::f32::consts::PI * det.sqrt())).max(1e-12)
    };
    let mut total = vec![0.0f32; w * h];
    let each = |s: &Star, f: &mut dyn FnMut(usize, f32)| {
        let ri = s.radius.ceil() as isize;
        let (x0, y0) = (s.x.round() as isize, s.y.round() as isize);
        for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
            for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
                if (x as f32 - s.x).powi(2) + (y as f32 - s.y).powi(2) <= s.radius * s.radius {
                    f(y as usize * w + x as usize, profile(s, x as f32, y as f32));
                }
            }
        }
    };
    for s in &field.stars {
        each(s, &mut |i, p| total[i] += p);
    }
    for s in field.stars.iter_mut() {
        let mut flux = [0.0f32; 3];
        each(s, &mut |i, p| {
            let share = p / total[i];
            for (c, fc) in flux.iter_mut().enumerate().take(ch) {
                let orig = img.data[c * w * h + i];
                let orig = if orig.is_finite() { orig } else { starless.data[c * w * h + i] };
                *fc += share * (orig - starless.data[c * w * h + i]);
            }
        });
        s.flux = flux;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photometry::tests::field;

    #[test]
    fn stars_leave_no_trace_and_their_light_is_conserved() {
        let stars = [(20.0, 22.0, 0.5), (60.0, 40.0, 0.3), (40.0, 70.0, 0.2), (80.0, 80.0, 0.4)];
        let img = field(100, 1.6, 0.9, &stars, 3);
        let mut f = StarField::measure(&img);
        let sl = starless(&img, &mut f);
        // Where each star was, the starless image is sky (0.05 × colour) within a few noise σ.
        for &(x, y, _) in &stars {
            let v = sl.plane(0)[y as usize * 100 + x as usize];
            assert!((v - 0.05).abs() < 0.015, "{v} at {x},{y}");
        }
        // Light conservation: image = starless + the stars' fluxes, channel by channel.
        for c in 0..3 {
            let lost: f32 = img.plane(c).iter().zip(sl.plane(c)).map(|(a, b)| a - b).sum();
            let fluxes: f32 = f.stars.iter().map(|s| s.flux[c]).sum();
            assert!((lost - fluxes).abs() < 1e-3 * lost.abs().max(1.0), "{lost} vs {fluxes}");
        }
        // And each star's flux is its true flux (2π σx σy A, colour 1 / 0.8 / 0.6) within 5 %.
        for &(x, y, a) in &stars {
            let s = f.stars.iter().find(|s| (s.x - x).abs() < 0.3 && (s.y - y).abs() < 0.3).unwrap();
            let want = a * 2.0 * std::f32::consts::PI * 1.6 * 0.9;
            assert!((s.flux[0] / want - 1.0).abs() < 0.05, "{} vs {want}", s.flux[0]);
        }
    }

    #[test]
    fn a_saturated_star_and_its_halo_are_replaced_by_the_sky() {
        let img = field(80, 2.5, 2.5, &[(40.0, 40.0, 4.0)], 4);
        let mut f = StarField::measure(&img);
        let s = f.stars.iter().find(|s| s.saturated).copied().expect("a saturated star");
        let sl = starless(&img, &mut f);
        let max = sl.plane(1).iter().cloned().fold(0.0f32, f32::max);
        assert!(max < 0.05 * 0.8 + 0.03, "starless max {max}, footprint {}", s.radius);
    }
}
