//! `train-srgan`'s experiment as library code: the generator asked for (an architecture with size
//! overrides, or the one of an `--init` model), where the training pairs come from (clean images
//! degraded on the fly, real LR/HR folders, or the real pairs of a `build-dataset` manifest) with
//! the fixed validation pairs of each, starting or resuming the trainer, and the `--evaluate`
//! report on the Stellarium test split. The binary parses flags, shows progress and calls these;
//! the lines it prints come from the `report` callbacks.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dataset::degrade::DegradationConfig;

use crate::data::{self, HrSources, PairSource, SrSample, StoredImage};
use crate::error::{Result, SrError};
use crate::model::{GeneratorConfig, LightSrConfig, RrdbNetConfig, SrResNetConfig};
use crate::store;
use crate::training::{self, TrainConfig, Trainer};

/// An error naming a file, as `{path}: {reason}`.
fn about(path: &Path, reason: String) -> SrError {
    SrError::BadInput { name: path.display().to_string(), reason }
}

/// The default generator of architecture `arch` at `scale`, its feature channels and block count
/// replaced where given (`--arch`, `--features`, `--blocks`).
pub fn generator_config(
    arch: &str,
    scale: usize,
    features: Option<usize>,
    blocks: Option<usize>,
) -> Result<GeneratorConfig> {
    let mut g = GeneratorConfig::from_arch(arch, scale)?;
    match &mut g {
        GeneratorConfig::Light(c) => {
            *c = LightSrConfig {
                features: features.unwrap_or(c.features),
                blocks: blocks.unwrap_or(c.blocks),
                ..c.clone()
            }
        }
        GeneratorConfig::SrResNet(c) => {
            *c = SrResNetConfig {
                features: features.unwrap_or(c.features),
                blocks: blocks.unwrap_or(c.blocks),
                ..c.clone()
            }
        }
        GeneratorConfig::Rrdb(c) => {
            *c = RrdbNetConfig {
                features: features.unwrap_or(c.features),
                blocks: blocks.unwrap_or(c.blocks),
                ..c.clone()
            }
        }
    }
    Ok(g)
}

/// The generator of a trained model file (`--init`: fine-tuning keeps its architecture), which
/// must be a ×`scale` model.
pub fn init_generator_config(path: &Path, scale: usize) -> Result<GeneratorConfig> {
    let bytes = store::read_model_bytes(path)?;
    let (c, _) = store::model_config_from_bytes(&bytes, path)?;
    if c.scale() != scale {
        return Err(about(path, format!("holds a ×{} model but --scale {scale} was asked for", c.scale())));
    }
    Ok(c)
}

/// One kept observation of a `build-dataset` manifest and its survey cutouts.
#[derive(Debug, Clone)]
pub struct KeptPair {
    /// The observation (the target).
    pub observation: PathBuf,
    /// Its fetched survey cutouts as `(survey key, file)`, each an input.
    pub cutouts: Vec<(String, PathBuf)>,
}

/// A `build-dataset` manifest as the pair loader needs it (the binary reads the file).
#[derive(Debug, Clone)]
pub struct PairManifest {
    /// The manifest file (named in messages).
    pub path: PathBuf,
    /// Records in all, kept or not.
    pub total: usize,
    /// The reject reasons of every record (repeats allowed).
    pub reject_reasons: Vec<String>,
    /// The kept records, in manifest order.
    pub kept: Vec<KeptPair>,
}

/// `(input, target)` images.
pub type ImagePair = (StoredImage, StoredImage);

