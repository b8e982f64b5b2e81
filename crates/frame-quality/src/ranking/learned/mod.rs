//! Learned frame rankers: linear/ridge regression and logistic regression (linfa), the
//! reference-image model, and a small CNN (burn). All are fitted on a user's own frames against a
//! teacher metric (PIPP local contrast by default), saved to one file, loaded and used to score.
//!
//! The file is JSON with a `kind` tag, except for the CNN: its weights are a burn record, so it is
//! saved in ml-core's container ([`CNN_RANKER_KIND`], [`CNN_RANKER_FORMAT_VERSION`]; config
//! `{"patch", "channels", "loss_history"}`, record the weights). CNN rankers saved before the
//! container (JSON with the weights as a byte array) still load.

mod checks;
mod data;
#[cfg(test)]
mod file_migration;
pub mod finetune;
mod inference;
mod linear;
mod model;
pub mod quality;
mod training;

use std::path::Path;
use std::str::FromStr;

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use ml_core::distributed::Worker;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{FrameError, Result};
use crate::io::{DecodeScratch, FrameSource};
use crate::pixels::ImageView;
use crate::pixels::Scratch;
use crate::ranking::metrics::Metric;
use crate::ranking::rank::{Scorer, score_source};
pub use checks::{MAX_PATCH, MIN_PATCH, PATCH_BYTES_BUDGET, check_patch_budget};
pub use data::PatchConfig;
pub use finetune::{CnnPicksRanker, FinetuneConfig};
pub use linear::{LinearRanker, LogisticRanker, ReferenceRanker, Standardizer};
pub use model::{RankNet, RankNetConfig};
pub use training::CnnTrainConfig;

/// Which learned ranker to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankerKind {
    /// Least squares to the teacher score (linfa-linear).
    Linear,
    /// Ridge regression to the teacher score (linfa-linear, Normal GLM with L2 penalty).
    Ridge,
    /// Logistic regression on the teacher's top vs bottom frames (linfa-logistic).
    Logistic,
    /// Similarity to a processed reference image.
    Reference,
    /// Small CNN (burn) on the teacher's top vs bottom frames.
    Cnn,
    /// Logistic regression on the user's own good/bad picks ([`crate::ranking::picks`]; `train-ranker --labels`).
    Picks,
    /// The bundled quality CNN fine-tuned on the user's picks ([`finetune`]; `train-ranker --labels --kind cnn`).
    #[serde(rename = "cnn-picks")]
    CnnPicks,
}

impl FromStr for RankerKind {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "linear" => RankerKind::Linear,
            "ridge" => RankerKind::Ridge,
            "logistic" => RankerKind::Logistic,
            "reference" => RankerKind::Reference,
            "cnn" => RankerKind::Cnn,
            "picks" => RankerKind::Picks,
            "cnn-picks" => RankerKind::CnnPicks,
            other => {
                return Err(FrameError::Invalid(format!(
                    "unknown ranker kind '{other}' (expected linear, ridge, logistic, reference, cnn, picks or cnn-picks)"
                )));
            }
        })
    }
}

/// A trained CNN ranker as stored: architecture, patch settings and weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnRanker {
    /// How frames become patches.
    pub patch: PatchConfig,
    /// Conv channels of the [`RankNetConfig`].
    pub channels: Vec<usize>,
    /// Weights (burn named MessagePack, full precision).
    pub weights: Vec<u8>,
    /// Mean training loss per epoch.
    pub loss_history: Vec<f64>,
}

/// The container kind of a CNN ranker.
pub const CNN_RANKER_KIND: &str = "cnn-ranker";
/// The container format version written (and the newest read).
pub const CNN_RANKER_FORMAT_VERSION: u32 = 1;

/// A CNN ranker's container config: everything but the weights (the record).
#[derive(Serialize, Deserialize)]
struct CnnStored {
    patch: PatchConfig,
    channels: Vec<usize>,
    loss_history: Vec<f64>,
}

