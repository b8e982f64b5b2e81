//! `train-srgan`: train a super-resolution or same-size "prettify" generator, PSNR-oriented
//! pretraining first, then (optionally) adversarial fine-tuning; resumable from checkpoints.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::backend::Autodiff;
use clap::Parser;
use dataset::backend::DeviceKind;
use dataset::degrade::DegradationConfig;
use indicatif::{ProgressBar, ProgressStyle};
use sr_models::data::{self, PairSource, StoredImage};
use sr_models::discriminator::DiscriminatorConfig;
use sr_models::loss::{GanLoss, PixelLossWeights};
use sr_models::model::{GeneratorConfig, LightSrConfig, RrdbNetConfig, SrResNetConfig};
use sr_models::training::{self, TrainConfig, TrainEvent, Trainer};
use training_pairs::Manifest;

/// Train a super-resolution (×2/×4) or prettify (×1) generator.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Generator architecture: light, srresnet, rrdb.
    #[arg(long, default_value = "light")]
    arch: String,
    /// Scale: 1 (prettify), 2 or 4.
    #[arg(long, default_value_t = 4)]
    scale: usize,
    /// Feature channels (architecture default when omitted).
    #[arg(long)]
    features: Option<usize>,
    /// Blocks (architecture default when omitted).
    #[arg(long)]
    blocks: Option<usize>,
    /// Folder of clean HR images, degraded on the fly; repeat for several (default: the Stellarium
    /// deep-sky set, train split). Every 10th file of each folder is held back for validation.
    #[arg(long)]
    hr_dir: Vec<PathBuf>,
    /// Also train on the Stellarium deep-sky set's train split (implied when no --hr-dir is given).
    #[arg(long)]
    stellarium: bool,
    /// Training images are cut into tiles of this side, so sampling follows image area.
    #[arg(long, default_value_t = 384)]
    tile: usize,
    /// Folder of real LR images paired by file name with --hr-dir (no synthetic degradation).
    #[arg(long, requires = "hr_dir")]
    lr_dir: Option<PathBuf>,
    /// Real pairs from a `build-dataset` manifest (OUT/manifest.jsonl): for every kept pair, each
    /// fetched survey cutout is an input and the observation its target (files resolved against
    /// the manifest's folder). The cutouts lie on the observation's pixel grid: at --scale 1 they
    /// are used as they are; at ×2/×4 the cutout is downsampled by the scale (bicubic) so the
    /// observation stays the full-resolution target. Every 10th kept observation is held back for
    /// validation (when there are at least 10).
    #[arg(long, conflicts_with_all = ["hr_dir", "lr_dir", "stellarium"])]
    pairs: Option<PathBuf>,
    /// With --pairs: use only these surveys' cutouts (keys such as dss, sdss; default every one fetched).
    #[arg(long, value_delimiter = ',', requires = "pairs")]
    pair_survey: Vec<String>,
    /// Degradation for HR-only data: dss, sdss, bicubic, real-esrgan, or a JSON file.
    #[arg(long, default_value = "dss")]
    degradation: String,
    /// Seed of the Stellarium object-level split.
    #[arg(long, default_value_t = 0)]
    split_seed: u64,
    /// Pretraining steps (L1 + SSIM).
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Adversarial fine-tuning steps after pretraining.
    #[arg(long, default_value_t = 0)]
    gan_steps: usize,
    /// Discriminator for the adversarial phase: vgg, unet.
    #[arg(long, default_value = "unet")]
    disc: String,
    /// GAN loss: vanilla, lsgan, ragan.
    #[arg(long, default_value = "ragan")]
    gan_loss: GanLoss,
    /// Weight of the adversarial term.
    #[arg(long, default_value_t = 0.01)]
    gan_weight: f64,
    /// Weight of discriminator feature matching.
    #[arg(long, default_value_t = 1.0)]
    fm_weight: f64,
    /// L1 weight.
    #[arg(long, default_value_t = 1.0)]
    l1: f64,
    /// 1 − SSIM weight.
    #[arg(long, default_value_t = 0.1)]
    ssim: f64,
    /// 1 − MS-SSIM weight.
    #[arg(long, default_value_t = 0.0)]
    ms_ssim: f64,
    /// Gradient-loss weight.
    #[arg(long, default_value_t = 0.0)]
    gradient: f64,
    /// DFT-amplitude loss weight.
    #[arg(long, default_value_t = 0.0)]
    fft: f64,
    /// Patches per batch.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// HR patch side.
    #[arg(long, default_value_t = 96)]
    patch: usize,
    /// Peak generator learning rate.
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// Discriminator learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr_d: f64,
    /// Warm-up steps.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Gradient-norm clip per parameter (0: off).
    #[arg(long, default_value_t = 1.0)]
    grad_clip: f32,
    /// EMA decay of the generator.
    #[arg(long, default_value_t = 0.999)]
    ema: f64,
    /// Seed of weights, data order and degradations.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Validate every K steps.
    #[arg(long, default_value_t = 200)]
    val_every: usize,
    /// Validation crop side (HR pixels; 0 = whole images).
    #[arg(long, default_value_t = 192)]
    val_crop: usize,
    /// Checkpoint every K steps.
    #[arg(long, default_value_t = 100)]
    checkpoint_every: usize,
    /// Output folder (checkpoint.ckpt, model.srmodel, best.srmodel, samples/, validation.jsonl).
    #[arg(short, long, default_value = "runs/srgan")]
    out: PathBuf,
    /// Continue from OUT/checkpoint.ckpt (or this file) exactly where it stopped.
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    resume: Option<String>,
    /// Start from this trained model (fine-tuning); its architecture replaces --arch/--features/--blocks.
    #[arg(long, conflicts_with = "resume")]
    init: Option<PathBuf>,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
    /// Instead of training: report PSNR/SSIM (Y) of bicubic and of these model files on the
    /// Stellarium test split with --degradation (centre crops of --val-crop).
    #[arg(long, num_args = 1..)]
    evaluate: Vec<PathBuf>,
}

