//! Deep-sky object classifier (galaxy / nebula / star cluster) trained on real Stellarium images.
//!
//! - [`classes`]: the galaxy-vs-nebula and three-class tasks.
//! - [`data`]: preprocessing, loading the Stellarium set, k-fold by object, batching.
//! - [`augment`]: sky-image augmentation.
//! - [`model`]: `DsoNet`, a compact CNN generic over the burn backend.
//! - [`training`]: training loop and evaluation; [`metrics`]: accuracy, CI, confusion, ECE.
//! - [`inference`]: model cards, weights I/O, bundled models, [`Classifier`].
//! - [`cam`]: class activation maps (CAM and Grad-CAM) and heat-map overlays.
#![warn(missing_docs)]

pub mod augment;
pub mod bundled;
pub mod cam;
pub mod classes;
pub mod data;
pub mod error;
pub mod experiment;
pub mod inference;
pub mod metrics;
pub mod model;
pub mod training;

pub use classes::Task;
pub use error::{DsoError, Result};
pub use inference::{Classifier, ModelCard, Prediction};
pub use model::{DsoNet, DsoNetConfig};
