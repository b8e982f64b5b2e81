//! Point sources in a sky image: local background and noise, star detection, half-maximum FWHM,
//! and the input ↔ output star matching that says whether an enhancement kept the stars where they
//! were and invented none (the AstroSleuth failure: a big star turned into a cluster).
//!
//! Detection follows the usual DAOFIND/SExtractor recipe in its simplest robust form: a background
//! map of 32-px block medians (bilinear), the noise σ of a 3×3 box-smoothed image from its median
//! absolute deviation, then local maxima of the smoothed image `k σ` above the background.

/// Side of the background blocks, pixels.
const BLOCK: usize = 32;
/// Half side of the local-maximum window (5×5).
const PEAK_RADIUS: isize = 2;
/// Largest radius the half-maximum region may reach (pixels).
const MAX_RADIUS: isize = 10;
/// A peak at or above this level (of 1) is saturated.
pub const SATURATED: f32 = 0.98;

/// One detected point source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Star {
    /// Column of the intensity-weighted centroid.
    pub x: f32,
    /// Row of the centroid.
    pub y: f32,
    /// Peak above the local background (unsmoothed luma).
    pub peak: f32,
    /// Full width at half maximum, pixels (from the area of the connected half-maximum region).
    pub fwhm: f32,
    /// Whether the peak pixel is at the saturation level.
    pub saturated: bool,
    /// 1 − minor/major axis of the half-maximum region (second moments about the centroid):
    /// 0 for a round star, towards 1 for a dash.
    pub ellipticity: f32,
}

/// Background map and noise of one luma image.
#[derive(Debug, Clone)]
pub struct SkyBackground {
    /// Width of the image.
    pub width: usize,
    /// Height of the image.
    pub height: usize,
    /// Background level at every pixel (block medians, bilinear).
    pub level: Vec<f32>,
    /// Robust σ of the 3×3 box-smoothed image about the background (the detection noise).
    pub sigma_smoothed: f32,
    /// Robust σ of single pixels from neighbour differences (white pixel noise).
    pub sigma_pixel: f32,
}

/// Median of a slice (reorders it); 0 for an empty slice.
pub fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    *m
}

/// Robust standard deviation (1.4826 × median absolute deviation about the median).
pub fn robust_sigma(v: &mut [f32]) -> f32 {
    let m = median(v);
    let mut dev: Vec<f32> = v.iter().map(|x| (x - m).abs()).collect();
    1.4826 * median(&mut dev)
}

/// Pixel noise σ from horizontal neighbour differences (smooth structure cancels, sources are
/// sparse enough for the median to ignore them).
pub fn pixel_noise(luma: &[f32], width: usize, height: usize) -> f32 {
    if width < 2 {
        return 0.0;
    }
    let mut d = Vec::with_capacity((width - 1) * height);
    for row in luma.chunks_exact(width).take(height) {
        d.extend(row.windows(2).map(|w| w[1] - w[0]));
    }
    robust_sigma(&mut d) / std::f32::consts::SQRT_2
}

/// 3×3 box mean with edge replication.
pub fn box3(luma: &[f32], width: usize, height: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; luma.len()];
    for y in 0..height {
        for x in 0..width {
            let mut s = 0.0;
            for dy in -1isize..=1 {
                let yy = (y as isize + dy).clamp(0, height as isize - 1) as usize;
                for dx in -1isize..=1 {
                    let xx = (x as isize + dx).clamp(0, width as isize - 1) as usize;
                    s += luma[yy * width + xx];
                }
            }
            out[y * width + x] = s / 9.0;
        }
    }
    out
}

