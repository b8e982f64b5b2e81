//! Real astronomical images for training: planes ⇄ burn tensors, the Stellarium deep-sky set,
//! object-level splits, survey-like degradations.
#![warn(missing_docs)]

pub mod degrade;
pub mod error;
pub mod split;
pub mod stars;
pub mod stellarium;
pub mod survey_look;
pub mod tensor;

pub use error::DatasetError;
// TEMPORARY (issue #28): the pixel type, image I/O, FITS and video live in `astro-image`, which
// every other caller imports directly; these re-exports keep `frame-quality` compiling until it
// imports `astro_image` itself. Nothing else may use them; the lead removes them at the end.
pub use astro_image::{ColorMode, ImageError, ImageLimits, Planes, fits, image_io, video};
pub use tensor::PlanesTensor;
// TEMPORARY (issue #28): the backend choice and model-file validation moved to `ml-core`; this
// re-export keeps `frame-quality` compiling until it imports `ml_core` itself. Nothing else may
// use it; the lead removes it (and dataset's `ml-core` dependency) once frame-quality is switched.
pub use ml_core::{backend, model_file, with_backend};
