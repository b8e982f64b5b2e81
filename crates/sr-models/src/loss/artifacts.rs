//! LDL's artefact loss (Liang, Zeng and Zhang, "Details or Artifacts", CVPR 2022; BasicSR's
//! `get_refined_artifact_map`): in the adversarial phase, pull the generator back towards the
//! truth where its residual has a high local variance (GAN artefacts are noisy residuals) and the
//! EMA model is closer to the truth than the current output (so real detail the EMA also draws is
//! left alone).

use burn::prelude::*;
use burn::tensor::module::avg_pool2d;

/// Window side of the local residual variance (BasicSR: 7).
pub const ARTIFACT_WINDOW: usize = 7;

/// The refined artefact map `[N, 1, H, W]` (detached): patch-level weight var(r)^(1/5) times the
/// local (7×7) variance of the residual r = Σ_c |hr − output|, zero where the EMA output's residual
/// is larger than the output's. BasicSR uses unbiased variances and a reflect-padded window; this
/// uses unbiased variances and a window clipped at the border (zero padding excluded from the mean).
pub fn artifact_map<B: Backend>(hr: Tensor<B, 4>, output: Tensor<B, 4>, ema_output: Tensor<B, 4>) -> Tensor<B, 4> {
    let r_sr = (hr.clone() - output).abs().sum_dim(1).detach();
    let r_ema = (hr - ema_output).abs().sum_dim(1).detach();
    let [n, _, h, w] = r_sr.dims();
    let count = (h * w) as f64;
    let mean = r_sr.clone().mean_dim(2).mean_dim(3);
    let centred = r_sr.clone() - mean;
    let patch_var = centred.powi_scalar(2).sum_dim(2).sum_dim(3) / (count - 1.0).max(1.0);
    let patch_weight = patch_var.powf_scalar(0.2).reshape([n, 1, 1, 1]);
    let k = ARTIFACT_WINDOW;
    let pool = |t: Tensor<B, 4>| avg_pool2d(t, [k, k], [1, 1], [k / 2, k / 2], false, false);
    let m1 = pool(r_sr.clone());
    let m2 = pool(r_sr.clone() * r_sr.clone());
    let taps = (k * k) as f64;
    let local_var = (m2 - m1.clone() * m1).clamp_min(0.0) * (taps / (taps - 1.0));
    let keep = r_sr.greater_equal(r_ema).float();
    (local_var * patch_weight * keep).detach()
}

/// The artefact loss: mean |map · (output − hr)| (BasicSR's L1 of the map-weighted images).
pub fn artifact_loss<B: Backend>(hr: Tensor<B, 4>, output: Tensor<B, 4>, ema_output: Tensor<B, 4>) -> Tensor<B, 1> {
    let map = artifact_map(hr.clone(), output.clone(), ema_output);
    ((output - hr) * map).abs().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    type B = Flex;

    #[test]
    fn the_map_marks_noisy_residuals_the_ema_avoided_and_nothing_else() {
        let d = Default::default();
        let hr = Tensor::<B, 4>::random([1, 3, 32, 32], Distribution::Uniform(0.2, 0.8), &d);
        // The output has a noisy artefact in the left half and a smooth offset in the right half.
        let noise = Tensor::<B, 4>::random([1, 3, 32, 16], Distribution::Uniform(-0.1, 0.1), &d);
        let artefact = Tensor::cat(vec![noise, Tensor::zeros([1, 3, 32, 16], &d) + 0.05], 3);
        let output = hr.clone() + artefact;
        // The EMA model is right everywhere: its residual is smaller wherever the output errs.
        let ema = hr.clone();
        let map: Vec<f32> = artifact_map(hr.clone(), output.clone(), ema).into_data().to_vec().unwrap();
        let mean_over = |x0: usize, x1: usize| {
            let mut s = 0.0;
            for y in 4..28 {
                for x in x0..x1 {
                    s += map[y * 32 + x];
                }
            }
            s / (24 * (x1 - x0)) as f32
        };
        let (noisy, smooth) = (mean_over(2, 12), mean_over(20, 30));
        assert!(noisy > 20.0 * smooth.max(1e-9), "noisy {noisy} vs smooth {smooth}");
        // Where the EMA output is worse than the output (detail the EMA also misses), no weight.
        let worse_ema = hr.clone() + 0.5;
        let map: Vec<f32> = artifact_map(hr.clone(), output.clone(), worse_ema).into_data().to_vec().unwrap();
        assert!(map.iter().all(|v| *v == 0.0));
        // The loss vanishes when the output is the truth.
        let zero = artifact_loss(hr.clone(), hr.clone(), output).into_scalar();
        assert!(zero.abs() < 1e-9);
    }
}
