//! Running a trained classifier: the model card, saving/loading weights (burn's compact
//! half-precision named-MessagePack record), the bundled default models, and predictions.
//!
//! A saved model is `<stem>.mpk`, ml-core's container ([`MODEL_KIND`], [`MODEL_FORMAT_VERSION`],
//! the model card as config, the record), plus `<stem>.json`, the same card pretty-printed for
//! people. Models saved before the container (a bare record in `.mpk`, the card only in `.json`,
//! as the bundled models are) are detected by their content and read as before.

use std::path::{Path, PathBuf};

use astro_image::Planes;
use burn::module::Module;
use burn::record::{HalfPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::Backend;
use ml_core::model_file;
use serde::{Deserialize, Serialize};

use crate::cam::{Cam, class_activation_map};
use crate::classes::Task;
use crate::data::{images_to_tensor, prepare_image};
use crate::error::{DsoError, Result};
use crate::metrics::{EvalReport, argmax};
use crate::model::DsoNet;
use crate::training::{TrainingConfig, predict_batch};

/// What a trained model is, how it was trained and how well it does (saved as `<name>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    /// Model name shown to users (e.g. `dsonet-three-class`).
    pub name: String,
    /// The task and its class labels in output order.
    pub task: Task,
    /// Class labels in output order.
    pub classes: Vec<String>,
    /// Full training configuration (architecture included).
    pub training: TrainingConfig,
    /// Number of parameters.
    pub parameters: usize,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Command line that produced the weights.
    pub command: String,
    /// Held-out test figures (object-level split).
    pub test: Option<EvalReport>,
    /// Validation figures of the kept epoch.
    pub validation: Option<EvalReport>,
    /// k-fold cross-validation summary, when it was run.
    pub cross_validation: Option<CrossValidation>,
    /// Where the training images came from.
    pub data: String,
}

/// Summary of a k-fold cross-validation by object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: usize,
    /// Accuracy of each fold.
    pub fold_accuracy: Vec<f64>,
    /// Mean fold accuracy.
    pub mean_accuracy: f64,
    /// Standard deviation of the fold accuracies.
    pub std_accuracy: f64,
    /// Report pooled over all out-of-fold predictions.
    pub pooled: EvalReport,
}

/// One prediction for one image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prediction {
    /// The most probable class label.
    pub class: String,
    /// Its index.
    pub class_index: usize,
    /// Probability of every class, in the task's label order.
    pub probabilities: Vec<(String, f32)>,
}

/// The container kind of a deep-sky classifier.
pub const MODEL_KIND: &str = "dso-net";
/// The container format version written (and the newest read).
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// Encode a model's weights in burn's compact record format (half precision, named MessagePack).
pub fn weights_to_bytes<B: Backend>(model: &DsoNet<B>) -> Result<Vec<u8>> {
    NamedMpkBytesRecorder::<HalfPrecisionSettings>::default()
        .record(model.clone().into_record(), ())
        .map_err(|e| DsoError::Record { what: "model".into(), reason: e.to_string() })
}

/// Save the model (`<stem>.mpk`: the container with the card and the weights) and its card for
/// people (`<stem>.json`) atomically into `dir`.
pub fn save_model<B: Backend>(
    model: &DsoNet<B>,
    card: &ModelCard,
    dir: &Path,
    stem: &str,
) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|source| DsoError::Io { path: dir.to_path_buf(), source })?;
    let weights = dir.join(format!("{stem}.mpk"));
    let card_path = dir.join(format!("{stem}.json"));
    let compact =
        serde_json::to_vec(card).map_err(|e| DsoError::ModelCard { path: card_path.clone(), reason: e.to_string() })?;
    model_file::write_model(&weights, MODEL_KIND, MODEL_FORMAT_VERSION, &compact, &weights_to_bytes(model)?)
        .map_err(|e| DsoError::Record { what: e.path.display().to_string(), reason: e.reason })?;
    let json = serde_json::to_vec_pretty(card)
        .map_err(|e| DsoError::ModelCard { path: card_path.clone(), reason: e.to_string() })?;
    astro_image::image_io::write_atomic(&card_path, &json)?;
    Ok((weights, card_path))
}