fn evaluate(args: &Args) -> Result<()> {
    let degr = degradation(&args.degradation)?;
    let test = data::load_all(&data::stellarium_images("test", args.split_seed)?)?;
    let crop = (args.val_crop > 0).then_some(args.val_crop);
    let device = Default::default();
    let mut shown = std::collections::BTreeSet::new();
    for path in &args.evaluate {
        let (cfg, model) = sr_models::store::load_model::<dataset::backend::FlexBackend>(path, None, &device)?;
        let pairs = data::fixed_pairs(&test, &degr, cfg.scale(), crop, 777)?;
        if shown.insert(cfg.scale()) {
            let q = training::evaluate_bicubic(&pairs, cfg.scale())?;
            println!(
                "test split ({} images, degradation {}, ×{}): bicubic PSNR {:.2} dB SSIM {:.4}",
                pairs.len(),
                args.degradation,
                cfg.scale(),
                q.psnr,
                q.ssim
            );
        }
        let q = training::evaluate(&model, &cfg, &pairs, &device)?;
        println!(
            "test split ×{}: {} ({}) PSNR {:.2} dB SSIM {:.4}",
            cfg.scale(),
            cfg.describe(),
            path.display(),
            q.psnr,
            q.ssim
        );
    }
    Ok(())
}

fn generator_config(a: &Args) -> Result<GeneratorConfig> {
    let mut g = GeneratorConfig::from_arch(&a.arch, a.scale)?;
    match &mut g {
        GeneratorConfig::Light(c) => {
            *c = LightSrConfig {
                features: a.features.unwrap_or(c.features),
                blocks: a.blocks.unwrap_or(c.blocks),
                ..c.clone()
            }
        }
        GeneratorConfig::SrResNet(c) => {
            *c = SrResNetConfig {
                features: a.features.unwrap_or(c.features),
                blocks: a.blocks.unwrap_or(c.blocks),
                ..c.clone()
            }
        }
        GeneratorConfig::Rrdb(c) => {
            *c = RrdbNetConfig {
                features: a.features.unwrap_or(c.features),
                blocks: a.blocks.unwrap_or(c.blocks),
                ..c.clone()
            }
        }
    }
    Ok(g)
}

