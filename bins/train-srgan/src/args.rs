//! `train-srgan`'s flags, and what they mean for the library: the run's [`TrainConfig`], where
//! its data comes from ([`DataPlan`]) and which checkpoint to resume.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Parser;
use dataset::degrade::DegradationConfig;
use ml_core::backend::DeviceKind;
use sr_models::DiscriminatorConfig;
use sr_models::GeneratorConfig;
use sr_models::data::HrSources;
use sr_models::experiment::{DataPlan, KeptPair, PairManifest};
use sr_models::store::{MAX_BLOCKS, MAX_FEATURES};
use sr_models::training::TrainConfig;
use sr_models::{GanLoss, PixelLossWeights, SmoothFieldPenalty};
use training_pairs::Manifest;

/// Train a super-resolution (×2/×4) or prettify (×1) generator.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// Generator architecture: light, light-plain (no activation after the skip sums), srresnet, rrdb.
    #[arg(long, default_value = "light")]
    pub arch: String,
    /// Scale: 1 (prettify), 2 or 4.
    #[arg(long, default_value_t = 4, value_parser = |s: &str| cli_args::one_of(s, &[1, 2, 4]))]
    pub scale: usize,
    /// Feature channels, 1–256 (architecture default when omitted).
    #[arg(long, value_parser = |s: &str| cli_args::usize_in(s, 1, MAX_FEATURES))]
    pub features: Option<usize>,
    /// Blocks, 1–32 (architecture default when omitted).
    #[arg(long, value_parser = |s: &str| cli_args::usize_in(s, 1, MAX_BLOCKS))]
    pub blocks: Option<usize>,
    /// Folder of clean HR images, degraded on the fly; repeat for several (default: the Stellarium
    /// deep-sky set, train split). Every 10th file of each folder is held back for validation.
    #[arg(long)]
    pub hr_dir: Vec<PathBuf>,
    /// Also train on the Stellarium deep-sky set's train split (implied when no --hr-dir is given).
    #[arg(long)]
    pub stellarium: bool,
    /// Training images are cut into tiles of this side, so sampling follows image area.
    #[arg(long, default_value_t = 384, value_parser = |s: &str| cli_args::usize_in(s, 16, 8192))]
    pub tile: usize,
    /// Folder of real LR images paired by file name with --hr-dir (no synthetic degradation).
    #[arg(long, requires = "hr_dir")]
    pub lr_dir: Option<PathBuf>,
    /// Real pairs from a `build-dataset` manifest (OUT/manifest.jsonl): for every kept pair, each
    /// fetched survey cutout is an input and the observation its target (files resolved against
    /// the manifest's folder). The cutouts lie on the observation's pixel grid: at --scale 1 they
    /// are used as they are; at ×2/×4 the cutout is downsampled by the scale (bicubic) so the
    /// observation stays the full-resolution target. Every 10th kept observation is held back for
    /// validation (when there are at least 10).
    #[arg(long, conflicts_with_all = ["hr_dir", "lr_dir", "stellarium"])]
    pub pairs: Option<PathBuf>,
    /// With --pairs: use only these surveys' cutouts (keys such as dss, sdss; default every one fetched).
    #[arg(long, value_delimiter = ',', requires = "pairs")]
    pub pair_survey: Vec<String>,
    /// Degradation for HR-only data: dss, sdss, bicubic, real-esrgan, or a JSON file.
    #[arg(long, default_value = "dss")]
    pub degradation: String,
    /// Seed of the Stellarium object-level split.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Pretraining steps (L1 + SSIM).
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Adversarial fine-tuning steps after pretraining.
    #[arg(long, default_value_t = 0)]
    pub gan_steps: usize,
    /// Discriminator for the adversarial phase: vgg, unet.
    #[arg(long, default_value = "unet")]
    pub disc: String,
    /// Channels of the discriminator's first level, 1–256 (default: the architecture's, 64)
    #[arg(long, value_parser = |s: &str| cli_args::usize_in(s, 1, 256))]
    pub disc_features: Option<usize>,
    /// GAN loss: vanilla, lsgan, ragan.
    #[arg(long, default_value = "ragan")]
    pub gan_loss: GanLoss,
    /// Weight of the adversarial term.
    #[arg(long, default_value_t = 0.01, value_parser = cli_args::loss_weight)]
    pub gan_weight: f64,
    /// Weight of discriminator feature matching.
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::loss_weight)]
    pub fm_weight: f64,
    /// L1 weight (every loss weight: finite, 0 to 10000; the pixel weights may not all be 0).
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::loss_weight)]
    pub l1: f64,
    /// 1 − SSIM weight.
    #[arg(long, default_value_t = 0.1, value_parser = cli_args::loss_weight)]
    pub ssim: f64,
    /// 1 − MS-SSIM weight.
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::loss_weight)]
    pub ms_ssim: f64,
    /// Gradient-loss weight.
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::loss_weight)]
    pub gradient: f64,
    /// DFT-amplitude loss weight.
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::loss_weight)]
    pub fft: f64,
    /// Smooth-field penalty, texture term: weight of |Laplacian| of (output − bicubic) on clean flat
    /// and ramp inputs drawn each step (no texture or sub-pixel grid on smooth areas)
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::loss_weight)]
    pub smooth_texture: f64,
    /// Smooth-field penalty, value term: weight of |output − bicubic| on those inputs (no value or
    /// colour shift; leave 0 for families that change colour by design, such as survey)
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::loss_weight)]
    pub smooth_value: f64,
    /// Weight of LDL's artefact loss in the adversarial phase (BasicSR uses 1)
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::loss_weight)]
    pub ldl: f64,
    /// Patches per batch (1–1024).
    #[arg(long, default_value_t = 8, value_parser = |s: &str| cli_args::usize_in(s, 1, MAX_BATCH))]
    pub batch: usize,
    /// HR patch side (8–1024).
    #[arg(long, default_value_t = 96, value_parser = |s: &str| cli_args::usize_in(s, 8, 1024))]
    pub patch: usize,
    /// Peak generator learning rate.
    #[arg(long, default_value_t = 5e-4, value_parser = |s: &str| cli_args::positive_at_most(s, 1.0))]
    pub lr: f64,
    /// Discriminator learning rate.
    #[arg(long, default_value_t = 1e-4, value_parser = |s: &str| cli_args::positive_at_most(s, 1.0))]
    pub lr_d: f64,
    /// Warm-up steps.
    #[arg(long, default_value_t = 50)]
    pub warmup: usize,
    /// Gradient-norm clip per parameter (0: off).
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::non_negative_f32)]
    pub grad_clip: f32,
    /// EMA decay of the generator (0 to 1).
    #[arg(long, default_value_t = 0.999, value_parser = |s: &str| cli_args::f64_in(s, 0.0, 1.0))]
    pub ema: f64,
    /// Seed of weights, data order and degradations.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Validate every K steps.
    #[arg(long, default_value_t = 200)]
    pub val_every: usize,
    /// Validation crop side (HR pixels; 0 = whole images).
    #[arg(long, default_value_t = 192, value_parser = |s: &str| cli_args::usize_in(s, 0, 8192))]
    pub val_crop: usize,
    /// Checkpoint every K steps.
    #[arg(long, default_value_t = 100)]
    pub checkpoint_every: usize,
    /// Output folder (checkpoint.ckpt, model.srmodel, best.srmodel, samples/, validation.jsonl).
    #[arg(short, long = "output", visible_alias = "out", default_value = "runs/srgan")]
    pub out: PathBuf,
    /// Continue from OUT/checkpoint.ckpt (or this file) exactly where it stopped.
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    pub resume: Option<String>,
    /// Start from this trained model (fine-tuning); its architecture replaces --arch/--features/--blocks.
    #[arg(long, conflicts_with = "resume")]
    pub init: Option<PathBuf>,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    pub device: DeviceKind,
    /// Data-parallel training on several devices or machines (docs/distributed.md).
    #[command(flatten)]
    pub parallel: ml_core::parallel_args::ParallelArgs,
    /// Instead of training: report PSNR/SSIM (Y) of bicubic and of these model files on the
    /// Stellarium test split with --degradation (centre crops of --val-crop).
    #[arg(long, num_args = 1..)]
    pub evaluate: Vec<PathBuf>,
}

