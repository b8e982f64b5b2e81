//! Training: PSNR-oriented pretraining (pixel/SSIM losses), then adversarial fine-tuning with
//! its own loop and two Adam optimizers, EMA of the generator, warm-up + cosine learning rate,
//! gradient-norm clipping, seeded runs, validation, sample grids and exactly resumable checkpoints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::{AutodiffModule, Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dataset::Planes;
use dataset::degrade::DegradationConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{PairSource, SrSample};
use crate::discriminator::{Discriminator, DiscriminatorConfig};
use crate::error::{Result, SrError};
use crate::inference::{bicubic_upscale, upscale_planes};
use crate::loss::{GanLoss, PixelLossWeights, feature_matching};
use crate::metrics::{Quality, quality_y};
use crate::model::{Generator, GeneratorConfig};
use crate::store;

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
}

fn adam(beta_2: f32, clip: Option<f32>) -> AdamConfig {
    AdamConfig::new().with_beta_2(beta_2).with_grad_clipping(clip.map(GradientClippingConfig::Norm))
}

/// Every float parameter flattened, in visiting order.
fn flat_params<B: Backend, M: Module<B>>(m: &M) -> Vec<Tensor<B, 1>> {
    struct V<B: Backend>(Vec<Tensor<B, 1>>);
    impl<B: Backend> ModuleVisitor<B> for V<B> {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<B, D>>) {
            let t = p.val();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    let mut v = V(Vec::new());
    m.visit(&mut v);
    v.0
}

/// `ema ← decay·ema + (1−decay)·model`, parameter by parameter.
fn ema_update<B: Backend, M: Module<B>>(ema: M, model: &M, decay: f64) -> M {
    struct Blend<B: Backend> {
        src: std::vec::IntoIter<Tensor<B, 1>>,
        decay: f64,
    }
    impl<B: Backend> ModuleMapper<B> for Blend<B> {
        fn map_float<const D: usize>(&mut self, p: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, t, mapper) = p.consume();
            let s = self.src.next().expect("same module structure").reshape(t.dims());
            Param::from_mapped_value(id, t * self.decay + s * (1.0 - self.decay), mapper)
        }
    }
    ema.map(&mut Blend { src: flat_params(model).into_iter(), decay })
}

#[derive(Serialize, Deserialize)]
struct Meta {
    step: usize,
    config: TrainConfig,
    rng_seed: [u8; 32],
    rng_stream: u64,
    rng_word_pos: String,
}

