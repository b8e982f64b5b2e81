//! The smooth-field penalty: clean flat and linear-gradient inputs on which an upscaler must add
//! no texture, no sub-pixel grid and (for the families that keep colour) no value shift. These
//! are the checks every bundled model must pass (`weights::tests`), made a training term, so
//! `survey` and `real` learn them instead of failing them after training (issue #26).

use burn::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::pixel_shuffle::upsample_bicubic;

/// Smooth fields drawn per training step.
pub const SMOOTH_FIELDS: usize = 2;
/// LR side of each smooth field, in pixels.
pub const SMOOTH_FIELD_SIDE: usize = 32;

/// Weights of the smooth-field penalty (both 0: off, as in every run before issue #26).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SmoothFieldPenalty {
    /// Weight of the mean |Laplacian| of (output − bicubic): texture or a grid on a smooth input.
    pub texture: f64,
    /// Weight of the L1 distance between output and bicubic: a value or colour shift of the field.
    pub value: f64,
}

impl SmoothFieldPenalty {
    /// Whether either term is on.
    pub fn is_active(&self) -> bool {
        self.texture > 0.0 || self.value > 0.0
    }

    /// The penalty of `output`, the generator's upscale of `fields` by `scale`: both terms over the
    /// output less a `2·scale`-pixel border (the band zero padding reaches is bounded separately
    /// by the bundled-model tests).
    pub fn loss<B: Backend>(&self, fields: Tensor<B, 4>, output: Tensor<B, 4>, scale: usize) -> Tensor<B, 1> {
        let target = upsample_bicubic(fields, scale);
        let [n, c, h, w] = output.dims();
        let b = (2 * scale).min(h / 4).min(w / 4);
        let diff = (output - target).slice([0..n, 0..c, b..h - b, b..w - b]);
        let mut total = Tensor::zeros([1], &diff.device());
        if self.value > 0.0 {
            total = total + diff.clone().abs().mean() * self.value;
        }
        if self.texture > 0.0 {
            total = total + laplacian(diff).abs().mean() * self.texture;
        }
        total
    }
}

/// The 5-point Laplacian over the valid interior `[N, C, H − 2, W − 2]`: zero on any linear field.
pub fn laplacian<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let at = |dy: usize, dx: usize| x.clone().slice([0..n, 0..c, dy..h - 2 + dy, dx..w - 2 + dx]);
    at(1, 1) * 4.0 - at(0, 1) - at(2, 1) - at(1, 0) - at(1, 2)
}

/// Draw `count` smooth fields `[count, channels, side, side]` in [0, 1]: one in three flat, the
/// others linear ramps in a random direction spanning up to 0.4 across the field, each channel
/// with its own level (so colour is exercised too).
pub fn smooth_fields<B: Backend>(
    rng: &mut impl Rng,
    count: usize,
    channels: usize,
    side: usize,
    device: &B::Device,
) -> Tensor<B, 4> {
    let mut data = Vec::with_capacity(count * channels * side * side);
    for _ in 0..count {
        let amplitude = if rng.random_range(0..3) == 0 { 0.0 } else { rng.random_range(0.05..0.4f32) };
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        let (gx, gy) = (amplitude * angle.cos(), amplitude * angle.sin());
        let half = 0.5 * (gx.abs() + gy.abs()) + 0.02;
        for _ in 0..channels {
            let level = rng.random_range(half..1.0 - half);
            for y in 0..side {
                for x in 0..side {
                    let (u, v) = ((x as f32 + 0.5) / side as f32 - 0.5, (y as f32 + 0.5) / side as f32 - 0.5);
                    data.push(level + gx * u + gy * v);
                }
            }
        }
    }
    Tensor::<B, 1>::from_floats(data.as_slice(), device).reshape([count, channels, side, side])
}

#[cfg(test)]
mod tests {
    use super::super::tests::scalar;
    use super::*;
    use burn::backend::Flex;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    type B = Flex;

    #[test]
    fn fields_are_flat_or_linear_and_inside_the_unit_range() {
        let d = Default::default();
        let f = smooth_fields::<B>(&mut ChaCha8Rng::seed_from_u64(3), 12, 3, 32, &d);
        let v: Vec<f32> = f.clone().into_data().to_vec().unwrap();
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)), "a field leaves [0, 1]");
        // Linear: the Laplacian vanishes (to float rounding).
        let lap: Vec<f32> = laplacian(f.clone()).abs().into_data().to_vec().unwrap();
        assert!(lap.iter().all(|x| *x < 1e-5), "a field is not linear");
        // Both kinds are drawn: flat fields (every channel constant) and ramps with a real slope.
        let slopes: Vec<f32> = (0..12)
            .map(|i| {
                (0..3)
                    .map(|c| {
                        let one = f.clone().narrow(0, i, 1).narrow(1, c, 1);
                        one.clone().max().into_scalar() - one.min().into_scalar()
                    })
                    .fold(0.0, f32::max)
            })
            .collect();
        assert!(slopes.iter().any(|s| *s < 1e-6), "no flat field: {slopes:?}");
        assert!(slopes.iter().any(|s| *s > 0.04), "no ramp: {slopes:?}");
    }

    #[test]
    fn penalty_is_zero_for_bicubic_and_sees_a_shift_and_a_grid() {
        let d = Default::default();
        let fields = smooth_fields::<B>(&mut ChaCha8Rng::seed_from_u64(5), 2, 3, 32, &d);
        let bicubic = upsample_bicubic(fields.clone(), 4);
        let both = SmoothFieldPenalty { texture: 1.0, value: 1.0 };
        assert!(scalar(both.loss(fields.clone(), bicubic.clone(), 4)) < 1e-5, "bicubic itself is penalised");
        // A value shift of 2/255: the value term sees it, the texture term does not.
        let shifted = bicubic.clone() + 2.0 / 255.0;
        let value = SmoothFieldPenalty { texture: 0.0, value: 1.0 };
        let texture = SmoothFieldPenalty { texture: 1.0, value: 0.0 };
        assert!((scalar(value.loss(fields.clone(), shifted.clone(), 4)) - 2.0 / 255.0).abs() < 1e-5);
        assert!(scalar(texture.loss(fields.clone(), shifted, 4)) < 1e-5);
        // A sub-pixel grid (every 4th column brighter by 1/255): the texture term sees it.
        let [n, c, h, w] = bicubic.dims();
        let grid: Vec<f32> = (0..n * c * h * w).map(|i| if i % w % 4 == 0 { 1.0 / 255.0 } else { 0.0 }).collect();
        let gridded = bicubic + Tensor::<B, 1>::from_floats(grid.as_slice(), &d).reshape([n, c, h, w]);
        assert!(scalar(texture.loss(fields, gridded, 4)) > 0.5 / 255.0);
    }
}