/// Refuse a model card whose architecture is out of range before any layer is allocated: the
/// classes must match the task and the net's output, conv channels 1–512 in 1–8 layers, an input
/// side of 16–1024 px.
fn check_card(card: &ModelCard) -> std::result::Result<(), String> {
    let net = &card.training.model;
    let k = card.task.num_classes();
    if card.classes.len() != k || net.num_classes != k {
        return Err(format!(
            "{} class labels and {} outputs for the {} task's {k} classes",
            card.classes.len(),
            net.num_classes,
            card.task
        ));
    }
    model_file::check_count("conv layers", net.channels.len(), 1, 8)?;
    if !(0.0..1.0).contains(&net.dropout) {
        return Err(format!("dropout {} is outside [0, 1)", net.dropout));
    }
    net.channels.iter().try_for_each(|&c| model_file::check_count("conv channels", c, 1, 512))?;
    model_file::check_count("image size", card.training.image_size, 16, 1024)
}

/// A ready-to-use classifier: network, model card and device.
#[derive(Debug, Clone)]
pub struct Classifier<B: Backend> {
    /// The network in inference mode.
    pub model: DsoNet<B>,
    /// Its model card.
    pub card: ModelCard,
    /// Where it runs.
    pub device: B::Device,
    /// Average over the eight flips/quarter-turns (slower, slightly more accurate).
    pub tta: bool,
}

impl<B: Backend> Classifier<B> {
    /// Build from weight bytes and model-card JSON bytes (`what` labels errors). Weights in
    /// ml-core's container carry their own card ([`Classifier::from_model_bytes`]); `card_json`
    /// is then not used.
    pub fn from_bytes(weights: &[u8], card_json: &[u8], what: &str, device: &B::Device) -> Result<Self> {
        if model_file::is_container(weights) {
            return Self::from_model_bytes(weights, what, device);
        }
        Self::from_record(weights, card_json, what, device)
    }

    /// Build from a model file in ml-core's container (card and weights; `what` labels errors).
    pub fn from_model_bytes(bytes: &[u8], what: &str, device: &B::Device) -> Result<Self> {
        let parts = model_file::decode_model(bytes, MODEL_KIND, MODEL_FORMAT_VERSION)
            .map_err(|reason| DsoError::Record { what: what.to_string(), reason })?;
        Self::from_record(parts.record, parts.config, what, device)
    }

    fn from_record(weights: &[u8], card_json: &[u8], what: &str, device: &B::Device) -> Result<Self> {
        let card: ModelCard = serde_json::from_slice(card_json)
            .map_err(|e| DsoError::ModelCard { path: PathBuf::from(what), reason: e.to_string() })?;
        check_card(&card).map_err(|reason| DsoError::ModelCard { path: PathBuf::from(what), reason })?;
        let bad = |reason: String| DsoError::Record { what: what.to_string(), reason };
        let record: crate::model::DsoNetRecord<B> = NamedMpkBytesRecorder::<HalfPrecisionSettings>::default()
            .load(weights.to_vec(), device)
            .map_err(|e| bad(e.to_string()))?;
        // burn panics when a record's layer list is longer or shorter than the module's: compare
        // first (found by the dso_card fuzz target).
        let (have, want_layers) = (record.conv_layers(), card.training.model.channels.len());
        if have != want_layers {
            return Err(bad(format!("the weights hold {have} conv layers, the model card declares {want_layers}")));
        }
        let fresh = card.training.model.init::<B>(device);
        let model = model_file::load_record_checked::<B, _>(fresh, record)
            .map_err(|e| bad(format!("the weights do not fit the model card's architecture: {e}")))?;
        model_file::check_finite::<B, _>(&model).map_err(|e| bad(format!("unusable weights: {e}")))?;
        Ok(Classifier { model, card, device: device.clone(), tta: true })
    }

