//! Ranker models and patch settings are checked before use: a model file is hostile input (its
//! weights must fit its patch size and be finite), and a patch size sizes every training buffer.

use ml_core::model_file::{check_count, check_floats};

use super::data::PatchConfig;
use super::linear::Standardizer;
use super::{Ranker, RankerKind};
use crate::error::{FrameError, Result};

/// The smallest patch side (`--patch`).
pub const MIN_PATCH: usize = 4;
/// The largest patch side (`--patch`): 256² pixels per frame already holds every disc detail the
/// rankers use.
pub const MAX_PATCH: usize = 256;
/// Memory allowed for the training patches and the features derived from them.
pub const PATCH_BYTES_BUDGET: u64 = 2 << 30;

impl PatchConfig {
    /// Refuse a side outside [`MIN_PATCH`]…[`MAX_PATCH`] or a crop that is not a finite multiple > 0.
    pub fn validate(&self) -> std::result::Result<(), String> {
        check_count("patch size", self.size, MIN_PATCH, MAX_PATCH)?;
        if !(self.crop_radii.is_finite() && self.crop_radii > 0.0) {
            return Err(format!("patch crop of {} disc radii is not a finite number > 0", self.crop_radii));
        }
        Ok(())
    }
}

/// Bytes a training run keeps per patch pixel: the patch (f32), the linear features (2 × f32) and
/// their standardised matrix (2 × f64), or the CNN's input tensor.
fn bytes_per_patch_pixel(kind: RankerKind) -> u64 {
    match kind {
        RankerKind::Linear | RankerKind::Ridge | RankerKind::Logistic => 4 + 8 + 16,
        _ => 4 + 4,
    }
}

/// Refuse, before any frame is read, a patch larger than the frame's shorter side or patches of
/// `frames` frames above [`PATCH_BYTES_BUDGET`] (the error names the figures and what to lower).
pub fn check_patch_budget(patch: &PatchConfig, kind: RankerKind, frames: usize, dims: (usize, usize)) -> Result<()> {
    patch.validate().map_err(FrameError::Invalid)?;
    let side = dims.0.min(dims.1);
    if patch.size > side {
        return Err(FrameError::Invalid(format!(
            "patch size {} is larger than the {}x{} frames (at most {side})",
            patch.size, dims.0, dims.1
        )));
    }
    let bytes = frames as u64 * (patch.size * patch.size) as u64 * bytes_per_patch_pixel(kind);
    if bytes > PATCH_BYTES_BUDGET {
        return Err(FrameError::Invalid(format!(
            "{frames} frames of {0}x{0} patches need {1} MB, above the {2} MB budget; lower --patch or --max-frames",
            patch.size,
            bytes >> 20,
            PATCH_BYTES_BUDGET >> 20
        )));
    }
    Ok(())
}

fn linear_parts(
    what: &str,
    n: usize,
    scaler: &Standardizer,
    weights: &[f32],
    bias: f32,
) -> std::result::Result<(), String> {
    let d = 2 * n;
    if weights.len() != d || scaler.mean.len() != d || scaler.std.len() != d {
        return Err(format!(
            "{what} model has {} weights ({} means, {} deviations); its patch needs {d} of each",
            weights.len(),
            scaler.mean.len(),
            scaler.std.len()
        ));
    }
    check_floats("weights", weights)?;
    check_floats("means", &scaler.mean)?;
    check_floats("deviations", &scaler.std)?;
    check_floats("bias", &[bias])?;
    if scaler.std.iter().any(|&s| s <= 0.0) {
        return Err(format!("{what} model has a feature deviation ≤ 0"));
    }
    Ok(())
}

