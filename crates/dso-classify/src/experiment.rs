//! A full training experiment on the Stellarium set: the tasks and images it uses, the training
//! settings, object-level train/validation/test split, training, held-out test evaluation,
//! optional k-fold cross-validation by object, model card, and saving the result. `train-dso`
//! parses flags, shows progress and calls these.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burn::tensor::backend::{AutodiffBackend, Backend};
use dataset::stellarium::{DsoImage, StellariumSet};
use ml_core::distributed::Worker;

use crate::augment::AugmentConfig;
use crate::classes::Task;
use crate::data::{DsoSample, is_classifiable, k_fold_by_object};
use crate::error::{DsoError, Result};
use crate::inference::{CrossValidation, ModelCard, save_model};
use crate::metrics::EvalReport;
use crate::model::DsoNet;
use crate::training::{EpochStats, TrainProgress, TrainingConfig, evaluate, train_replica};

/// The tasks `--task` names: `both` (or `all`) for every task, or one task's name.
pub fn tasks_from_arg(arg: &str) -> std::result::Result<Vec<Task>, String> {
    match arg {
        "both" | "all" => Ok(Task::ALL.to_vec()),
        other => Ok(vec![other.parse()?]),
    }
}

/// The manifest images of an experiment: the first `limit` (all when `None`), without the
/// Magellanic Cloud mosaic tiles (labelled galaxy, but showing star fields) unless `keep_tiles`;
/// returns them and how many tiles were left out.
pub fn experiment_images(
    set: &StellariumSet,
    limit: Option<usize>,
    keep_tiles: bool,
) -> Result<(Vec<DsoImage>, usize)> {
    let mut manifest = set.manifest()?;
    if let Some(n) = limit {
        manifest.truncate(n);
    }
    let before = manifest.len();
    if !keep_tiles {
        manifest.retain(is_classifiable);
    }
    let excluded = before - manifest.len();
    Ok((manifest, excluded))
}

/// The training settings an experiment takes from its caller; the rest are
/// [`TrainingConfig::new`]'s.
#[derive(Debug, Clone)]
pub struct TrainingSettings {
    /// Training epochs of the final model.
    pub epochs: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Input side in pixels.
    pub image_size: usize,
    /// Seed for initialisation, sampling and augmentation.
    pub seed: u64,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// Augmentation.
    pub augment: AugmentConfig,
}

impl TrainingSettings {
    /// The training configuration of `task` with these settings.
    pub fn config(&self, task: Task) -> TrainingConfig {
        let mut config = TrainingConfig::new(task);
        config.epochs = self.epochs;
        config.batch_size = self.batch_size;
        config.learning_rate = self.learning_rate;
        config.image_size = self.image_size;
        config.seed = self.seed;
        config.weight_decay = self.weight_decay;
        config.augment = self.augment.clone();
        config
    }
}

/// Save an experiment's result in `out`: `<task>.mpk` + `<task>.json` (weights + card), or with
/// `cv_only` the card alone as `<task>-cv.json` (returned twice); returns (weights, card) paths.
pub fn save_result<B: Backend>(
    model: &DsoNet<B>,
    card: &ModelCard,
    out: &Path,
    cv_only: bool,
) -> Result<(PathBuf, PathBuf)> {
    if cv_only {
        let path = out.join(format!("{}-cv.json", card.task.slug()));
        std::fs::create_dir_all(out).map_err(|source| DsoError::Io { path: out.to_path_buf(), source })?;
        let json = serde_json::to_vec_pretty(card)
            .map_err(|e| DsoError::ModelCard { path: path.clone(), reason: e.to_string() })?;
        astro_image::image_io::write_atomic(&path, &json)?;
        return Ok((path.clone(), path));
    }
    save_model(model, card, out, card.task.slug())
}

