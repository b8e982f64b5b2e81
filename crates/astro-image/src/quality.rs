//! Image quality against a reference, in one home: PSNR and SSIM as the SR papers compute them —
//! on the Y channel (ITU-R BT.601, [16, 235]) with `scale` pixels cropped at each border — and on
//! plain arrays (frame stacks against their truth). SSIM per Wang et al. 2004 (11×11 Gaussian
//! window, σ = 1.5, K1 = 0.01, K2 = 0.03, mean over the valid region, i.e. every window that
//! fits inside the image).

use crate::Planes;
use crate::error::{ImageError, Result};
use crate::kernel::gaussian_1d;

/// Luma in [0, 255] units: `16 + 65.481 R + 128.553 G + 24.966 B` for RGB in [0, 1]; grey images use `255·v`.
pub fn y_channel(img: &Planes) -> Vec<f64> {
    if img.channels == 1 {
        return img.data.iter().map(|&v| 255.0 * v.clamp(0.0, 1.0) as f64).collect();
    }
    let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
    (0..img.pixels())
        .map(|i| {
            let q = |v: f32| (v.clamp(0.0, 1.0) as f64 * 255.0).round() / 255.0;
            16.0 + 65.481 * q(r[i]) + 128.553 * q(g[i]) + 24.966 * q(b[i])
        })
        .collect()
}

/// The Y channels of two same-size images with `border` pixels removed at each side, and the remaining size.
fn cropped_y(a: &Planes, b: &Planes, border: usize) -> Result<(Vec<f64>, Vec<f64>, usize, usize)> {
    if a.width != b.width || a.height != b.height {
        return Err(ImageError::Shape(format!(
            "metric: image sizes differ: {}x{} vs {}x{}",
            a.width, a.height, b.width, b.height
        )));
    }
    if a.width <= 2 * border || a.height <= 2 * border {
        return Err(ImageError::Shape(format!(
            "metric: {}x{} image is too small for a {border}-pixel border crop",
            a.width, a.height
        )));
    }
    let (ya, yb) = (y_channel(a), y_channel(b));
    let (w, h) = (a.width - 2 * border, a.height - 2 * border);
    let crop = |y: &[f64]| {
        let mut out = Vec::with_capacity(w * h);
        for row in border..border + h {
            out.extend_from_slice(&y[row * a.width + border..row * a.width + border + w]);
        }
        out
    };
    Ok((crop(&ya), crop(&yb), w, h))
}

/// PSNR (dB) on Y with a `border`-pixel crop; `f64::INFINITY` for identical images.
pub fn psnr_y(output: &Planes, reference: &Planes, border: usize) -> Result<f64> {
    let (a, b, _, _) = cropped_y(output, reference, border)?;
    let mse = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64;
    Ok(if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() })
}

/// "Valid" separable filtering of a `w`×`h` image with kernel `k` (output `(w-k+1)`×`(h-k+1)`).
fn filter_valid(img: &[f64], w: usize, h: usize, k: &[f64]) -> Vec<f64> {
    let n = k.len();
    let (ow, oh) = (w + 1 - n, h + 1 - n);
    let mut tmp = vec![0.0; ow * h];
    for y in 0..h {
        for x in 0..ow {
            tmp[y * ow + x] = (0..n).map(|i| k[i] * img[y * w + x + i]).sum();
        }
    }
    let mut out = vec![0.0; ow * oh];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..n).map(|i| k[i] * tmp[(y + i) * ow + x]).sum();
        }
    }
    out
}

/// SSIM of two luma arrays (values in [0, 255]) per Wang 2004, mean over the valid region.
pub fn ssim_plane(a: &[f64], b: &[f64], w: usize, h: usize) -> f64 {
    ssim_range(a, b, w, h, 255.0)
}

/// SSIM of two `w × h` mono images with dynamic range `range` (Wang 2004, mean over the valid region).
pub fn ssim_range(a: &[f64], b: &[f64], w: usize, h: usize, range: f64) -> f64 {
    let k = gaussian_1d(11, 1.5);
    if w < 11 || h < 11 {
        // Too small for the window: one global window (degenerate but defined).
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let va = a.iter().map(|x| (x - ma).powi(2)).sum::<f64>() / n;
        let vb = b.iter().map(|x| (x - mb).powi(2)).sum::<f64>() / n;
        let cov = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / n;
        return ssim_formula(ma, mb, va, vb, cov, range);
    }
    let mu_a = filter_valid(a, w, h, &k);
    let mu_b = filter_valid(b, w, h, &k);
    let prod = |p: &[f64], q: &[f64]| p.iter().zip(q).map(|(x, y)| x * y).collect::<Vec<_>>();
    let s_aa = filter_valid(&prod(a, a), w, h, &k);
    let s_bb = filter_valid(&prod(b, b), w, h, &k);
    let s_ab = filter_valid(&prod(a, b), w, h, &k);
    let n = mu_a.len();
    (0..n)
        .map(|i| {
            let (ma, mb) = (mu_a[i], mu_b[i]);
            ssim_formula(ma, mb, s_aa[i] - ma * ma, s_bb[i] - mb * mb, s_ab[i] - ma * mb, range)
        })
        .sum::<f64>()
        / n as f64
}