impl Ranker {
    /// Refuse a model whose parts do not fit together: a patch size out of range, a weight count
    /// that does not match the patch (it would score every frame 0), non-finite weights, or a CNN
    /// architecture out of range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.patch().validate()?;
        let n = self.patch().size * self.patch().size;
        match self {
            Ranker::Linear(r) | Ranker::Ridge(r) => linear_parts("linear", n, &r.scaler, &r.weights, r.bias),
            Ranker::Logistic(r) => linear_parts("logistic", n, &r.scaler, &r.weights, r.bias),
            Ranker::Reference(r) if r.reference.len() != n => {
                Err(format!("reference model has {} values; its patch needs {n}", r.reference.len()))
            }
            Ranker::Reference(r) => check_floats("reference", &r.reference),
            Ranker::Cnn(r) => {
                check_count("CNN layers", r.channels.len(), 1, 6)?;
                r.channels.iter().try_for_each(|&c| check_count("CNN channels", c, 1, 256))?;
                if r.patch.size >> r.channels.len() == 0 {
                    return Err(format!("{} pooling layers do not fit a {}-px patch", r.channels.len(), r.patch.size));
                }
                Ok(())
            }
            Ranker::Picks(m) => m.validate(),
            Ranker::CnnPicks(m) => m.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking::learned::LinearRanker;
    use crate::ranking::learned::linear::ReferenceRanker;

    fn linear(size: usize, weights: usize) -> Ranker {
        let d = 2 * size * size;
        Ranker::Linear(LinearRanker {
            patch: PatchConfig { size, ..PatchConfig::default() },
            scaler: Standardizer { mean: vec![0.0; d], std: vec![1.0; d] },
            weights: vec![0.5; weights],
            bias: 0.0,
            ridge_alpha: None,
        })
    }

    #[test]
    fn a_model_whose_weights_do_not_fit_its_patch_is_refused_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ranker.json");
        linear(8, 128).save(&path).unwrap();
        assert!(Ranker::load(&path).is_ok());
        // Too few weights: every frame would score the bias alone (all zero), with exit 0.
        linear(8, 3).save(&path).unwrap();
        let err = Ranker::load(&path).unwrap_err().to_string();
        assert!(err.contains("ranker.json") && err.contains("3 weights") && err.contains("128"), "{err}");
        // JSON has no NaN, but 1e39 is read as an f32 infinity.
        linear(8, 128).save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap().replacen("0.5,", "1e39,", 1);
        std::fs::write(&path, text).unwrap();
        let err = Ranker::load(&path).unwrap_err().to_string();
        assert!(err.contains("weights: 1 of 128 weights are not finite"), "{err}");
        let reference = Ranker::Reference(ReferenceRanker {
            patch: PatchConfig { size: 8, ..PatchConfig::default() },
            reference: vec![0.0; 10],
        });
        reference.save(&path).unwrap();
        assert!(Ranker::load(&path).unwrap_err().to_string().contains("10 values"));
        for size in [0, 1, 10_000] {
            linear(size.min(300), 0).save(&path).unwrap();
            assert!(Ranker::load(&path).unwrap_err().to_string().contains("patch size"), "{size}");
        }
    }

    #[test]
    fn patches_are_bounded_by_the_frame_and_the_memory_budget_before_any_read() {
        let p = |size| PatchConfig { size, ..PatchConfig::default() };
        let err = check_patch_budget(&p(10_000), RankerKind::Linear, 100, (64, 64)).unwrap_err().to_string();
        assert!(err.contains("patch size 10000 is outside 4–256"), "{err}");
        let err = check_patch_budget(&p(128), RankerKind::Linear, 100, (64, 64)).unwrap_err().to_string();
        assert!(err.contains("larger than the 64x64 frames"), "{err}");
        let err = check_patch_budget(&p(256), RankerKind::Ridge, 4000, (640, 480)).unwrap_err().to_string();
        assert!(err.contains("4000 frames of 256x256 patches need 7000 MB"), "{err}");
        assert!(check_patch_budget(&p(16), RankerKind::Linear, 4000, (640, 480)).is_ok());
        assert!(check_patch_budget(&p(0), RankerKind::Cnn, 10, (64, 64)).is_err());
    }
}
