//! Planetary lucky imaging: read SER videos, rank frames by sharpness (PIPP/PSS metrics and
//! learned rankers), align and stack the best, and measure rankers on simulated turbulence.
#![warn(missing_docs)]

pub mod align;
pub mod anisoplanatic;
pub mod avi;
pub mod bandpass;
pub mod contact_sheet;
pub mod decode_scratch;
pub mod disc;
pub mod error;
pub mod eval;
pub mod ffmpeg_source;
pub mod fft;
pub mod filters;
pub mod frame_source;
pub mod grid;
pub mod grid_eval;
pub mod learned;
pub mod metrics;
pub mod picks;
pub mod rank;
pub mod render;
pub mod ser;
pub mod sim;
pub mod source;
pub mod stack;
pub mod surface;
pub mod surface_check;
pub mod view;

pub use disc::{Disc, detect_disc};
pub use error::{FrameError, Result};
pub use learned::{Ranker, RankerKind, TrainConfig};
pub use metrics::{Metric, Scratch};
pub use rank::{Scorer, Selection, ranks, score_source};
pub use ser::{ColorId, SerHeader, SerReader, SerWriter};
pub use source::{FrameSource, ImageFolder, open_source};
pub use stack::{MAX_SHARPEN_SIGMA, StackConfig, StackMethod, StackResult, check_unsharp, stack, unsharp_mask};
pub use view::ImageView;