impl<B: AutodiffBackend> Trainer<B> {
    /// Start a run: seed the backend and the data RNG, build the models and optimizers.
    pub fn new(config: TrainConfig, device: &B::Device) -> Result<Self> {
        config.validate()?;
        B::seed(device, config.seed);
        let generator = config.generator.init::<B>(device)?;
        let discriminator = config.discriminator.as_ref().map(|d| d.init::<B>(device)).transpose()?;
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
        })
    }

    /// Start from trained weights (fine-tuning: `train-srgan --init`); the EMA starts from them too.
    pub fn with_initial_weights(mut self, generator: Generator<B>) -> Result<Self> {
        let want = store::param_shapes::<B, _>(&self.generator);
        if store::param_shapes::<B, _>(&generator) != want {
            return Err(SrError::Config(format!(
                "initial weights do not fit {} (different architecture or size)",
                self.config.generator.describe()
            )));
        }
        self.ema = generator.valid();
        self.generator = generator;
        Ok(self)
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

    /// One pretraining step on a batch: pixel/SSIM loss, Adam update, EMA update.
    pub fn pretrain_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> StepStats {
        let rate = self.config.learning_rate(self.step, self.config.lr);
        let sr = self.generator.forward(lr_batch);
        let loss = self.config.pixel.loss(sr, hr_batch);
        let value = loss.clone().into_scalar().elem::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self.opt_g.step(rate, self.generator.clone(), grads);
        self.step += 1;
        self.update_ema();
        StepStats { step: self.step, loss: value, d_loss: None, lr: rate }
    }

    /// The discriminator loss of an adversarial step: real HR patches against the generator's
    /// output on `lr_batch`, detached (the discriminator step must not reach the generator).
    pub fn discriminator_loss(&self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<Tensor<B, 1>> {
        let Some(disc) = &self.discriminator else {
            return Err(SrError::Config("no discriminator configured".into()));
        };
        let fake = self.generator.forward(lr_batch).detach();
        let (real_logits, _) = disc.forward(hr_batch);
        let (fake_logits, _) = disc.forward(fake);
        Ok(self.config.gan_loss.discriminator(real_logits, fake_logits))
    }

    /// The discriminator update of an adversarial step; returns the discriminator loss.
    pub fn discriminator_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<f64> {
        let loss = self.discriminator_loss(lr_batch, hr_batch)?;
        let (Some(disc), Some(opt)) = (self.discriminator.clone(), self.opt_d.as_mut()) else {
            return Err(SrError::Config("no discriminator configured".into()));
        };
        let value = loss.clone().into_scalar().elem::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &disc);
        let rate = self.config.learning_rate(self.step, self.config.lr_d);
        self.discriminator = Some(opt.step(rate, disc, grads));
        Ok(value)
    }

    /// The generator update of an adversarial step: pixel loss + adversarial loss + feature matching.
    pub fn generator_step(&mut self, lr_batch: Tensor<B, 4>, hr_batch: Tensor<B, 4>) -> Result<(f64, f64)> {
        let Some(disc) = self.discriminator.clone() else {
            return Err(SrError::Config("no discriminator configured".into()));
        };
        let rate = self.config.learning_rate(self.step, self.config.lr);
        let fake = self.generator.forward(lr_batch);
        let (real_logits, real_feats) = disc.forward(hr_batch.clone());
        let (fake_logits, fake_feats) = disc.forward(fake.clone());
        let adv = self.config.gan_loss.generator(real_logits.detach(), fake_logits);
        let mut loss = self.config.pixel.loss(fake, hr_batch) + adv * self.config.gan_weight;
        if self.config.feature_matching > 0.0 {
            loss = loss + feature_matching(&real_feats, &fake_feats) * self.config.feature_matching;
        }
        let value = loss.clone().into_scalar().elem::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self.opt_g.step(rate, self.generator.clone(), grads);
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

    /// Draw a batch from `source` with the run's RNG and do the step the schedule calls for.
    pub fn train_step(&mut self, source: &PairSource) -> Result<StepStats> {
        let scale = self.config.generator.scale();
        let (lr, hr) =
            source.batch::<B>(&mut self.rng, self.config.batch_size, self.config.hr_patch, scale, &self.device)?;
        if self.in_gan_phase() { self.gan_step(lr, hr) } else { Ok(self.pretrain_step(lr, hr)) }
    }

    /// Save everything needed to continue exactly (models, optimizer moments, EMA, step, RNG), atomically.
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let meta = Meta {
            step: self.step,
            config: self.config.clone(),
            rng_seed: self.rng.get_seed(),
            rng_stream: self.rng.get_stream(),
            rng_word_pos: self.rng.get_word_pos().to_string(),
        };
        let mut sections = vec![
            ("meta", serde_json::to_vec(&meta).map_err(|e| SrError::Config(e.to_string()))?),
            ("generator", store::record_to_bytes::<B, _>(self.generator.clone().into_record())?),
            ("opt_g", store::record_to_bytes::<B, _>(self.opt_g.to_record())?),
            ("ema", store::record_to_bytes::<B::InnerBackend, _>(self.ema.clone().into_record())?),
        ];
        if let (Some(d), Some(o)) = (&self.discriminator, &self.opt_d) {
            sections.push(("discriminator", store::record_to_bytes::<B, _>(d.clone().into_record())?));
            sections.push(("opt_d", store::record_to_bytes::<B, _>(o.to_record())?));
        }
        store::write_sections(path, &sections)
    }

    /// Continue a run from a checkpoint. `extend` may raise the step counts (e.g. add a GAN phase).
    pub fn resume(path: &Path, device: &B::Device, extend: Option<TrainConfig>) -> Result<Self> {
        let bad = |reason: String| SrError::BadModelFile { path: path.to_path_buf(), what: "checkpoint", reason };
        let mut sections = store::read_sections(path)?;
        let mut take = |name: &str| -> Result<Option<Vec<u8>>> {
            Ok(sections.iter_mut().find(|(n, _)| n == name).map(|(_, b)| std::mem::take(b)))
        };
        let meta: Meta = serde_json::from_slice(&take("meta")?.ok_or_else(|| bad("no meta section".into()))?)
            .map_err(|e| bad(format!("unreadable meta: {e}")))?;
        let mut config = meta.config.clone();
        if let Some(new) = extend {
            if new.generator != config.generator {
                return Err(bad(generator_mismatch(&config.generator, &new.generator)));
            }
            config = new;
        }
        let mut t = Trainer::<B>::new(config, device)?;
        let need = |b: Option<Vec<u8>>, what: &str| b.ok_or_else(|| bad(format!("no {what} section")));
        let g = store::record_from_bytes::<B, _>(need(take("generator")?, "generator")?, path, device)?;
        let want = store::param_shapes::<B, _>(&t.generator);
        t.generator = t.generator.load_record(g);
        if store::param_shapes::<B, _>(&t.generator) != want {
            return Err(bad("generator weights do not match the configuration".into()));
        }
        let o = store::record_from_bytes::<B, _>(need(take("opt_g")?, "opt_g")?, path, device)?;
        t.opt_g = t.opt_g.load_record(o);
        let e = store::record_from_bytes::<B::InnerBackend, _>(need(take("ema")?, "ema")?, path, device)?;
        t.ema = t.ema.load_record(e);
        if let (Some(d), Some(od)) = (take("discriminator")?, take("opt_d")?)
            && let (Some(disc), Some(opt)) = (t.discriminator.take(), t.opt_d.take())
        {
            t.discriminator = Some(disc.load_record(store::record_from_bytes::<B, _>(d, path, device)?));
            t.opt_d = Some(opt.load_record(store::record_from_bytes::<B, _>(od, path, device)?));
        }
        let mut rng = ChaCha8Rng::from_seed(meta.rng_seed);
        rng.set_stream(meta.rng_stream);
        rng.set_word_pos(meta.rng_word_pos.parse::<u128>().map_err(|e| bad(format!("bad RNG position: {e}")))?);
        t.rng = rng;
        t.step = meta.step;
        Ok(t)
    }
}

