//! Real astronomical images for training: image I/O and tensors, the Stellarium deep-sky set,
//! object-level splits, survey-like degradations, and HR/LR patch batches.

pub mod backend;
pub mod degrade;
pub mod error;
pub mod fits;
pub mod image_io;
pub mod patches;
pub mod resize;
pub mod split;
pub mod stars;
pub mod stellarium;
pub mod survey_look;
pub mod video;

pub use error::DatasetError;
pub use image_io::{ColorMode, Declared, Frames, ImageLimits, Planes, gate_bytes, gate_file};
