//! The dream layer (`prettify --hallucinate`): what a deeper, sharper telescope would add to the
//! faithful picture, drawn as a separate, declared, seeded layer.
//!
//! - **Faint stars** below the input's detection limit, from the field's own star counts: the
//!   slope of log N(m) per magnitude is fitted over the measured stars' complete range (from
//!   the brightest unsaturated decile to 0.75 mag above the limit) and extrapolated
//!   [`DreamOptions::depth_mag`] magnitudes deeper; colours are drawn from the measured stars'.
//! - **Faint galaxies** from a published count slope: d log N / dm = 0.45 (B band, Metcalfe et
//!   al. 2001, MNRAS 323, 795, for 20 < B < 25), normalised so that at the input's limit there
//!   are [`GALAXIES_PER_STAR_AT_LIMIT`] galaxies per star per magnitude; Sérsic n = 1 discs (60 %)
//!   and n = 4 spheroids, half-light radii shrinking 0.1 dex per magnitude, axis ratios 0.2–1.
//!
//! Invariants: every added source is fainter than the input's limit, none lands within 3 PSF
//! widths of a measured star, the layer is only added (nothing of the input moves, dims or
//! goes), and the same seed gives the same layer. Diffraction spikes on bright stars come from
//! `render` (`--spikes`, on in dream mode).

use astro_image::Planes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::photometry::StarField;
use crate::render::draw_moffat;

/// Galaxy count slope d log N / dm (B band, Metcalfe et al. 2001).
pub const GALAXY_SLOPE: f64 = 0.45;
/// Galaxies per measured star per magnitude at the input's limit (high-latitude fields at
/// B ≈ 21–22, where DSS plates end: galaxies about equal stars; Metcalfe et al. 2001, fig. 1).
pub const GALAXIES_PER_STAR_AT_LIMIT: f64 = 1.0;
/// Star count slope used when the field has too few stars to fit one (high-latitude value).
pub const DEFAULT_STAR_SLOPE: f64 = 0.25;
/// Most sources added to one image (bounds time on huge or very dense fields).
pub const MAX_ADDED: usize = 100_000;

/// What the dream adds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DreamOptions {
    /// Magnitudes below the input's detection limit the deeper telescope reaches.
    pub depth_mag: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Add faint galaxies.
    pub galaxies: bool,
}

impl Default for DreamOptions {
    fn default() -> Self {
        DreamOptions { depth_mag: 2.0, seed: 0, galaxies: true }
    }
}

/// What kind of source was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddedKind {
    /// A faint star.
    Star,
    /// A faint galaxy (Sérsic profile).
    Galaxy,
}

/// One added source, in output pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AddedSource {
    /// Star or galaxy.
    pub kind: AddedKind,
    /// Column (output pixels, pixel centres at integers).
    pub x: f32,
    /// Row.
    pub y: f32,
    /// Luma flux in input units (sum of input-pixel values), as the input's stars are measured.
    pub flux: f32,
    /// Instrumental magnitude −2.5 log10(flux).
    pub mag: f64,
    /// Half-maximum width (stars) or half-light radius (galaxies), output pixels.
    pub size: f32,
    /// Sérsic index (galaxies; 0 for stars).
    pub sersic_n: f32,
    /// Axis ratio b/a (galaxies; 1 for stars).
    pub axis_ratio: f32,
    /// Position angle, degrees (galaxies).
    pub angle_deg: f32,
}

/// The star-count model the dream draws from: log10 N per magnitude = `zero` + `slope`·m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountModel {
    /// Fitted slope d log N / dm.
    pub slope: f64,
    /// Intercept.
    pub zero: f64,
    /// Magnitude of the input's detection limit.
    pub limit_mag: f64,
    /// Stars the fit used.
    pub stars_fitted: usize,
}

impl CountModel {
    /// Expected sources per magnitude at `m`.
    pub fn per_mag(&self, m: f64) -> f64 {
        10f64.powf(self.zero + self.slope * m)
    }

    /// Expected sources between `m0` and `m1`.
    pub fn between(&self, m0: f64, m1: f64) -> f64 {
        let k = self.slope * std::f64::consts::LN_10;
        if k.abs() < 1e-9 {
            return self.per_mag(m0) * (m1 - m0);
        }
        (10f64.powf(self.zero) / k) * ((k * m1).exp() - (k * m0).exp())
    }

    /// A magnitude in [m0, m1) drawn from the counts (inverse CDF of an exponential).
    fn sample(&self, m0: f64, m1: f64, u: f64) -> f64 {
        let k = self.slope * std::f64::consts::LN_10;
        if k.abs() < 1e-9 {
            return m0 + u * (m1 - m0);
        }
        let (a, b) = ((k * m0).exp(), (k * m1).exp());
        (a + u * (b - a)).ln() / k
    }
}

