//! Training data for the learned rankers: disc-centred, brightness-normalised patches of each frame,
//! teacher labels, and the hand-made features of the linear models.

use serde::{Deserialize, Serialize};

use crate::pixels::ImageView;
use crate::pixels::Scratch;
use crate::ranking::metrics::detect_disc_binned;

/// How a frame becomes a fixed-size patch: a square around the planet disc, resampled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PatchConfig {
    /// Output side in pixels.
    pub size: usize,
    /// Crop side as a multiple of the disc radius (2.4 = the disc plus a thin margin).
    pub crop_radii: f32,
}

impl Default for PatchConfig {
    fn default() -> Self {
        PatchConfig { size: 32, crop_radii: 2.4 }
    }
}

/// Extract the disc-centred patch of a mono frame (`size × size`, divided by its mean so it is
/// blind to brightness). Frames without a disc use a centred square of the frame; black frames give zeros.
pub fn disc_patch(img: ImageView<'_>, cfg: &PatchConfig, s: &mut Scratch) -> Vec<f32> {
    let (w, h) = (img.width as f32, img.height as f32);
    let (cx, cy, side) = match detect_disc_binned(img, s) {
        Some(d) => (d.cx, d.cy, (cfg.crop_radii * d.radius).clamp(8.0, w.min(h))),
        None => (w / 2.0, h / 2.0, w.min(h)),
    };
    let n = cfg.size.max(1);
    let step = side / n as f32;
    let k = (step.ceil() as usize).clamp(1, 4);
    let at = |x: f32, y: f32| -> f32 {
        let x = x.clamp(0.0, w - 1.0);
        let y = y.clamp(0.0, h - 1.0);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(img.width - 1), (y0 + 1).min(img.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let a = img.get(x0, y0) * (1.0 - fx) + img.get(x1, y0) * fx;
        let b = img.get(x0, y1) * (1.0 - fx) + img.get(x1, y1) * fx;
        a * (1.0 - fy) + b * fy
    };
    let (ox, oy) = (cx - side / 2.0, cy - side / 2.0);
    let mut out = vec![0f32; n * n];
    for j in 0..n {
        for i in 0..n {
            let mut acc = 0.0;
            for b in 0..k {
                for a in 0..k {
                    let x = ox + (i as f32 + (a as f32 + 0.5) / k as f32) * step - 0.5;
                    let y = oy + (j as f32 + (b as f32 + 0.5) / k as f32) * step - 0.5;
                    acc += at(x, y);
                }
            }
            out[j * n + i] = acc / (k * k) as f32;
        }
    }
    let mean = out.iter().sum::<f32>() / out.len() as f32;
    if mean > 1e-6 && mean.is_finite() {
        out.iter_mut().for_each(|v| *v /= mean);
    } else {
        out.iter_mut().for_each(|v| *v = 0.0);
    }
    out
}

/// Features of the linear models: the patch pixels followed by its squared-gradient map
/// (`dx² + dy²` per pixel), so a linear model can express gradient energy.
pub fn linear_features(patch: &[f32], size: usize) -> Vec<f32> {
    let mut f = Vec::with_capacity(2 * size * size);
    f.extend_from_slice(patch);
    for y in 0..size {
        for x in 0..size {
            let v = patch[y * size + x];
            let dx = if x + 1 < size { patch[y * size + x + 1] - v } else { 0.0 };
            let dy = if y + 1 < size { patch[(y + 1) * size + x] - v } else { 0.0 };
            f.push(dx * dx + dy * dy);
        }
    }
    f
}

/// 4-neighbour Laplacian (high-pass) of a patch, zero on the border.
pub fn high_pass(patch: &[f32], size: usize) -> Vec<f32> {
    let mut out = vec![0f32; size * size];
    for y in 1..size.saturating_sub(1) {
        for x in 1..size - 1 {
            let i = y * size + x;
            out[i] = 4.0 * patch[i] - patch[i - 1] - patch[i + 1] - patch[i - size] - patch[i + size];
        }
    }
    out
}

/// Normalised cross-correlation of two equally long vectors (0 when either is constant).
pub fn ncc(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len()).max(1) as f32;
    let ma = a.iter().sum::<f32>() / n;
    let mb = b.iter().sum::<f32>() / n;
    let (mut sab, mut saa, mut sbb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x - ma, y - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if saa <= 0.0 || sbb <= 0.0 { 0.0 } else { sab / (saa * sbb).sqrt() }
}

/// Label the top `fraction` of frames by teacher score 1 and the bottom `fraction` 0; returns (index, label) pairs.
pub fn top_bottom_labels(teacher: &[f32], fraction: f32) -> Vec<(usize, u8)> {
    let order = crate::ranking::rank::order_best_first(teacher);
    let k = ((fraction.clamp(0.01, 0.5) * teacher.len() as f32).round() as usize).max(1).min(teacher.len() / 2);
    let mut out: Vec<(usize, u8)> = order[..k].iter().map(|&i| (i, 1)).collect();
    out.extend(order[order.len() - k..].iter().map(|&i| (i, 0)));
    out
}

/// The 8 flips/rotations of a square patch (sharpness does not depend on orientation), by index 0–7
/// (`astro_image::dihedral`).
pub fn dihedral(patch: &[f32], size: usize, t: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(size * size);
    astro_image::dihedral::dihedral_into(patch, size, size, t, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_is_centred_on_the_disc_and_brightness_blind() {
        let (w, h) = (120, 100);
        let make = |gain: f32, cx: f32| -> Vec<f32> {
            (0..w * h)
                .map(|i| {
                    let (x, y) = ((i % w) as f32, (i / w) as f32);
                    let r = ((x - cx).powi(2) + (y - 50.0).powi(2)).sqrt();
                    if r < 20.0 { gain * (0.5 + 0.3 * (x * 0.5).sin()) } else { 0.0 }
                })
                .collect()
        };
        let cfg = PatchConfig { size: 16, crop_radii: 2.4 };
        let mut s = Scratch::default();
        let a = disc_patch(ImageView::new(&make(1.0, 40.0), w, h), &cfg, &mut s);
        let b = disc_patch(ImageView::new(&make(0.5, 40.0), w, h), &cfg, &mut s);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-3);
        }
        // Centre of the patch is on the disc, corners are sky.
        assert!(a[8 * 16 + 8] > 0.5 && a[0] == 0.0);
        assert!(disc_patch(ImageView::new(&vec![0.0; w * h], w, h), &cfg, &mut s).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn labels_and_dihedral() {
        let l = top_bottom_labels(&[0.1, 0.9, 0.5, 0.3], 0.25);
        assert_eq!(l, vec![(1, 1), (0, 0)]);
        let p: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let mut seen = std::collections::HashSet::new();
        for t in 0..8 {
            let d = dihedral(&p, 3, t);
            assert_eq!(d[4], 4.0);
            seen.insert(d.iter().map(|v| *v as i32).collect::<Vec<_>>());
        }
        assert_eq!(seen.len(), 8);
    }
}
