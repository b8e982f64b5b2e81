//! PSF photometry of every detected star: a windowed centroid, the shape from adaptive second
//! moments (Bernstein & Jarvis 2002: the Gaussian weight is iterated until its covariance equals
//! the star's), saturation, and the amplitude per channel fitted with a local sky, brightest star
//! first on the residual image so that neighbours in a crowded field are not counted twice
//! (DAOPHOT's subtract-and-refit, two passes).

use astro_image::Planes;

use crate::background::{Background, median, pixel_noise};
use crate::detect::{Filtered, Peak, gaussian_blur};

/// A channel value at or above this is saturated (8-bit 248 and up).
pub const SATURATED_LEVEL: f32 = 0.97;
/// Detection threshold in σ of the matched-filtered image: the input's detection limit.
pub const DETECT_SIGMA: f32 = 5.0;
/// σ (px) of the matched filter: a DSS-like star of FWHM ≈ 2.8 px.
pub const FILTER_SIGMA: f32 = 1.2;
/// Fewest star shapes the field PSF is measured from.
pub const MIN_PSF_STARS: usize = 5;
/// Largest window half-side (px) of an unsaturated star's fit and footprint.
pub const MAX_FIT_RADIUS: usize = 15;
/// Largest footprint radius (px) of a saturated star with its halo.
pub const MAX_HALO_RADIUS: usize = 80;

/// One measured star.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Star {
    /// Column of the centroid (pixel centres at integers).
    pub x: f32,
    /// Row of the centroid.
    pub y: f32,
    /// Flux per channel (sum over the star of image − sky, in image units × pixels); for mono
    /// images only the first entry is used.
    pub flux: [f32; 3],
    /// Fitted Gaussian covariance (xx, yy, xy) in px².
    pub cov: [f32; 3],
    /// Detection significance (matched-filter σ).
    pub snr: f32,
    /// Whether the star's core is saturated in any channel.
    pub saturated: bool,
    /// Radius (px) of the footprint the starless step removes.
    pub radius: f32,
}

impl Star {
    /// Flux of the luma (BT.601 of the channel fluxes; the one flux of a mono image).
    pub fn luma_flux(&self, channels: usize) -> f32 {
        if channels >= 3 { astro_image::luma::bt601(self.flux[0], self.flux[1], self.flux[2]) } else { self.flux[0] }
    }
}

/// Half-maximum width and ellipticity of a Gaussian of covariance (xx, yy, xy).
pub fn shape_of(cov: [f32; 3]) -> (f32, f32) {
    let [a, b, c] = cov;
    let tr = (a + b) / 2.0;
    let d = (((a - b) / 2.0).powi(2) + c * c).sqrt();
    let (l1, l2) = ((tr + d).max(1e-6), (tr - d).max(1e-6));
    let fwhm = 2.3548 * (l1 * l2).sqrt().sqrt();
    (fwhm, 1.0 - (l2 / l1).sqrt())
}

/// The point-spread function of the field: the median shape of bright, isolated, unsaturated stars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldPsf {
    /// Covariance (xx, yy, xy) in px².
    pub cov: [f32; 3],
    /// Geometric-mean half-maximum width (px).
    pub fwhm: f32,
    /// 1 − minor/major axis.
    pub ellipticity: f32,
    /// Stars the median was taken over (0: the default guess).
    pub stars_used: usize,
}

/// The stars of an image and what the rest of the pipeline needs with them.
#[derive(Debug, Clone)]
pub struct StarField {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Channels (1 or 3).
    pub channels: usize,
    /// Stars, brightest (highest significance) first.
    pub stars: Vec<Star>,
    /// The field's PSF.
    pub psf: FieldPsf,
    /// Sky of the luma.
    pub background: Background,
    /// Single-pixel noise σ of each channel.
    pub noise: Vec<f32>,
    /// The image with every unsaturated star's fitted model subtracted (NaN filled with sky).
    pub residual: Planes,
}

/// Gaussian profile of covariance `inv` (inverse: xx, yy, xy) at offset (dx, dy), peak 1.
fn gauss(inv: [f32; 3], dx: f32, dy: f32) -> f32 {
    (-0.5 * (inv[0] * dx * dx + inv[1] * dy * dy + 2.0 * inv[2] * dx * dy)).exp()
}