/// Why a checkpoint's generator is not the one asked for, naming each setting that differs
/// (e.g. `holds light ×4 with features 48, but light ×4 with features 56 was asked for`).
pub fn generator_mismatch(held: &GeneratorConfig, asked: &GeneratorConfig) -> String {
    let (a, b) = (serde_json::to_value(held).ok(), serde_json::to_value(asked).ok());
    let diffs: Vec<(String, String, String)> = match (a, b) {
        (Some(serde_json::Value::Object(a)), Some(serde_json::Value::Object(b))) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.to_string(), b.get(k).map(|x| x.to_string()).unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    };
    if diffs.is_empty() {
        return format!("holds {} but {} was asked for", held.describe(), asked.describe());
    }
    let held_s: Vec<String> = diffs.iter().map(|(k, h, _)| format!("{k} {h}")).collect();
    let asked_s: Vec<String> = diffs.iter().map(|(k, _, a)| format!("{k} {a}")).collect();
    format!(
        "holds {} with {}, but {} with {} was asked for",
        held.describe(),
        held_s.join(", "),
        asked.describe(),
        asked_s.join(", ")
    )
}

/// PSNR/SSIM (Y, `scale`-pixel border; 1 pixel for ×1) of a model over fixed pairs, averaged.
pub fn evaluate<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    pairs: &[SrSample],
    device: &B::Device,
) -> Result<Quality> {
    let border = config.scale().max(1);
    let mut sum = Quality::default();
    for p in pairs {
        let out = upscale_planes(model, config, &p.lr, device)?;
        let q = quality_y(&out, &p.hr, border)?;
        sum.psnr += q.psnr;
        sum.ssim += q.ssim;
    }
    let n = pairs.len().max(1) as f64;
    Ok(Quality { psnr: sum.psnr / n, ssim: sum.ssim / n })
}

/// The baseline: MATLAB-style bicubic upscaling (×1: the degraded input itself).
pub fn evaluate_bicubic(pairs: &[SrSample], scale: usize) -> Result<Quality> {
    let border = scale.max(1);
    let mut sum = Quality::default();
    for p in pairs {
        let up = bicubic_upscale(&p.lr, p.hr.width, p.hr.height);
        let q = quality_y(&up, &p.hr, border)?;
        sum.psnr += q.psnr;
        sum.ssim += q.ssim;
    }
    let n = pairs.len().max(1) as f64;
    Ok(Quality { psnr: sum.psnr / n, ssim: sum.ssim / n })
}

