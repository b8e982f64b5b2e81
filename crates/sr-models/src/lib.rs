//! SRGAN-family super-resolution and survey-to-Hubble-style translation: models, training, evaluation and tiled inference.
//!
//! The public surface: the items re-exported below (models, bundled weights, tiled inference, the
//! finish, the upscale/prettify jobs) and eight modules whose items belong together — [`data`]
//! (training patches), [`training`] (the loop), [`store`] (`.srmodel` files), [`experiment`]
//! (train-srgan's run), [`evaluation`], [`benchmark`] and [`survey_eval`] (sr-eval's figures and
//! tables) and [`prettify`] (the star-aware pipeline). Everything else is private.
#![warn(missing_docs)]

mod apply;
pub mod benchmark;
mod cli;
pub mod data;
mod discriminator;
mod enhancer;
mod error;
pub mod evaluation;
pub mod experiment;
mod fast_conv;
mod fits;
mod folder;
mod gallery;
mod inference;
mod loss;
mod model;
mod pixel_shuffle;
pub mod prettify;
mod report;
mod star_aware;
mod star_eval;
mod star_protection;
mod still;
pub mod store;
pub mod survey_eval;
pub mod training;
mod video;
mod weights;

pub use apply::{DEFAULT_MAX_OUTPUT_PIXELS, Enhancer, InputKind, enhance_file, input_kind};
pub use cli::{Job, Outcome, Progress, Then, default_output, run_job, run_job_on};
pub use discriminator::DiscriminatorConfig;
pub use error::{Result, SrError};
pub use fast_conv::conv_same;
pub use fits::read_fits;
pub use inference::{BAND_ROWS, Tiling, upscale_planes, upscale_tiled, upscale_tiled_rows};
pub use loss::{GanLoss, PixelLossWeights, SmoothFieldPenalty};
pub use model::{Generator, GeneratorConfig, LightSr, LightSrConfig, RrdbNet, RrdbNetConfig, SrResNet, SrResNetConfig};
pub use report::Report;
pub use star_aware::{DEFAULT_STAR_SIZE, StarOptions};
pub use star_protection::{Finish, OUTREACH_SATURATION, SATURATED_LUMA};
pub use weights::{Bundled, Family, ModelChoice, SAMPLE_SURVEY_IMAGE};
