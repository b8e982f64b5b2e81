//! Fine-tuning the bundled quality CNN ([`super::quality`]) on the user's own good/bad picks
//! (`train-ranker VIDEO --labels picks.csv --kind cnn`).
//!
//! Start: the bundled [`QualityNet`] weights, and a per-crop weighting that starts uniform (so an
//! untouched model scores exactly as `--metric learned` does). The frame score is
//! `Σ_k w_k · net(crop_k)` with `w = softmax(CROP_LOGIT_GAIN · θ)`: the K crops sit at fixed places
//! around the disc centre, so the weights can learn *where* the user looks (a region of interest),
//! while the shared net can learn *what* the user calls sharp.
//!
//! Loss: pairwise logistic (RankNet) over every good × bad pair of the labelled frames, all pairs
//! in each step; each step gives every frame a random flip/transpose of its crops' content (the
//! crops keep their places). Adam at a small learning rate for at most [`FinetuneConfig::steps`]
//! steps; every `eval_every` steps the loss over all pairs without augmentation is measured, the
//! best weights are kept, and training stops when it has not improved for `patience` checks or when
//! every pair is ordered with a wide margin. Only the labels are used (there is no held-out set), so
//! the stop rule limits over-fitting only by keeping the run short.
//!
//! Saved as the `cnn-picks` [`super::Ranker`]: the quality-net weights in their own file format
//! ([`net_to_bytes`]: ml-core's container; the older `PSQCNN01` bytes of earlier models still
//! load; shape-checked on load) plus the crop weights.

use burn::module::{AutodiffModule, Param};
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::tensor::activation::{softmax, softplus};
use burn::tensor::backend::AutodiffBackend;
use ml_core::descent::descend;
use ml_core::distributed::Worker;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::quality::{
    BUNDLED_WEIGHTS, FrameInput, QualityNet, SCORE_CHUNK, finish_scores, frames_to_tensor, net_from_bytes,
    net_to_bytes, prepare_source, weights_crops,
};
use crate::error::{FrameError, Result};
use crate::io::FrameSource;
use crate::ranking::picks::Pick;

/// Scale of the crop-weight logits (Adam moves each parameter by about the learning rate per
/// step; the gain lets the crop weights move faster than the conv weights).
pub const CROP_LOGIT_GAIN: f32 = 20.0;

/// Settings of [`finetune_prepared`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FinetuneConfig {
    /// At most this many Adam steps (every good × bad pair in each).
    pub steps: usize,
    /// Adam learning rate (constant).
    pub learning_rate: f64,
    /// Measure the un-augmented loss over all pairs every this many steps.
    pub eval_every: usize,
    /// Stop after this many checks without improvement.
    pub patience: usize,
    /// Seed of the augmentation.
    pub seed: u64,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        FinetuneConfig { steps: 150, learning_rate: 5e-4, eval_every: 25, patience: 2, seed: 0 }
    }
}

/// The fine-tuned model as stored (`{"kind": "cnn-picks", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnPicksRanker {
    /// Crops per frame (as in the weights).
    pub crops: usize,
    /// Weight of each crop's score (they sum to 1; uniform = the bundled model's mean).
    pub crop_weights: Vec<f32>,
    /// Quality-net weights ([`net_to_bytes`] format).
    pub weights: Vec<u8>,
    /// Labels it was fitted on.
    pub labels: usize,
    /// Steps run.
    pub steps: usize,
    /// Un-augmented loss over all pairs at each check (the first entry is before training).
    pub loss_history: Vec<f64>,
}