/// Inverse of a 2×2 covariance (xx, yy, xy), `None` when not positive definite.
fn inverse(c: [f32; 3]) -> Option<[f32; 3]> {
    let det = c[0] * c[1] - c[2] * c[2];
    (det > 1e-6 && c[0] > 0.0 && c[1] > 0.0).then(|| [c[1] / det, c[0] / det, -c[2] / det])
}

/// Windowed centroid (Gaussian weight σ 1.5 px, three iterations) of `sub` around a peak.
fn centroid(sub: &[f32], w: usize, h: usize, p: &Peak) -> (f32, f32) {
    let (mut cx, mut cy) = (p.x as f32, p.y as f32);
    for _ in 0..3 {
        let (mut sx, mut sy, mut sw) = (0.0f32, 0.0f32, 0.0f32);
        for y in p.y.saturating_sub(4)..(p.y + 5).min(h) {
            for x in p.x.saturating_sub(4)..(p.x + 5).min(w) {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let v = sub[y * w + x].max(0.0) * (-(dx * dx + dy * dy) / (2.0 * 1.5 * 1.5)).exp();
                sx += v * x as f32;
                sy += v * y as f32;
                sw += v;
            }
        }
        if sw <= 0.0 {
            break;
        }
        let (nx, ny) = (sx / sw, sy / sw);
        if (nx - p.x as f32).abs() > 1.5 || (ny - p.y as f32).abs() > 1.5 {
            break;
        }
        (cx, cy) = (nx, ny);
    }
    (cx, cy)
}

/// Adaptive second moments of `sub` about (cx, cy): the covariance of the star, `None` when the
/// iteration does not settle on a positive-definite shape of sensible size.
fn adaptive_moments(sub: &[f32], w: usize, h: usize, cx: f32, cy: f32) -> Option<[f32; 3]> {
    let mut m = [1.5f32, 1.5, 0.0];
    for _ in 0..12 {
        let inv = inverse(m)?;
        let r = (4.0 * m[0].max(m[1]).sqrt()).ceil().clamp(2.0, MAX_FIT_RADIUS as f32) as isize;
        let (x0, y0) = (cx.round() as isize, cy.round() as isize);
        let (mut sxx, mut syy, mut sxy, mut s) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for y in (y0 - r).max(0)..(y0 + r + 1).min(h as isize) {
            for x in (x0 - r).max(0)..(x0 + r + 1).min(w as isize) {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let v = sub[y as usize * w + x as usize] * gauss(inv, dx, dy);
                sxx += v * dx * dx;
                syy += v * dy * dy;
                sxy += v * dx * dy;
                s += v;
            }
        }
        if s <= 0.0 {
            return None;
        }
        let next = [2.0 * sxx / s, 2.0 * syy / s, 2.0 * sxy / s];
        inverse(next)?;
        let done = (next[0] - m[0]).abs() + (next[1] - m[1]).abs() < 1e-3;
        // Damped update: the fixed point is the same, the iteration does not oscillate.
        m = [0.5 * (m[0] + next[0]), 0.5 * (m[1] + next[1]), 0.5 * (m[2] + next[2])];
        if done {
            break;
        }
    }
    // Pixelisation adds 1/12 px² to each axis of a point source; below 0.15 px² it is not a star.
    let ok = m[0] > 0.15 && m[1] > 0.15 && m[0] < 60.0 && m[1] < 60.0;
    ok.then_some(m)
}

/// Pixels of any channel ≥ [`SATURATED_LEVEL`] connected to (x, y), at most `cap` of them.
fn saturated_area(img: &Planes, x: usize, y: usize, cap: usize) -> usize {
    let (w, h) = (img.width, img.height);
    let sat = |i: usize| (0..img.channels).any(|c| img.data[c * w * h + i] >= SATURATED_LEVEL);
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(x, y)];
    seen.insert((x, y));
    let mut n = 0;
    while let Some((px, py)) = stack.pop() {
        n += 1;
        if n >= cap {
            break;
        }
        for (dx, dy) in [(1isize, 0isize), (-1, 0), (0, 1), (0, -1)] {
            let (nx, ny) = (px as isize + dx, py as isize + dy);
            if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                continue;
            }
            let q = (nx as usize, ny as usize);
            if !seen.contains(&q) && sat(q.1 * w + q.0) {
                seen.insert(q);
                stack.push(q);
            }
        }
    }
    n
}