/// What to run besides the main training.
#[derive(Debug, Clone)]
pub struct ExperimentOptions {
    /// Folds of the cross-validation by object (0 = none).
    pub folds: usize,
    /// Epochs of each cross-validation run.
    pub cv_epochs: usize,
    /// Seed of the object-level train/validation/test split.
    pub split_seed: u64,
    /// The command line, recorded in the model card.
    pub command: String,
    /// Stop after the cross-validation (the returned network is untrained and the card has no
    /// test or validation figures).
    pub cv_only: bool,
}

/// Progress events for binaries to display.
#[derive(Debug, Clone)]
pub enum ExperimentEvent {
    /// A training run starts (`name`, number of optimiser steps).
    Run {
        /// The name given.
        name: String,
        /// Optimiser steps it will take.
        steps: u64,
    },
    /// One optimiser step finished with this loss.
    Step {
        /// The loss.
        loss: f64,
    },
    /// One epoch finished.
    Epoch(EpochStats),
    /// A cross-validation fold finished with this accuracy.
    Fold {
        /// The fold (from 0).
        fold: usize,
        /// Its accuracy on the held-out fold.
        accuracy: f64,
    },
}

/// The object-level split of a task's samples: `(train, validation, test)`.
pub fn split_samples(
    manifest: &[DsoImage],
    samples: &[DsoSample],
    seed: u64,
) -> (Vec<DsoSample>, Vec<DsoSample>, Vec<DsoSample>) {
    let split = dataset::stellarium_split(manifest, seed);
    let objects = |v: &Vec<DsoImage>| v.iter().map(|d| d.object.clone()).collect::<BTreeSet<_>>();
    let (val_objects, test_objects) = (objects(&split.validation), objects(&split.test));
    let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
    for s in samples {
        if test_objects.contains(&s.object) {
            te.push(s.clone());
        } else if val_objects.contains(&s.object) {
            va.push(s.clone());
        } else {
            tr.push(s.clone());
        }
    }
    (tr, va, te)
}

