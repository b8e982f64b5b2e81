//! The settings of a training run ([`TrainConfig`], saved in every checkpoint), its learning-rate
//! schedule, and the losses each step reports ([`StepStats`]).

use dataset::degrade::DegradationConfig;
use serde::{Deserialize, Serialize};

use crate::discriminator::DiscriminatorConfig;
use crate::error::{Result, SrError};
use crate::loss::{GanLoss, PixelLossWeights, SmoothFieldPenalty};
use crate::model::GeneratorConfig;

/// Everything that defines a training run (saved in every checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The generator to train.
    pub generator: GeneratorConfig,
    /// The discriminator for the adversarial phase (`None`: pretraining only).
    pub discriminator: Option<DiscriminatorConfig>,
    /// How LR inputs are made from HR-only images (recorded for the model card).
    pub degradation: DegradationConfig,
    /// Steps of PSNR-oriented pretraining.
    pub pretrain_steps: usize,
    /// Steps of adversarial fine-tuning after pretraining.
    pub gan_steps: usize,
    /// Patches per batch.
    pub batch_size: usize,
    /// Side of the square HR patches (a multiple of the scale, and of 16 for the VGG discriminator).
    pub hr_patch: usize,
    /// Peak generator learning rate.
    pub lr: f64,
    /// Discriminator learning rate.
    pub lr_d: f64,
    /// Linear warm-up steps at the start of each phase.
    pub warmup: usize,
    /// The cosine schedule ends at `lr · min_lr_ratio`.
    pub min_lr_ratio: f64,
    /// Per-parameter gradient-norm clipping (`None`: off).
    pub grad_clip: Option<f32>,
    /// EMA decay of the generator weights (0.999 in Real-ESRGAN).
    pub ema_decay: f64,
    /// Pixel/structure loss weights (both phases).
    pub pixel: PixelLossWeights,
    /// GAN objective.
    pub gan_loss: GanLoss,
    /// Weight of the adversarial term in the generator loss.
    pub gan_weight: f64,
    /// Weight of discriminator feature matching (the offline perceptual loss).
    pub feature_matching: f64,
    /// The smooth-field penalty, both phases (off unless asked; absent from older checkpoints).
    #[serde(default)]
    pub smooth: SmoothFieldPenalty,
    /// Weight of LDL's artefact loss in the adversarial phase (0: off; absent from older checkpoints).
    #[serde(default)]
    pub artifact_weight: f64,
    /// Seed of weights, data order and degradations.
    pub seed: u64,
    /// Validate every this many steps.
    pub val_every: usize,
    /// Write a checkpoint every this many steps.
    pub checkpoint_every: usize,
}

impl TrainConfig {
    /// Sensible defaults for a generator (Real-ESRGAN's Adam β2 = 0.99, EMA 0.999).
    pub fn new(generator: GeneratorConfig) -> Self {
        TrainConfig {
            generator,
            discriminator: None,
            degradation: DegradationConfig::dss(),
            pretrain_steps: 2000,
            gan_steps: 0,
            batch_size: 8,
            hr_patch: 96,
            lr: 5e-4,
            lr_d: 1e-4,
            warmup: 50,
            min_lr_ratio: 0.05,
            grad_clip: Some(1.0),
            ema_decay: 0.999,
            pixel: PixelLossWeights::default(),
            gan_loss: GanLoss::Ragan,
            gan_weight: 0.01,
            feature_matching: 1.0,
            smooth: SmoothFieldPenalty::default(),
            artifact_weight: 0.0,
            seed: 42,
            val_every: 200,
            checkpoint_every: 100,
        }
    }

    /// Total steps of both phases.
    pub fn total_steps(&self) -> usize {
        self.pretrain_steps + self.gan_steps
    }

    /// Check the settings fit together.
    pub fn validate(&self) -> Result<()> {
        let s = self.generator.scale();
        let m = self.generator.size_multiple();
        if self.batch_size == 0 || self.total_steps() == 0 {
            return Err(SrError::Config("batch size and step count must be positive".into()));
        }
        if !self.hr_patch.is_multiple_of(s) || !(self.hr_patch / s).is_multiple_of(m) {
            return Err(SrError::Config(format!("patch {} does not fit scale ×{s}", self.hr_patch)));
        }
        if self.gan_steps > 0 && self.discriminator.is_none() {
            return Err(SrError::Config("adversarial steps need a discriminator".into()));
        }
        Ok(())
    }

    /// Learning rate at `step`: linear warm-up then cosine decay, restarted for the GAN phase.
    pub fn learning_rate(&self, step: usize, peak: f64) -> f64 {
        let (s, len) = if step < self.pretrain_steps {
            (step, self.pretrain_steps)
        } else {
            (step - self.pretrain_steps, self.gan_steps)
        };
        if s < self.warmup {
            return peak * (s + 1) as f64 / self.warmup as f64;
        }
        let t = (s - self.warmup) as f64 / (len.saturating_sub(self.warmup).max(1)) as f64;
        let cos = 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos());
        peak * (self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cos)
    }
}

/// Losses of one step.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct StepStats {
    /// The step just done (1-based count).
    pub step: usize,
    /// Generator loss.
    pub loss: f64,
    /// Discriminator loss (adversarial phase only).
    pub d_loss: Option<f64>,
    /// Generator learning rate used.
    pub lr: f64,
}

#[cfg(test)]
mod tests {
    use super::super::tests::tiny_config;

    #[test]
    fn learning_rate_warms_up_then_decays_per_phase() {
        let mut c = tiny_config(2);
        c.pretrain_steps = 100;
        c.gan_steps = 50;
        c.warmup = 10;
        assert!((c.learning_rate(0, 1.0) - 0.1).abs() < 1e-12);
        assert!((c.learning_rate(9, 1.0) - 1.0).abs() < 1e-12);
        assert!(c.learning_rate(50, 1.0) < 1.0 && c.learning_rate(99, 1.0) < 0.06);
        assert!((c.learning_rate(100, 1.0) - 0.1).abs() < 1e-12, "GAN phase restarts the warm-up");
    }
}