/// Radius (px, up to `max_r`) where the azimuthal median of `sub` first falls below half its
/// central value: just past the saturated core for a star, far out for a galaxy nucleus.
fn half_radius(sub: &[f32], w: usize, h: usize, cx: f32, cy: f32, max_r: f32) -> f32 {
    let (x0, y0) = (cx.round().clamp(0.0, w as f32 - 1.0) as usize, cy.round().clamp(0.0, h as f32 - 1.0) as usize);
    let top = sub[y0 * w + x0];
    let mut ring = Vec::new();
    let mut r = 0.0f32;
    while r < max_r {
        r += 1.0;
        ring.clear();
        let ri = (r + 1.0).ceil() as isize;
        for y in (y0 as isize - ri).max(0)..(y0 as isize + ri + 1).min(h as isize) {
            for x in (x0 as isize - ri).max(0)..(x0 as isize + ri + 1).min(w as isize) {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if d >= r && d < r + 1.0 {
                    ring.push(sub[y as usize * w + x as usize]);
                }
            }
        }
        if median(&mut ring).is_none_or(|m| m < 0.5 * top) {
            break;
        }
    }
    r
}

/// Radius where a saturated star's halo (azimuthal median of `sub`) falls to 2σ of the sky.
fn halo_radius(sub: &[f32], w: usize, h: usize, cx: f32, cy: f32, core: f32, sigma: f32) -> f32 {
    let max_r = (6.0 * core + 8.0).min(MAX_HALO_RADIUS as f32);
    let mut r = core.max(1.0);
    let mut ring = Vec::new();
    while r < max_r {
        ring.clear();
        let ri = (r + 1.0).ceil() as isize;
        let (x0, y0) = (cx.round() as isize, cy.round() as isize);
        for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
            for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if d >= r && d < r + 1.0 {
                    ring.push(sub[y as usize * w + x as usize]);
                }
            }
        }
        if median(&mut ring).is_none_or(|m| m < 2.0 * sigma) {
            break;
        }
        r += 1.0;
    }
    r + 1.5
}

