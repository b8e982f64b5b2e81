//! Training loop (AdamW, warm-up + cosine learning rate, class-balanced sampling, on-the-fly
//! augmentation) and evaluation with optional test-time augmentation.

use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::AdamWConfig;
use burn::tensor::activation::softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use ml_core::descent::descend;
use ml_core::distributed::Worker;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::augment::{AugmentConfig, augment};
use crate::classes::Task;
use crate::data::{DsoSample, class_counts, images_to_tensor};
use crate::error::{DsoError, Result};
use crate::metrics::EvalReport;
use crate::model::{DsoNet, DsoNetConfig};

/// Everything that defines a training run (saved in the model card).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// Which classification task.
    pub task: Task,
    /// Network architecture.
    pub model: DsoNetConfig,
    /// Training-time augmentation.
    pub augment: AugmentConfig,
    /// Input side in pixels.
    pub image_size: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate (after warm-up).
    pub learning_rate: f64,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// Label smoothing of the cross-entropy target.
    pub label_smoothing: f32,
    /// Warm-up epochs before the cosine decay.
    pub warmup_epochs: usize,
    /// Draw training images with probability inversely proportional to their class size.
    pub balance_classes: bool,
    /// Seed for initialisation, sampling and augmentation.
    pub seed: u64,
}

impl TrainingConfig {
    /// Defaults that train in minutes on a CPU.
    pub fn new(task: Task) -> Self {
        TrainingConfig {
            task,
            model: DsoNetConfig::new(task.num_classes()),
            augment: AugmentConfig::default(),
            image_size: crate::data::DEFAULT_IMAGE_SIZE,
            epochs: 60,
            batch_size: 32,
            learning_rate: 2e-3,
            weight_decay: 5e-4,
            label_smoothing: 0.05,
            warmup_epochs: 2,
            balance_classes: true,
            seed: 42,
        }
    }