/// What [`finetune_prepared`] reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinetuneReport {
    /// Labels used (frames with a disc).
    pub labels: usize,
    /// Good labels among them.
    pub good: usize,
    /// Labelled frames without a disc (left out).
    pub dropped: usize,
    /// good × bad pairs.
    pub pairs: usize,
    /// Steps run.
    pub steps: usize,
    /// Share of the pairs ordered correctly by the bundled model and by the fine-tuned one.
    pub pair_accuracy_before: f64,
    /// See `pair_accuracy_before`.
    pub pair_accuracy_after: f64,
    /// Un-augmented loss over all pairs before and after (the best check).
    pub loss_before: f64,
    /// See `loss_before`.
    pub loss_after: f64,
}

/// The quality net and its crop weighting, as trained.
#[derive(Module, Debug)]
pub struct PicksNet<B: Backend> {
    net: QualityNet<B>,
    crop_logits: Param<Tensor<B, 1>>,
}

impl<B: Backend> PicksNet<B> {
    fn new(net: QualityNet<B>, weights: &[f32], device: &B::Device) -> PicksNet<B> {
        let logits: Vec<f32> = weights.iter().map(|w| w.max(1e-12).ln() / CROP_LOGIT_GAIN).collect();
        let n = logits.len();
        PicksNet { net, crop_logits: Param::from_tensor(Tensor::from_data(TensorData::new(logits, [n]), device)) }
    }

    fn crop_weights(&self) -> Tensor<B, 1> {
        softmax(self.crop_logits.val() * CROP_LOGIT_GAIN, 0)
    }

    /// Frames as `[N·K, 2, S, S]` → weighted frame scores `[N]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 1> {
        let k = self.crop_logits.dims()[0];
        let n = x.dims()[0] / k;
        let s = self.net.forward_crops(x).reshape([n, k]);
        (s * self.crop_weights().reshape([1, k])).sum_dim(1).reshape([n])
    }
}

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec::<f32>().unwrap_or_default()
}

/// Raw scores of prepared frames (`f32::NAN` without a disc).
fn raw_scores<B: Backend>(net: &PicksNet<B>, inputs: &[FrameInput], k: usize, device: &B::Device) -> Vec<f32> {
    let mut out = vec![f32::NAN; inputs.len()];
    let idx: Vec<usize> = (0..inputs.len())
        .filter(|&i| inputs[i].found && inputs[i].crops.len() == k * super::quality::CROP.pow(2))
        .collect();
    for chunk in idx.chunks(SCORE_CHUNK) {
        let refs: Vec<&FrameInput> = chunk.iter().map(|&i| &inputs[i]).collect();
        let v = to_vec(net.forward(frames_to_tensor::<B>(&refs, k, None, device)));
        for (&i, v) in chunk.iter().zip(v) {
            out[i] = v;
        }
    }
    out
}

/// Mean pairwise logistic loss and the share of ordered pairs, from good and bad scores.
fn pair_stats(good: &[f32], bad: &[f32]) -> (f64, f64) {
    let (mut loss, mut ok) = (0f64, 0usize);
    for &g in good {
        for &b in bad {
            let d = (g - b) as f64;
            loss += if d > 30.0 { (-d).exp() } else { (1.0 + (-d).exp()).ln() };
            ok += (d > 0.0) as usize;
        }
    }
    let n = (good.len() * bad.len()).max(1) as f64;
    (loss / n, ok as f64 / n)
}

