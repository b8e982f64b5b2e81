//! Objective scores for rankers and stacks against simulated truth: Spearman ρ and top-k overlap
//! (from [`crate::ranking`]), PSNR and SSIM of stacks, the evaluation table.

use crate::ranking::{spearman, top_k_overlap};

/// PSNR and SSIM of a stack against its truth (one definition: `astro_image::quality`).
pub use astro_image::quality::{psnr, ssim};

/// Least-squares gain `g` minimising `|g·a − b|²` (to compare a stack with the truth photometrically).
pub fn fit_gain(a: &[f32], b: &[f32]) -> f32 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64) * (*y as f64)).sum();
    let den: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum();
    if den > 0.0 { (num / den) as f32 } else { 1.0 }
}

/// One row of the evaluation table: how well a ranker's order matches the truth, and how good its stack is.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalRow {
    /// Metric or ranker name.
    pub name: String,
    /// Spearman ρ of the scores against the per-frame Strehl ratio (0 for cut discs).
    pub spearman_strehl: f64,
    /// Spearman ρ against the per-frame SSIM to the diffraction-limited image.
    pub spearman_ssim: f64,
    /// Overlap of the ranker's top N% with the truth's (Strehl) top N%.
    pub top_overlap: f64,
    /// PSNR (dB) of the stack of the ranker's top N% against the truth image.
    pub stack_psnr: f64,
    /// SSIM of that stack against the truth image.
    pub stack_ssim: f64,
    /// Scoring speed on this input, frames per second (0 when not measured).
    pub frames_per_s: f64,
}

/// Compare a stack with the truth image: align by phase correlation, fit a gain, and return
/// (PSNR, SSIM) over the frame minus a border of `border` pixels.
pub fn compare_stack(stack: &[f32], truth: &[f32], w: usize, h: usize, border: usize) -> (f64, f64) {
    use astro_image::registration::{AlignScratch, PhaseCorrelator, shift_image};
    let pc = PhaseCorrelator::new(truth, w, h);
    let (dx, dy, _) = pc.shift_refined(stack, &mut AlignScratch::default());
    let mut moved = Vec::new();
    shift_image(stack, w, h, dx, dy, &mut moved);
    let (bw, bh) = (w - 2 * border, h - 2 * border);
    let crop = |img: &[f32]| -> Vec<f32> {
        (border..h - border).flat_map(|y| img[y * w + border..y * w + w - border].to_vec()).collect()
    };
    let (a, b) = (crop(&moved), crop(truth));
    let g = fit_gain(&a, &b);
    let a: Vec<f32> = a.iter().map(|v| v * g).collect();
    let peak = b.iter().fold(0f32, |m, &v| m.max(v)).max(1e-6);
    (psnr(&a, &b, peak), ssim(&a, &b, bw, bh, peak))
}

/// Evaluate one ranker's scores on a simulated video: rank agreement with the truth and the
/// quality of the stack of its top `top_percent` frames against the truth image.
pub fn evaluate_ranker(
    name: &str,
    scores: &[f32],
    truth: &[crate::simulation::sim::FrameTruth],
    source: &dyn crate::io::FrameSource,
    truth_image: &[f32],
    top_percent: f32,
    frames_per_s: f64,
) -> crate::error::Result<EvalRow> {
    use crate::ranking::Selection;
    use crate::stacking::{StackConfig, stack};
    if scores.len() != truth.len() || scores.len() != source.len() {
        return Err(crate::error::FrameError::Invalid(format!(
            "{name}: {} scores, {} truth rows, {} frames",
            scores.len(),
            truth.len(),
            source.len()
        )));
    }
    // Cut discs are useless however sharp: their truth is 0 (`FrameTruth::quality`).
    let strehl: Vec<f32> = truth.iter().map(|t| t.quality()).collect();
    let ssim_t: Vec<f32> = truth.iter().map(|t| if t.cut { 0.0 } else { t.ssim }).collect();
    let sel = Selection::Percent(top_percent);
    let k = sel.count(scores.len());
    let cfg = StackConfig { selection: sel, ..StackConfig::default() };
    let result = stack(source, scores, &cfg, &|_, _| {})?;
    let (w, h) = source.dims();
    let luma = if result.image.channels == 1 { result.image.data.clone() } else { result.image.to_luma().data };
    let (p, s) = compare_stack(&luma, truth_image, w, h, (w.min(h) / 16).max(1));
    Ok(EvalRow {
        name: name.to_string(),
        spearman_strehl: spearman(scores, &strehl),
        spearman_ssim: spearman(scores, &ssim_t),
        top_overlap: top_k_overlap(scores, &strehl, k),
        stack_psnr: p,
        stack_ssim: s,
        frames_per_s,
    })
}

/// Format rows as a Markdown table.
pub fn markdown_table(rows: &[EvalRow], top_percent: f32) -> String {
    let mut s = format!(
        "| ranker | ρ vs Strehl | ρ vs SSIM | top-{top_percent}% overlap | stack PSNR (dB) | stack SSIM | frames/s |\n|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.2} | {:.2} | {:.4} | {} |\n",
            r.name,
            r.spearman_strehl,
            r.spearman_ssim,
            r.top_overlap,
            r.stack_psnr,
            r.stack_ssim,
            if r.frames_per_s > 0.0 { format!("{:.0}", r.frames_per_s) } else { "–".into() }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssim_is_one_for_identical_and_drops_with_noise() {
        let (w, h) = (32, 32);
        let a: Vec<f32> = (0..w * h).map(|i| ((i % w) as f32 / w as f32) * ((i / w) as f32 / h as f32)).collect();
        assert!((ssim(&a, &a, w, h, 1.0) - 1.0).abs() < 1e-6);
        let b: Vec<f32> = a.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
        assert!(ssim(&a, &b, w, h, 1.0) < 0.5);
        assert!(psnr(&a, &b, 1.0) > 19.9 && psnr(&a, &b, 1.0) < 20.1);
    }
}
