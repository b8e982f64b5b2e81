//! How `prettify` treats *real* survey images, where no ground truth exists: how much it changes
//! them, whether stars get sharper, whether every star is kept and none invented, and whether
//! colour survives — each measured at the input's resolution (the output is area-averaged
//! back to the input's pixels), for plain bicubic as the reference and for every model.

use astro_image::Planes;
use burn::prelude::*;
use dataset::stars::compare_stars;
use dataset::survey_look::chroma;

use crate::error::Result;
use crate::inference::{Tiling, bicubic_upscale, upscale_tiled};
use crate::model::{Generator, GeneratorConfig};
use crate::star_aware::{StarOptions, prettify_stars};
use crate::star_eval::{StarFigures, median_finite as median, star_figures};

/// The figures of one output of one real survey image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurveyFigures {
    /// Mean |output − input| in 8-bit levels, output downscaled to the input.
    pub mean_change: f64,
    /// Mean signed output − input (levels) over the input's faint pixels (luma in
    /// [`FAINT_LEVELS`]): below 0 the model dims faint halos and nebulosity (NaN without any).
    pub faint_change: f64,
    /// Stars in the input (5 σ).
    pub input_stars: usize,
    /// Input stars still there.
    pub kept: usize,
    /// Output sources with no input counterpart.
    pub invented: usize,
    /// Median output/input FWHM over kept, unsaturated stars (NaN without any).
    pub fwhm_ratio: f64,
    /// Output chroma over input chroma, per pixel (colour noise counts).
    pub chroma_ratio: f64,
    /// The same on 4×4-binned images: the colour of structures, not of the noise.
    pub chroma_ratio_binned: f64,
    /// Roundness, tightness, photometry and rings at the output's resolution.
    pub stars: StarFigures,
}

/// Input luma band (8-bit levels) of faint extended signal: above a black survey sky (≈ 2 levels)
/// and its noise, below the bright parts — where a model that subtracts a pedestal loses signal.
pub const FAINT_LEVELS: std::ops::Range<f32> = 10.0..40.0;

/// Mean over `k`×`k` blocks (the last partial row/column dropped; at least 1×1).
fn bin(p: &Planes, k: usize) -> Planes {
    let (w, h) = ((p.width / k).max(1), (p.height / k).max(1));
    let mut out = Planes::zeros(p.channels, h, w);
    let mut buf = Vec::new();
    for c in 0..p.channels {
        let (bw, bh) = astro_image::resize::bin_mean_into(p.plane(c), p.width, p.height, p.width, k, &mut buf);
        if bw * bh == w * h {
            out.plane_mut(c).copy_from_slice(&buf);
        }
    }
    out
}

/// Figures of `output` (any multiple of the input's size) against `input`.
pub fn survey_figures(input: &Planes, output: &Planes) -> SurveyFigures {
    let down = if (output.width, output.height) == (input.width, input.height) {
        output.clone()
    } else {
        // Area (2×2 box) averaging: what a detector with the input's pixels would record.
        astro_image::resize::imresize_with(
            output,
            input.width,
            input.height,
            astro_image::resize::ResizeKernel::Box,
            true,
        )
    };
    let (a, b) = (input.to_rgb(), down.to_rgb());
    let mean_change = a.data.iter().zip(&b.data).map(|(x, y)| (x - y.clamp(0.0, 1.0)).abs() as f64).sum::<f64>()
        / a.data.len() as f64
        * 255.0;
    let (la, lb) = (a.to_luma(), b.to_luma());
    let faint_change = mean_of(
        la.data
            .iter()
            .zip(&lb.data)
            .filter(|(x, _)| FAINT_LEVELS.contains(&(*x * 255.0)))
            .map(|(x, y)| (y.clamp(0.0, 1.0) - x) as f64 * 255.0),
    );
    let c = compare_stars(la.plane(0), lb.plane(0), input.width, input.height);
    let ratio = |a: &Planes, b: &Planes| {
        let (ca, cb) = (chroma(a), chroma(b));
        if ca > 1e-9 { cb / ca } else { 1.0 }
    };
    SurveyFigures {
        mean_change,
        faint_change,
        input_stars: c.input_stars,
        kept: c.kept,
        invented: c.invented,
        fwhm_ratio: c.fwhm_ratio as f64,
        chroma_ratio: ratio(&a, &b),
        chroma_ratio_binned: ratio(&bin(&a, 4), &bin(&b, 4)),
        stars: star_figures(input, output),
    }
}

