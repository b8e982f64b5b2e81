//! Training: PSNR-oriented pretraining (pixel/SSIM losses), then adversarial fine-tuning with
//! its own loop and two Adam optimizers, EMA of the generator, warm-up + cosine learning rate,
//! gradient-norm clipping, seeded runs, validation, sample grids and exactly resumable checkpoints.
//!
//! Split by idea: `config` (the run's settings and schedule), `checkpoint` (save and exact
//! resume), `validation` (figures and sample grids) and `fit` (the whole run); the [`Trainer`] and
//! its steps are here. The moving average and the optimiser step itself are `ml_core`'s (`ema`,
//! `descent`), shared with the other trainers.

mod checkpoint;
mod config;
mod fit;
mod validation;

pub use checkpoint::generator_mismatch;
pub use config::{StepStats, TrainConfig};
pub use fit::{TrainEvent, fit};
pub use validation::{evaluate, evaluate_bicubic, sample_grid};

use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, AdamConfig};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use ml_core::distributed::Worker;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::PairSource;
use crate::discriminator::Discriminator;
use crate::error::{Result, SrError};
use crate::loss::{SMOOTH_FIELD_SIDE, SMOOTH_FIELDS, artifact_loss, feature_matching, smooth_fields};
use crate::model::{Generator, param_shapes};
use ml_core::descent::descend;
use ml_core::ema::ema_update;

type GenOptim<B> = OptimizerAdaptor<Adam, Generator<B>, B>;
type DiscOptim<B> = OptimizerAdaptor<Adam, Discriminator<B>, B>;

/// A training run in memory: models, optimizers, EMA, step counter and the data RNG.
pub struct Trainer<B: AutodiffBackend> {
    /// The run's settings.
    pub config: TrainConfig,
    /// The generator being trained.
    pub generator: Generator<B>,
    opt_g: GenOptim<B>,
    /// The discriminator (adversarial phase).
    pub discriminator: Option<Discriminator<B>>,
    opt_d: Option<DiscOptim<B>>,
    /// Exponential moving average of the generator: what gets exported.
    pub ema: Generator<B::InnerBackend>,
    /// Steps done.
    pub step: usize,
    /// Drives every random draw of the data pipeline (saved for exact resume).
    pub rng: ChaCha8Rng,
    device: B::Device,
    /// This replica's place in a data-parallel run (a single worker by default).
    worker: Worker<B>,
}

/// Adam's ε: PyTorch's and BasicSR's 1e-8, not burn's default 1e-5, so learning rates and recipes
/// from those codebases carry over (weights with gradients far below ε would otherwise move slower
/// than the learning rate says). Not the cause of the 2026-12-02 plateau: that was the frozen layers
/// (`model::trainable`).
pub const ADAM_EPSILON: f32 = 1e-8;

fn adam(beta_2: f32, clip: Option<f32>) -> AdamConfig {
    AdamConfig::new()
        .with_beta_2(beta_2)
        .with_epsilon(ADAM_EPSILON)
        .with_grad_clipping(clip.map(GradientClippingConfig::Norm))
}

