//! Planetary lucky imaging: read SER videos, rank frames by sharpness (PIPP/PSS metrics and
//! learned rankers), align and stack the best, and measure rankers on simulated turbulence.
//!
//! One module per concern: [`io`] (frame sources), [`ranking`] (metrics, learned rankers, picks),
//! [`stacking`] (align and stack) and [`simulation`] (simulated footage with truth, evaluation).
//! The items most programs need are re-exported here.
#![warn(missing_docs)]

mod error;
pub mod io;
mod pixels;
pub mod ranking;
pub mod simulation;
pub mod stacking;

pub use error::{FrameError, Result};
pub use io::{ColorId, FrameSource, ImageFolder, SerHeader, SerReader, SerWriter, open_source};
pub use pixels::ImageView;
pub use ranking::{
    Disc, Metric, Ranker, RankerKind, Scorer, Scratch, Selection, TrainConfig, detect_disc, ranks, score_source,
};
pub use stacking::{MAX_SHARPEN_SIGMA, StackConfig, StackMethod, StackResult, check_unsharp, stack, unsharp_mask};
