//! [`Enhancer`]: a loaded model and how to run it, what every `enhance_*` function of the crate
//! (stills, GIFs, FITS, videos, folders) takes.

use burn::prelude::*;

use crate::inference::Tiling;
use crate::model::{Generator, GeneratorConfig};

/// Default budget for output pixels (all frames of a GIF together, one frame of a video): 400 megapixels.
pub const DEFAULT_MAX_OUTPUT_PIXELS: u64 = 400_000_000;

/// A loaded model and how to run it: what every `enhance_*` function of this crate takes.
#[derive(Debug)]
pub struct Enhancer<'a, B: Backend> {
    /// The generator.
    pub model: &'a Generator<B>,
    /// Its configuration (scale, architecture).
    pub config: &'a GeneratorConfig,
    /// Tile size and overlap.
    pub tiling: Tiling,
    /// Output pixel budget (per file; per frame for videos, all frames for GIFs).
    pub max_output_pixels: u64,
    /// The device the model lives on.
    pub device: &'a B::Device,
}

impl<B: Backend> Clone for Enhancer<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Backend> Copy for Enhancer<'_, B> {}

impl<'a, B: Backend> Enhancer<'a, B> {
    /// The model with default tiling and the default output budget.
    pub fn new(model: &'a Generator<B>, config: &'a GeneratorConfig, device: &'a B::Device) -> Self {
        Enhancer { model, config, tiling: Tiling::default(), max_output_pixels: DEFAULT_MAX_OUTPUT_PIXELS, device }
    }

    /// The same with this tiling.
    pub fn with_tiling(self, tiling: Tiling) -> Self {
        Enhancer { tiling, ..self }
    }

    /// The same with this output pixel budget.
    pub fn with_max_output_pixels(self, max_output_pixels: u64) -> Self {
        Enhancer { max_output_pixels, ..self }
    }
}