impl SkyBackground {
    /// Measure the background map and the noise of a luma image.
    pub fn measure(luma: &[f32], width: usize, height: usize) -> SkyBackground {
        let bx = width.div_ceil(BLOCK).max(1);
        let by = height.div_ceil(BLOCK).max(1);
        let mut blocks = vec![0.0f32; bx * by];
        for j in 0..by {
            for i in 0..bx {
                let mut v = Vec::with_capacity(BLOCK * BLOCK);
                for y in j * BLOCK..((j + 1) * BLOCK).min(height) {
                    v.extend_from_slice(&luma[y * width + i * BLOCK..y * width + ((i + 1) * BLOCK).min(width)]);
                }
                blocks[j * bx + i] = median(&mut v);
            }
        }
        let mut level = vec![0.0f32; width * height];
        for y in 0..height {
            let fy = ((y as f32 + 0.5) / BLOCK as f32 - 0.5).clamp(0.0, (by - 1) as f32);
            let (j0, ty) = (fy.floor() as usize, fy.fract());
            let j1 = (j0 + 1).min(by - 1);
            for x in 0..width {
                let fx = ((x as f32 + 0.5) / BLOCK as f32 - 0.5).clamp(0.0, (bx - 1) as f32);
                let (i0, tx) = (fx.floor() as usize, fx.fract());
                let i1 = (i0 + 1).min(bx - 1);
                let top = blocks[j0 * bx + i0] * (1.0 - tx) + blocks[j0 * bx + i1] * tx;
                let bottom = blocks[j1 * bx + i0] * (1.0 - tx) + blocks[j1 * bx + i1] * tx;
                level[y * width + x] = top * (1.0 - ty) + bottom * ty;
            }
        }
        let smooth = box3(luma, width, height);
        let mut resid: Vec<f32> = smooth.iter().zip(&level).map(|(s, b)| s - b).collect();
        let sigma_smoothed = robust_sigma(&mut resid).max(1e-4);
        SkyBackground { width, height, level, sigma_smoothed, sigma_pixel: pixel_noise(luma, width, height) }
    }

    /// Median background level.
    pub fn median_level(&self) -> f32 {
        median(&mut self.level.clone())
    }
}

/// Detect stars: local maxima (5×5) of the 3×3-smoothed image at least `threshold` above the
/// background map, with centroid, peak and half-maximum FWHM measured on the unsmoothed luma.
pub fn detect_stars(luma: &[f32], width: usize, height: usize, bg: &SkyBackground, threshold: f32) -> Vec<Star> {
    let smooth = box3(luma, width, height);
    let mut stars = Vec::new();
    let (w, h) = (width as isize, height as isize);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let v = smooth[i] - bg.level[i];
            if v < threshold {
                continue;
            }
            let mut is_max = true;
            'win: for dy in -PEAK_RADIUS..=PEAK_RADIUS {
                for dx in -PEAK_RADIUS..=PEAK_RADIUS {
                    let (yy, xx) = (y + dy, x + dx);
                    if (dy == 0 && dx == 0) || yy < 0 || xx < 0 || yy >= h || xx >= w {
                        continue;
                    }
                    let j = (yy * w + xx) as usize;
                    // Ties go to the first pixel in raster order, so a flat top gives one star.
                    if smooth[j] > smooth[i] || (smooth[j] == smooth[i] && j < i) {
                        is_max = false;
                        break 'win;
                    }
                }
            }
            if is_max {
                stars.push(measure_star(luma, width, height, bg, x as usize, y as usize));
            }
        }
    }
    stars
}