impl Args {
    /// The run's settings for `generator` (`--degradation` parsed first, then the rest checked).
    pub fn train_config(&self, generator: GeneratorConfig) -> Result<TrainConfig> {
        let degradation = DegradationConfig::from_arg(&self.degradation)?;
        let mut cfg = TrainConfig::new(generator);
        cfg.discriminator = if self.gan_steps > 0 {
            let d = DiscriminatorConfig::from_arch(&self.disc, self.patch)?;
            Some(match self.disc_features {
                Some(f) => d.with_features(f),
                None => d,
            })
        } else {
            None
        };
        cfg.degradation = degradation;
        cfg.pretrain_steps = self.steps;
        cfg.gan_steps = self.gan_steps;
        cfg.batch_size = self.batch;
        cfg.hr_patch = self.patch;
        cfg.lr = self.lr;
        cfg.lr_d = self.lr_d;
        cfg.warmup = self.warmup;
        cfg.grad_clip = (self.grad_clip > 0.0).then_some(self.grad_clip);
        cfg.ema_decay = self.ema;
        let (l1, ssim, ms_ssim, gradient, fft) = (self.l1, self.ssim, self.ms_ssim, self.gradient, self.fft);
        cfg.pixel = PixelLossWeights { l1, charbonnier: 0.0, ssim, ms_ssim, gradient, fft };
        cfg.gan_loss = self.gan_loss;
        cfg.gan_weight = self.gan_weight;
        cfg.feature_matching = self.fm_weight;
        cfg.smooth = SmoothFieldPenalty { texture: self.smooth_texture, value: self.smooth_value };
        cfg.artifact_weight = self.ldl;
        cfg.seed = self.seed;
        cfg.val_every = self.val_every.max(1);
        cfg.checkpoint_every = self.checkpoint_every.max(1);
        for (name, v) in [("--lr", self.lr), ("--lr-d", self.lr_d)] {
            if !(v.is_finite() && v > 0.0) {
                bail!("{name} {v}: the learning rate must be a positive number");
            }
        }
        if l1 + ssim + ms_ssim + gradient + fft <= 0.0 {
            bail!(
                "--l1, --ssim, --ms-ssim, --gradient and --fft are all 0: the pretraining would have no loss to learn from"
            );
        }
        check_batch_memory(&cfg.generator, self.batch, self.patch)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Where the training pairs come from: `--pairs`, `--lr-dir` with one `--hr-dir`, or clean
    /// images (`--hr-dir`, `--stellarium`; the Stellarium set when no folder is given).
    pub fn data_plan(&self, degradation: &DegradationConfig) -> Result<DataPlan> {
        Ok(match (&self.lr_dir, &self.pairs) {
            (_, Some(manifest)) => {
                DataPlan::Manifest { manifest: read_manifest(manifest)?, surveys: self.pair_survey.clone() }
            }
            (Some(lr), None) => {
                let [hr] = self.hr_dir.as_slice() else { bail!("--lr-dir pairs with exactly one --hr-dir") };
                DataPlan::Folders { lr: lr.clone(), hr: hr.clone() }
            }
            (None, None) => DataPlan::Degrade {
                sources: HrSources {
                    folders: self.hr_dir.clone(),
                    stellarium: self.stellarium || self.hr_dir.is_empty(),
                    split_seed: self.split_seed,
                },
                tile: self.tile,
                patch: self.patch,
                degradation: degradation.clone(),
                name: self.degradation.clone(),
            },
        })
    }

    /// `--val-crop` (0: whole images).
    pub fn val_crop_side(&self) -> Option<usize> {
        (self.val_crop > 0).then_some(self.val_crop)
    }

    /// The checkpoint `--resume` names (OUT/checkpoint.ckpt when given without a file).
    pub fn resume_path(&self) -> Option<PathBuf> {
        self.resume.as_ref().map(|r| if r.is_empty() { self.out.join("checkpoint.ckpt") } else { PathBuf::from(r) })
    }
}

/// The most patches per batch (`--batch`).
const MAX_BATCH: usize = 1024;

/// The largest single feature map of a batch (batch × patch² × features × 4 bytes); training
/// keeps dozens of them, so anything above is refused before any allocation, not aborted on.
const MAX_FEATURE_MAP_BYTES: u64 = 1 << 30;

/// Refuse a batch whose feature maps could not be held: `--batch 100000` or `--features` with a
/// large `--patch` aborted on an allocation failure instead of saying so.
fn check_batch_memory(generator: &GeneratorConfig, batch: usize, patch: usize) -> Result<()> {
    let features = match generator {
        GeneratorConfig::Light(c) => c.features,
        GeneratorConfig::SrResNet(c) => c.features,
        GeneratorConfig::Rrdb(c) => c.features,
    };
    let bytes = batch as u64 * (patch as u64).pow(2) * features as u64 * 4;
    if bytes > MAX_FEATURE_MAP_BYTES {
        bail!(
            "--batch {batch} × --patch {patch}² × {features} features: one feature map alone would take {} MB (at most {} MB); lower --batch, --patch or --features",
            bytes >> 20,
            MAX_FEATURE_MAP_BYTES >> 20
        );
    }
    Ok(())
}

/// A `build-dataset` manifest as the library's pair loader takes it.
fn read_manifest(path: &Path) -> Result<PairManifest> {
    let m = Manifest::read(path)?;
    let kept = m.records.iter().filter(|r| r.kept);
    Ok(PairManifest {
        path: path.to_path_buf(),
        total: m.records.len(),
        reject_reasons: m.records.iter().flat_map(|r| r.reject_reasons()).collect(),
        kept: kept.map(|r| KeptPair { observation: m.obs_path(r), cutouts: m.survey_paths(r) }).collect(),
    })
}