    /// Load `<stem>.mpk` from a directory written by [`save_model`] (and `<stem>.json` for a model
    /// saved before the container).
    pub fn load(dir: &Path, stem: &str, device: &B::Device) -> Result<Self> {
        // Sized before reading, as every model file (`ml_core::model_file`): a FIFO, a folder or a
        // huge file is refused instead of blocking or filling memory.
        let read = |p: PathBuf, bad: fn(PathBuf, String) -> DsoError| -> Result<Vec<u8>> {
            std::fs::metadata(&p).map_err(|source| DsoError::Io { path: p.clone(), source })?;
            model_file::read_model_file(&p, model_file::MAX_MODEL_FILE_BYTES).map_err(|reason| bad(p, reason))
        };
        let weights = read(dir.join(format!("{stem}.mpk")), |p, reason| DsoError::Record {
            what: p.display().to_string(),
            reason,
        })?;
        if model_file::is_container(&weights) {
            return Self::from_model_bytes(&weights, &dir.join(format!("{stem}.mpk")).display().to_string(), device);
        }
        let card = read(dir.join(format!("{stem}.json")), |path, reason| DsoError::ModelCard { path, reason })?;
        Self::from_bytes(&weights, &card, &dir.join(stem).display().to_string(), device)
    }

    /// The bundled default model for a task (weights compiled into the binary).
    pub fn bundled(task: Task, device: &B::Device) -> Result<Self> {
        let (weights, card) = crate::bundled::bundled_files(task);
        Self::from_bytes(weights, card, &format!("bundled {task} model"), device)
    }

    /// The network input for an image of any size and colour layout.
    pub fn input_for(&self, image: &Planes) -> Planes {
        prepare_image(image, self.card.training.image_size)
    }

    /// Classify one image.
    pub fn predict(&self, image: &Planes) -> Prediction {
        let input = self.input_for(image);
        let x = images_to_tensor::<B>(&[&input], &self.device);
        let probs =
            predict_batch(&self.model, x, self.tta).into_data().convert::<f32>().to_vec::<f32>().unwrap_or_default();
        self.prediction_from(&probs)
    }

    /// Classify one image and compute the class activation map of the predicted class.
    pub fn predict_with_cam(&self, image: &Planes) -> (Prediction, Cam) {
        let prediction = self.predict(image);
        let input = self.input_for(image);
        let x = images_to_tensor::<B>(&[&input], &self.device);
        let cam = class_activation_map(&self.model, x, prediction.class_index);
        (prediction, cam)
    }

    fn prediction_from(&self, probs: &[f32]) -> Prediction {
        let (i, _) = argmax(probs);
        Prediction {
            class: self.card.classes.get(i).cloned().unwrap_or_default(),
            class_index: i,
            probabilities: self.card.classes.iter().cloned().zip(probs.iter().copied()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn forged_cards_and_non_finite_weights_are_refused() {
        let d = Default::default();
        let (weights, card) = crate::bundled::bundled_files(Task::ThreeClass);
        assert!(Classifier::<Flex>::from_bytes(weights, card, "m", &d).is_ok());
        let mut json: serde_json::Value = serde_json::from_slice(card).unwrap();
        json["training"]["model"]["channels"] = serde_json::json!([24, 0, 64, 128, 192]);
        let err = Classifier::<Flex>::from_bytes(weights, &serde_json::to_vec(&json).unwrap(), "m", &d).unwrap_err();
        assert!(err.to_string().contains("conv channels 0"), "{err}");
        json["training"]["model"]["channels"] = serde_json::json!([100000]);
        assert!(Classifier::<Flex>::from_bytes(weights, &serde_json::to_vec(&json).unwrap(), "m", &d).is_err());
        // A diverged (NaN) model: every prediction would be the first class, with exit 0.
        let good = Classifier::<Flex>::from_bytes(weights, card, "m", &d).unwrap();
        struct Poison;
        impl<B: Backend> burn::module::ModuleMapper<B> for Poison {
            fn map_float<const D: usize>(
                &mut self,
                p: burn::module::Param<burn::tensor::Tensor<B, D>>,
            ) -> burn::module::Param<burn::tensor::Tensor<B, D>> {
                p.map(|t| t.mul_scalar(f32::NAN))
            }
        }
        let nan = weights_to_bytes(&good.model.map(&mut Poison)).unwrap();
        let err = Classifier::<Flex>::from_bytes(&nan, card, "nan model", &d).unwrap_err().to_string();
        assert!(err.contains("nan model") && err.contains("not finite"), "{err}");
    }
}