/// Fit the field's star counts (least squares of log10 N in 0.5-mag bins over the complete range).
pub fn star_counts(field: &StarField) -> CountModel {
    let limit_mag = -2.5 * (field.limit_flux().max(1e-12) as f64).log10();
    let mut mags: Vec<f64> = field
        .stars
        .iter()
        .filter(|s| !s.saturated)
        .map(|s| -2.5 * (s.luma_flux(field.channels).max(1e-12) as f64).log10())
        .collect();
    mags.sort_by(f64::total_cmp);
    let lo = mags.get(mags.len() / 10).copied().unwrap_or(limit_mag - 3.0);
    let hi = limit_mag - 0.75;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let mut m = lo;
    while m + 0.5 <= hi {
        let n = mags.iter().filter(|v| **v >= m && **v < m + 0.5).count();
        if n > 0 {
            xs.push(m + 0.25);
            ys.push(((n as f64) / 0.5).log10());
        }
        m += 0.5;
    }
    let used = mags.iter().filter(|v| **v >= lo && **v < hi).count();
    let slope = if xs.len() >= 3 && used >= 20 {
        let (mx, my) = (xs.iter().sum::<f64>() / xs.len() as f64, ys.iter().sum::<f64>() / ys.len() as f64);
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        // Star counts rise towards faint magnitudes; a fit outside 0.05–0.6 is noise.
        (sxy / sxx).clamp(0.05, 0.6)
    } else {
        DEFAULT_STAR_SLOPE
    };
    // Normalise at the complete range's faint end: the measured count there (at least one).
    let n_ref = (mags.iter().filter(|v| **v >= hi - 1.0 && **v < hi).count().max(1)) as f64;
    let zero = n_ref.log10() - slope * (hi - 0.5);
    CountModel { slope, zero, limit_mag, stars_fitted: used }
}

/// The galaxy-count model of the same field: the published slope, normalised to the stars.
pub fn galaxy_counts(stars: &CountModel) -> CountModel {
    let at_limit = stars.per_mag(stars.limit_mag) * GALAXIES_PER_STAR_AT_LIMIT;
    let zero = at_limit.max(1e-9).log10() - GALAXY_SLOPE * stars.limit_mag;
    CountModel { slope: GALAXY_SLOPE, zero, limit_mag: stars.limit_mag, stars_fitted: 0 }
}

/// A draw from the Poisson distribution of mean `mean` (normal approximation above 50).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 50.0 {
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        return (mean + z * mean.sqrt()).round().max(0.0) as usize;
    }
    let (l, mut k, mut p) = ((-mean).exp(), 0usize, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// Sérsic b_n (Ciotti & Bertin 1999's expansion).
fn sersic_b(n: f32) -> f32 {
    2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n)
}

/// A Sérsic galaxy's shape: half-light radius `re` (px), index `n`, axis ratio `q`, angle `theta` (radians).
#[derive(Debug, Clone, Copy)]
struct Sersic {
    re: f32,
    n: f32,
    q: f32,
    theta: f32,
}

/// Add a Sérsic galaxy of total `flux` (per channel) at (cx, cy) to `layer` (renormalised over
/// what is drawn).
fn draw_sersic(layer: &mut Planes, cx: f32, cy: f32, flux: [f32; 3], shape: Sersic) {
    let Sersic { re, n, q, theta } = shape;
    let (w, h) = (layer.width, layer.height);
    let reach = (4.0 * re).max(3.0);
    let ri = reach.ceil() as isize;
    let (x0, y0) = (cx.round() as isize, cy.round() as isize);
    let (ct, st) = (theta.cos(), theta.sin());
    let b = sersic_b(n);
    let mut cells = Vec::new();
    let mut total = 0.0f32;
    for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
        for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
            let mut v = 0.0;
            for sy in 0..2 {
                for sx in 0..2 {
                    let dx = x as f32 - 0.25 + 0.5 * sx as f32 - cx;
                    let dy = y as f32 - 0.25 + 0.5 * sy as f32 - cy;
                    let (u, t) = (dx * ct + dy * st, -dx * st + dy * ct);
                    let r = (u * u + (t / q) * (t / q)).sqrt();
                    if r <= reach {
                        v += (-b * ((r / re).powf(1.0 / n) - 1.0)).exp();
                    }
                }
            }
            total += v;
            cells.push((y as usize * w + x as usize, v));
        }
    }
    if total <= 0.0 {
        return;
    }
    for (i, v) in cells {
        for (c, f) in flux.iter().enumerate().take(layer.channels) {
            layer.data[c * w * h + i] += f * v / total;
        }
    }
}

