//! Scoring patches with a trained `RankNet`, and its (de)serialisation to bytes.

use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};

use super::model::{RankNet, RankNetConfig};
use super::training::patches_to_tensor;
use crate::error::{FrameError, Result};

/// Logits of a batch of patches (chunks of 256 to bound memory).
pub fn score_patches<B: Backend>(
    model: &RankNet<B>,
    patches: &[Vec<f32>],
    size: usize,
    device: &B::Device,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(patches.len());
    for chunk in patches.chunks(256) {
        let refs: Vec<&[f32]> = chunk.iter().map(|v| v.as_slice()).collect();
        let logits = model.forward(patches_to_tensor::<B>(&refs, size, device));
        let v = logits.into_data().convert::<f32>().to_vec::<f32>().unwrap_or_else(|_| vec![0.0; chunk.len()]);
        out.extend(v.into_iter().map(|x| if x.is_finite() { x } else { 0.0 }));
    }
    out
}

/// Serialise a model's weights (named MessagePack, full precision).
pub fn model_to_bytes<B: Backend>(model: &RankNet<B>) -> Result<Vec<u8>> {
    NamedMpkBytesRecorder::<FullPrecisionSettings>::new()
        .record(model.clone().into_record(), ())
        .map_err(|e| FrameError::Training(format!("cannot serialise the CNN: {e}")))
}

/// Rebuild a model from its architecture and serialised weights.
pub fn model_from_bytes<B: Backend>(
    config: &RankNetConfig,
    bytes: &[u8],
    device: &B::Device,
) -> std::result::Result<RankNet<B>, String> {
    let record = NamedMpkBytesRecorder::<FullPrecisionSettings>::new()
        .load(bytes.to_vec(), device)
        .map_err(|e| format!("cannot read CNN weights: {e}"))?;
    let fresh = config.init::<B>(device);
    let want = ml_core::model_file::param_shapes(&fresh);
    let model = fresh.load_record(record);
    if ml_core::model_file::param_shapes(&model) != want {
        return Err(format!("CNN weights do not fit the {:?} channels of the model", config.channels));
    }
    ml_core::model_file::check_finite::<B, _>(&model).map_err(|e| format!("unusable CNN weights: {e}"))?;
    Ok(model)
}
