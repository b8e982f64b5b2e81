//! Unsharp-mask post-processing of a stacked image (not part of the stack itself).

use astro_image::Planes;

use crate::error::{FrameError, Result};
use crate::pixels::{gaussian_kernel, separable_into};

/// Largest unsharp-mask σ (pixels) accepted by [`check_unsharp`]; the kernel is `6σ + 1` taps.
pub const MAX_SHARPEN_SIGMA: f32 = 200.0;

/// Check unsharp-mask parameters before anything is allocated: a finite amount ≥ 0 and a finite
/// σ in (0, [`MAX_SHARPEN_SIGMA`]].
pub fn check_unsharp(sigma: f32, amount: f32) -> Result<()> {
    if !(amount.is_finite() && amount >= 0.0) {
        return Err(FrameError::Invalid(format!("--sharpen {amount}: expected a finite amount >= 0")));
    }
    if !(sigma.is_finite() && sigma > 0.0 && sigma <= MAX_SHARPEN_SIGMA) {
        return Err(FrameError::Invalid(format!(
            "--sharpen-sigma {sigma}: expected a finite radius in (0, {MAX_SHARPEN_SIGMA}] pixels"
        )));
    }
    Ok(())
}

/// Unsharp mask (post-processing, not part of the stack): `out = img + amount · (img − blur_σ(img))`, clamped to [0, 1].
///
/// The kernel never exceeds `2·max(width, height) + 1` taps whatever σ is (a wider one cannot
/// change the result more and once asked for 24 GB); callers validate with [`check_unsharp`].
pub fn unsharp_mask(img: &Planes, sigma: f32, amount: f32) -> Planes {
    let sigma = if sigma.is_finite() { sigma.max(0.1) } else { 0.1 };
    let cap = 2 * img.width.max(img.height) + 1;
    let half = ((sigma as f64 * 3.0).ceil()).min(cap as f64) as usize;
    let size = (half * 2 + 1).clamp(3, cap.max(3));
    let k = gaussian_kernel(size, sigma);
    let mut out = img.clone();
    let (mut tmp, mut blur) = (Vec::new(), Vec::new());
    for c in 0..img.channels {
        separable_into(img.plane(c), img.width, img.height, &k, &mut tmp, &mut blur);
        for (o, (&v, &b)) in out.plane_mut(c).iter_mut().zip(img.plane(c).iter().zip(&blur)) {
            *o = (v + amount * (v - b)).clamp(0.0, 1.0);
        }
    }
    out
}