/// The dream layer of `field` at `scale`× on an output `w`×`h`: faint stars drawn `fwhm` wide
/// (output px) and galaxies; returns the layer and every added source.
pub fn dream_layer(
    field: &StarField,
    w: usize,
    h: usize,
    scale: usize,
    fwhm: f32,
    opts: &DreamOptions,
) -> (Planes, Vec<AddedSource>) {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let channels = field.channels.max(1);
    let mut layer = Planes::zeros(channels, h, w);
    let mut added = Vec::new();
    let stars = star_counts(field);
    let (m0, m1) = (stars.limit_mag, stars.limit_mag + opts.depth_mag);
    let s = scale as f32;
    // Colours of the measured stars (normalised to luma 1).
    let colours: Vec<[f32; 3]> = field
        .stars
        .iter()
        .filter(|st| !st.saturated && st.luma_flux(channels) > 0.0)
        .map(|st| st.flux.map(|f| f.max(0.0) / st.luma_flux(channels)))
        .collect();
    // Far enough from every measured star that no input source is touched.
    let clear = 3.0 * field.psf.fwhm.max(1.0);
    let grid = crate::dream::Occupancy::new(field, clear);
    let place = |rng: &mut ChaCha8Rng| -> Option<(f32, f32)> {
        for _ in 0..20 {
            let (x, y) =
                (rng.random::<f32>() * field.width as f32 - 0.5, rng.random::<f32>() * field.height as f32 - 0.5);
            if grid.is_clear(x, y) {
                return Some(((x + 0.5) * s - 0.5, (y + 0.5) * s - 0.5));
            }
        }
        None
    };
    let n_stars = poisson(&mut rng, stars.between(m0, m1)).min(MAX_ADDED);
    for _ in 0..n_stars {
        let mag = stars.sample(m0, m1, rng.random());
        let Some((x, y)) = place(&mut rng) else { continue };
        let flux = 10f32.powf(-0.4 * mag as f32);
        let colour = if colours.is_empty() { [1.0; 3] } else { colours[rng.random_range(0..colours.len())] };
        let f = colour.map(|c| c * flux * s * s);
        draw_moffat(&mut layer, x, y, f, fwhm);
        added.push(AddedSource {
            kind: AddedKind::Star,
            x,
            y,
            flux,
            mag,
            size: fwhm,
            sersic_n: 0.0,
            axis_ratio: 1.0,
            angle_deg: 0.0,
        });
    }
    if opts.galaxies {
        let gal = galaxy_counts(&stars);
        let n_gal = poisson(&mut rng, gal.between(m0, m1)).min(MAX_ADDED);
        for _ in 0..n_gal {
            let mag = gal.sample(m0, m1, rng.random());
            let Some((x, y)) = place(&mut rng) else { continue };
            let flux = 10f32.powf(-0.4 * mag as f32);
            let disc = rng.random::<f32>() < 0.6;
            let n = if disc { 1.0 } else { 4.0 };
            // Half-light radius: 1.5 PSF widths at the limit, 0.1 dex smaller per magnitude.
            let re = (1.5 * field.psf.fwhm * s * 10f32.powf(-0.1 * (mag - m0) as f32)).max(1.0);
            let q = if disc { 0.2 + 0.8 * rng.random::<f32>() } else { 0.6 + 0.4 * rng.random::<f32>() };
            let theta = rng.random::<f32>() * std::f32::consts::PI;
            let colour = if disc { [0.95, 1.0, 1.1] } else { [1.15, 1.0, 0.75] };
            let norm = astro_image::luma::bt601(colour[0], colour[1], colour[2]);
            let f = colour.map(|c| c / norm * flux * s * s);
            draw_sersic(&mut layer, x, y, f, Sersic { re, n, q, theta });
            added.push(AddedSource {
                kind: AddedKind::Galaxy,
                x,
                y,
                flux,
                mag,
                size: re,
                sersic_n: n,
                axis_ratio: q,
                angle_deg: theta.to_degrees(),
            });
        }
    }
    (layer, added)
}

/// Which input pixels lie within `clear` px of a measured star (a coarse bitmap).
pub struct Occupancy {
    width: usize,
    height: usize,
    taken: Vec<bool>,
}

impl Occupancy {
    /// Mark every pixel within `clear` px (or a saturated star's footprint) of a star of `field`.
    pub fn new(field: &StarField, clear: f32) -> Occupancy {
        let (w, h) = (field.width, field.height);
        let mut taken = vec![false; w * h];
        for st in &field.stars {
            let r = clear.max(st.radius);
            let ri = r.ceil() as isize;
            let (x0, y0) = (st.x.round() as isize, st.y.round() as isize);
            for y in (y0 - ri).max(0)..(y0 + ri + 1).min(h as isize) {
                for x in (x0 - ri).max(0)..(x0 + ri + 1).min(w as isize) {
                    if (x as f32 - st.x).powi(2) + (y as f32 - st.y).powi(2) <= r * r {
                        taken[y as usize * w + x as usize] = true;
                    }
                }
            }
        }
        Occupancy { width: w, height: h, taken }
    }

