//! Pixel-based linear rankers with linfa: least squares and ridge regression to a teacher score,
//! logistic regression on the teacher's top and bottom frames, and the reference-image model.

use linfa::prelude::*;
use linfa_linear::{LinearRegression, TweedieRegressor};
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::data::{PatchConfig, high_pass, linear_features, ncc, top_bottom_labels};
use crate::error::{FrameError, Result};

/// Per-feature standardisation (z-scores) learned from the training frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Feature means.
    pub mean: Vec<f32>,
    /// Feature standard deviations (1 for constant features).
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fit on rows of features.
    pub fn fit(rows: &[Vec<f32>]) -> Standardizer {
        let d = rows.first().map_or(0, |r| r.len());
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0f64; d];
        let mut sq = vec![0f64; d];
        for r in rows {
            for (j, &v) in r.iter().enumerate() {
                mean[j] += v as f64;
                sq[j] += (v as f64) * (v as f64);
            }
        }
        let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
        let std = sq.iter().zip(&mean).map(|(s, m)| ((s / n - m * m).max(0.0).sqrt()) as f32).collect::<Vec<_>>();
        Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std.into_iter().map(|s| if s > 1e-8 { s } else { 1.0 }).collect(),
        }
    }

    /// Standardise one row.
    pub fn apply(&self, row: &[f32]) -> Vec<f64> {
        row.iter().zip(self.mean.iter().zip(&self.std)).map(|(&v, (m, s))| ((v - m) / s) as f64).collect()
    }

    fn matrix(&self, rows: &[Vec<f32>]) -> Result<Array2<f64>> {
        let d = self.mean.len();
        let flat: Vec<f64> = rows.iter().flat_map(|r| self.apply(r)).collect();
        Array2::from_shape_vec((rows.len(), d), flat).map_err(|e| FrameError::Training(e.to_string()))
    }
}

/// A linear model over the hand-made linear features of the disc patch: `score = w · z(features) + b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearRanker {
    /// How frames become patches.
    pub patch: PatchConfig,
    /// Feature standardisation.
    pub scaler: Standardizer,
    /// Weights, one per feature.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
    /// L2 penalty used (`None` = ordinary least squares).
    pub ridge_alpha: Option<f64>,
}

fn z(v: &[f32]) -> Array1<f64> {
    let n = v.len().max(1) as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let s = (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n).sqrt().max(1e-12);
    v.iter().map(|&x| (x as f64 - m) / s).collect()
}

impl LinearRanker {
    /// Fit to teacher scores: least squares (`ridge_alpha = None`, needs more frames than features)
    /// or ridge regression (linfa's Tweedie regressor with power 0 = Normal, L2 penalty `alpha`).
    pub fn fit(patch: PatchConfig, patches: &[Vec<f32>], teacher: &[f32], ridge_alpha: Option<f64>) -> Result<Self> {
        let rows: Vec<Vec<f32>> = patches.iter().map(|p| linear_features(p, patch.size)).collect();
        let scaler = Standardizer::fit(&rows);
        let x = scaler.matrix(&rows)?;
        let y = z(teacher);
        let d = x.ncols();
        let (weights, bias) = match ridge_alpha {
            None => {
                if x.nrows() <= d {
                    return Err(FrameError::Training(format!(
                        "least squares needs more frames ({}) than features ({d}); use ridge or a smaller patch",
                        x.nrows()
                    )));
                }
                let ds = Dataset::new(x, y);
                let m = LinearRegression::new().fit(&ds).map_err(|e| FrameError::Training(e.to_string()))?;
                (m.params().iter().map(|&v| v as f32).collect(), m.intercept() as f32)
            }
            Some(alpha) => {
                let ds = Dataset::new(x, y);
                let m = TweedieRegressor::params()
                    .power(0.0)
                    .alpha(alpha)
                    .max_iter(300)
                    .fit(&ds)
                    .map_err(|e| FrameError::Training(e.to_string()))?;
                (m.coef.iter().map(|&v| v as f32).collect(), m.intercept as f32)
            }
        };
        Ok(LinearRanker { patch, scaler, weights, bias, ridge_alpha })
    }