impl CnnPicksRanker {
    /// Check what can be checked without a backend (the net's shapes are checked when it is built).
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !matches!(self.crops, 4 | 8) {
            return Err(format!("cnn-picks model: {} crops per frame (expected 4 or 8)", self.crops));
        }
        if self.crop_weights.len() != self.crops || self.crop_weights.iter().any(|w| !w.is_finite()) {
            return Err(format!(
                "cnn-picks model: {} crop weights for {} crops (or not finite)",
                self.crop_weights.len(),
                self.crops
            ));
        }
        if weights_crops(&self.weights) != Some(self.crops) {
            return Err("cnn-picks model: the weights are not quality-net weights with this crop count".into());
        }
        Ok(())
    }

    /// The trained net on `device`.
    pub fn net<B: Backend>(&self, device: &B::Device) -> Result<PicksNet<B>> {
        self.validate().map_err(|reason| FrameError::Model { path: "(cnn-picks)".into(), reason })?;
        let (net, crops) = net_from_bytes::<B>(&self.weights, device)
            .map_err(|reason| FrameError::Model { path: "(cnn-picks)".into(), reason })?;
        if crops != self.crops {
            return Err(FrameError::Model {
                path: "(cnn-picks)".into(),
                reason: format!("weights have {crops} crops, the model says {}", self.crops),
            });
        }
        Ok(PicksNet::new(net, &self.crop_weights, device))
    }

    /// Scores of prepared frames (prepared with `self.crops` crops), finished per video as
    /// `--metric learned` does (no disc last, cut discs below whole ones).
    pub fn score_prepared<B: Backend>(&self, inputs: &[FrameInput], device: &B::Device) -> Result<Vec<f32>> {
        let net = self.net::<B>(device)?;
        Ok(finish_scores(inputs, &raw_scores(&net, inputs, self.crops, device)))
    }

    /// Score every frame of a source (higher = better), in chunks.
    pub fn score_source<B: Backend>(
        &self,
        source: &dyn FrameSource,
        device: &B::Device,
        progress: &dyn Fn(usize),
    ) -> Result<Vec<f32>> {
        let net = self.net::<B>(device)?;
        let mut inputs = Vec::with_capacity(source.len());
        let mut raw = Vec::with_capacity(source.len());
        let idx: Vec<usize> = (0..source.len()).collect();
        for chunk in idx.chunks(SCORE_CHUNK) {
            let mut p = prepare_source(source, chunk, self.crops)?;
            raw.extend(raw_scores(&net, &p, self.crops, device));
            for f in &mut p {
                f.crops = Vec::new();
            }
            inputs.extend(p);
            progress(raw.len());
        }
        Ok(finish_scores(&inputs, &raw))
    }
}