/// (training, validation) pairs of a manifest: (survey cutout, observation) of every kept record
/// and every fetched survey (or only `surveys`), at `scale` (the cutout downsampled by the scale
/// with bicubic, the observation staying the target); every 10th kept observation goes to
/// validation when there are at least 10. `report` gets the `data: …` line.
pub fn manifest_pairs(
    manifest: &PairManifest,
    surveys: &[String],
    scale: usize,
    report: &mut dyn FnMut(String),
) -> Result<(Vec<ImagePair>, Vec<ImagePair>)> {
    let (path, total, kept) = (&manifest.path, manifest.total, &manifest.kept);
    if kept.is_empty() {
        let mut reasons = manifest.reject_reasons.clone();
        reasons.sort();
        reasons.dedup();
        let why = if reasons.is_empty() { String::new() } else { format!(" (rejected: {})", reasons.join(", ")) };
        return Err(about(path, format!("no kept pairs among its {total} records{why}")));
    }
    // (observation index, survey file) of every pair to load.
    let mut inputs: Vec<(usize, PathBuf)> = Vec::new();
    for (i, r) in kept.iter().enumerate() {
        for (key, file) in &r.cutouts {
            if surveys.is_empty() || surveys.contains(key) {
                inputs.push((i, file.clone()));
            }
        }
    }
    if inputs.is_empty() {
        let of = if surveys.is_empty() { String::new() } else { format!(" of {}", surveys.join(", ")) };
        return Err(about(path, format!("no survey cutout{of} in its {} kept pairs", kept.len())));
    }
    let obs_paths: Vec<PathBuf> = kept.iter().map(|r| r.observation.clone()).collect();
    let obs = data::load_all(&obs_paths)?;
    let survey_paths: Vec<PathBuf> = inputs.iter().map(|(_, p)| p.clone()).collect();
    let cutouts = data::load_all(&survey_paths)?;
    let held_out = |i: usize| kept.len() >= 10 && i % 10 == 9;
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for ((i, _), cut) in inputs.iter().zip(cutouts) {
        let hr = &obs[*i];
        if (cut.width, cut.height) != (hr.width, hr.height) {
            return Err(about(
                &cut.path,
                format!(
                    "{}x{} is not on the pixel grid of {} ({}x{}); rebuild the pair with build-dataset --override",
                    cut.width,
                    cut.height,
                    hr.path.display(),
                    hr.width,
                    hr.height
                ),
            ));
        }
        let pair = if scale == 1 {
            (cut, hr.clone())
        } else {
            // The observation stays the target; the cutout becomes the input at 1/scale (both
            // cropped to a multiple of the scale so the grids keep matching exactly).
            let (w, h) = (hr.width / scale * scale, hr.height / scale * scale);
            if w == 0 || h == 0 {
                return Err(about(&hr.path, format!("{}x{} is smaller than the scale {scale}", hr.width, hr.height)));
            }
            let lr = astro_image::resize::imresize(&cut.crop(0, 0, w, h), w / scale, h / scale);
            (
                StoredImage::from_planes(cut.path.clone(), &lr),
                StoredImage::from_planes(hr.path.clone(), &hr.crop(0, 0, w, h)),
            )
        };
        if held_out(*i) { val.push(pair) } else { train.push(pair) }
    }
    report(format!(
        "data: {}: {} of {total} pairs kept, {} survey cutouts as inputs, ×{scale}",
        path.display(),
        kept.len(),
        inputs.len()
    ));
    Ok((train, val))
}

/// Where a run's training pairs come from.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum DataPlan {
    /// The real pairs of a `build-dataset` manifest, from these surveys' cutouts (every one when empty).
    Manifest {
        /// The manifest.
        manifest: PairManifest,
        /// Survey keys to use.
        surveys: Vec<String>,
    },
    /// Real LR images paired by file name with the HR images of one folder; every 10th pair (from
    /// the end) is held back for validation when there are at least 10.
    Folders {
        /// The LR folder.
        lr: PathBuf,
        /// The HR folder.
        hr: PathBuf,
    },
    /// Clean HR images degraded on the fly.
    Degrade {
        /// Photo folders and/or the Stellarium set.
        sources: HrSources,
        /// Training images are cut into tiles of this side (at least `patch`).
        tile: usize,
        /// The HR patch side.
        patch: usize,
        /// How LR inputs are made.
        degradation: DegradationConfig,
        /// The degradation as the user named it (for the `data:` line).
        name: String,
    },
}

