//! Real astronomical images for training: planes ⇄ burn tensors, the Stellarium deep-sky set,
//! object-level splits, survey-like degradations.
//!
//! Public modules: [`degrade`], [`stellarium`], [`stars`] (the independent star judge) and
//! [`survey_look`]; the error, the split and the tensor conversion are private behind `pub use`.
#![warn(missing_docs)]

pub mod degrade;
mod error;
mod split;
pub mod stars;
pub mod stellarium;
pub mod survey_look;
mod tensor;

pub use error::{DatasetError, Result};
pub use split::{Split, SplitFractions, seeded_hash, split_by_key, stellarium_split};
pub use tensor::{PlanesTensor, stack_nchw};