impl<B: AutodiffBackend> Trainer<B> {
    /// Start a run: seed the backend and the data RNG, build the models and optimizers.
    pub fn new(config: TrainConfig, device: &B::Device) -> Result<Self> {
        config.validate()?;
        let (generator, discriminator) = {
            let _init = ml_core::distributed::seeded_init();
            B::seed(device, config.seed);
            let generator = config.generator.init::<B>(device)?;
            let discriminator = config.discriminator.as_ref().map(|d| d.init::<B>(device)).transpose()?;
            (generator, discriminator)
        };
        let ema = generator.valid();
        Ok(Trainer {
            opt_g: adam(0.99, config.grad_clip).init(),
            opt_d: discriminator.as_ref().map(|_| adam(0.99, config.grad_clip).init()),
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_da7a),
            config,
            generator,
            discriminator,
            ema,
            step: 0,
            device: device.clone(),
            worker: Worker::single(),
        })
    }

    /// Start from trained weights (fine-tuning: `train-srgan --init`); the EMA starts from them too.
    pub fn with_initial_weights(mut self, generator: Generator<B>) -> Result<Self> {
        let want = param_shapes::<B, _>(&self.generator);
        if param_shapes::<B, _>(&generator) != want {
            return Err(SrError::Config(format!(
                "initial weights do not fit {} (different architecture or size)",
                self.config.generator.describe()
            )));
        }
        self.ema = generator.valid();
        self.generator = generator;
        Ok(self)
    }

    /// Make this trainer one replica of a data-parallel run: `config.batch_size` is the global
    /// batch, of which this replica computes its shard; gradients are averaged every step.
    pub fn with_worker(mut self, worker: Worker<B>) -> Result<Self> {
        let world = worker.shard().world;
        if self.config.batch_size < world {
            return Err(SrError::Config(format!(
                "batch size {} is below the {world} data-parallel workers (the batch size is global)",
                self.config.batch_size
            )));
        }
        // Replicas start from the leader's weights (threads may have drawn different inits).
        self.generator = worker.synchronise(self.generator)?;
        self.discriminator = self.discriminator.map(|d| worker.synchronise(d)).transpose()?;
        if self.step == 0 {
            self.ema = self.generator.valid();
        }
        self.worker = worker;
        Ok(self)
    }

    /// Whether this replica writes the run's files (rank 0, or the only worker).
    pub fn is_leader(&self) -> bool {
        self.worker.is_leader()
    }

    /// Leave the data-parallel run (the last call of a replica; nothing for a single worker).
    pub fn leave_parallel(&mut self) -> Result<()> {
        std::mem::replace(&mut self.worker, Worker::single()).finish()?;
        Ok(())
    }

    /// This replica's weight in the gradient average: its share of the global batch.
    fn weight(&self) -> f32 {
        self.worker.shard().weight(self.config.batch_size)
    }

    /// Whether the run has done all its steps.
    pub fn finished(&self) -> bool {
        self.step >= self.config.total_steps()
    }

    /// Whether the next step is adversarial.
    pub fn in_gan_phase(&self) -> bool {
        self.step >= self.config.pretrain_steps
    }

    fn update_ema(&mut self) {
        let decay = self.config.ema_decay.min((1 + self.step) as f64 / (10 + self.step) as f64);
        let current = self.generator.valid();
        self.ema = ema_update(self.ema.clone(), &current, decay);
    }

    /// The smooth-field penalty of this step (`None` when off): fresh flat and ramp fields from
    /// the run's RNG (the same on every replica, so it needs no sharding), through the generator.
    fn smooth_penalty(&mut self, channels: usize) -> Option<Tensor<B, 1>> {
        let penalty = self.config.smooth;
        if !penalty.is_active() {
            return None;
        }
        let side = SMOOTH_FIELD_SIDE.next_multiple_of(self.config.generator.size_multiple());
        let fields = smooth_fields::<B>(&mut self.rng, SMOOTH_FIELDS, channels, side, &self.device);
        let output = self.generator.forward(fields.clone());
        Some(penalty.loss(fields, output, self.config.generator.scale()))
    }

    /// One pretraining step on a batch: pixel/SSIM loss (and the smooth-field penalty when on),
    /// Adam update, EMA update.
    pub fn pretrain_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<StepStats> {
        let rate = self.config.learning_rate(self.step, self.config.lr);
        let smooth = self.smooth_penalty(lr_batch.dims()[1]);
        let sr = self.generator.forward(lr_batch);
        let mut loss = self.config.pixel.loss(sr, hr_batch);
        if let Some(p) = smooth {
            loss = loss + p;
        }
        let value = loss.clone().into_scalar().elem::<f64>();
        let weight = self.weight();
        self.generator = descend(self.generator.clone(), loss, &mut self.opt_g, rate, &self.worker, weight, self.step)?;
        self.step += 1;
        self.update_ema();
        Ok(StepStats { step: self.step, loss: value, d_loss: None, lr: rate })
    }

    /// The discriminator loss of an adversarial step: real HR patches against the generator's
    /// output on `lr_batch`, detached (the discriminator step must not reach the generator).
    pub fn discriminator_loss(&self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<Tensor<B, 1>> {
        let Some(disc) = &self.discriminator else {
            return Err(SrError::Config("no discriminator configured".into()));
        };
        // The fake batch is a constant here: made without recording a graph.
        let fake = Tensor::from_inner(self.generator.valid().forward(lr_batch.inner()));
        let (real_logits, _) = disc.forward(hr_batch);
        let (fake_logits, _) = disc.forward(fake);
        Ok(self.config.gan_loss.discriminator(real_logits, fake_logits))
    }

    /// The discriminator update of an adversarial step; returns the discriminator loss.
    pub fn discriminator_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<f64> {
        let loss = self.discriminator_loss(lr_batch, hr_batch)?;
        let Some(disc) = self.discriminator.clone() else {
            return Err(SrError::Config("no discriminator configured".into()));
        };
        let value = loss.clone().into_scalar().elem::<f64>();
        let rate = self.config.learning_rate(self.step, self.config.lr_d);
        let weight = self.weight();
        let Some(opt) = self.opt_d.as_mut() else {
            return Err(SrError::Config("no discriminator optimizer".into()));
        };
        self.discriminator = Some(descend(disc, loss, opt, rate, &self.worker, weight, self.step)?);
        Ok(value)
    }

    /// The generator update of an adversarial step: pixel loss + adversarial loss + feature
    /// matching, plus LDL's artefact loss and the smooth-field penalty when they are on.
    pub fn generator_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<(f64, f64)> {
        let Some(disc) = self.discriminator.clone() else {
            return Err(SrError::Config("no discriminator configured".into()));
        };
        let rate = self.config.learning_rate(self.step, self.config.lr);
        let smooth = self.smooth_penalty(lr_batch.dims()[1]);
        let ema_output = (self.config.artifact_weight > 0.0)
            .then(|| Tensor::<B, 4>::from_inner(self.ema.forward(lr_batch.clone().inner())));
        let fake = self.generator.forward(lr_batch);
        // The discriminator is a constant in this update: its real branch runs without a graph,
        // and its fake branch passes gradients to the fake batch only (no weight gradients).
        let (real_logits, real_feats) = disc.valid().forward(hr_batch.clone().inner());
        let (real_logits, real_feats) =
            (Tensor::from_inner(real_logits), real_feats.into_iter().map(Tensor::from_inner).collect::<Vec<_>>());
        let (fake_logits, fake_feats) = disc.no_grad().forward(fake.clone());
        let adv = self.config.gan_loss.generator(real_logits, fake_logits);
        let mut loss = self.config.pixel.loss(fake.clone(), hr_batch.clone()) + adv * self.config.gan_weight;
        if self.config.feature_matching > 0.0 {
            loss = loss + feature_matching(&real_feats, &fake_feats) * self.config.feature_matching;
        }
        if let Some(ema_output) = ema_output {
            loss = loss + artifact_loss(hr_batch, fake, ema_output) * self.config.artifact_weight;
        }
        if let Some(p) = smooth {
            loss = loss + p;
        }
        let value = loss.clone().into_scalar().elem::<f64>();
        let weight = self.weight();
        self.generator = descend(self.generator.clone(), loss, &mut self.opt_g, rate, &self.worker, weight, self.step)?;
        Ok((value, rate))
    }

    /// One adversarial step: discriminator on a detached fake batch, then the generator.
    pub fn gan_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<StepStats> {
        let d_loss = self.discriminator_step(lr_batch.clone(), hr_batch.clone())?;
        let (loss, lr) = self.generator_step(lr_batch, hr_batch)?;
        self.step += 1;
        self.update_ema();
        Ok(StepStats { step: self.step, loss, d_loss: Some(d_loss), lr })
    }

    /// Draw a batch from `source` with the run's RNG and do the step the schedule calls for. In
    /// a data-parallel run every replica draws the same global batch's seeds and builds only its
    /// own shard of the samples.
    pub fn train_step(&mut self, source: &PairSource) -> Result<StepStats> {
        let scale = self.config.generator.scale();
        let shard = self.worker.shard().range(self.config.batch_size);
        let (lr, hr) = source.batch_shard::<B>(
            &mut self.rng,
            self.config.batch_size,
            shard,
            self.config.hr_patch,
            scale,
            &self.device,
        )?;
        if self.in_gan_phase() { self.gan_step(lr, hr) } else { self.pretrain_step(lr, hr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::StoredImage;
    use crate::discriminator::{DiscriminatorConfig, VggDiscriminatorConfig};
    use crate::loss::GanLoss;
    use crate::model::{GeneratorConfig, LightSrConfig};
    use burn::backend::{Autodiff, Flex};
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use dataset::degrade::DegradationConfig;
    use ml_core::ema::flat_params;

    pub(super) type A = Autodiff<Flex>;

    pub(super) fn tiny_config(scale: usize) -> TrainConfig {
        let mut c = TrainConfig::new(GeneratorConfig::Light(
            LightSrConfig::new().with_scale(scale).with_features(8).with_blocks(1),
        ));
        c.batch_size = 2;
        c.hr_patch = 32;
        c.warmup = 2;
        c.pretrain_steps = 6;
        c.lr = 2e-3;
        c.degradation = DegradationConfig::bicubic();
        c
    }

    /// A few real Stellarium images (fails, not skips, when the data set is missing).
    pub(super) fn real_images(n: usize) -> Vec<StoredImage> {
        let paths =
            crate::data::stellarium_images("train", 0).expect("Stellarium data (run datasets/stellarium/fetch.sh)");
        crate::data::load_all(&paths[..n]).unwrap()
    }

    pub(super) fn params(m: &Generator<A>) -> Vec<f32> {
        flat_params::<A, _>(m).into_iter().flat_map(|t| t.into_data().to_vec::<f32>().unwrap()).collect()
    }

    /// 40 pretraining steps of the tiny model on DSS-degraded 48 px patches (batch 4).
    fn dss_pretraining() -> TrainConfig {
        let mut cfg = tiny_config(2);
        cfg.pretrain_steps = 40;
        cfg.hr_patch = 48;
        cfg.batch_size = 4;
        cfg.lr = 3e-3;
        cfg.degradation = DegradationConfig::dss();
        cfg
    }

    #[test]
    fn pretraining_learns_on_real_images() {
        let images = real_images(4);
        let cfg = dss_pretraining();
        let source = PairSource::Degrade { images, degradation: cfg.degradation.clone() };
        let device = Default::default();
        let mut t = Trainer::<A>::new(cfg, &device).unwrap();
        // A fixed probe batch, scored before and after.
        let mut probe_rng = ChaCha8Rng::seed_from_u64(99);
        let (lr, hr) = source.batch::<A>(&mut probe_rng, 8, 48, 2, &device).unwrap();
        let score = |t: &Trainer<A>| crate::loss::l1(t.generator.forward(lr.clone()), hr.clone()).into_scalar();
        let before = score(&t);
        while !t.finished() {
            t.train_step(&source).unwrap();
        }
        let after = score(&t);
        assert!(after < before * 0.85, "L1 {before} -> {after}");
    }

    #[test]
    fn the_smooth_field_penalty_keeps_flat_and_ramp_inputs_smooth_and_unshifted() {
        // DSS's plate colours teach an upscaler to shift every value; the penalty must hold clean
        // smooth inputs to bicubic while the same run learns the rest.
        let images = real_images(4);
        let device = Default::default();
        let run = |smooth: crate::loss::SmoothFieldPenalty| {
            let mut cfg = dss_pretraining();
            cfg.smooth = smooth;
            let source = PairSource::Degrade { images: images.clone(), degradation: cfg.degradation.clone() };
            let mut t = Trainer::<A>::new(cfg, &device).unwrap();
            while !t.finished() {
                t.train_step(&source).unwrap();
            }
            // Held-out probe fields (another seed than any training draw).
            let fields = smooth_fields::<A>(&mut ChaCha8Rng::seed_from_u64(1234), 6, 3, 32, &device);
            let out = t.generator.forward(fields.clone());
            let probe = crate::loss::SmoothFieldPenalty { texture: 0.0, value: 1.0 };
            probe.loss(fields, out, 2).into_scalar()
        };
        let off = run(Default::default());
        let on = run(crate::loss::SmoothFieldPenalty { texture: 5.0, value: 5.0 });
        eprintln!("deviation from bicubic on smooth fields: {off} without, {on} with the penalty");
        assert!(on < 0.5 * off, "deviation from bicubic on smooth fields: {off} without, {on} with the penalty");
    }

    #[test]
    fn the_artefact_loss_changes_the_adversarial_generator_update() {
        let images = real_images(2);
        let device = Default::default();
        let step = |ldl: f64| {
            let mut cfg = tiny_config(2);
            cfg.pretrain_steps = 1;
            cfg.gan_steps = 2;
            cfg.hr_patch = 32;
            cfg.discriminator = Some(DiscriminatorConfig::Vgg(
                VggDiscriminatorConfig::new().with_patch_size(32).with_features(8).with_hidden(16),
            ));
            cfg.artifact_weight = ldl;
            let source = PairSource::Degrade { images: images.clone(), degradation: cfg.degradation.clone() };
            let mut t = Trainer::<A>::new(cfg, &device).unwrap();
            while !t.finished() {
                t.train_step(&source).unwrap();
            }
            params(&t.generator)
        };
        let (a, b, again) = (step(0.0), step(1.0), step(1.0));
        let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        let same = b.iter().zip(&again).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(diff > 1e-6 && same < 1e-7, "artefact term moved weights by {diff}; repeat differs by {same}");
    }

    #[test]
    fn an_adversarial_step_against_the_unet_trains_both_networks() {
        // The generator update runs the discriminator frozen (`no_grad`) and its real branch
        // without a graph: the discriminator's own update must still move every weight.
        let images = real_images(2);
        let device = Default::default();
        let mut cfg = tiny_config(2);
        cfg.pretrain_steps = 0;
        cfg.gan_steps = 1;
        cfg.discriminator =
            Some(DiscriminatorConfig::Unet(crate::discriminator::UNetDiscriminatorConfig::new().with_features(4)));
        let source = PairSource::Degrade { images, degradation: cfg.degradation.clone() };
        let mut t = Trainer::<A>::new(cfg, &device).unwrap();
        let flat_d = |t: &Trainer<A>| -> Vec<Vec<f32>> {
            flat_params::<A, _>(t.discriminator.as_ref().unwrap())
                .into_iter()
                .map(|p| p.into_data().to_vec::<f32>().unwrap())
                .collect()
        };
        let (g0, d0) = (params(&t.generator), flat_d(&t));
        let stats = t.train_step(&source).unwrap();
        let (g1, d1) = (params(&t.generator), flat_d(&t));
        assert!(stats.loss.is_finite() && stats.d_loss.is_some_and(f64::is_finite));
        assert!(g1.iter().all(|v| v.is_finite()), "non-finite generator weights after one adversarial step");
        assert!(d1.iter().flatten().all(|v| v.is_finite()), "non-finite discriminator weights after one step");
        assert!(g0.iter().zip(&g1).any(|(a, b)| a != b), "the generator did not move");
        for (i, (a, b)) in d0.iter().zip(&d1).enumerate() {
            assert!(a.iter().zip(b).any(|(x, y)| x != y), "discriminator parameter {i} did not move");
        }
    }

    #[test]
    fn discriminator_is_trained_on_the_detached_generator_output_not_the_input() {
        // ×1 so that the input has the output's shape: feeding the (bicubic) input to the
        // discriminator instead of G(input) would type-check — this test catches it.
        let mut cfg = tiny_config(1);
        cfg.pretrain_steps = 0;
        cfg.gan_steps = 1;
        cfg.gan_loss = GanLoss::Vanilla;
        cfg.lr = 5e-2; // large steps: move G far from its near-identity start
        cfg.warmup = 1;
        cfg.discriminator = Some(DiscriminatorConfig::Vgg(
            VggDiscriminatorConfig::new().with_patch_size(32).with_features(8).with_hidden(16),
        ));
        let device = Default::default();
        let mut t = Trainer::<A>::new(cfg, &device).unwrap();
        // Make G clearly different from identity so G(lr) ≠ lr.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let source = PairSource::Degrade { images: real_images(2), degradation: DegradationConfig::dss() };
        for _ in 0..3 {
            let (lr, hr) = source.batch::<A>(&mut rng, 2, 32, 1, &device).unwrap();
            t.pretrain_step(lr, hr).unwrap();
        }
        let (lr, hr) = source.batch::<A>(&mut rng, 2, 32, 1, &device).unwrap();
        let gen_inner = t.generator.valid();
        let lr_i = lr.clone().inner();
        let gap: f32 = (gen_inner.forward(lr_i.clone()) - lr_i.clone()).abs().mean().into_scalar();
        assert!(gap > 0.01, "test setup: G(lr) must differ from lr (mean gap {gap})");
        let disc = t.discriminator.clone().unwrap();
        // Gradients of the discriminator's weights: from the trainer's loss, from the loss on
        // the generator output (correct) and from the loss on the raw input (the old bug).
        let grads_of = |loss: Tensor<A, 1>| {
            let g = GradientsParams::from_grads(loss.backward(), &disc);
            struct V<'a>(&'a GradientsParams, Vec<f32>);
            impl ModuleVisitor<A> for V<'_> {
                fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
                    if let Some(g) = self.0.get::<Flex, D>(p.id) {
                        self.1.extend(g.into_data().to_vec::<f32>().unwrap());
                    }
                }
            }
            let mut v = V(&g, Vec::new());
            disc.visit(&mut v);
            v.1
        };
        let loss_on = |fake: Tensor<A, 4>| {
            let (real, _) = disc.forward(hr.clone());
            let (fake, _) = disc.forward(fake);
            GanLoss::Vanilla.discriminator(real, fake)
        };
        let got = grads_of(t.discriminator_loss(lr.clone(), hr.clone()).unwrap());
        let expected = grads_of(loss_on(Tensor::from_inner(gen_inner.forward(lr_i.clone()))));
        let buggy = grads_of(loss_on(lr.clone()));
        let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        let norm = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert_eq!(got.len(), expected.len());
        let (d_ok, d_bug) = (diff(&got, &expected), diff(&got, &buggy));
        // Same computation: equal to float noise. The raw input gives visibly different gradients.
        assert!(d_ok <= 1e-6 * norm, "D gradients differ from those on G(lr) by {d_ok} (max |g| {norm})");
        assert!(
            d_bug > 100.0 * d_ok.max(1e-6 * norm),
            "D gradients match those on the raw input: {d_bug} vs {d_ok} (max |g| {norm})"
        );
        // The fake batch is detached: the discriminator loss gives the generator no gradient.
        let g_grads =
            GradientsParams::from_grads(t.discriminator_loss(lr.clone(), hr.clone()).unwrap().backward(), &t.generator);
        assert!(g_grads.is_empty(), "the discriminator loss reached {} generator parameters", g_grads.len());
        // The step itself: the generator is untouched, the discriminator moves.
        let g_before = params(&t.generator);
        let d_before = flat_params::<Flex, _>(&disc.valid());
        t.discriminator_step(lr, hr).unwrap();
        assert_eq!(params(&t.generator), g_before, "the discriminator step must not touch the generator");
        let d_after = flat_params::<A, _>(t.discriminator.as_ref().unwrap());
        let moved: f32 =
            d_after.iter().zip(&d_before).map(|(a, b)| (a.clone().inner() - b.clone()).abs().sum().into_scalar()).sum();
        assert!(moved > 0.0, "the discriminator must learn");
    }
}