/// The training source and fixed validation pairs of a run.
pub struct TrainingData {
    /// Where training batches are drawn from.
    pub source: PairSource,
    /// Fixed validation pairs (may be empty).
    pub validation: Vec<SrSample>,
}

/// Load the data of `plan` at `scale`. Real pairs are validated with their LR image as it is;
/// synthetic ones on fixed degradations (seed 1234) of the validation images, cropped to
/// `val_crop`. `report` gets the `data: …` lines.
pub fn load_training_data(
    plan: &DataPlan,
    scale: usize,
    val_crop: Option<usize>,
    report: &mut dyn FnMut(String),
) -> Result<TrainingData> {
    // Real pairs: the LR image is used as it is (no degradation), for validation too.
    let real = |pairs: Vec<ImagePair>, val: Vec<ImagePair>, report: &mut dyn FnMut(String)| {
        report(format!("data: {} real pairs for training, {} held out for validation", pairs.len(), val.len()));
        let validation = val.into_iter().map(|(l, h)| SrSample { lr: l.planes(), hr: h.planes() }).collect();
        TrainingData { source: PairSource::Paired { pairs }, validation }
    };
    match plan {
        DataPlan::Manifest { manifest, surveys } => {
            let (pairs, val) = manifest_pairs(manifest, surveys, scale, report)?;
            Ok(real(pairs, val, report))
        }
        DataPlan::Folders { lr, hr } => {
            let mut pairs = data::paired_folders(lr, hr)?;
            let val: Vec<_> =
                if pairs.len() >= 10 { pairs.split_off(pairs.len() - pairs.len() / 10) } else { Vec::new() };
            Ok(real(pairs, val, report))
        }
        DataPlan::Degrade { sources, tile, patch, degradation, name } => {
            let hr = sources.load((*tile).max(*patch), *patch)?;
            report(format!("data: {}; degradation {name}", hr.description));
            let validation = data::fixed_pairs(&hr.validation, degradation, scale, val_crop, 1234)?;
            Ok(TrainingData {
                source: PairSource::Degrade { images: hr.train, degradation: degradation.clone() },
                validation,
            })
        }
    }
}

/// Start a run writing into `out`: resume the checkpoint `resume`, or start afresh (refused when
/// `out` already holds a checkpoint), from the weights of the model file `init` when given; then
/// write `out/train-config.json`. `report` gets what was resumed or loaded, the bicubic baseline
/// on `validation` and a line describing the run.
pub fn start_run<B: AutodiffBackend>(
    cfg: &TrainConfig,
    validation: &[SrSample],
    out: &Path,
    resume: Option<&Path>,
    init: Option<&Path>,
    device: &B::Device,
    report: &mut dyn FnMut(String),
) -> Result<Trainer<B>> {
    let trainer = match resume {
        Some(path) => {
            let t = Trainer::<B>::resume(path, device, Some(cfg.clone()))?;
            report(format!("resumed {} at step {}", path.display(), t.step));
            t
        }
        None => {
            let ckpt = out.join("checkpoint.ckpt");
            if ckpt.exists() {
                return Err(about(
                    &ckpt,
                    "a checkpoint exists; pass --resume to continue it or choose another --out".into(),
                ));
            }
            let t = Trainer::<B>::new(cfg.clone(), device)?;
            match init {
                Some(p) => {
                    let (_, g) = store::load_model::<B>(p, Some(cfg.generator.scale()), device)?;
                    report(format!("starting from the weights of {}", p.display()));
                    t.with_initial_weights(g)?
                }
                None => t,
            }
        }
    };
    let json = serde_json::to_string_pretty(cfg).map_err(|e| SrError::Config(e.to_string()))?;
    std::fs::write(out.join("train-config.json"), json).map_err(|e| about(out, format!("cannot write: {e}")))?;
    if !validation.is_empty() {
        let q = training::evaluate_bicubic(validation, cfg.generator.scale())?;
        report(format!(
            "validation baseline (bicubic / degraded input): PSNR {:.2} dB, SSIM {:.4} over {} images",
            q.psnr,
            q.ssim,
            validation.len()
        ));
    }
    report(format!(
        "training {} ({} parameters) for {} + {} steps, batch {} of {} px patches",
        cfg.generator.describe(),
        trainer.generator.num_params(),
        cfg.pretrain_steps,
        cfg.gan_steps,
        cfg.batch_size,
        cfg.hr_patch
    ));
    Ok(trainer)
}

