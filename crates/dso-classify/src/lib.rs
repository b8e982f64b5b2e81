//! Deep-sky object classifier (galaxy / nebula / star cluster) trained on real Stellarium images.
//!
//! - [`Task`]: the galaxy-vs-nebula and three-class tasks.
//! - [`load_samples`], [`prepare_image`], [`k_fold_by_object`], [`images_to_tensor`]:
//!   preprocessing, loading the Stellarium set, k-fold by object, batching.
//! - [`augment`] ([`AugmentConfig`]): sky-image augmentation.
//! - [`DsoNet`]: a compact CNN generic over the burn backend.
//! - [`train`], [`evaluate`]: training loop and evaluation; [`EvalReport`]: accuracy, CI,
//!   confusion, ECE.
//! - [`ModelCard`], [`save_model`], [`bundled_files`], [`Classifier`]: model cards, weights I/O,
//!   bundled models, inference.
//! - [`class_activation_map`], [`grad_cam`], [`overlay_png`]: class activation maps and heat-map
//!   overlays.
//! - [`experiment`]: the library side of `train-dso` (tasks, runs, cross-validation, saving).
//!
//! Its modules are private behind these re-exports (only `experiment` stays a module).
#![warn(missing_docs)]

mod augment;
mod bundled;
mod cam;
mod classes;
mod data;
mod error;
pub mod experiment;
mod inference;
mod metrics;
mod model;
mod training;

pub use augment::{AugmentConfig, augment, border_level};
pub use bundled::bundled_files;
pub use cam::{Cam, class_activation_map, grad_cam, heat_colour, overlay_image, overlay_png};
pub use classes::Task;
pub use data::{
    DEFAULT_IMAGE_SIZE, DsoSample, GALAXY_INTERIOR_TILES, class_counts, images_to_tensor, is_classifiable,
    k_fold_by_object, load_samples, prepare_image,
};
pub use error::{DsoError, Result};
pub use inference::{Classifier, CrossValidation, ModelCard, Prediction, save_model, weights_to_bytes};
pub use metrics::{ClassMetrics, EvalReport, argmax, expected_calibration_error, wilson_interval};
pub use model::{ConvBlock, DsoNet, DsoNetConfig};
pub use training::{
    EpochStats, TrainProgress, TrainedModel, TrainingConfig, dihedral_views, evaluate, predict_batch, train,
};