/// A method's figures over a set of images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurveySummary {
    /// Images.
    pub images: usize,
    /// Mean of the per-image mean change (8-bit levels).
    pub mean_change: f64,
    /// Mean of the per-image faint-signal change (signed levels; images without faint pixels skipped).
    pub faint_change: f64,
    /// Median of the per-image FWHM ratios.
    pub fwhm_ratio: f64,
    /// Stars kept over all input stars.
    pub kept: f64,
    /// Invented sources per input star, pooled.
    pub invented_per_star: f64,
    /// Median chroma ratio.
    pub chroma_ratio: f64,
    /// Median chroma ratio on 4×4-binned images.
    pub chroma_ratio_binned: f64,
    /// Medians over images of the per-image star figures.
    pub stars: StarFigures,
}

/// Mean of the values (NaN without any).
fn mean_of(v: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// Pool the per-image figures of one method.
pub fn summarise(rows: &[SurveyFigures]) -> SurveySummary {
    let stars: usize = rows.iter().map(|r| r.input_stars).sum();
    SurveySummary {
        images: rows.len(),
        mean_change: rows.iter().map(|r| r.mean_change).sum::<f64>() / rows.len().max(1) as f64,
        faint_change: mean_of(rows.iter().map(|r| r.faint_change).filter(|v| v.is_finite())),
        fwhm_ratio: median(rows.iter().map(|r| r.fwhm_ratio).collect()),
        kept: rows.iter().map(|r| r.kept).sum::<usize>() as f64 / stars.max(1) as f64,
        invented_per_star: rows.iter().map(|r| r.invented).sum::<usize>() as f64 / stars.max(1) as f64,
        chroma_ratio: median(rows.iter().map(|r| r.chroma_ratio).collect()),
        chroma_ratio_binned: median(rows.iter().map(|r| r.chroma_ratio_binned).collect()),
        stars: StarFigures {
            ellipticity_ratio: median(rows.iter().map(|r| r.stars.ellipticity_ratio).collect()),
            fwhm_ratio: median(rows.iter().map(|r| r.stars.fwhm_ratio).collect()),
            dmag: median(rows.iter().map(|r| r.stars.dmag).collect()),
            ring: median(rows.iter().map(|r| r.stars.ring).collect()),
        },
    }
}

/// The goals: visibly changed (≥ 6 levels), sharper stars (FWHM ratio ≤ 0.85), ≥ 93 %
/// of stars kept, ≤ 5 % invented, colour not washed out (chroma ratio of structures, 4×4
/// binned, ≥ 0.9).
pub fn goals_met(s: &SurveySummary) -> [bool; 5] {
    [
        s.mean_change >= 6.0,
        s.fwhm_ratio <= 0.85,
        s.kept >= 0.93,
        s.invented_per_star <= 0.05,
        s.chroma_ratio_binned >= 0.9,
    ]
}

/// A markdown table: one row per method.
pub fn survey_table(names: &[String], summaries: &[SurveySummary]) -> String {
    let mut s = String::from(
        "| method | images | mean change (levels) | faint signal (signed levels) | FWHM ratio | stars kept | invented per star | chroma ratio (per pixel) | chroma ratio (4×4 binned) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let goal = "| goal | | ≥ 6 | — (< 0: dimmed) | ≤ 0.85 | ≥ 93 % | ≤ 5 % | — | ≥ 0.9 (not washed out) |\n";
    for (n, m) in names.iter().zip(summaries) {
        s.push_str(&format!(
            "| {n} | {} | {:.2} | {:+.2} | {:.3} | {:.1} % | {:.1} % | {:.2} | {:.2} |\n",
            m.images,
            m.mean_change,
            m.faint_change,
            m.fwhm_ratio,
            100.0 * m.kept,
            100.0 * m.invented_per_star,
            m.chroma_ratio,
            m.chroma_ratio_binned
        ));
    }
    s.push_str(goal);
    s.push_str("\nStars at the output's resolution (medians over images): ellipticity out/in (goal ≤ 0.8), FWHM out/in (≤ 0.6), Δmag (|·| ≤ 0.05), dark ring (levels, ≤ bicubic's)\n\n| method | ellipticity ratio | FWHM ratio (output res) | Δmag | dark ring (levels) |\n|---|---|---|---|---|\n");
    for (n, m) in names.iter().zip(summaries) {
        let t = &m.stars;
        s.push_str(&format!(
            "| {n} | {:.3} | {:.3} | {:+.3} | {:.2} |\n",
            t.ellipticity_ratio, t.fwhm_ratio, t.dmag, t.ring
        ));
    }
    s
}

/// Bicubic and each model's output for one real survey image, tiled as `prettify --classic` runs
/// it (with `tiling`'s finish), then with `star_aware` each model inside the star-aware pipeline.
pub fn survey_outputs<B: Backend>(
    input: &Planes,
    models: &[(&GeneratorConfig, &Generator<B>)],
    tiling: Tiling,
    star_aware: Option<StarOptions>,
    device: &B::Device,
) -> Result<Vec<Planes>> {
    let scale = models.first().map_or(2, |m| m.0.scale());
    let mut out = vec![bicubic_upscale(input, input.width * scale, input.height * scale)];
    for (c, m) in models {
        out.push(upscale_tiled(*m, c, input, tiling, device, &mut |_, _| {})?);
    }
    if let Some(stars) = star_aware {
        for (c, m) in models {
            let r = prettify_stars(input, (*c, *m), None, false, tiling, stars, None, device, &mut |_, _| {})?;
            out.push(r.image);
        }
    }
    Ok(out)
}

/// A gallery row: input (nearest-enlarged) | bicubic | each model, on the input's most detailed
/// window of up to 160 px, each panel enlarged 2× on screen (the input 2× more).
pub fn survey_gallery_row(input: &Planes, outputs: &[Planes]) -> Result<Planes> {
    let scale = outputs.first().map_or(1, |o| o.width / input.width.max(1)).max(1);
    let side = 160.min(input.width).min(input.height);
    let (x, y) = crate::gallery::detail_window(input, side);
    let lr = input.crop(x, y, side, side)?;
    let mut panels = vec![astro_image::resize::imresize_with(
        &lr,
        side * scale,
        side * scale,
        astro_image::resize::ResizeKernel::Box,
        false,
    )];
    for o in outputs {
        panels.push(o.crop(x * scale, y * scale, side * scale, side * scale)?);
    }
    Ok(crate::gallery::side_by_side(&panels, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(w: usize, fwhm: f32, stars: &[(f32, f32)], sky: f32) -> Planes {
        let s2 = (fwhm / 2.3548).powi(2);
        let mut p = Planes::zeros(3, w, w);
        for c in 0..3 {
            for y in 0..w {
                for x in 0..w {
                    let mut v = sky;
                    for &(sx, sy) in stars {
                        v += 0.5 * (-((x as f32 - sx).powi(2) + (y as f32 - sy).powi(2)) / (2.0 * s2)).exp();
                    }
                    // Deterministic faint texture so the noise estimate is not zero.
                    v += 0.004 * (((x * 7 + y * 13 + c * 3) % 11) as f32 / 11.0 - 0.5);
                    p.plane_mut(c)[y * w + x] = v * [1.0, 0.8, 0.6][c];
                }
            }
        }
        p
    }

    #[test]
    fn bicubic_changes_little_and_sharper_stars_show() {
        let stars = [(20.0, 20.0), (40.0, 50.0), (70.0, 30.0), (80.0, 80.0)];
        let input = field(96, 4.0, &stars, 0.05);
        let bic = bicubic_upscale(&input, 192, 192);
        let f = survey_figures(&input, &bic);
        assert!(f.mean_change < 1.0, "{f:?}");
        // The 0.05 sky (≈ 11 levels of luma) is faint signal: bicubic keeps it.
        assert!(f.faint_change.abs() < 1.0, "{f:?}");
        assert_eq!((f.input_stars, f.kept, f.invented), (4, 4, 0), "{f:?}");
        assert!(f.fwhm_ratio > 0.9 && f.fwhm_ratio < 1.1, "{f:?}");
        // A "model" with sharper stars on a darker sky: changed, sharper, nothing lost or invented.
        let sharper = bicubic_upscale(&field(96, 2.5, &stars, 0.0), 192, 192);
        let g = survey_figures(&input, &sharper);
        assert!(g.mean_change > 6.0, "{g:?}");
        assert!(g.faint_change < -5.0, "the darker sky is faint signal lost: {g:?}");
        assert!(g.fwhm_ratio < 0.85, "{g:?}");
        assert_eq!((g.kept, g.invented), (4, 0), "{g:?}");
        let s = summarise(&[f, g]);
        assert_eq!(s.images, 2);
        assert!((s.kept - 1.0).abs() < 1e-12);
        assert!(survey_table(&["bicubic".into()], &[s]).contains("| bicubic | 2 |"));
    }
}
