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
// The pixel type, image I/O, FITS, resampling and video live in the burn-free `astro-image` crate;
// they are re-exported here under their old paths (`dataset::image_io::load_image`, …).
pub use astro_image::{ColorMode, Declared, Frames, ImageError, ImageLimits, Planes, gate_bytes, gate_file};
pub use astro_image::{fits, image_io, luma, quality, resize, video};
pub use tensor::PlanesTensor;
// TEMPORARY (issue #28): the backend choice and model-file validation moved to `ml-core`; this
// re-export keeps `frame-quality` compiling until it imports `ml_core` itself. Nothing else may
// use it; the lead removes it (and dataset's `ml-core` dependency) once frame-quality is switched.
pub use ml_core::{backend, model_file, with_backend};