/// Any trained ranker; saved as JSON with a `kind` tag (the CNN in ml-core's container).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Ranker {
    /// Least squares.
    Linear(LinearRanker),
    /// Ridge regression.
    Ridge(LinearRanker),
    /// Logistic regression.
    Logistic(LogisticRanker),
    /// Reference-image similarity.
    Reference(ReferenceRanker),
    /// CNN.
    Cnn(CnnRanker),
    /// Fitted on the user's picks ([`crate::ranking::picks::PicksRanker`]).
    Picks(crate::ranking::picks::PicksRanker),
    /// The bundled quality CNN fine-tuned on the user's picks ([`finetune::CnnPicksRanker`]).
    #[serde(rename = "cnn-picks")]
    CnnPicks(CnnPicksRanker),
}

/// Training settings shared by all ranker kinds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Which ranker.
    pub kind: RankerKind,
    /// Teacher metric whose scores are learned (PIPP local contrast in the reference study).
    pub teacher: String,
    /// Top/bottom fraction used by logistic, CNN and reference models.
    pub fraction: f32,
    /// Patch settings (`None` = 16 px for the linear models, 32 px for the CNN and reference).
    pub patch: Option<PatchConfig>,
    /// Ridge L2 penalty.
    pub ridge_alpha: f64,
    /// Logistic L2 penalty.
    pub logistic_alpha: f64,
    /// CNN optimisation.
    pub cnn: CnnTrainConfig,
    /// At most this many frames are used for training (evenly spaced).
    pub max_frames: usize,
}

impl TrainConfig {
    /// Defaults for `kind` with the PIPP teacher.
    pub fn new(kind: RankerKind) -> TrainConfig {
        TrainConfig {
            kind,
            teacher: "pipp".into(),
            fraction: 0.25,
            patch: None,
            ridge_alpha: 1.0,
            logistic_alpha: 1.0,
            cnn: CnnTrainConfig::default(),
            max_frames: 4000,
        }
    }

    fn patch_config(&self) -> PatchConfig {
        self.patch.unwrap_or(match self.kind {
            RankerKind::Linear | RankerKind::Ridge | RankerKind::Logistic => {
                PatchConfig { size: 16, ..PatchConfig::default() }
            }
            _ => PatchConfig::default(),
        })
    }
}

/// What training produced besides the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// Frames used.
    pub frames: usize,
    /// Spearman ρ between the fitted ranker and the teacher on the training frames.
    pub teacher_spearman: f64,
    /// CNN loss per epoch (empty for the other kinds).
    pub loss_history: Vec<f64>,
}

/// Disc patches of the given frames, decoded in parallel.
pub fn collect_patches(source: &dyn FrameSource, frames: &[usize], patch: &PatchConfig) -> Result<Vec<Vec<f32>>> {
    let (w, h) = source.dims();
    frames
        .par_iter()
        .map_init(
            || (Vec::new(), DecodeScratch::default(), Scratch::default()),
            |(buf, dec, s), &i| {
                source.read_luma_into(i, buf, dec)?;
                Ok(data::disc_patch(ImageView::new(buf, w, h), patch, s))
            },
        )
        .collect()
}

fn sample_frames(n: usize, max: usize) -> Vec<usize> {
    if n <= max || max == 0 { (0..n).collect() } else { (0..max).map(|k| k * n / max).collect() }
}

/// Fit a ranker on the frames of `source`, with the teacher metric's scores as targets.
///
/// `B` is the autodiff backend used for the CNN (ignored by the other kinds); `log` receives
/// human-readable progress lines.
pub fn fit<B: AutodiffBackend>(
    source: &dyn FrameSource,
    cfg: &TrainConfig,
    device: &B::Device,
    log: &dyn Fn(&str),
) -> Result<(Ranker, TrainReport)> {
    fit_replica(source, cfg, &Worker::<B>::single(), device, log)
}

