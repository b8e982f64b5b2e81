//! What enhancing a file reports, and the output pixel budget every input kind checks (shared by
//! `apply` and the per-kind modules it dispatches to, which must not depend on `apply`).

use std::path::Path;

use crate::error::{Result, SrError};

/// What `apply::enhance_file` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Input size.
    pub input: (usize, usize),
    /// Output size.
    pub output: (usize, usize),
    /// Frames processed (1 for still images).
    pub frames: usize,
}

/// Refuse outputs above the pixel budget.
pub(crate) fn check_output(name: &Path, w: usize, h: usize, frames: usize, max: u64) -> Result<()> {
    if (w as u64) * (h as u64) * frames as u64 > max {
        return Err(SrError::TooLarge { name: name.display().to_string(), width: w, height: h, max_pixels: max });
    }
    Ok(())
}