impl StarField {
    /// Detect and measure the stars of `img` (1 or 3 channels; NaN = no data).
    pub fn measure(img: &Planes) -> StarField {
        let (w, h, ch) = (img.width, img.height, img.channels.min(3));
        let luma = img.to_luma();
        let background = Background::estimate(luma.plane(0), w, h);
        let sub: Vec<f32> =
            luma.plane(0).iter().zip(&background.level).map(|(v, b)| if v.is_finite() { v - b } else { 0.0 }).collect();
        let filtered = Filtered::new(luma.plane(0), &background, FILTER_SIGMA);
        let peaks = filtered.peaks(DETECT_SIGMA, &|i| luma.plane(0)[i].is_finite());
        // Positions, shapes and saturation.
        let mut stars: Vec<(Star, Option<[f32; 3]>)> = peaks
            .iter()
            .map(|p| {
                let (x, y) = centroid(&sub, w, h, p);
                let saturated = (p.y.saturating_sub(1)..(p.y + 2).min(h)).any(|yy| {
                    (p.x.saturating_sub(1)..(p.x + 2).min(w))
                        .any(|xx| (0..ch).any(|c| img.data[c * w * h + yy * w + xx] >= SATURATED_LEVEL))
                });
                let moments = if saturated { None } else { adaptive_moments(&sub, w, h, x, y) };
                let star = Star { x, y, flux: [0.0; 3], cov: [0.0; 3], snr: p.snr, saturated, radius: 0.0 };
                (star, moments)
            })
            .collect();
        let psf = field_psf(&stars, &peaks);
        let psf_det = det(psf.cov);
        // Extended sources are not stars: a peak whose own shape covers over 4× the PSF's area
        // (σ over 2× the PSF's) or, if saturated, whose profile takes longer than a star's to
        // fall to half (a galaxy nucleus) stays in the starless image for the model.
        stars.retain(|(s, m)| s.saturated || m.is_none_or(|c| det(c) <= 16.0 * psf_det));
        for (s, m) in &mut stars {
            s.cov = match m {
                Some(c) if s.snr >= 40.0 && det(*c) < 6.0 * psf_det && det(*c) > 0.5 * psf_det => *c,
                _ => psf.cov,
            };
            let major = shape_major(s.cov);
            s.radius = if s.saturated {
                let core = (saturated_area(img, s.x.round() as usize, s.y.round() as usize, 40_000) as f32
                    / std::f32::consts::PI)
                    .sqrt();
                let half = half_radius(&sub, w, h, s.x, s.y, core + 10.0 * psf.fwhm);
                if half > core + 1.5 * psf.fwhm + 1.0 {
                    0.0
                } else {
                    halo_radius(&sub, w, h, s.x, s.y, core + 2.0 * major, background.sigma)
                }
            } else {
                (3.0 * major).ceil().clamp(2.0, MAX_FIT_RADIUS as f32)
            };
        }
        stars.retain(|(s, _)| s.radius > 0.0);
        let mut stars: Vec<Star> = stars.into_iter().map(|(s, _)| s).collect();
        let noise = (0..ch).map(|c| pixel_noise(img.plane(c), w).max(1e-5)).collect();
        // Residual image: NaN filled with the sky, then each unsaturated star's model subtracted.
        let mut residual = img.clone();
        residual.channels = ch;
        residual.data.truncate(ch * w * h);
        for c in 0..ch {
            for (v, b) in residual.plane_mut(c).iter_mut().zip(&background.level) {
                if !v.is_finite() {
                    *v = *b;
                }
            }
        }
        for s in stars.iter_mut().filter(|s| !s.saturated) {
            fit_and_subtract(&mut residual, s, false);
        }
        // Second detection on the residual (DAOPHOT's second pass): faint stars a brighter
        // neighbour's light hid from the first, with the first pass's noise so the limit is the same.
        let found = second_pass(&residual, &background, &filtered, &stars, &psf, w, h);
        stars.extend(found);
        for pass in 0..2 {
            for s in stars.iter_mut().filter(|s| !s.saturated) {
                fit_and_subtract(&mut residual, s, pass > 0 || s.flux != [0.0; 3]);
            }
        }
        StarField { width: w, height: h, channels: ch, stars, psf, background, noise, residual }
    }

    /// Flux (luma) of a point source at the detection limit: 5σ of the matched filter, from the
    /// measured stars near the limit (median flux / significance × 5).
    pub fn limit_flux(&self) -> f32 {
        let mut r: Vec<f32> = self
            .stars
            .iter()
            .filter(|s| !s.saturated && s.snr < 3.0 * DETECT_SIGMA)
            .map(|s| s.luma_flux(self.channels) / s.snr)
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        let per_sigma = median(&mut r).unwrap_or_else(|| {
            // No faint stars: the noise-equivalent area of the PSF.
            let sig2 = (self.psf.fwhm / 2.3548).powi(2);
            self.background.sigma * (4.0 * std::f32::consts::PI * sig2).sqrt()
        });
        DETECT_SIGMA * per_sigma
    }
}

/// Stars found on the luma of `residual` (first-pass stars subtracted) at least 2 PSF widths
/// from every star already measured, compact (no wider than 2× the PSF), not saturated; their
/// fit is left to the caller.
fn second_pass(
    residual: &Planes,
    background: &Background,
    first: &Filtered,
    stars: &[Star],
    psf: &FieldPsf,
    w: usize,
    h: usize,
) -> Vec<Star> {
    let rl = residual.to_luma();
    let sub: Vec<f32> = rl.plane(0).iter().zip(&background.level).map(|(v, b)| v - b).collect();
    let again = Filtered { values: gaussian_blur(&sub, w, h, FILTER_SIGMA), ..first.clone() };
    let min_sep2 = (2.0 * psf.fwhm).powi(2);
    let psf_det = det(psf.cov);
    let radius = (3.0 * shape_major(psf.cov)).ceil().clamp(2.0, MAX_FIT_RADIUS as f32);
    let mut found: Vec<Star> = Vec::new();
    for p in again.peaks(DETECT_SIGMA, &|_| true) {
        let (x, y) = centroid(&sub, w, h, &p);
        let far = |s: &Star| (s.x - x).powi(2) + (s.y - y).powi(2) >= min_sep2;
        if !stars.iter().all(far) || !found.iter().all(far) {
            continue;
        }
        let saturated = (0..residual.channels).any(|c| residual.data[c * w * h + p.y * w + p.x] >= SATURATED_LEVEL);
        let compact = adaptive_moments(&sub, w, h, x, y).is_none_or(|c| det(c) <= 16.0 * psf_det);
        if !saturated && compact && found.len() + stars.len() < crate::detect::MAX_STARS {
            found.push(Star { x, y, flux: [0.0; 3], cov: psf.cov, snr: p.snr, saturated: false, radius });
        }
    }
    found
}

