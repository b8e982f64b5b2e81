//! Aligning and stacking the best frames: phase-correlation alignment on a grid of boxes, streamed
//! stacking with per-box frame selection (local quality), sharpening, and the per-box quality table.

mod align;
mod stack;

pub use align::AlignmentBoxes;
pub use stack::{
    BoxBlend, BoxScores, LEVEL_FLOOR, LocalMetric, LocalScratch, MAX_SHARPEN_SIGMA, RegionSelection, StackConfig,
    StackMethod, StackResult, check_unsharp, local_global_blend, local_scores, score_boxes, stack,
    stack_with_box_scores, unsharp_mask, write_local_csv,
};
