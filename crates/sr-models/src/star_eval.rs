//! Star measures of an enhanced survey image against its input, with `dataset::stars` — a
//! detector independent of the pipeline's own (`star_field`): how round and how tight the stars
//! are at the output's own resolution, whether their light is kept (aperture photometry) and
//! whether a dark ring surrounds them. Issue #25's goals are stated in these terms.

use astro_image::Planes;
use dataset::stars::{DETECT_SIGMA, SkyBackground, Star, detect_stars, match_stars, median};

/// Star figures of one output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StarFigures {
    /// Median ellipticity of matched unsaturated output stars (at the output's resolution) over
    /// that of the input's (NaN without any).
    pub ellipticity_ratio: f64,
    /// Median over matched unsaturated stars of output FWHM (output pixels ÷ scale) over input FWHM.
    pub fwhm_ratio: f64,
    /// Median magnitude difference output − input of unsaturated stars (aperture 2 FWHM,
    /// sky from an annulus), at the input's resolution.
    pub dmag: f64,
    /// Median dark-ring depth (8-bit levels) around matched stars at the output's resolution:
    /// how far the darkest annulus between 1 and 3 input FWHM dips below the sky outside it.
    pub ring: f64,
}

fn luma_of(p: &Planes) -> Planes {
    let mut l = p.to_luma();
    l.data.iter_mut().for_each(|v| *v = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 });
    l
}

/// Detected stars (5σ of the image's own noise) of a luma plane.
fn stars_of(l: &Planes) -> Vec<Star> {
    let bg = SkyBackground::measure(l.plane(0), l.width, l.height);
    detect_stars(l.plane(0), l.width, l.height, &bg, DETECT_SIGMA * bg.sigma_smoothed)
}

/// Sky-subtracted sum in radius `r` around (x, y), sky = median of the annulus [r + 2, r + 5].
fn aperture(l: &[f32], w: usize, h: usize, x: f32, y: f32, r: f32) -> Option<f64> {
    let ro = r + 5.0;
    let ri = ro.ceil() as isize;
    let (x0, y0) = (x.round() as isize, y.round() as isize);
    let (mut inner, mut sky) = (Vec::new(), Vec::new());
    for yy in y0 - ri..=y0 + ri {
        for xx in x0 - ri..=x0 + ri {
            if xx < 0 || yy < 0 || xx >= w as isize || yy >= h as isize {
                return None;
            }
            let d = ((xx as f32 - x).powi(2) + (yy as f32 - y).powi(2)).sqrt();
            let v = l[yy as usize * w + xx as usize];
            if d <= r {
                inner.push(v);
            } else if d >= r + 2.0 && d <= ro {
                sky.push(v);
            }
        }
    }
    let s = median(&mut sky);
    Some(inner.iter().map(|v| (v - s) as f64).sum())
}

/// Depth (levels) of the darkest annulus mean in [1, 3]·`fwhm` below the sky in [4, 6]·`fwhm`.
fn ring_depth(l: &[f32], w: usize, h: usize, x: f32, y: f32, fwhm: f32) -> Option<f64> {
    let reach = 6.0 * fwhm;
    let ri = reach.ceil() as isize;
    let (x0, y0) = (x.round() as isize, y.round() as isize);
    let bins = 8usize;
    let (mut sums, mut counts, mut sky) = (vec![0f64; bins], vec![0usize; bins], Vec::new());
    for yy in y0 - ri..=y0 + ri {
        for xx in x0 - ri..=x0 + ri {
            if xx < 0 || yy < 0 || xx >= w as isize || yy >= h as isize {
                return None;
            }
            let d = ((xx as f32 - x).powi(2) + (yy as f32 - y).powi(2)).sqrt() / fwhm;
            let v = l[yy as usize * w + xx as usize];
            if (1.0..3.0).contains(&d) {
                let b = (((d - 1.0) / 2.0) * bins as f32) as usize;
                sums[b.min(bins - 1)] += v as f64;
                counts[b.min(bins - 1)] += 1;
            } else if (4.0..=6.0).contains(&d) {
                sky.push(v);
            }
        }
    }
    let s = median(&mut sky) as f64;
    let darkest =
        sums.iter().zip(&counts).filter(|(_, c)| **c > 0).map(|(v, c)| v / *c as f64).fold(f64::INFINITY, f64::min);
    Some(((s - darkest) * 255.0).max(0.0))
}