/// A grid of rows `[bicubic input | model output | target]` for eyeballing progress.
pub fn sample_grid<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    pairs: &[SrSample],
    device: &B::Device,
) -> Result<Planes> {
    let rows: Vec<[Planes; 3]> = pairs
        .iter()
        .map(|p| {
            let up = bicubic_upscale(&p.lr, p.hr.width, p.hr.height);
            Ok([up, upscale_planes(model, config, &p.lr, device)?, p.hr.to_rgb()])
        })
        .collect::<Result<_>>()?;
    let cell_w = rows.iter().map(|r| r[2].width).max().unwrap_or(1);
    let cell_h = rows.iter().map(|r| r[2].height).max().unwrap_or(1);
    let mut grid = Planes::zeros(3, cell_h * rows.len().max(1), cell_w * 3);
    for (ri, row) in rows.iter().enumerate() {
        for (ci, cell) in row.iter().enumerate() {
            let cell = cell.to_rgb();
            for c in 0..3 {
                for y in 0..cell.height {
                    for x in 0..cell.width {
                        let v = cell.get(c, y, x).clamp(0.0, 1.0);
                        let gw = grid.width;
                        grid.plane_mut(c)[(ri * cell_h + y) * gw + ci * cell_w + x] = v;
                    }
                }
            }
        }
    }
    Ok(grid)
}

/// What [`fit`] reports as it goes.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// A step finished.
    Step {
        /// Its losses.
        stats: StepStats,
        /// Steps per second over the run so far (this session).
        it_per_s: f64,
    },
    /// Validation figures of the EMA generator.
    Validation {
        /// Step.
        step: usize,
        /// PSNR/SSIM on Y.
        quality: Quality,
    },
    /// A checkpoint and model file were written.
    Saved {
        /// The checkpoint.
        checkpoint: PathBuf,
        /// The exported EMA model.
        model: PathBuf,
    },
}

/// Run a trainer to the end, writing `out/checkpoint.ckpt`, `out/model.srmodel` (EMA),
/// `out/best.srmodel` (best validation PSNR), `out/samples/step-N.png` and `out/validation.jsonl`.
pub fn fit<B: AutodiffBackend>(
    trainer: &mut Trainer<B>,
    source: &PairSource,
    validation: &[SrSample],
    out: &Path,
    observer: &mut dyn FnMut(&TrainEvent),
) -> Result<()> {
    let scale = trainer.config.generator.scale();
    source.validate(trainer.config.hr_patch, scale)?;
    std::fs::create_dir_all(out.join("samples")).map_err(|e| SrError::io(out, e))?;
    let start = Instant::now();
    let first = trainer.step;
    let mut best = f64::NEG_INFINITY;
    let ckpt = out.join("checkpoint.ckpt");
    let model_path = out.join("model.srmodel");
    let device = trainer.device.clone();
    while !trainer.finished() {
        let stats = trainer.train_step(source)?;
        let it_per_s = (trainer.step - first) as f64 / start.elapsed().as_secs_f64().max(1e-9);
        observer(&TrainEvent::Step { stats, it_per_s });
        let step = trainer.step;
        let last = trainer.finished();
        if !validation.is_empty() && (step.is_multiple_of(trainer.config.val_every) || last) {
            let quality = evaluate(&trainer.ema, &trainer.config.generator, validation, &device_inner::<B>(&device))?;
            observer(&TrainEvent::Validation { step, quality });
            let line = serde_json::json!({"step": step, "psnr": quality.psnr, "ssim": quality.ssim,
                "phase": if step > trainer.config.pretrain_steps { "gan" } else { "pretrain" }});
            append_line(&out.join("validation.jsonl"), &line.to_string())?;
            let grid = sample_grid(
                &trainer.ema,
                &trainer.config.generator,
                &validation[..validation.len().min(4)],
                &device_inner::<B>(&device),
            )?;
            dataset::image_io::save_image(&grid, &out.join("samples").join(format!("step-{step:06}.png")), 8)?;
            if quality.psnr > best {
                best = quality.psnr;
                store::save_model(&out.join("best.srmodel"), &trainer.config.generator, &trainer.ema)?;
            }
        }
        if step.is_multiple_of(trainer.config.checkpoint_every) || last {
            trainer.save_checkpoint(&ckpt)?;
            store::save_model(&model_path, &trainer.config.generator, &trainer.ema)?;
            observer(&TrainEvent::Saved { checkpoint: ckpt.clone(), model: model_path.clone() });
        }
    }
    Ok(())
}

/// The inner backend's device matching an autodiff device.
fn device_inner<B: AutodiffBackend>(device: &B::Device) -> burn::tensor::Device<B::InnerBackend> {
    let t = Tensor::<B, 1>::zeros([1], device);
    t.inner().device()
}

fn append_line(path: &Path, line: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| SrError::io(path, e))?;
    writeln!(f, "{line}").map_err(|e| SrError::io(path, e))
}