/// Centroid, peak and FWHM of the source around the smoothed maximum at (`x0`, `y0`).
fn measure_star(luma: &[f32], width: usize, height: usize, bg: &SkyBackground, x0: usize, y0: usize) -> Star {
    let (w, h) = (width as isize, height as isize);
    // Brightest raw pixel in the 3×3 around the smoothed peak.
    let (mut px, mut py, mut pv) = (x0 as isize, y0 as isize, f32::MIN);
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (yy, xx) = (y0 as isize + dy, x0 as isize + dx);
            if yy >= 0 && xx >= 0 && yy < h && xx < w && luma[(yy * w + xx) as usize] > pv {
                (px, py, pv) = (xx, yy, luma[(yy * w + xx) as usize]);
            }
        }
    }
    let b = bg.level[(py * w + px) as usize];
    let peak = (pv - b).max(1e-6);
    // Connected region at or above half maximum, grown from the peak within MAX_RADIUS.
    let half = b + peak / 2.0;
    let side = (2 * MAX_RADIUS + 1) as usize;
    let mut seen = vec![false; side * side];
    let mut stack = vec![(px, py)];
    seen[(MAX_RADIUS * side as isize + MAX_RADIUS) as usize] = true;
    let (mut area, mut sx, mut sy, mut sw) = (0usize, 0f64, 0f64, 0f64);
    let mut region = Vec::new();
    while let Some((x, y)) = stack.pop() {
        let v = luma[(y * w + x) as usize];
        area += 1;
        region.push((x, y, (v - b) as f64));
        let wgt = (v - b) as f64;
        sx += wgt * x as f64;
        sy += wgt * y as f64;
        sw += wgt;
        for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
            let (xx, yy) = (x + dx, y + dy);
            let (lx, ly) = (xx - px + MAX_RADIUS, yy - py + MAX_RADIUS);
            if xx < 0 || yy < 0 || xx >= w || yy >= h || lx < 0 || ly < 0 || lx >= side as isize || ly >= side as isize
            {
                continue;
            }
            let k = (ly as usize) * side + lx as usize;
            if !seen[k] && luma[(yy * w + xx) as usize] >= half {
                seen[k] = true;
                stack.push((xx, yy));
            }
        }
    }
    let fwhm_area = 2.0 * (area as f32 / std::f32::consts::PI).sqrt();
    let fwhm = curvature_fwhm(luma, width, height, b, px, py, fwhm_area).unwrap_or(fwhm_area);
    let (cx, cy) = if sw > 0.0 { ((sx / sw) as f32, (sy / sw) as f32) } else { (px as f32, py as f32) };
    Star { x: cx, y: cy, peak, fwhm, saturated: pv >= SATURATED, ellipticity: ellipticity(&region, cx, cy) }
}

/// 1 − √(λ₂/λ₁) of the intensity-weighted second moments of a region about (cx, cy); each pixel
/// also counts its own extent (1/12 px² per axis), so a one-pixel region is round.
fn ellipticity(region: &[(isize, isize, f64)], cx: f32, cy: f32) -> f32 {
    let (mut xx, mut yy, mut xy, mut s) = (0f64, 0f64, 0f64, 0f64);
    for &(x, y, v) in region {
        let (dx, dy) = (x as f64 - cx as f64, y as f64 - cy as f64);
        let v = v.max(0.0);
        xx += v * (dx * dx + 1.0 / 12.0);
        yy += v * (dy * dy + 1.0 / 12.0);
        xy += v * dx * dy;
        s += v;
    }
    if s <= 0.0 {
        return 0.0;
    }
    let (xx, yy, xy) = (xx / s, yy / s, xy / s);
    let (tr, d) = ((xx + yy) / 2.0, (((xx - yy) / 2.0).powi(2) + xy * xy).sqrt());
    (1.0 - ((tr - d).max(0.0) / (tr + d).max(1e-12)).sqrt()) as f32
}

/// FWHM from the curvature of the log-profile through the peak along x and y: for a Gaussian,
/// `ln v` is a parabola, so three samples `d` apart give σ² = −d² / (ln v₋ − 2 ln v₀ + ln v₊)
/// exactly, free of the half-maximum area's pixel quantisation. `d` grows with the star (from
/// the area estimate) so wide stars are not measured in their noisy flat top. `None` when the
/// profile is not peaked (flat or saturated top, negative samples) or leaves the image.
fn curvature_fwhm(
    luma: &[f32],
    width: usize,
    height: usize,
    bg: f32,
    px: isize,
    py: isize,
    fwhm_area: f32,
) -> Option<f32> {
    let d = (fwhm_area / 2.5).round().clamp(1.0, 4.0) as isize;
    let (w, h) = (width as isize, height as isize);
    if px < d || py < d || px + d >= w || py + d >= h {
        return None;
    }
    let at = |x: isize, y: isize| luma[(y * w + x) as usize] - bg;
    let v0 = at(px, py);
    let mut sig2 = [0.0f32; 2];
    for (k, (a, b)) in [(at(px - d, py), at(px + d, py)), (at(px, py - d), at(px, py + d))].into_iter().enumerate() {
        if v0 <= 0.0 || a <= 0.0 || b <= 0.0 {
            return None;
        }
        let c = a.ln() - 2.0 * v0.ln() + b.ln();
        if c >= -1e-4 {
            return None;
        }
        sig2[k] = -((d * d) as f32) / c;
    }
    let fwhm = 2.3548 * (sig2[0] * sig2[1]).sqrt().sqrt();
    (fwhm.is_finite() && fwhm < 4.0 * MAX_RADIUS as f32).then_some(fwhm)
}