/// (training, validation) pairs of a `build-dataset` manifest: (survey cutout, observation) of
/// every kept record and every fetched survey (or only `surveys`), at `scale`; every 10th kept
/// observation goes to validation when there are at least 10.
#[allow(clippy::type_complexity)]
fn manifest_pairs(
    path: &Path,
    surveys: &[String],
    scale: usize,
) -> Result<(Vec<(StoredImage, StoredImage)>, Vec<(StoredImage, StoredImage)>)> {
    let manifest = Manifest::read(path)?;
    let total = manifest.records.len();
    let kept: Vec<_> = manifest.records.iter().filter(|r| r.kept).collect();
    if kept.is_empty() {
        let mut reasons: Vec<String> = manifest.records.iter().flat_map(|r| r.reject_reasons()).collect();
        reasons.sort();
        reasons.dedup();
        let why = if reasons.is_empty() { String::new() } else { format!(" (rejected: {})", reasons.join(", ")) };
        bail!("{}: no kept pairs among its {total} records{why}", path.display());
    }
    // (observation index, survey file) of every pair to load.
    let mut inputs: Vec<(usize, PathBuf)> = Vec::new();
    for (i, r) in kept.iter().enumerate() {
        for (key, file) in manifest.survey_paths(r) {
            if surveys.is_empty() || surveys.contains(&key) {
                inputs.push((i, file));
            }
        }
    }
    if inputs.is_empty() {
        bail!(
            "{}: no survey cutout{} in its {} kept pairs",
            path.display(),
            if surveys.is_empty() { String::new() } else { format!(" of {}", surveys.join(", ")) },
            kept.len()
        );
    }
    let obs_paths: Vec<PathBuf> = kept.iter().map(|r| manifest.obs_path(r)).collect();
    // The image errors already say why (their source repeats it): one line each.
    let obs = data::load_all(&obs_paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let survey_paths: Vec<PathBuf> = inputs.iter().map(|(_, p)| p.clone()).collect();
    let cutouts = data::load_all(&survey_paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let held_out = |i: usize| kept.len() >= 10 && i % 10 == 9;
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for ((i, _), cut) in inputs.iter().zip(cutouts) {
        let hr = &obs[*i];
        if (cut.width, cut.height) != (hr.width, hr.height) {
            bail!(
                "{}: {}x{} is not on the pixel grid of {} ({}x{}); rebuild the pair with build-dataset --override",
                cut.path.display(),
                cut.width,
                cut.height,
                hr.path.display(),
                hr.width,
                hr.height
            );
        }
        let pair = if scale == 1 {
            (cut, hr.clone())
        } else {
            // The observation stays the target; the cutout becomes the input at 1/scale (both
            // cropped to a multiple of the scale so the grids keep matching exactly).
            let (w, h) = (hr.width / scale * scale, hr.height / scale * scale);
            if w == 0 || h == 0 {
                bail!("{}: {}x{} is smaller than the scale {scale}", hr.path.display(), hr.width, hr.height);
            }
            let lr = dataset::resize::imresize(&cut.crop(0, 0, w, h), w / scale, h / scale);
            (
                StoredImage::from_planes(cut.path.clone(), &lr),
                StoredImage::from_planes(hr.path.clone(), &hr.crop(0, 0, w, h)),
            )
        };
        if held_out(*i) { val.push(pair) } else { train.push(pair) }
    }
    eprintln!(
        "data: {}: {} of {total} pairs kept, {} survey cutouts as inputs, ×{scale}",
        path.display(),
        kept.len(),
        inputs.len()
    );
    Ok((train, val))
}

fn degradation(name: &str) -> Result<DegradationConfig> {
    Ok(DegradationConfig::from_arg(name)?)
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    // Errors as one `error: …` line, exit 1 (no stack trace even with RUST_BACKTRACE set).
    cli_args::run(|| train(args))
}

fn train(args: Args) -> Result<()> {
    if !args.evaluate.is_empty() {
        return evaluate(&args);
    }
    let gen_cfg = match &args.init {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            let (c, _) = sr_models::store::model_config_from_bytes(&bytes, p)?;
            if c.scale() != args.scale {
                bail!("{}: holds a ×{} model but --scale {} was asked for", p.display(), c.scale(), args.scale);
            }
            c
        }
        None => generator_config(&args)?,
    };
    let degr = degradation(&args.degradation)?;
    let mut cfg = TrainConfig::new(gen_cfg.clone());
    cfg.discriminator =
        if args.gan_steps > 0 { Some(DiscriminatorConfig::from_arch(&args.disc, args.patch)?) } else { None };
    cfg.degradation = degr.clone();
    cfg.pretrain_steps = args.steps;
    cfg.gan_steps = args.gan_steps;
    cfg.batch_size = args.batch;
    cfg.hr_patch = args.patch;
    cfg.lr = args.lr;
    cfg.lr_d = args.lr_d;
    cfg.warmup = args.warmup;
    cfg.grad_clip = (args.grad_clip > 0.0).then_some(args.grad_clip);
    cfg.ema_decay = args.ema;
    cfg.pixel = PixelLossWeights {
        l1: args.l1,
        charbonnier: 0.0,
        ssim: args.ssim,
        ms_ssim: args.ms_ssim,
        gradient: args.gradient,
        fft: args.fft,
    };
    cfg.gan_loss = args.gan_loss;
    cfg.gan_weight = args.gan_weight;
    cfg.feature_matching = args.fm_weight;
    cfg.seed = args.seed;
    cfg.val_every = args.val_every.max(1);
    cfg.checkpoint_every = args.checkpoint_every.max(1);
    for (name, v) in [("--lr", args.lr), ("--lr-d", args.lr_d)] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{name} {v}: the learning rate must be a positive number");
        }
    }
    cfg.validate()?;

    // Data: training source and fixed validation pairs.
    let scale = gen_cfg.scale();
    let val_crop = (args.val_crop > 0).then_some(args.val_crop);
    // Validation of real pairs: the LR image is used as is (no degradation).
    let real = |pairs: Vec<(StoredImage, StoredImage)>, val: Vec<(StoredImage, StoredImage)>| {
        eprintln!("data: {} real pairs for training, {} held out for validation", pairs.len(), val.len());
        let val_pairs = val
            .into_iter()
            .map(|(l, h)| sr_models::data::SrSample { lr: l.planes(), hr: h.planes() })
            .collect::<Vec<_>>();
        (PairSource::Paired { pairs }, Err(val_pairs), None)
    };
    let (source, val_images, val_degr) = match (&args.lr_dir, &args.pairs) {
        (_, Some(manifest)) => {
            let (pairs, val) = manifest_pairs(manifest, &args.pair_survey, scale)?;
            real(pairs, val)
        }
        (Some(lr), None) => {
            let [hr] = args.hr_dir.as_slice() else { bail!("--lr-dir pairs with exactly one --hr-dir") };
            let mut pairs = data::paired_folders(lr, hr)?;
            let val: Vec<_> =
                if pairs.len() >= 10 { pairs.split_off(pairs.len() - pairs.len() / 10) } else { Vec::new() };
            real(pairs, val)
        }
        (None, None) => {
            let sources = data::HrSources {
                folders: args.hr_dir.clone(),
                stellarium: args.stellarium || args.hr_dir.is_empty(),
                split_seed: args.split_seed,
            };
            let hr = sources.load(args.tile.max(args.patch), args.patch)?;
            eprintln!("data: {}; degradation {}", hr.description, args.degradation);
            (PairSource::Degrade { images: hr.train, degradation: degr.clone() }, Ok(hr.validation), Some(degr.clone()))
        }
    };
    let validation = match (val_images, val_degr) {
        (Ok(imgs), Some(d)) => data::fixed_pairs(&imgs, &d, scale, val_crop, 1234)?,
        (Err(pairs), _) => pairs,
        (Ok(_), None) => Vec::new(),
    };

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create output folder", args.out.display()))?;
    let resume =
        args.resume.as_ref().map(|r| if r.is_empty() { args.out.join("checkpoint.ckpt") } else { PathBuf::from(r) });
    dataset::with_backend!(args.device, B, device => {
        run::<Autodiff<B>>(&cfg, &source, &validation, &args.out, resume, args.init.as_deref(), &device)
    }, unavailable k => bail!("backend {k} is not compiled into this build"))
}