#[cfg(test)]
mod mismatch_tests {
    use super::*;

    #[test]
    fn a_resume_mismatch_names_the_setting_that_differs() {
        let held = GeneratorConfig::Light(crate::model::LightSrConfig::new().with_features(48));
        let asked = GeneratorConfig::light(4);
        let m = generator_mismatch(&held, &asked);
        assert_eq!(m, "holds light ×4 with features 48, but light ×4 with features 56 was asked for");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::StoredImage;
    use crate::discriminator::VggDiscriminatorConfig;
    use crate::model::LightSrConfig;
    use burn::backend::{Autodiff, Flex};

    type A = Autodiff<Flex>;

    fn tiny_config(scale: usize) -> TrainConfig {
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
    fn real_images(n: usize) -> Vec<StoredImage> {
        let paths =
            crate::data::stellarium_images("train", 0).expect("Stellarium data (run datasets/stellarium/fetch.sh)");
        crate::data::load_all(&paths[..n]).unwrap()
    }

    fn params(m: &Generator<A>) -> Vec<f32> {
        flat_params::<A, _>(m).into_iter().flat_map(|t| t.into_data().to_vec::<f32>().unwrap()).collect()
    }

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

    #[test]
    fn pretraining_learns_on_real_images() {
        let images = real_images(4);
        let mut cfg = tiny_config(2);
        cfg.pretrain_steps = 40;
        cfg.hr_patch = 48;
        cfg.batch_size = 4;
        cfg.lr = 3e-3;
        cfg.degradation = DegradationConfig::dss();
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
            t.pretrain_step(lr, hr);
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

    #[test]
    fn resume_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = tiny_config(2);
        cfg.pretrain_steps = 2;
        cfg.gan_steps = 2;
        cfg.discriminator =
            Some(DiscriminatorConfig::Unet(crate::discriminator::UNetDiscriminatorConfig::new().with_features(4)));
        let source = PairSource::Degrade { images: real_images(2), degradation: DegradationConfig::dss() };
        let device = Default::default();
        let mut straight = Trainer::<A>::new(cfg.clone(), &device).unwrap();
        while !straight.finished() {
            straight.train_step(&source).unwrap();
        }
        let mut first = Trainer::<A>::new(cfg.clone(), &device).unwrap();
        for _ in 0..3 {
            first.train_step(&source).unwrap();
        }
        let ckpt = dir.path().join("c.ckpt");
        first.save_checkpoint(&ckpt).unwrap();
        drop(first);
        let mut resumed = Trainer::<A>::resume(&ckpt, &device, None).unwrap();
        assert_eq!(resumed.step, 3);
        while !resumed.finished() {
            resumed.train_step(&source).unwrap();
        }
        let (a, b) = (params(&straight.generator), params(&resumed.generator));
        let max = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(max < 1e-6, "resumed run differs by {max}");
        let ea: Vec<f32> = flat_params::<Flex, _>(&straight.ema)
            .into_iter()
            .flat_map(|t| t.into_data().to_vec::<f32>().unwrap())
            .collect();
        let eb: Vec<f32> = flat_params::<Flex, _>(&resumed.ema)
            .into_iter()
            .flat_map(|t| t.into_data().to_vec::<f32>().unwrap())
            .collect();
        assert!(ea.iter().zip(&eb).all(|(x, y)| (x - y).abs() < 1e-6));

        // A corrupt checkpoint is a one-line error naming the file.
        let bytes = std::fs::read(&ckpt).unwrap();
        std::fs::write(&ckpt, &bytes[..bytes.len() / 3]).unwrap();
        let err = Trainer::<A>::resume(&ckpt, &device, None).err().expect("corrupt checkpoint").to_string();
        assert!(err.contains("c.ckpt") && !err.contains('\n'), "{err}");
        // A checkpoint of another generator is refused.
        first_checkpoint_other_arch(&dir, &device);
    }

    fn first_checkpoint_other_arch(dir: &tempfile::TempDir, device: &burn::tensor::Device<A>) {
        let cfg = tiny_config(2);
        let t = Trainer::<A>::new(cfg.clone(), device).unwrap();
        let path = dir.path().join("o.ckpt");
        t.save_checkpoint(&path).unwrap();
        let other = tiny_config(4);
        let err = Trainer::<A>::resume(&path, device, Some(other)).err().expect("wrong model").to_string();
        assert!(err.contains("o.ckpt") && err.contains("×4"), "{err}");
    }
}
