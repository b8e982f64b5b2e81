//! Ranking frames by quality: the metrics ([`Metric`]: the noise-aware band-pass default, PIPP,
//! PSS and classic focus operators; [`metrics`] holds one function per formula), disc detection, scoring a whole source ([`score_source`]),
//! rank statistics, the learned rankers ([`learned`]: teacher-metric models and the quality CNN),
//! the user's own picks ([`picks`]) and the contact sheet they are marked on.

pub mod bandpass;
mod contact_sheet;
mod disc;
pub mod learned;
pub mod metrics;
pub mod picks;
mod rank;
mod stats;

pub use crate::pixels::Scratch;
pub use contact_sheet::{DEFAULT_SHEET_FRAMES, MAX_SHEET_FRAMES, SheetFrame, sheet_frames, write_contact_sheet};
pub use disc::{DISC_THRESHOLD, Disc, detect_disc};
pub use learned::{Ranker, RankerKind, TrainConfig};
pub use metrics::{DiscLaplaceParams, Metric, gradient_energy};
pub use rank::{Scorer, Selection, measure_source, order_best_first, ranks, score_source, write_scores_csv};
pub use stats::{average_ranks, pearson, spearman, top_k_overlap};