    /// Whether (x, y) (input pixels) is free.
    pub fn is_clear(&self, x: f32, y: f32) -> bool {
        let (xi, yi) = (x.round(), y.round());
        if xi < 0.0 || yi < 0.0 || xi as usize >= self.width || yi as usize >= self.height {
            return false;
        }
        !self.taken[yi as usize * self.width + xi as usize]
    }
}

/// The mask of the layer: 255 where it adds at least 1/255 of luma, else 0 (one grey plane).
pub fn invented_mask(layer: &Planes) -> Planes {
    let l = layer.to_luma();
    let data = l.data.iter().map(|v| if *v >= 1.0 / 255.0 { 1.0 } else { 0.0 }).collect();
    Planes { data, ..l }
}

/// The CSV of the added sources: `kind,x,y,flux,mag,size_px,sersic_n,axis_ratio,angle_deg`.
pub fn invented_csv(added: &[AddedSource]) -> String {
    let mut s = String::from("kind,x,y,flux,mag,size_px,sersic_n,axis_ratio,angle_deg\n");
    for a in added {
        let kind = match a.kind {
            AddedKind::Star => "star",
            AddedKind::Galaxy => "galaxy",
        };
        s.push_str(&format!(
            "{kind},{:.2},{:.2},{:.6e},{:.3},{:.2},{:.1},{:.3},{:.1}\n",
            a.x, a.y, a.flux, a.mag, a.size, a.sersic_n, a.axis_ratio, a.angle_deg
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photometry::tests::field;

    /// A 256² field with stars whose counts rise 0.3 dex per magnitude (a known slope).
    fn counted_field(seed: u64) -> Planes {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stars = Vec::new();
        // Peak amplitudes from 0.5 down to 0.02 (3.5 mag), N(m) ∝ 10^(0.3 m).
        let model = CountModel { slope: 0.3, zero: 0.0, limit_mag: 0.0, stars_fitted: 0 };
        let total = 300;
        for _ in 0..total {
            let m = model.sample(0.0, 3.5, rng.random());
            let a = 0.5 * 10f64.powf(-0.4 * m) as f32;
            stars.push((4.0 + rng.random::<f32>() * 248.0, 4.0 + rng.random::<f32>() * 248.0, a));
        }
        field(256, 1.1, 1.1, &stars, seed as u32)
    }

    #[test]
    fn the_dream_follows_the_counts_keeps_below_the_limit_and_is_reproducible() {
        let img = counted_field(5);
        let f = StarField::measure(&img);
        let counts = star_counts(&f);
        assert!((counts.slope - 0.3).abs() < 0.12, "{counts:?}");
        let opts = DreamOptions { depth_mag: 2.0, seed: 9, galaxies: true };
        let (layer, added) = dream_layer(&f, 512, 512, 2, 2.4, &opts);
        let (layer2, added2) = dream_layer(&f, 512, 512, 2, 2.4, &opts);
        assert_eq!(added, added2);
        assert_eq!(layer, layer2);
        let limit = f.limit_flux();
        assert!(added.iter().all(|a| a.flux < limit), "an added source above the limit {limit}");
        // Added stars per magnitude bin follow the model within 20 % (Poisson noise allowed on
        // the expected counts of each half of the range).
        let stars: Vec<_> = added.iter().filter(|a| a.kind == AddedKind::Star).collect();
        let (m0, m1) = (counts.limit_mag, counts.limit_mag + 2.0);
        let expected = counts.between(m0, m1);
        assert!(stars.len() > 50, "{} stars added", stars.len());
        assert!(
            (stars.len() as f64 / expected - 1.0).abs() < 0.2 + 3.0 / expected.sqrt(),
            "{} vs {expected}",
            stars.len()
        );
        // The mask covers the added sources and nothing near the measured stars.
        let mask = invented_mask(&layer);
        assert!(mask.data.iter().any(|v| *v > 0.0));
        for st in &f.stars {
            let (x, y) = (((st.x + 0.5) * 2.0) as usize, ((st.y + 0.5) * 2.0) as usize);
            assert_eq!(mask.data[y.min(511) * 512 + x.min(511)], 0.0, "dream over a real star at {x},{y}");
        }
        assert!(invented_csv(&added).lines().count() == added.len() + 1);
    }
}