/// Median of the finite values (NaN without any): the pooled figure of the evaluations.
pub(crate) fn median_finite(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Star figures of `output` (an integer multiple of the input's size) against `input`.
pub fn star_figures(input: &Planes, output: &Planes) -> StarFigures {
    let s = (output.width / input.width.max(1)).max(1);
    let (li, lo) = (luma_of(input), luma_of(output));
    let down = if s > 1 {
        astro_image::resize::imresize_with(&lo, input.width, input.height, astro_image::resize::ResizeKernel::Box, true)
    } else {
        lo.clone()
    };
    let ins: Vec<Star> = stars_of(&li).into_iter().filter(|st| !st.saturated).collect();
    let outs: Vec<Star> = stars_of(&lo)
        .into_iter()
        .map(|st| Star {
            x: (st.x + 0.5) / s as f32 - 0.5,
            y: (st.y + 0.5) / s as f32 - 0.5,
            fwhm: st.fwhm / s as f32,
            ..st
        })
        .collect();
    let radius: Vec<f32> = ins.iter().map(|st| (0.5 * st.fwhm).max(1.5)).collect();
    let (mut e_in, mut e_out, mut fw, mut dm, mut ring) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (st, r) in ins.iter().zip(&radius) {
        let ap = (2.0 * st.fwhm).max(2.0);
        if let (Some(a), Some(b)) = (
            aperture(li.plane(0), li.width, li.height, st.x, st.y, ap),
            aperture(down.plane(0), down.width, down.height, st.x, st.y, ap),
        ) && a > 0.0
            && b > 0.0
        {
            dm.push(-2.5 * (b / a).log10());
        }
        let Some(j) = match_stars(std::slice::from_ref(st), &outs, *r)[0] else { continue };
        let o = &outs[j];
        if o.saturated {
            continue;
        }
        e_in.push(st.ellipticity as f64);
        e_out.push(o.ellipticity as f64);
        fw.push((o.fwhm / st.fwhm) as f64);
        let (ox, oy) = ((st.x + 0.5) * s as f32 - 0.5, (st.y + 0.5) * s as f32 - 0.5);
        if let Some(d) = ring_depth(lo.plane(0), lo.width, lo.height, ox, oy, st.fwhm * s as f32) {
            ring.push(d);
        }
    }
    let (mi, mo) = (median_finite(e_in), median_finite(e_out));
    StarFigures {
        ellipticity_ratio: if mi > 0.0 { mo / mi } else { f64::NAN },
        fwhm_ratio: median_finite(fw),
        dmag: median_finite(dm),
        ring: median_finite(ring),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elliptical Gaussian stars (σx, σy) at `scale`× on a 0.05 sky with a fixed texture.
    fn field(w: usize, scale: usize, sx: f32, sy: f32, dark: f32) -> Planes {
        let n = w * scale;
        let stars = [(20.0f32, 24.0f32), (50.0, 40.0), (30.0, 60.0), (70.0, 70.0), (75.0, 20.0)];
        let mut p = Planes::zeros(1, n, n);
        for y in 0..n {
            for x in 0..n {
                let (fx, fy) = ((x as f32 + 0.5) / scale as f32 - 0.5, (y as f32 + 0.5) / scale as f32 - 0.5);
                let mut v = 0.05 + 0.003 * (((x / scale) * 7 + (y / scale) * 13) % 11) as f32 / 11.0;
                for (cx, cy) in stars {
                    let (dx, dy) = (fx - cx, fy - cy);
                    v += 0.2 * (-(dx * dx / (2.0 * sx * sx) + dy * dy / (2.0 * sy * sy))).exp();
                    let d = (dx * dx + dy * dy).sqrt();
                    if (2.0..4.0).contains(&d) {
                        v -= dark;
                    }
                }
                p.data[y * n + x] = v;
            }
        }
        p
    }

    #[test]
    fn round_tight_stars_with_their_light_score_as_such() {
        let input = field(96, 1, 1.6, 1.0, 0.0);
        // Same stars drawn round and tighter (flux kept: σx σy equal) at 2×.
        let s = (1.6f32 * 1.0).sqrt() * 0.6;
        let round = field(96, 2, s, s, 0.0);
        let mut scaled = round.clone();
        // Keep the flux: amplitude × σ² must match 0.2 × 1.6 × 1.0 (the tight peak, 0.56, unsaturated).
        let k = 1.6 / (s * s);
        let sky = field(96, 2, 1e-3, 1e-3, 0.0);
        scaled.data.iter_mut().zip(&sky.data).for_each(|(v, b)| *v = b + (*v - b) * k);
        let f = star_figures(&input, &scaled);
        assert!(f.ellipticity_ratio < 0.5, "{f:?}");
        assert!(f.fwhm_ratio < 0.75, "{f:?}");
        assert!(f.dmag.abs() < 0.05, "{f:?}");
        assert!(f.ring < 0.5, "{f:?}");
        // The input against itself: ratio 1, no magnitude change; a dark ring is seen.
        let same = star_figures(&input, &input);
        assert!((same.ellipticity_ratio - 1.0).abs() < 1e-6 && same.dmag.abs() < 1e-6, "{same:?}");
        let ringed = star_figures(&input, &field(96, 1, 1.6, 1.0, 0.03));
        assert!(ringed.ring > 3.0, "{ringed:?}");
    }
}