/// [`fit`] as one replica of a data-parallel run (the CNN kinds split each batch between the
/// replicas and average their gradients; the closed-form kinds are fitted by every replica alike).
pub fn fit_replica<B: AutodiffBackend>(
    source: &dyn FrameSource,
    cfg: &TrainConfig,
    worker: &Worker<B>,
    device: &B::Device,
    log: &dyn Fn(&str),
) -> Result<(Ranker, TrainReport)> {
    if matches!(cfg.kind, RankerKind::Picks | RankerKind::CnnPicks) {
        return Err(FrameError::Training(
            "the picks ranker learns from labels: train-ranker VIDEO --labels picks.csv".into(),
        ));
    }
    let teacher_metric: Metric = cfg.teacher.parse()?;
    let frames = sample_frames(source.len(), cfg.max_frames);
    if frames.len() < 4 {
        return Err(FrameError::Training(format!("{}: need at least 4 frames, got {}", source.name(), frames.len())));
    }
    checks::check_patch_budget(&cfg.patch_config(), cfg.kind, frames.len(), source.dims())?;
    log(&format!("scoring {} frames with the teacher '{teacher_metric}'", source.len()));
    let all_teacher = score_source(source, &Scorer::new(teacher_metric), &|_| {})?;
    let teacher: Vec<f32> = frames.iter().map(|&i| all_teacher[i]).collect();
    let patch = cfg.patch_config();
    log(&format!("extracting {}×{} disc patches", patch.size, patch.size));
    let patches = collect_patches(source, &frames, &patch)?;
    let mut loss_history = Vec::new();
    let ranker = match cfg.kind {
        RankerKind::Linear => Ranker::Linear(LinearRanker::fit(patch, &patches, &teacher, None)?),
        RankerKind::Ridge => Ranker::Ridge(LinearRanker::fit(patch, &patches, &teacher, Some(cfg.ridge_alpha))?),
        RankerKind::Logistic => {
            Ranker::Logistic(LogisticRanker::fit(patch, &patches, &teacher, cfg.fraction, cfg.logistic_alpha)?)
        }
        RankerKind::Reference => Ranker::Reference(ReferenceRanker::fit(patch, &patches, &teacher, cfg.fraction)?),
        RankerKind::Picks | RankerKind::CnnPicks => {
            return Err(FrameError::Training("the picks rankers learn from labels".into()));
        }
        RankerKind::Cnn => {
            let net = RankNetConfig::new();
            let (model, history) = training::train_ranknet::<B>(
                &net,
                &patches,
                patch.size,
                &teacher,
                cfg.fraction,
                &cfg.cnn,
                worker,
                device,
                &|e, l| log(&format!("epoch {e}: loss {l:.4}")),
            )?;
            loss_history = history.clone();
            Ranker::Cnn(CnnRanker {
                patch,
                channels: net.channels.clone(),
                weights: inference::model_to_bytes(&model)?,
                loss_history: history,
            })
        }
    };
    let fitted = ranker.score_patches::<B::InnerBackend>(&patches, &device.clone())?;
    let teacher_spearman = crate::ranking::spearman(&fitted, &teacher);
    Ok((ranker, TrainReport { frames: frames.len(), teacher_spearman, loss_history }))
}

impl Ranker {
    /// The kind of this ranker.
    pub fn kind(&self) -> RankerKind {
        match self {
            Ranker::Linear(_) => RankerKind::Linear,
            Ranker::Ridge(_) => RankerKind::Ridge,
            Ranker::Logistic(_) => RankerKind::Logistic,
            Ranker::Reference(_) => RankerKind::Reference,
            Ranker::Cnn(_) => RankerKind::Cnn,
            Ranker::Picks(_) => RankerKind::Picks,
            Ranker::CnnPicks(_) => RankerKind::CnnPicks,
        }
    }

    /// Patch settings the ranker was trained with.
    pub fn patch(&self) -> PatchConfig {
        match self {
            Ranker::Linear(r) | Ranker::Ridge(r) => r.patch,
            Ranker::Logistic(r) => r.patch,
            Ranker::Reference(r) => r.patch,
            Ranker::Cnn(r) => r.patch,
            Ranker::Picks(_) | Ranker::CnnPicks(_) => PatchConfig::default(),
        }
    }