/// Fine-tune quality-net weights `base` ([`net_to_bytes`] format; [`BUNDLED_WEIGHTS`] for the
/// bundled model) on labelled frames: `inputs[i]` is the prepared frame of `picks[i]` (prepared
/// with the base model's crop count). Labelled frames without a disc are left out.
pub fn finetune_prepared<B: AutodiffBackend>(
    base: &[u8],
    inputs: &[FrameInput],
    picks: &[Pick],
    cfg: &FinetuneConfig,
    device: &B::Device,
    log: &dyn Fn(&str),
) -> Result<(CnnPicksRanker, FinetuneReport)> {
    if inputs.len() != picks.len() {
        return Err(FrameError::Invalid(format!("{} prepared frames for {} picks", inputs.len(), picks.len())));
    }
    let (net, crops) = net_from_bytes::<B>(base, device)
        .map_err(|reason| FrameError::Model { path: "(base quality-cnn)".into(), reason })?;
    let usable: Vec<usize> = (0..picks.len()).filter(|&i| inputs[i].found).collect();
    let good: Vec<usize> = usable.iter().copied().filter(|&i| picks[i].label == 1).collect();
    let bad: Vec<usize> = usable.iter().copied().filter(|&i| picks[i].label != 1).collect();
    if good.is_empty() || bad.is_empty() {
        return Err(FrameError::Training(format!(
            "cnn fine-tuning needs good and bad frames with a disc; found {} good and {} bad ({} labelled frames without a disc)",
            good.len(),
            bad.len(),
            picks.len() - usable.len()
        )));
    }
    let frames: Vec<&FrameInput> = good.iter().chain(&bad).map(|&i| &inputs[i]).collect();
    let (ng, nb) = (good.len(), bad.len());
    let mut model = PicksNet::new(net, &vec![1.0 / crops as f32; crops], device);
    let eval = |m: &PicksNet<B::InnerBackend>| -> (f64, f64) {
        let s = to_vec(m.forward(frames_to_tensor::<B::InnerBackend>(&frames, crops, None, device)));
        pair_stats(&s[..ng], &s[ng..])
    };
    let (loss_before, acc_before) = eval(&model.valid());
    log(&format!(
        "{ng} good × {nb} bad = {} pairs; before: loss {loss_before:.4}, {:.0}% ordered",
        ng * nb,
        100.0 * acc_before
    ));
    let mut history = vec![loss_before];
    let mut best = (loss_before, acc_before, model.valid(), 0usize);
    let mut since_best = 0;
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let gi = Tensor::<B, 1, Int>::arange(0..ng as i64, device);
    let bi = Tensor::<B, 1, Int>::arange(ng as i64..(ng + nb) as i64, device);
    let mut steps = 0;
    for step in 1..=cfg.steps {
        let t: Vec<usize> = frames.iter().map(|_| rng.random_range(0..8)).collect();
        let s = model.forward(frames_to_tensor::<B>(&frames, crops, Some(&t), device));
        let (sg, sb) = (s.clone().select(0, gi.clone()), s.select(0, bi.clone()));
        let diff = sg.reshape([ng, 1]) - sb.reshape([1, nb]);
        let loss = softplus(diff.neg(), 1.0).mean();
        model = descend(model, loss, &mut optim, cfg.learning_rate, &Worker::single(), 1.0, step)?;
        steps = step;
        if step % cfg.eval_every.max(1) == 0 || step == cfg.steps {
            let valid = model.valid();
            let (l, a) = eval(&valid);
            if !l.is_finite() {
                return Err(FrameError::Training(format!("cnn fine-tuning: loss became {l} at step {step}")));
            }
            log(&format!("step {step}: loss {l:.4}, {:.0}% of pairs ordered", 100.0 * a));
            history.push(l);
            if l < best.0 {
                best = (l, a, valid, step);
                since_best = 0;
            } else {
                since_best += 1;
            }
            if since_best >= cfg.patience.max(1) || l < 0.02 {
                break;
            }
        }
    }
    let (loss_after, acc_after, net, _) = best;
    let w = to_vec(net.crop_weights());
    let ranker = CnnPicksRanker {
        crops,
        crop_weights: w,
        weights: net_to_bytes(&net.net, crops)?,
        labels: ng + nb,
        steps,
        loss_history: history,
    };
    let report = FinetuneReport {
        labels: ng + nb,
        good: ng,
        dropped: picks.len() - usable.len(),
        pairs: ng * nb,
        steps,
        pair_accuracy_before: acc_before,
        pair_accuracy_after: acc_after,
        loss_before,
        loss_after,
    };
    Ok((ranker, report))
}

/// Prepare the labelled frames of `source` and fine-tune `base` (the bundled weights when `None`).
pub fn finetune_on_picks<B: AutodiffBackend>(
    source: &dyn FrameSource,
    picks: &[Pick],
    base: Option<&[u8]>,
    cfg: &FinetuneConfig,
    device: &B::Device,
    log: &dyn Fn(&str),
) -> Result<(CnnPicksRanker, FinetuneReport)> {
    let base = base.unwrap_or(BUNDLED_WEIGHTS);
    let crops = match weights_crops(base) {
        Some(k) => k,
        None => {
            return Err(FrameError::Model {
                path: "(base quality-cnn)".into(),
                reason: "not quality-net weights".into(),
            });
        }
    };
    if let Some(p) = picks.iter().find(|p| p.frame >= source.len()) {
        return Err(FrameError::Invalid(format!(
            "frame {} is not in {} ({} frames)",
            p.frame,
            source.name(),
            source.len()
        )));
    }
    let frames: Vec<usize> = picks.iter().map(|p| p.frame).collect();
    let inputs = prepare_source(source, &frames, crops)?;
    finetune_prepared::<B>(base, &inputs, picks, cfg, device, log)
}
