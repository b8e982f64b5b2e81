//! Training `RankNet` on the teacher's top and bottom frames (binary cross-entropy, Adam).

use burn::module::AutodiffModule;
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use ml_core::descent::descend;
use ml_core::distributed::Worker;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{dihedral, top_bottom_labels};
use super::model::{RankNet, RankNetConfig};
use crate::error::{FrameError, Result};

/// Optimisation settings of the CNN ranker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CnnTrainConfig {
    /// Passes over the labelled frames.
    pub epochs: usize,
    /// Patches per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seed for shuffling, augmentation and initialisation order.
    pub seed: u64,
}

impl Default for CnnTrainConfig {
    fn default() -> Self {
        CnnTrainConfig { epochs: 30, batch_size: 32, learning_rate: 2e-3, seed: 0 }
    }
}

/// Mean training loss of each epoch.
pub type LossHistory = Vec<f64>;

/// Patches to a `[N, 1, S, S]` tensor.
pub fn patches_to_tensor<B: Backend>(patches: &[&[f32]], size: usize, device: &B::Device) -> Tensor<B, 4> {
    dataset::stack_nchw(patches.iter().copied(), [1, size, size], device)
}

/// Train a fresh `RankNet` to separate the teacher's top `fraction` of patches from the bottom
/// `fraction` (random flips/rotations as augmentation). `on_epoch(epoch, loss)` reports progress.
///
/// `worker` is this replica's place in a data-parallel run (`Worker::single()` otherwise): every
/// replica shuffles and draws the rotations of the whole batch, runs its shard, and the gradients
/// are averaged; a last batch smaller than the number of workers is skipped (so a replica never
/// has an empty shard), which only happens in a data-parallel run.
#[allow(clippy::too_many_arguments)]
pub fn train_ranknet<B: AutodiffBackend>(
    net: &RankNetConfig,
    patches: &[Vec<f32>],
    size: usize,
    teacher: &[f32],
    fraction: f32,
    cfg: &CnnTrainConfig,
    worker: &Worker<B>,
    device: &B::Device,
    on_epoch: &dyn Fn(usize, f64),
) -> Result<(RankNet<B::InnerBackend>, LossHistory)> {
    let shard = worker.shard();
    let labels = top_bottom_labels(teacher, fraction);
    if labels.len() < 2 || cfg.batch_size == 0 || cfg.epochs == 0 {
        return Err(FrameError::Training(format!(
            "CNN ranker needs ≥ 2 labelled frames, batch ≥ 1 and epochs ≥ 1 (got {} frames)",
            labels.len()
        )));
    }
    let model = {
        let _init = ml_core::distributed::seeded_init();
        B::seed(device, cfg.seed);
        net.init(device)
    };
    let mut model: RankNet<B> = worker.synchronise(model)?;
    let mut optim = AdamConfig::new().init();
    let loss_fn = BinaryCrossEntropyLossConfig::new().with_logits(true).init(device);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let mut history = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        order.shuffle(&mut rng);
        let (mut sum, mut steps) = (0f64, 0usize);
        for chunk in order.chunks(cfg.batch_size) {
            let turns: Vec<usize> = chunk.iter().map(|_| rng.random_range(0..8)).collect();
            if chunk.len() < shard.world {
                continue;
            }
            let mine = shard.range(chunk.len());
            let (chunk_all, chunk) = (chunk, &chunk[mine.clone()]);
            let aug: Vec<Vec<f32>> =
                chunk.iter().zip(&turns[mine]).map(|(&k, &t)| dihedral(&patches[labels[k].0], size, t)).collect();
            let refs: Vec<&[f32]> = aug.iter().map(|v| v.as_slice()).collect();
            let x = patches_to_tensor::<B>(&refs, size, device);
            let y: Vec<i64> = chunk.iter().map(|&k| labels[k].1 as i64).collect();
            let y = Tensor::<B, 1, Int>::from_data(TensorData::new(y, [chunk.len()]), device);
            let loss = loss_fn.forward(model.forward(x), y);
            let value: f64 = loss.clone().into_scalar().elem();
            if !value.is_finite() {
                return Err(FrameError::Training(format!("loss became {value} at epoch {epoch}")));
            }
            sum += value;
            steps += 1;
            let weight = shard.weight(chunk_all.len());
            model = descend(model, loss, &mut optim, cfg.learning_rate, worker, weight, steps)?;
        }
        let mean = sum / steps.max(1) as f64;
        history.push(mean);
        on_epoch(epoch, mean);
    }
    Ok((model.valid(), history))
}