/// Train, evaluate and (optionally) cross-validate one task; returns the kept network and its card.
/// `worker` is this replica's place in a data-parallel run (`Worker::single()` otherwise); every
/// replica runs the same experiment and gets the same network.
pub fn run_experiment<B: AutodiffBackend>(
    config: &TrainingConfig,
    manifest: &[DsoImage],
    all_samples: &[DsoSample],
    options: &ExperimentOptions,
    worker: &Worker<B>,
    device: &B::Device,
    events: &mut dyn FnMut(ExperimentEvent),
) -> Result<(DsoNet<B::InnerBackend>, ModelCard)> {
    let task = config.task;
    let samples: Vec<DsoSample> = all_samples.iter().filter(|s| s.label < task.num_classes()).cloned().collect();
    if samples.is_empty() {
        return Err(DsoError::NotEnoughData(format!("no images for task {task}")));
    }
    let (train_set, valid_set, test_set) = split_samples(manifest, &samples, options.split_seed);
    tracing::info!(task = %task, train = train_set.len(), validation = valid_set.len(), test = test_set.len(), "object-level split");
    let steps = |n: usize, epochs: usize| (n.div_ceil(config.batch_size) * epochs) as u64;

    // Cross-validation by object on train + validation (the test split stays untouched).
    let mut cross_validation = None;
    if options.folds >= 2 {
        let pool: Vec<DsoSample> = train_set.iter().chain(&valid_set).cloned().collect();
        let folds = k_fold_by_object(&pool, options.folds, config.seed)?;
        let mut cv_config = config.clone();
        cv_config.epochs = options.cv_epochs;
        let (mut fold_accuracy, mut probs, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for (f, held) in folds.iter().enumerate() {
            let held_set: BTreeSet<usize> = held.iter().copied().collect();
            let fit: Vec<DsoSample> =
                (0..pool.len()).filter(|i| !held_set.contains(i)).map(|i| pool[i].clone()).collect();
            let out: Vec<DsoSample> = held.iter().map(|&i| pool[i].clone()).collect();
            events(ExperimentEvent::Run {
                name: format!("{task} fold {}/{}", f + 1, folds.len()),
                steps: steps(fit.len(), cv_config.epochs),
            });
            let trained = train_replica::<B>(&cv_config, &fit, &[], worker, device, &mut |p| {
                if let TrainProgress::Step { loss, .. } = p {
                    events(ExperimentEvent::Step { loss })
                }
            })?;
            let (report, p) = evaluate(&trained.model, &out, task, true, device);
            events(ExperimentEvent::Fold { fold: f + 1, accuracy: report.accuracy });
            fold_accuracy.push(report.accuracy);
            probs.extend(p);
            labels.extend(out.iter().map(|s| s.label));
        }
        let mean = fold_accuracy.iter().sum::<f64>() / fold_accuracy.len() as f64;
        let var =
            fold_accuracy.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (fold_accuracy.len() as f64 - 1.0).max(1.0);
        cross_validation = Some(CrossValidation {
            folds: folds.len(),
            fold_accuracy,
            mean_accuracy: mean,
            std_accuracy: var.sqrt(),
            pooled: EvalReport::from_probabilities(&probs, &labels, task.classes()),
        });
    }

    if options.cv_only {
        let card = ModelCard {
            name: format!("dsonet-{}-cv", task.slug()),
            task,
            classes: task.classes().iter().map(|c| c.to_string()).collect(),
            training: config.clone(),
            parameters: 0,
            best_epoch: 0,
            command: options.command.clone(),
            test: None,
            validation: None,
            cross_validation,
            data: format!("cross-validation on {} train+validation images", train_set.len() + valid_set.len()),
        };
        return Ok((config.model.init(device), card));
    }
    events(ExperimentEvent::Run { name: format!("{task} final"), steps: steps(train_set.len(), config.epochs) });
    let trained = train_replica::<B>(config, &train_set, &valid_set, worker, device, &mut |p| match p {
        TrainProgress::Step { loss, .. } => events(ExperimentEvent::Step { loss }),
        TrainProgress::Epoch(s) => events(ExperimentEvent::Epoch(s.clone())),
    })?;
    let validation = (!valid_set.is_empty()).then(|| evaluate(&trained.model, &valid_set, task, true, device).0);
    let test = (!test_set.is_empty()).then(|| evaluate(&trained.model, &test_set, task, true, device).0);
    let card = ModelCard {
        name: format!("dsonet-{}", task.slug()),
        task,
        classes: task.classes().iter().map(|c| c.to_string()).collect(),
        training: config.clone(),
        parameters: burn::module::Module::num_params(&trained.model),
        best_epoch: trained.best_epoch,
        command: options.command.clone(),
        test,
        validation,
        cross_validation,
        data: format!(
            "Stellarium deep-sky images (Debian stellarium-data, GPL-2+; photographers credited in textures.json): \
             {} train / {} validation / {} test images, split by object (seed {})",
            train_set.len(),
            valid_set.len(),
            test_set.len(),
            options.split_seed
        ),
    };
    Ok((trained.model, card))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_arguments_and_settings_map_as_train_dso_documents() {
        assert_eq!(tasks_from_arg("both").unwrap(), Task::ALL.to_vec());
        assert_eq!(tasks_from_arg("all").unwrap(), Task::ALL.to_vec());
        assert_eq!(tasks_from_arg("three-class").unwrap(), vec![Task::ThreeClass]);
        assert!(tasks_from_arg("stars").unwrap_err().contains("unknown task 'stars'"));
        let settings = TrainingSettings {
            epochs: 3,
            batch_size: 5,
            learning_rate: 1e-3,
            image_size: 48,
            seed: 7,
            weight_decay: 0.0,
            augment: AugmentConfig::none(),
        };
        let c = settings.config(Task::GalaxyNebula);
        assert_eq!((c.task, c.epochs, c.batch_size, c.image_size, c.seed), (Task::GalaxyNebula, 3, 5, 48, 7));
        assert_eq!((c.learning_rate, c.weight_decay), (1e-3, 0.0));
        let defaults = TrainingConfig::new(Task::GalaxyNebula);
        assert_eq!((c.label_smoothing, c.warmup_epochs), (defaults.label_smoothing, defaults.warmup_epochs));
    }
}
