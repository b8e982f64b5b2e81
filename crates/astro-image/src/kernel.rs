//! Gaussian kernels, the one home of the formula: SSIM's 11-tap window, the frame-quality band
//! filters and unsharp masks, and the 2-D blur of the degradations are all built from
//! [`gaussian_1d`].

/// Normalised 1-D Gaussian of `size` taps centred at `(size − 1)/2`, standard deviation `sigma` taps.
pub fn gaussian_1d(size: usize, sigma: f64) -> Vec<f64> {
    let c = (size as f64 - 1.0) / 2.0;
    let k: Vec<f64> = (0..size).map(|i| (-((i as f64 - c).powi(2)) / (2.0 * sigma * sigma)).exp()).collect();
    let s: f64 = k.iter().sum();
    k.into_iter().map(|v| v / s).collect()
}

/// OpenCV's default σ for a Gaussian of `size` taps (`getGaussianKernel` with σ ≤ 0).
pub fn opencv_sigma(size: usize) -> f64 {
    0.3 * ((size as f64 - 1.0) * 0.5 - 1.0) + 0.8
}

/// Normalised 2-D Gaussian of `size × size` taps (row-major): the outer product of [`gaussian_1d`].
pub fn gaussian_2d(size: usize, sigma: f64) -> Vec<f64> {
    let k = gaussian_1d(size, sigma);
    k.iter().flat_map(|a| k.iter().map(move |b| a * b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_normalised_symmetric_and_match_the_formula() {
        let k = gaussian_1d(7, 1.0);
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((k[0] - k[6]).abs() < 1e-15 && k[3] > k[2]);
        // Ratio of neighbouring taps is exp(-(2i+1)/(2σ²)).
        assert!((k[3] / k[4] - (0.5f64).exp()).abs() < 1e-12);
        assert!((opencv_sigma(7) - 1.4).abs() < 1e-12);
        let k2 = gaussian_2d(5, 0.8);
        assert!((k2.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let g = |x: f64, y: f64| (-(x * x + y * y) / (2.0 * 0.64)).exp();
        assert!((k2[0] / k2[12] - g(2.0, 2.0)).abs() < 1e-12, "2-D taps are exp(-r²/2σ²) relative to the centre");
    }
}