fn run<B: burn::tensor::backend::AutodiffBackend>(
    cfg: &TrainConfig,
    source: &PairSource,
    validation: &[sr_models::data::SrSample],
    out: &std::path::Path,
    resume: Option<PathBuf>,
    init: Option<&std::path::Path>,
    device: &B::Device,
) -> Result<()> {
    let mut trainer = match &resume {
        Some(path) => {
            let t = Trainer::<B>::resume(path, device, Some(cfg.clone()))?;
            eprintln!("resumed {} at step {}", path.display(), t.step);
            t
        }
        None => {
            if out.join("checkpoint.ckpt").exists() {
                bail!(
                    "{}: a checkpoint exists; pass --resume to continue it or choose another --out",
                    out.join("checkpoint.ckpt").display()
                );
            }
            let t = Trainer::<B>::new(cfg.clone(), device)?;
            match init {
                Some(p) => {
                    let (_, g) = sr_models::store::load_model::<B>(p, Some(cfg.generator.scale()), device)?;
                    eprintln!("starting from the weights of {}", p.display());
                    t.with_initial_weights(g)?
                }
                None => t,
            }
        }
    };
    std::fs::write(out.join("train-config.json"), serde_json::to_string_pretty(cfg)?)
        .with_context(|| format!("{}: cannot write", out.display()))?;
    if !validation.is_empty() {
        let q = training::evaluate_bicubic(validation, cfg.generator.scale())?;
        eprintln!(
            "validation baseline (bicubic / degraded input): PSNR {:.2} dB, SSIM {:.4} over {} images",
            q.psnr,
            q.ssim,
            validation.len()
        );
    }
    eprintln!(
        "training {} ({} parameters) for {} + {} steps, batch {} of {} px patches",
        cfg.generator.describe(),
        burn::module::Module::num_params(&trainer.generator),
        cfg.pretrain_steps,
        cfg.gan_steps,
        cfg.batch_size,
        cfg.hr_patch
    );
    let bar = ProgressBar::new(cfg.total_steps() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(trainer.step as u64);
    let mut last_val = String::new();
    let start = std::time::Instant::now();
    training::fit(&mut trainer, source, validation, out, &mut |ev| match ev {
        TrainEvent::Step { stats, it_per_s } => {
            bar.set_position(stats.step as u64);
            let d = stats.d_loss.map(|d| format!(" d {d:.4}")).unwrap_or_default();
            bar.set_message(format!("loss {:.4}{d} lr {:.1e} {:.2} it/s {last_val}", stats.loss, stats.lr, it_per_s));
            if stats.step % 10 == 0 {
                tracing::info!(step = stats.step, loss = stats.loss, d_loss = ?stats.d_loss, lr = stats.lr, it_per_s, "step");
            }
        }
        TrainEvent::Validation { step, quality } => {
            last_val = format!("| val PSNR {:.2} SSIM {:.4}", quality.psnr, quality.ssim);
            bar.println(format!(
                "step {step}: validation PSNR {:.3} dB SSIM {:.4} ({:.0} s)",
                quality.psnr,
                quality.ssim,
                start.elapsed().as_secs_f64()
            ));
        }
        TrainEvent::Saved { .. } => {}
    })?;
    bar.finish();
    let best = out.join("best.srmodel");
    let best = if best.exists() { format!(", best validation model {}", best.display()) } else { String::new() };
    eprintln!("done: {} (EMA weights){best}", out.join("model.srmodel").display());
    Ok(())
}