    /// The bytes [`Ranker::save`] writes: JSON, or ml-core's container for the CNN.
    pub fn to_file_bytes(&self) -> std::result::Result<Vec<u8>, String> {
        match self {
            Ranker::Cnn(r) => {
                let stored =
                    CnnStored { patch: r.patch, channels: r.channels.clone(), loss_history: r.loss_history.clone() };
                let config = serde_json::to_vec(&stored).map_err(|e| e.to_string())?;
                ml_core::model_file::encode_model(CNN_RANKER_KIND, CNN_RANKER_FORMAT_VERSION, &config, &r.weights)
            }
            other => serde_json::to_vec(other).map_err(|e| e.to_string()),
        }
    }

    /// A ranker from [`Ranker::to_file_bytes`] output or an older JSON CNN ranker (validated).
    pub fn from_file_bytes(bytes: &[u8]) -> std::result::Result<Ranker, String> {
        let r = if ml_core::model_file::is_container(bytes) {
            let parts = ml_core::model_file::decode_model(bytes, CNN_RANKER_KIND, CNN_RANKER_FORMAT_VERSION)?;
            let c: CnnStored = parts.config_as()?;
            Ranker::Cnn(CnnRanker {
                patch: c.patch,
                channels: c.channels,
                weights: parts.record.to_vec(),
                loss_history: c.loss_history,
            })
        } else {
            serde_json::from_slice(bytes).map_err(|e| format!("not a ranker model: {e}"))?
        };
        r.validate()?;
        Ok(r)
    }

    /// Save atomically ([`Ranker::to_file_bytes`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_file_bytes().map_err(|reason| FrameError::Model { path: path.into(), reason })?;
        astro_image::image_io::write_atomic(path, &bytes)?;
        Ok(())
    }

    /// Load a model saved by [`Ranker::save`].
    pub fn load(path: &Path) -> Result<Ranker> {
        let model = |reason| FrameError::Model { path: path.into(), reason };
        // A missing or unreadable file is an I/O error, not a bad model.
        std::fs::metadata(path).map_err(crate::error::io_err(path))?;
        let bytes =
            ml_core::model_file::read_model_file(path, ml_core::model_file::MAX_MODEL_FILE_BYTES).map_err(model)?;
        Ranker::from_file_bytes(&bytes).map_err(model)
    }

    /// Score prepared patches (higher = better); `B` runs the CNN.
    pub fn score_patches<B: Backend>(&self, patches: &[Vec<f32>], device: &B::Device) -> Result<Vec<f32>> {
        let out: Vec<f32> = match self {
            Ranker::Linear(r) | Ranker::Ridge(r) => patches.par_iter().map(|p| r.score(p)).collect(),
            Ranker::Logistic(r) => patches.par_iter().map(|p| r.score(p)).collect(),
            Ranker::Reference(r) => patches.par_iter().map(|p| r.score(p)).collect(),
            Ranker::Cnn(r) => {
                let cfg = RankNetConfig::new().with_channels(r.channels.clone());
                let model = inference::model_from_bytes::<B>(&cfg, &r.weights, device)
                    .map_err(|reason| FrameError::Model { path: "(cnn)".into(), reason })?;
                inference::score_patches(&model, patches, r.patch.size, device)
            }
            Ranker::Picks(_) | Ranker::CnnPicks(_) => {
                return Err(FrameError::Model {
                    path: "(picks)".into(),
                    reason: "the picks ranker scores whole videos (score_source), not patches".into(),
                });
            }
        };
        Ok(out.into_iter().map(|v| if v.is_finite() { v } else { f32::MIN }).collect())
    }

    /// Score every frame of a source, streaming in chunks (memory independent of the frame count).
    pub fn score_source<B: Backend>(
        &self,
        source: &dyn FrameSource,
        device: &B::Device,
        progress: &dyn Fn(usize),
    ) -> Result<Vec<f32>> {
        if let Ranker::Picks(r) = self {
            return r.score_source(source, progress);
        }
        if let Ranker::CnnPicks(r) = self {
            return r.score_source::<B>(source, device, progress);
        }
        let patch = self.patch();
        let mut out = Vec::with_capacity(source.len());
        let idx: Vec<usize> = (0..source.len()).collect();
        for chunk in idx.chunks(1024) {
            let patches = collect_patches(source, chunk, &patch)?;
            out.extend(self.score_patches::<B>(&patches, device)?);
            progress(out.len());
        }
        Ok(out)
    }
}