fn ssim_formula(ma: f64, mb: f64, va: f64, vb: f64, cov: f64, range: f64) -> f64 {
    let c1 = (0.01 * range).powi(2);
    let c2 = (0.03 * range).powi(2);
    ((2.0 * ma * mb + c1) * (2.0 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
}

/// SSIM on Y with a `border`-pixel crop.
pub fn ssim_y(output: &Planes, reference: &Planes, border: usize) -> Result<f64> {
    let (a, b, w, h) = cropped_y(output, reference, border)?;
    Ok(ssim_plane(&a, &b, w, h))
}

/// PSNR (dB) of two signals in [0, `peak`]; `f64::INFINITY` when they are equal.
pub fn psnr(a: &[f32], b: &[f32], peak: f32) -> f64 {
    let n = a.len().min(b.len());
    let mse = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>() / n.max(1) as f64;
    if mse <= 0.0 { f64::INFINITY } else { 10.0 * ((peak as f64).powi(2) / mse).log10() }
}

/// Mean SSIM of two `w × h` mono `f32` images with dynamic range `range` (see [`ssim_range`]).
pub fn ssim(a: &[f32], b: &[f32], w: usize, h: usize, range: f32) -> f64 {
    let wide = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    ssim_range(&wide(a), &wide(b), w, h, range as f64)
}

/// PSNR and SSIM on Y together, as reported in model cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quality {
    /// PSNR in dB.
    pub psnr: f64,
    /// SSIM in [−1, 1].
    pub ssim: f64,
}

/// Both figures on Y with a `border`-pixel crop.
pub fn quality_y(output: &Planes, reference: &Planes, border: usize) -> Result<Quality> {
    Ok(Quality { psnr: psnr_y(output, reference, border)?, ssim: ssim_y(output, reference, border)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(v: [f32; 3], w: usize, h: usize) -> Planes {
        let mut data = Vec::new();
        for c in v {
            data.extend(std::iter::repeat_n(c, w * h));
        }
        Planes::from_vec(3, h, w, data).unwrap()
    }

    #[test]
    fn y_channel_matches_bt601_endpoints() {
        let y = y_channel(&constant([0.0, 0.0, 0.0], 1, 1));
        assert!((y[0] - 16.0).abs() < 1e-9);
        let y = y_channel(&constant([1.0, 1.0, 1.0], 1, 1));
        assert!((y[0] - 235.0).abs() < 1e-9);
    }

    #[test]
    fn psnr_of_a_uniform_offset_is_hand_computable() {
        // 51/255 = 0.2 exactly representable after 8-bit rounding; Y difference = 0.2 · 219 = 43.8.
        let a = constant([0.2, 0.2, 0.2], 20, 20);
        let b = constant([0.4, 0.4, 0.4], 20, 20);
        let expected = 10.0 * (255.0f64.powi(2) / 43.8f64.powi(2)).log10(); // 15.302 dB
        let got = psnr_y(&a, &b, 4).unwrap();
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        assert!((got - 15.3017).abs() < 1e-3);
    }

    #[test]
    fn border_crop_ignores_edge_differences() {
        let a = constant([0.5, 0.5, 0.5], 16, 16);
        let mut b = a.clone();
        for c in 0..3 {
            b.plane_mut(c)[0] = 1.0; // corner pixel
            b.plane_mut(c)[16 * 8 + 15] = 0.0; // right edge
        }
        assert_eq!(psnr_y(&a, &b, 1).unwrap(), f64::INFINITY);
        assert!(psnr_y(&a, &b, 0).unwrap().is_finite());
        assert!(psnr_y(&a, &b, 8).is_err(), "a crop that leaves nothing is an error");
    }

    #[test]
    fn ssim_of_constant_images_matches_the_closed_form() {
        // Zero variance: SSIM = (2ab + C1) / (a² + b² + C1).
        let a = constant([0.2, 0.2, 0.2], 24, 24);
        let b = constant([0.4, 0.4, 0.4], 24, 24);
        let (ya, yb) = (16.0 + 0.2 * 219.0, 16.0 + 0.4 * 219.0);
        let c1 = (0.01f64 * 255.0).powi(2);
        let expected = (2.0 * ya * yb + c1) / (ya * ya + yb * yb + c1);
        let got = ssim_y(&a, &b, 2).unwrap();
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        assert!((ssim_y(&a, &a, 2).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ssim_drops_with_noise_and_gaussian_is_normalised() {
        let k = gaussian_1d(11, 1.5);
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(k[5] > k[4] && (k[0] - k[10]).abs() < 1e-15);
        let mut a = Planes::zeros(3, 32, 32);
        for (i, v) in a.data.iter_mut().enumerate() {
            *v = ((i * 7919) % 97) as f32 / 97.0;
        }
        let mut b = a.clone();
        for (i, v) in b.data.iter_mut().enumerate() {
            *v = (*v + if i % 2 == 0 { 0.1 } else { -0.1 }).clamp(0.0, 1.0);
        }
        let s = ssim_y(&a, &b, 0).unwrap();
        assert!(s < 0.99 && s > 0.0, "{s}");
    }
}