/// The last line of a finished run: the exported model, and the best validation model if written.
pub fn finished_line(out: &Path) -> String {
    let best = out.join("best.srmodel");
    let best = if best.exists() { format!(", best validation model {}", best.display()) } else { String::new() };
    format!("done: {} (EMA weights){best}", out.join("model.srmodel").display())
}

/// `--evaluate`: PSNR/SSIM (Y) of bicubic (once per scale) and of each model file on the
/// Stellarium test split, degraded with `degradation` (named as the user gave it) and cropped to
/// `crop`; one line each to `report`.
pub fn evaluate_models<B: Backend>(
    models: &[PathBuf],
    degradation: &str,
    split_seed: u64,
    crop: Option<usize>,
    device: &B::Device,
    report: &mut dyn FnMut(String),
) -> Result<()> {
    let degr = DegradationConfig::from_arg(degradation)?;
    let test = data::load_all(&data::stellarium_images("test", split_seed)?)?;
    let mut shown = std::collections::BTreeSet::new();
    for path in models {
        let (cfg, model) = store::load_model::<B>(path, None, device)?;
        let pairs = data::fixed_pairs(&test, &degr, cfg.scale(), crop, 777)?;
        if shown.insert(cfg.scale()) {
            let q = training::evaluate_bicubic(&pairs, cfg.scale())?;
            report(format!(
                "test split ({} images, degradation {degradation}, ×{}): bicubic PSNR {:.2} dB SSIM {:.4}",
                pairs.len(),
                cfg.scale(),
                q.psnr,
                q.ssim
            ));
        }
        let q = training::evaluate(&model, &cfg, &pairs, device)?;
        report(format!(
            "test split ×{}: {} ({}) PSNR {:.2} dB SSIM {:.4}",
            cfg.scale(),
            cfg.describe(),
            path.display(),
            q.psnr,
            q.ssim
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_overrides_replace_only_what_is_given() {
        let g = generator_config("srresnet", 2, Some(16), None).unwrap();
        let GeneratorConfig::SrResNet(c) = &g else { panic!("{g:?}") };
        assert_eq!((c.scale, c.features, c.blocks), (2, 16, SrResNetConfig::new().blocks));
        assert_eq!(generator_config("light", 4, None, None).unwrap(), GeneratorConfig::light(4));
        assert!(generator_config("vgg", 4, None, None).is_err());
    }

    #[test]
    fn an_empty_manifest_names_the_file_and_the_reject_reasons() {
        let m = PairManifest {
            path: PathBuf::from("m.jsonl"),
            total: 3,
            reject_reasons: vec!["grey".into(), "black mask".into(), "grey".into()],
            kept: Vec::new(),
        };
        let err = manifest_pairs(&m, &[], 1, &mut |_| {}).unwrap_err().to_string();
        assert_eq!(err, "m.jsonl: no kept pairs among its 3 records (rejected: black mask, grey)");
        let m = PairManifest {
            kept: vec![KeptPair { observation: "o.png".into(), cutouts: vec![("dss".into(), "d.png".into())] }],
            ..m
        };
        let err = manifest_pairs(&m, &["sdss".into()], 1, &mut |_| {}).unwrap_err().to_string();
        assert_eq!(err, "m.jsonl: no survey cutout of sdss in its 1 kept pairs");
    }
}
