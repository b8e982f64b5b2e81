//! The per-thread decode buffers every frame source shares (its own module, so the SER reader
//! and `source` do not import each other).

/// Per-thread buffers a source may use while decoding (reused across frames, so no per-frame allocation).
#[derive(Debug, Default)]
pub struct DecodeScratch {
    /// Colour samples before conversion to luma.
    pub samples: Vec<f32>,
    /// Full-resolution luma before binning.
    pub full: Vec<f32>,
}
