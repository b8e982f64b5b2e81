//! What the simulated camera looks at, before turbulence: a lit planet disc (optionally with
//! Saturn-like rings, optionally cut by the frame edge) or a surface crop that fills the frame
//! (the Moon at high power), rendered from Stellarium's equirectangular textures, mono or colour.

use astro_image::{ColorMode, ImageLimits, Planes};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The kind of scene a simulation renders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// A lit planet disc of radius `disc_radius`.
    #[default]
    Disc,
    /// A disc with rings (Saturn: 1.16–2.32 planet radii, seen at `tilt_deg` from the ring plane).
    Ringed {
        /// Ring opening angle, degrees (0 = edge-on).
        tilt_deg: f32,
    },
    /// A crop of the texture that fills the whole frame (lunar surface at high power): no disc, no sky.
    Field,
}

/// Geometry and lighting of a rendered scene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Frame side in pixels (square).
    pub size: usize,
    /// Disc radius in pixels (for [`Target::Field`]: texture pixels per frame pixel × 100).
    pub disc_radius: f32,
    /// Disc centre offset from the frame centre (x, y), pixels.
    pub offset: (f32, f32),
    /// Sun–planet–observer angle, degrees.
    pub phase_deg: f32,
    /// Longitude facing the observer, degrees.
    pub central_meridian_deg: f32,
}

/// Bilinear sample of an equirectangular texture plane at (u, v) ∈ [0, 1)², wrapping in u.
fn sample(p: &[f32], tw: usize, th: usize, u: f32, v: f32) -> f32 {
    let x = (u * tw as f32 - 0.5).rem_euclid(tw as f32);
    let y = (v * th as f32 - 0.5).clamp(0.0, th as f32 - 1.0);
    let (x0, y0) = (x.floor() as usize % tw, y.floor() as usize);
    let (x1, y1) = ((x0 + 1) % tw, (y0 + 1).min(th - 1));
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let a = p[y0 * tw + x0] * (1.0 - fx) + p[y0 * tw + x1] * fx;
    let b = p[y1 * tw + x0] * (1.0 - fx) + p[y1 * tw + x1] * fx;
    a * (1.0 - fy) + b * fy
}

/// Saturn's ring system in planet radii (Stellarium's ring texture spans this range).
pub const RING_RADII: (f32, f32) = (1.16, 2.32);

/// Render a scene with `channels` (1 = luma, 3 = RGB) planes, peak normalised to 1.
///
/// Discs are orthographic views lit from `phase_deg` (Lambert-like shading `cos^0.8`, plus a 0.25
/// albedo floor so dark maria keep some signal); rings are composited in front of the near half
/// of the disc and behind the far half, their opacity following the ring texture's brightness.
/// 3×3 supersampling per pixel.
pub fn render(target: Target, surface: &Planes, rings: Option<&Planes>, view: &View, channels: usize) -> Planes {
    let mut p = render_unnormalised(target, surface, rings, view, channels);
    let max = p.data.iter().fold(0f32, |m, &v| m.max(v));
    if max > 0.0 {
        p.data.iter_mut().for_each(|v| *v /= max);
    }
    p
}