    /// Learning rate at fractional epoch `t` (linear warm-up, then cosine down to 2 % of peak).
    pub fn learning_rate_at(&self, t: f64) -> f64 {
        let warm = self.warmup_epochs as f64;
        if t < warm {
            return self.learning_rate * (t + 1.0 / 32.0).min(warm) / warm.max(1e-9);
        }
        let span = (self.epochs as f64 - warm).max(1.0);
        let progress = ((t - warm) / span).clamp(0.0, 1.0);
        let floor = 0.02 * self.learning_rate;
        floor + (self.learning_rate - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// What happened in one epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy on the augmented images.
    pub train_accuracy: f64,
    /// Validation accuracy (no augmentation), when a validation set is given.
    pub valid_accuracy: Option<f64>,
    /// Validation log-loss.
    pub valid_loss: Option<f64>,
    /// Learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// Seconds the epoch took.
    pub seconds: f64,
}

/// The trained network (best validation epoch) and the per-epoch history.
pub struct TrainedModel<B: Backend> {
    /// Weights of the best epoch (by validation accuracy, then log-loss; the last one without validation).
    pub model: DsoNet<B>,
    /// The epoch those weights come from.
    pub best_epoch: usize,
    /// Every epoch's figures.
    pub history: Vec<EpochStats>,
}

/// Progress reported by [`train`].
#[derive(Debug)]
pub enum TrainProgress<'a> {
    /// An optimiser step finished (step within the epoch, from 1; its loss).
    Step {
        /// The step within the epoch (from 1).
        step: usize,
        /// The loss.
        loss: f64,
    },
    /// An epoch finished.
    Epoch(&'a EpochStats),
}

/// Train a fresh network on `train`, picking the best epoch on `valid` (if not empty).
///
/// `progress` sees every step and epoch (for progress bars and logs).
pub fn train<B: AutodiffBackend>(
    config: &TrainingConfig,
    train: &[DsoSample],
    valid: &[DsoSample],
    device: &B::Device,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<TrainedModel<B::InnerBackend>> {
    train_replica(config, train, valid, &Worker::<B>::single(), device, progress)
}

/// [`train`] as one replica of a data-parallel run: every replica draws the same global batch
/// (`config.batch_size` images), augments and runs only its shard, and the gradients are averaged
/// every step. The replicas start from the leader's weights, and at each epoch's end take its
/// BatchNorm running statistics (as PyTorch's DDP broadcasts buffers): BatchNorm normalises each
/// replica's shard with that shard's statistics, so the run is close to, not equal to, one
/// worker with the whole batch.
pub fn train_replica<B: AutodiffBackend>(
    config: &TrainingConfig,
    train: &[DsoSample],
    valid: &[DsoSample],
    worker: &Worker<B>,
    device: &B::Device,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<TrainedModel<B::InnerBackend>> {
    let shard = worker.shard();
    if config.batch_size < shard.world {
        return Err(DsoError::Config(format!(
            "batch size {} is below the {} data-parallel workers (the batch size is global)",
            config.batch_size, shard.world
        )));
    }
    let k = config.task.num_classes();
    if train.len() < config.batch_size.max(2) {
        return Err(DsoError::NotEnoughData(format!(
            "{} training images for batch size {}",
            train.len(),
            config.batch_size
        )));
    }
    if let Some(bad) = train.iter().chain(valid).find(|s| s.label >= k || s.image.width != config.image_size) {
        return Err(DsoError::Config(format!(
            "{}: label {} or size {} does not fit the task",
            bad.file, bad.label, bad.image.width
        )));
    }
    let model = {
        let _init = ml_core::distributed::seeded_init();
        B::seed(device, config.seed);
        config.model.init(device)
    };
    let mut model: DsoNet<B> = worker.synchronise(model)?;
    let mine = shard.range(config.batch_size);
    let mut optim = AdamWConfig::new().with_weight_decay(config.weight_decay).init::<B, DsoNet<B>>();
    let loss_fn = CrossEntropyLossConfig::new()
        .with_smoothing((config.label_smoothing > 0.0).then_some(config.label_smoothing))
        .init(device);
    let counts = class_counts(train, k);
    let weights: Vec<f64> =
        train.iter().map(|s| if config.balance_classes { 1.0 / counts[s.label] as f64 } else { 1.0 }).collect();
    let sampler = WeightedIndex::new(&weights).map_err(|e| DsoError::Config(format!("class weights: {e}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    let mut history = Vec::new();
    let mut best: Option<(f64, f64, usize, DsoNet<B::InnerBackend>)> = None;
    for epoch in 1..=config.epochs {
        let start = std::time::Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut lr = config.learning_rate;
        for step in 0..steps_per_epoch {
            let idx: Vec<usize> = (0..config.batch_size).map(|_| sampler.sample(&mut rng)).collect();
            let base_seed = rand::Rng::random::<u64>(&mut rng);
            let idx = &idx[mine.clone()];
            let images: Vec<astro_image::Planes> = idx
                .par_iter()
                .enumerate()
                .map(|(j, &i)| {
                    let j = j + mine.start;
                    let mut r = ChaCha8Rng::seed_from_u64(base_seed ^ (j as u64).wrapping_mul(0x9e37_79b9));
                    augment(&train[i].image, &config.augment, &mut r)
                })
                .collect();
            let refs: Vec<&astro_image::Planes> = images.iter().collect();
            let x = images_to_tensor::<B>(&refs, device);
            let labels: Vec<i64> = idx.iter().map(|&i| train[i].label as i64).collect();
            let y = Tensor::<B, 1, Int>::from_data(TensorData::new(labels.clone(), [labels.len()]), device);
            let logits = model.forward(x);
            let loss = loss_fn.forward(logits.clone(), y);
            let loss_value: f64 = loss.clone().into_scalar().elem();
            let preds = logits.argmax(1).into_data().convert::<i64>().to_vec::<i64>().unwrap_or_default();
            correct += preds.iter().zip(&labels).filter(|(p, l)| p == l).count();
            seen += labels.len();
            loss_sum += loss_value;
            lr = config.learning_rate_at(epoch as f64 - 1.0 + (step + 1) as f64 / steps_per_epoch as f64);
            model = descend(model, loss, &mut optim, lr, worker, shard.weight(config.batch_size), step)?;
            progress(TrainProgress::Step { step: step + 1, loss: loss_value });
        }
        let mut stats = EpochStats {
            epoch,
            train_loss: loss_sum / steps_per_epoch as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            valid_accuracy: None,
            valid_loss: None,
            learning_rate: lr,
            seconds: 0.0,
        };
        model = worker.synchronise(model)?;
        let inner = model.valid();
        if !valid.is_empty() {
            let (report, _) = evaluate(&inner, valid, config.task, false, device);
            stats.valid_accuracy = Some(report.accuracy);
            stats.valid_loss = Some(report.log_loss);
            let better = match &best {
                None => true,
                Some((acc, loss, _, _)) => {
                    report.accuracy > *acc || (report.accuracy == *acc && report.log_loss < *loss)
                }
            };
            if better {
                best = Some((report.accuracy, report.log_loss, epoch, inner));
            }
        } else {
            best = Some((0.0, 0.0, epoch, inner));
        }
        stats.seconds = start.elapsed().as_secs_f64();
        progress(TrainProgress::Epoch(&stats));
        history.push(stats);
    }
    let (_, _, best_epoch, model) = best.ok_or_else(|| DsoError::Config("zero epochs".into()))?;
    Ok(TrainedModel { model, best_epoch, history })
}

/// The eight flips/quarter-turns of a `[N, C, H, W]` batch (the dihedral group of the square).
pub fn dihedral_views<B: Backend>(x: Tensor<B, 4>) -> Vec<Tensor<B, 4>> {
    let t = x.clone().swap_dims(2, 3);
    vec![
        x.clone(),
        x.clone().flip([3]),
        x.clone().flip([2]),
        x.flip([2, 3]),
        t.clone(),
        t.clone().flip([3]),
        t.clone().flip([2]),
        t.flip([2, 3]),
    ]
}

/// Class probabilities for a batch; with `tta` the softmax is averaged over the eight
/// flips/rotations by 90°.
pub fn predict_batch<B: Backend>(model: &DsoNet<B>, x: Tensor<B, 4>, tta: bool) -> Tensor<B, 2> {
    if !tta {
        return softmax(model.forward(x), 1);
    }
    let views = dihedral_views(x);
    let n = views.len() as f32;
    let mut sum: Option<Tensor<B, 2>> = None;
    for v in views {
        let p = softmax(model.forward(v), 1);
        sum = Some(match sum {
            Some(acc) => acc + p,
            None => p,
        });
    }
    sum.map(|s| s / n).unwrap_or_else(|| unreachable!("eight views"))
}

/// Evaluate on labelled samples: the report and each sample's class probabilities.
pub fn evaluate<B: Backend>(
    model: &DsoNet<B>,
    samples: &[DsoSample],
    task: Task,
    tta: bool,
    device: &B::Device,
) -> (EvalReport, Vec<Vec<f32>>) {
    let k = task.num_classes();
    let mut probs = Vec::with_capacity(samples.len());
    for chunk in samples.chunks(32) {
        let refs: Vec<&astro_image::Planes> = chunk.iter().map(|s| &s.image).collect();
        let p = predict_batch(model, images_to_tensor::<B>(&refs, device), tta);
        let flat = p.into_data().convert::<f32>().to_vec::<f32>().unwrap_or_default();
        probs.extend(flat.chunks(k).map(|c| c.to_vec()));
    }
    let labels: Vec<usize> = samples.iter().map(|s| s.label).collect();
    (EvalReport::from_probabilities(&probs, &labels, task.classes()), probs)
}