/// For each star of `a`, the index of the nearest star of `b` within `radius` pixels.
pub fn match_stars(a: &[Star], b: &[Star], radius: f32) -> Vec<Option<usize>> {
    let r2 = radius * radius;
    a.iter()
        .map(|s| {
            b.iter()
                .enumerate()
                .map(|(j, t)| (j, (s.x - t.x).powi(2) + (s.y - t.y).powi(2)))
                .filter(|(_, d)| *d <= r2)
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .map(|(j, _)| j)
        })
        .collect()
}

/// How an enhancement treated the stars of its input, both at the input's resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StarComparison {
    /// Stars detected in the input (5 σ).
    pub input_stars: usize,
    /// Input stars that have an output source (3 σ) within the match radius.
    pub kept: usize,
    /// Output sources (5 σ) with no input source (3 σ) within the match radius.
    pub invented: usize,
    /// Median output/input FWHM over kept, unsaturated stars (NaN when there are none).
    pub fwhm_ratio: f32,
}

impl StarComparison {
    /// Fraction of input stars kept (1 when the input has none).
    pub fn kept_fraction(&self) -> f64 {
        if self.input_stars == 0 { 1.0 } else { self.kept as f64 / self.input_stars as f64 }
    }

    /// Invented sources per input star (0 when the input has none and nothing was invented).
    pub fn invented_per_star(&self) -> f64 {
        self.invented as f64 / self.input_stars.max(1) as f64
    }
}

/// Detection thresholds, in units of the input's smoothed-image noise σ.
pub const DETECT_SIGMA: f32 = 5.0;
/// The lower threshold a counterpart needs (hysteresis, so a star just below 5 σ on one side is
/// neither lost nor invented).
pub const COUNTERPART_SIGMA: f32 = 3.0;

/// Match radius around a star: `max(1.5, 0.5 × FWHM)` pixels.
fn match_radius(st: &Star) -> f32 {
    (0.5 * st.fwhm).max(1.5)
}

/// The stars of `input` and `output` (luma, same size) that [`compare_stars`] and prettify's
/// invention guard both use: both thresholded with the *input's* noise.
struct StarSets {
    in_hi: Vec<Star>,
    in_lo: Vec<Star>,
    out_hi: Vec<Star>,
    out_lo: Vec<Star>,
}

impl StarSets {
    fn detect(input: &[f32], output: &[f32], width: usize, height: usize) -> StarSets {
        let bg_in = SkyBackground::measure(input, width, height);
        let bg_out = SkyBackground::measure(output, width, height);
        let s = bg_in.sigma_smoothed;
        StarSets {
            in_hi: detect_stars(input, width, height, &bg_in, DETECT_SIGMA * s),
            in_lo: detect_stars(input, width, height, &bg_in, COUNTERPART_SIGMA * s),
            out_hi: detect_stars(output, width, height, &bg_out, DETECT_SIGMA * s),
            out_lo: detect_stars(output, width, height, &bg_out, COUNTERPART_SIGMA * s),
        }
    }

    /// Output 5 σ sources with no input 3 σ source within the input star's match radius.
    fn invented(&self) -> Vec<Star> {
        self.out_hi
            .iter()
            .filter(|o| {
                self.in_lo.iter().all(|i| {
                    let r = match_radius(i);
                    (i.x - o.x).powi(2) + (i.y - o.y).powi(2) > r * r
                })
            })
            .copied()
            .collect()
    }
}

/// Sources of `output` that `input` does not have (see [`compare_stars`]): what prettify's
/// invention guard replaces with the input's own pixels.
pub fn invented_sources(input: &[f32], output: &[f32], width: usize, height: usize) -> Vec<Star> {
    StarSets::detect(input, output, width, height).invented()
}

