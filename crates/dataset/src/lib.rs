//! Real astronomical images for training: image I/O and tensors, the Stellarium deep-sky set,
//! object-level splits, survey-like degradations, and HR/LR patch batches.

pub mod backend;
pub mod error;
pub mod image_io;

pub use error::DatasetError;
pub use image_io::{ColorMode, ImageLimits, Planes};