/// [`render`] without the peak normalisation (for composing scenes on one photometric scale).
pub fn render_unnormalised(
    target: Target,
    surface: &Planes,
    rings: Option<&Planes>,
    view: &View,
    channels: usize,
) -> Planes {
    let n = view.size;
    let tex = if channels == 1 { surface.to_luma() } else { surface.clone() };
    let tc = tex.channels.min(channels).max(1);
    let (tw, th) = (tex.width, tex.height);
    let mut img = vec![0f32; channels * n * n];
    match target {
        Target::Field => {
            // A window of `n × scale` texture pixels centred at 20° latitude, 30° longitude.
            let scale = (view.disc_radius / 100.0).max(0.05);
            let (u0, v0) = (30.0f32 / 360.0 + 0.5, 0.5 - 20.0 / 180.0);
            for c in 0..channels {
                let p = tex.plane(c.min(tc - 1));
                for py in 0..n {
                    for px in 0..n {
                        let u = u0 + (px as f32 - n as f32 / 2.0) * scale / tw as f32;
                        let v = v0 + (py as f32 - n as f32 / 2.0) * scale / th as f32;
                        img[c * n * n + py * n + px] = 0.1 + sample(p, tw, th, u, v);
                    }
                }
            }
        }
        Target::Disc | Target::Ringed { .. } => {
            let r = view.disc_radius;
            let (cx, cy) = (n as f32 / 2.0 + view.offset.0, n as f32 / 2.0 + view.offset.1);
            let alpha = view.phase_deg.to_radians();
            let sun = (alpha.sin(), 0.0f32, alpha.cos());
            let cm = view.central_meridian_deg.to_radians();
            let tilt = match target {
                Target::Ringed { tilt_deg } => Some(tilt_deg.to_radians().sin().abs().max(0.02)),
                _ => None,
            };
            let ring = rings.map(|r| r.to_luma());
            let ss = 3;
            let mut px_val = vec![0f32; channels];
            for py in 0..n {
                for px in 0..n {
                    px_val.iter_mut().for_each(|v| *v = 0.0);
                    for sy in 0..ss {
                        for sx in 0..ss {
                            let x = (px as f32 + (sx as f32 + 0.5) / ss as f32 - cx) / r;
                            let y = (py as f32 + (sy as f32 + 0.5) / ss as f32 - cy) / r;
                            let rr = x * x + y * y;
                            // Planet colour at this sample (None = off the disc or on the night side).
                            let mut planet: Option<f32> = None;
                            if rr < 1.0 {
                                let z = (1.0 - rr).sqrt();
                                let shade = (x * sun.0 + y * sun.1 + z * sun.2).max(0.0);
                                if shade > 0.0 {
                                    planet = Some(shade.powf(0.8));
                                }
                            }
                            let lat = if rr < 1.0 { (-y).asin() } else { 0.0 };
                            let lon = if rr < 1.0 { cm + x.atan2((1.0 - rr).max(0.0).sqrt()) } else { 0.0 };
                            let (u, v) = (lon / std::f32::consts::TAU + 0.5, 0.5 - lat / std::f32::consts::PI);
                            // Ring opacity and brightness at this sample.
                            let mut ring_a = 0.0f32;
                            let mut ring_front = false;
                            if let (Some(sin_b), Some(rt)) = (tilt, ring.as_ref()) {
                                let rho = (x * x + (y / sin_b).powi(2)).sqrt();
                                if rho >= RING_RADII.0 && rho <= RING_RADII.1 {
                                    let t = (rho - RING_RADII.0) / (RING_RADII.1 - RING_RADII.0);
                                    let rw = rt.width;
                                    let i = ((t * rw as f32) as usize).min(rw - 1);
                                    ring_a = rt.plane(0)[i].clamp(0.0, 1.0);
                                    ring_front = y > 0.0;
                                }
                            }
                            for (c, out) in px_val.iter_mut().enumerate() {
                                let p = planet.map(|s| (0.25 + sample(tex.plane(c.min(tc - 1)), tw, th, u, v)) * s);
                                let ring_lum = 0.9 * ring_a;
                                let v = match (p, ring_a > 0.0) {
                                    (Some(p), true) if ring_front => ring_lum + (1.0 - ring_a) * p,
                                    (Some(p), _) => p,
                                    (None, true) if rr >= 1.0 || ring_front => ring_lum,
                                    _ => 0.0,
                                };
                                *out += v;
                            }
                        }
                    }
                    for (c, v) in px_val.iter().enumerate() {
                        img[c * n * n + py * n + px] = v / (ss * ss) as f32;
                    }
                }
            }
        }
    }
    Planes { channels, width: n, height: n, data: img, bit_depth: 32 }
}

/// Load a texture by file stem from Stellarium's textures folder ("mars", "saturn_rings_radial";
/// `.jpg` is tried after `.png`, so "moon_4k" works).
pub fn load_texture(name: &str) -> Result<Planes> {
    let set = dataset::stellarium::StellariumSet::locate()?;
    let mut path = set.planet_texture(name);
    if !path.exists() {
        path.set_extension("jpg");
    }
    Ok(astro_image::image_io::load_image(&path, ColorMode::Rgb, ImageLimits::default())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(size: usize, r: f32) -> View {
        View { size, disc_radius: r, offset: (0.0, 0.0), phase_deg: 0.0, central_meridian_deg: 0.0 }
    }

    #[test]
    fn rings_extend_beyond_the_disc_and_fields_fill_the_frame() {
        let saturn = load_texture("saturn").expect("Stellarium data (datasets/stellarium/fetch.sh)");
        let rings = load_texture("saturn_rings_radial").unwrap();
        let v = view(128, 25.0);
        let plain = render(Target::Disc, &saturn, None, &v, 1);
        let ringed = render(Target::Ringed { tilt_deg: 25.0 }, &saturn, Some(&rings), &v, 1);
        // 1.8 radii to the right of the centre, on the ring's major axis: sky for the disc, ring for Saturn.
        let i = 64 * 128 + 64 + 45;
        assert_eq!(plain.data[i], 0.0);
        assert!(ringed.data[i] > 0.05, "ring brightness {}", ringed.data[i]);
        let moon = load_texture("moon_4k").unwrap();
        let field = render(Target::Field, &moon, None, &view(64, 100.0), 3);
        assert_eq!(field.channels, 3);
        let dark = field.data.iter().filter(|&&v| v < 0.05).count();
        assert_eq!(dark, 0, "a field has no sky");
    }
}
