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
pub use tensor::PlanesTensor;
