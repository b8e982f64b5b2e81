//! SRGAN-family super-resolution and survey-to-Hubble-style translation: models, training, evaluation and tiled inference.
#![warn(missing_docs)]

pub mod apply;
pub mod benchmark;
pub mod cli;
pub mod data;
pub mod discriminator;
pub mod enhancer;
pub mod error;
pub mod evaluation;
pub mod experiment;
pub mod fast_conv;
pub mod fits;
pub mod folder;
pub mod gallery;
pub mod inference;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod pixel_shuffle;
pub mod prettify;
pub mod report;
pub mod star_aware;
pub mod star_eval;
pub mod star_protection;
pub mod still;
pub mod store;
pub mod survey_eval;
pub mod training;
pub mod video;
pub mod weights;

pub use error::{Result, SrError};
pub use model::{Generator, GeneratorConfig, LightSrConfig, RrdbNetConfig, SrResNetConfig};