/// Compare the stars of `input` and `output` (luma, same size): both are thresholded with the
/// *input's* noise, so a denoiser that reveals faint real stars is not blamed unless they were not
/// even 3 σ peaks in the input. Match radius: `max(1.5, 0.5 × input FWHM)` pixels.
pub fn compare_stars(input: &[f32], output: &[f32], width: usize, height: usize) -> StarComparison {
    let sets = StarSets::detect(input, output, width, height);
    let mut kept = 0;
    let mut ratios = Vec::new();
    for st in &sets.in_hi {
        if let Some(j) = match_stars(std::slice::from_ref(st), &sets.out_lo, match_radius(st))[0] {
            kept += 1;
            if !st.saturated && !sets.out_lo[j].saturated {
                ratios.push(sets.out_lo[j].fwhm / st.fwhm);
            }
        }
    }
    let invented = sets.invented().len();
    let fwhm_ratio = if ratios.is_empty() { f32::NAN } else { median(&mut ratios) };
    StarComparison { input_stars: sets.in_hi.len(), kept, invented, fwhm_ratio }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A 128² field of Gaussian stars of the given FWHM on a 0.1 background with white noise.
    fn field(fwhm: f32, positions: &[(f32, f32, f32)], noise: f32, seed: u64) -> Vec<f32> {
        let (w, h) = (128usize, 128usize);
        let s2 = (fwhm / 2.3548).powi(2);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut img = vec![0.1f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut v = 0.1;
                for &(sx, sy, a) in positions {
                    let d2 = (x as f32 - sx).powi(2) + (y as f32 - sy).powi(2);
                    v += a * (-d2 / (2.0 * s2)).exp();
                }
                let n: f32 = (0..4).map(|_| rng.random::<f32>() - 0.5).sum::<f32>() * noise * 1.732;
                img[y * w + x] = (v + n).min(1.0);
            }
        }
        img
    }

    const STARS: [(f32, f32, f32); 5] =
        [(20.3, 30.0, 0.5), (60.0, 64.7, 0.3), (100.5, 20.2, 0.2), (90.0, 100.0, 0.4), (30.0, 100.0, 0.25)];

    #[test]
    fn finds_every_star_at_its_place_with_its_fwhm() {
        let img = field(4.0, &STARS, 0.01, 1);
        let bg = SkyBackground::measure(&img, 128, 128);
        assert!((bg.median_level() - 0.1).abs() < 0.01, "background {}", bg.median_level());
        assert!((bg.sigma_pixel - 0.01).abs() < 0.002, "pixel noise {}", bg.sigma_pixel);
        let stars = detect_stars(&img, 128, 128, &bg, DETECT_SIGMA * bg.sigma_smoothed);
        assert_eq!(stars.len(), STARS.len(), "{stars:?}");
        for &(x, y, _) in &STARS {
            let s = stars.iter().find(|s| (s.x - x).abs() < 0.5 && (s.y - y).abs() < 0.5);
            let s = s.unwrap_or_else(|| panic!("no star at {x},{y}: {stars:?}"));
            assert!((s.fwhm - 4.0).abs() < 0.8, "fwhm {} for 4", s.fwhm);
        }
    }

    #[test]
    fn sharper_output_keeps_stars_and_a_split_star_counts_as_invented() {
        let input = field(4.0, &STARS, 0.01, 2);
        let sharper = field(2.8, &STARS, 0.01, 3);
        let c = compare_stars(&input, &sharper, 128, 128);
        assert_eq!((c.input_stars, c.kept, c.invented), (5, 5, 0), "{c:?}");
        assert!(c.fwhm_ratio > 0.6 && c.fwhm_ratio < 0.8, "ratio {}", c.fwhm_ratio);
        // The brightest star turned into a pair 6 px apart plus a new star in empty sky.
        let mut broken: Vec<_> = STARS[1..].to_vec();
        broken.extend([(17.3, 30.0, 0.4), (23.3, 30.0, 0.4), (64.0, 20.0, 0.4)]);
        let c = compare_stars(&input, &field(2.8, &broken, 0.01, 4), 128, 128);
        assert_eq!(c.kept, 4, "{c:?}");
        assert_eq!(c.invented, 3, "{c:?}");
        assert!((c.invented_per_star() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn noise_alone_gives_no_stars() {
        let img = field(4.0, &[], 0.02, 5);
        let bg = SkyBackground::measure(&img, 128, 128);
        assert!(detect_stars(&img, 128, 128, &bg, DETECT_SIGMA * bg.sigma_smoothed).is_empty());
    }
}