fn det(c: [f32; 3]) -> f32 {
    c[0] * c[1] - c[2] * c[2]
}

/// √ of the largest eigenvalue: σ along the major axis.
fn shape_major(c: [f32; 3]) -> f32 {
    let tr = (c[0] + c[1]) / 2.0;
    (tr + (((c[0] - c[1]) / 2.0).powi(2) + c[2] * c[2]).sqrt()).max(0.01).sqrt()
}

/// The median shape of bright (≥ 15σ), isolated (no other peak within 6 px), unsaturated stars.
fn field_psf(stars: &[(Star, Option<[f32; 3]>)], peaks: &[Peak]) -> FieldPsf {
    let isolated = |s: &Star| {
        peaks.iter().filter(|p| ((p.x as f32 - s.x).powi(2) + (p.y as f32 - s.y).powi(2)) < 36.0).count() <= 1
    };
    let pick = |min_snr: f32| -> Vec<[f32; 3]> {
        stars
            .iter()
            .filter(|(s, m)| m.is_some() && !s.saturated && s.snr >= min_snr && isolated(s))
            .filter_map(|(_, m)| *m)
            .collect()
    };
    let mut good = pick(15.0);
    if good.len() < 3 {
        good = pick(0.0);
    }
    // Fewer than MIN_PSF_STARS shapes say nothing about the optics (two knots of a nebula are
    // not a PSF): the matched filter's own Gaussian stands in.
    if good.len() < MIN_PSF_STARS {
        good.clear();
    }
    let cov = if good.is_empty() {
        [FILTER_SIGMA * FILTER_SIGMA, FILTER_SIGMA * FILTER_SIGMA, 0.0]
    } else {
        let k = |i: usize| median(&mut good.iter().map(|c| c[i]).collect::<Vec<_>>()).unwrap_or(0.0);
        [k(0), k(1), k(2)]
    };
    let (fwhm, ellipticity) = shape_of(cov);
    FieldPsf { cov, fwhm, ellipticity, stars_used: good.len() }
}

/// A star's footprint window: x range, y range, the Gaussian at each pixel (0 outside the
/// footprint disc) and its sum.
type Window = (std::ops::Range<isize>, std::ops::Range<isize>, Vec<f32>, f32);

/// The footprint window of `star` in a `w`×`h` image.
fn window(star: &Star, inv: [f32; 3], w: usize, h: usize) -> Option<Window> {
    let r = star.radius as isize;
    let (x0, y0) = (star.x.round() as isize, star.y.round() as isize);
    let (ys, ye) = ((y0 - r).max(0), (y0 + r + 1).min(h as isize));
    let (xs, xe) = ((x0 - r).max(0), (x0 + r + 1).min(w as isize));
    if ys >= ye || xs >= xe {
        return None;
    }
    let mut g = Vec::with_capacity(((ye - ys) * (xe - xs)) as usize);
    for y in ys..ye {
        for x in xs..xe {
            let (dx, dy) = (x as f32 - star.x, y as f32 - star.y);
            g.push(if dx * dx + dy * dy <= (r * r) as f32 + 0.5 { gauss(inv, dx, dy) } else { 0.0 });
        }
    }
    let sum = g.iter().sum();
    Some((xs..xe, ys..ye, g, sum))
}