    /// Score one patch.
    pub fn score(&self, patch: &[f32]) -> f32 {
        let f = self.scaler.apply(&linear_features(patch, self.patch.size));
        (f.iter().zip(&self.weights).map(|(a, &w)| a * w as f64).sum::<f64>() + self.bias as f64) as f32
    }
}

/// Logistic regression (linfa-logistic) separating the teacher's top `fraction` from its bottom `fraction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRanker {
    /// How frames become patches.
    pub patch: PatchConfig,
    /// Feature standardisation.
    pub scaler: Standardizer,
    /// Weights of the "good frame" class.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
}

impl LogisticRanker {
    /// Fit on the teacher's top and bottom `fraction` of frames with L2 penalty `alpha`.
    pub fn fit(patch: PatchConfig, patches: &[Vec<f32>], teacher: &[f32], fraction: f32, alpha: f64) -> Result<Self> {
        let labels = top_bottom_labels(teacher, fraction);
        if labels.len() < 2 {
            return Err(FrameError::Training("logistic regression needs at least 2 frames".into()));
        }
        let all_rows: Vec<Vec<f32>> = patches.iter().map(|p| linear_features(p, patch.size)).collect();
        let scaler = Standardizer::fit(&all_rows);
        let rows: Vec<Vec<f32>> = labels.iter().map(|&(i, _)| all_rows[i].clone()).collect();
        let x = scaler.matrix(&rows)?;
        let y: Array1<usize> = labels.iter().map(|&(_, l)| l as usize).collect();
        let m = LogisticRegression::default()
            .alpha(alpha)
            .max_iterations(200)
            .fit(&Dataset::new(x, y))
            .map_err(|e| FrameError::Training(e.to_string()))?;
        // linfa's parameters describe the larger label (1 = good frame).
        Ok(LogisticRanker {
            patch,
            scaler,
            weights: m.params().iter().map(|&v| v as f32).collect(),
            bias: m.intercept() as f32,
        })
    }

    /// The log-odds that a patch is a good frame (monotonic in the probability, without saturation).
    pub fn score(&self, patch: &[f32]) -> f32 {
        let f = self.scaler.apply(&linear_features(patch, self.patch.size));
        (f.iter().zip(&self.weights).map(|(a, &w)| a * w as f64).sum::<f64>() + self.bias as f64) as f32
    }
}

/// The "reference image" model: frames score by the similarity of their high-pass patch to the
/// high-pass of an ideal image (mean of the teacher's best frames, sharpened by an unsharp mask).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRanker {
    /// How frames become patches.
    pub patch: PatchConfig,
    /// High-pass of the processed reference patch.
    pub reference: Vec<f32>,
}

impl ReferenceRanker {
    /// Build the reference from the teacher's best `fraction` of frames.
    pub fn fit(patch: PatchConfig, patches: &[Vec<f32>], teacher: &[f32], fraction: f32) -> Result<Self> {
        if patches.is_empty() {
            return Err(FrameError::Training("no frames".into()));
        }
        let order = crate::ranking::rank::order_best_first(teacher);
        let k = ((fraction * patches.len() as f32).round() as usize).clamp(1, patches.len());
        let n = patch.size * patch.size;
        let mut mean = vec![0f32; n];
        for &i in &order[..k] {
            mean.iter_mut().zip(&patches[i]).for_each(|(m, v)| *m += v / k as f32);
        }
        // Unsharp mask (σ = 1, amount 1), unclamped: patches are brightness-normalised, not in [0, 1].
        let k = crate::pixels::gaussian_kernel(7, 1.0);
        let (mut tmp, mut blur) = (Vec::new(), Vec::new());
        crate::pixels::separable_into(&mean, patch.size, patch.size, &k, &mut tmp, &mut blur);
        let sharp: Vec<f32> = mean.iter().zip(&blur).map(|(m, b)| 2.0 * m - b).collect();
        Ok(ReferenceRanker { patch, reference: high_pass(&sharp, patch.size) })
    }

    /// Normalised cross-correlation of the patch's high-pass with the reference's.
    pub fn score(&self, patch: &[f32]) -> f32 {
        ncc(&high_pass(patch, self.patch.size), &self.reference)
    }
}