/// Add `sign` × the star's current model (its flux per channel on its Gaussian) to `residual`.
fn add_model(residual: &mut Planes, star: &Star, inv: [f32; 3], sign: f32) {
    let (w, h) = (residual.width, residual.height);
    let Some((xr, yr, g, gsum)) = window(star, inv, w, h) else { return };
    for c in 0..residual.channels.min(3) {
        let amp = sign * star.flux[c] / gsum.max(1e-9);
        let plane = residual.plane_mut(c);
        let mut k = 0;
        for y in yr.clone() {
            for x in xr.clone() {
                plane[y as usize * w + x as usize] += amp * g[k];
                k += 1;
            }
        }
    }
}

/// Put `star`'s fitted model back into `residual` (a source the starless step decides is not a star).
pub(crate) fn restore(residual: &mut Planes, star: &Star) {
    if let Some(inv) = inverse(star.cov) {
        add_model(residual, star, inv, 1.0);
    }
}

/// Solve the 4×4 system `a` x = `b` (Gaussian elimination, partial pivoting).
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let piv = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for row in col + 1..4 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (v, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *v -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for row in (0..4).rev() {
        let s: f64 = (row + 1..4).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Move the star to where its Gaussian fits the luma of `residual` best: one linearised
/// least-squares step on [g, ∂g/∂x₀, ∂g/∂y₀, 1] (at most half a pixel), neighbours already
/// subtracted — a windowed centroid is pulled towards a close neighbour, this is not.
fn refine_position(residual: &Planes, star: &mut Star, inv: [f32; 3]) {
    let (w, h) = (residual.width, residual.height);
    let Some((xr, yr, g, _)) = window(star, inv, w, h) else { return };
    let weights: &[f32] = if residual.channels >= 3 { &[0.299, 0.587, 0.114] } else { &[1.0] };
    let (mut ata, mut atb) = ([[0.0f64; 4]; 4], [0.0f64; 4]);
    let mut k = 0;
    for y in yr.clone() {
        for x in xr.clone() {
            let gi = g[k];
            k += 1;
            if gi <= 0.0 {
                continue;
            }
            let i = y as usize * w + x as usize;
            let v: f32 = weights.iter().enumerate().map(|(c, wt)| wt * residual.data[c * w * h + i]).sum();
            let (dx, dy) = (x as f32 - star.x, y as f32 - star.y);
            let row = [gi, gi * (inv[0] * dx + inv[2] * dy), gi * (inv[1] * dy + inv[2] * dx), 1.0].map(|v| v as f64);
            for a in 0..4 {
                for b in 0..4 {
                    ata[a][b] += row[a] * row[b];
                }
                atb[a] += row[a] * v as f64;
            }
        }
    }
    if let Some(c) = solve4(ata, atb)
        && c[0] > 0.0
    {
        star.x += ((c[1] / c[0]) as f32).clamp(-0.5, 0.5);
        star.y += ((c[2] / c[0]) as f32).clamp(-0.5, 0.5);
    }
}

/// Fit `star`'s Gaussian (its covariance, fixed) plus a flat sky to each channel of `residual`
/// in its footprint, by linear least squares, and subtract the Gaussian part. With `refit` its
/// previous model is added back first and its position refined on the neighbour-free residual.
/// The star's `flux` is the fitted model's sum.
fn fit_and_subtract(residual: &mut Planes, star: &mut Star, refit: bool) {
    let Some(inv) = inverse(star.cov) else { return };
    let (w, h) = (residual.width, residual.height);
    if refit {
        add_model(residual, star, inv, 1.0);
        refine_position(residual, star, inv);
    }
    let Some((xr, yr, g, gsum)) = window(star, inv, w, h) else {
        star.flux = [0.0; 3];
        return;
    };
    let (sgg, sg) = (g.iter().map(|v| v * v).sum::<f32>(), gsum);
    let n = g.iter().filter(|v| **v > 0.0).count() as f32;
    let det = sgg * n - sg * sg;
    for c in 0..residual.channels.min(3) {
        let plane = residual.plane_mut(c);
        let (mut sgv, mut sv) = (0.0f32, 0.0f32);
        let mut k = 0;
        for y in yr.clone() {
            for x in xr.clone() {
                let gi = g[k];
                k += 1;
                if gi > 0.0 {
                    let v = plane[y as usize * w + x as usize];
                    sgv += gi * v;
                    sv += v;
                }
            }
        }
        let amp = if det.abs() > 1e-9 { ((n * sgv - sg * sv) / det).max(0.0) } else { 0.0 };
        let mut k = 0;
        for y in yr.clone() {
            for x in xr.clone() {
                plane[y as usize * w + x as usize] -= amp * g[k];
                k += 1;
            }
        }
        star.flux[c] = amp * gsum;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `w`² RGB field on sky 0.05 with noise σ 0.005: elliptical Gaussian stars (σx, σy) at
    /// the given positions and peak amplitudes, colour (1, 0.8, 0.6).
    pub(crate) fn field(w: usize, sx: f32, sy: f32, stars: &[(f32, f32, f32)], seed: u32) -> Planes {
        let mut p = Planes::zeros(3, w, w);
        let mut state = seed.wrapping_mul(2654435761).wrapping_add(1);
        for c in 0..3 {
            for y in 0..w {
                for x in 0..w {
                    state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                    let n = 0.005 * ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 3.46;
                    let mut v = 0.05;
                    for &(px, py, a) in stars {
                        let (dx, dy) = (x as f32 - px, y as f32 - py);
                        v += a * (-(dx * dx / (2.0 * sx * sx) + dy * dy / (2.0 * sy * sy))).exp();
                    }
                    p.plane_mut(c)[y * w + x] = (v * [1.0, 0.8, 0.6][c] + n).min(1.0);
                }
            }
        }
        p
    }

    #[test]
    fn elongated_stars_are_measured_with_their_shape_flux_and_colour() {
        let stars = [(20.3, 22.0, 0.5), (60.0, 40.7, 0.3), (40.5, 70.2, 0.2), (80.0, 80.0, 0.4), (25.0, 85.0, 0.1)];
        let img = field(100, 1.6, 0.9, &stars, 1);
        let f = StarField::measure(&img);
        assert_eq!(f.stars.len(), 5, "{:?}", f.stars);
        // Elongated along x: σx 1.6, σy 0.9 → ellipticity 1 − 0.9/1.6 = 0.44.
        assert!((f.psf.cov[0] - 2.56).abs() < 0.4 && (f.psf.cov[1] - 0.81).abs() < 0.2, "{:?}", f.psf);
        assert!((f.psf.ellipticity - 0.44).abs() < 0.08, "{:?}", f.psf);
        for &(x, y, a) in &stars {
            let s = f.stars.iter().find(|s| (s.x - x).abs() < 0.3 && (s.y - y).abs() < 0.3).expect("star found");
            let want = a * 2.0 * std::f32::consts::PI * 1.6 * 0.9;
            assert!((s.flux[0] / want - 1.0).abs() < 0.1, "flux {} want {want}", s.flux[0]);
            assert!((s.flux[2] / s.flux[0] - 0.6).abs() < 0.05, "colour {:?}", s.flux);
            assert!(!s.saturated);
        }
        // The residual is sky and noise where the stars were.
        let r = f.residual.plane(0);
        assert!((r[22 * 100 + 20] - 0.05).abs() < 0.03, "{}", r[22 * 100 + 20]);
        // The 5σ limit lies below the faintest star's flux.
        assert!(f.limit_flux() < 0.1 * 2.0 * std::f32::consts::PI * 1.6 * 0.9);
    }

    #[test]
    fn a_crowded_cluster_stays_bounded_and_a_saturated_star_is_flagged() {
        // 400 stars on a 128² field (a 2-px grid jittered) and one saturated star.
        let mut s: Vec<(f32, f32, f32)> =
            (0..400).map(|i| (4.0 + (i % 20) as f32 * 6.0, 4.0 + (i / 20) as f32 * 6.0, 0.2)).collect();
        s.push((64.0, 64.0, 3.0));
        let img = field(128, 1.0, 1.0, &s, 2);
        let f = StarField::measure(&img);
        // A star every 6 px everywhere: the local noise (from between the stars) is inflated by
        // their overlapping wings, so not all are found — what matters is that it stays bounded.
        assert!(f.stars.len() > 200 && f.stars.len() <= crate::detect::MAX_STARS, "{}", f.stars.len());
        let sat = f.stars.iter().find(|s| (s.x - 64.0).abs() < 1.0 && (s.y - 64.0).abs() < 1.0).unwrap();
        assert!(sat.saturated && sat.radius > 3.0, "{sat:?}");
    }
}
