//! The one interface every frame reader implements (SER, AVI, ffmpeg-decoded video, folders of
//! frames): readers depend on this module, and `source::open_source` depends on the readers.

use astro_image::Planes;

use crate::error::{FrameError, Result};
use crate::io::decode_scratch::DecodeScratch;

/// A sequence of equally sized frames, read one at a time (never all in memory).
pub trait FrameSource: Sync + Send {
    /// Number of frames.
    fn len(&self) -> usize;
    /// Whether there are no frames.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Frame width and height.
    fn dims(&self) -> (usize, usize);
    /// Channels of [`FrameSource::read_planes`] (1 mono, 3 colour).
    fn channels(&self) -> usize;
    /// A name for messages (the file or folder).
    fn name(&self) -> String;
    /// Decode frame `index` as mono luma in [0, 1] into `out` (`width × height`, non-finite samples set to 0).
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, scratch: &mut DecodeScratch) -> Result<()>;
    /// Decode frame `index` as planes in [0, 1].
    fn read_planes(&self, index: usize) -> Result<Planes>;
    /// Decode frame `index` as mono luma already averaged over 2×2 blocks (`⌊w/2⌋ × ⌊h/2⌋`);
    /// returns the binned size. Sources override it to bin while decoding (one pass, no full-size buffer).
    fn read_luma_binned2_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        let mut full = std::mem::take(&mut scratch.full);
        self.read_luma_into(index, &mut full, scratch)?;
        let (w, h) = self.dims();
        let dims = crate::pixels::bin_into(crate::pixels::ImageView::new(&full, w, h), 2, out);
        scratch.full = full;
        Ok(dims)
    }
    /// As [`FrameSource::read_luma_binned2_into`], also writing each 2×2 block's squared
    /// checkerboard difference into `noise` (the per-frame noise estimate of the band-pass metric).
    fn read_luma_binned2_noise_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        noise: &mut Vec<f32>,
        scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        let mut full = std::mem::take(&mut scratch.full);
        self.read_luma_into(index, &mut full, scratch)?;
        let (w, h) = self.dims();
        let dims = crate::pixels::bin2_with_noise(crate::pixels::ImageView::new(&full, w, h), out, noise);
        scratch.full = full;
        Ok(dims)
    }
    /// Whether [`FrameSource::block_noise_var`] works here (then the band-pass metric reads the
    /// noise over the planet's box only, instead of a whole-frame noise map).
    fn reads_block_noise(&self) -> bool {
        false
    }
    /// Mean of [`FrameSource::read_luma_binned2_noise_into`]'s noise map over the 2×2 blocks
    /// `[x0, x0 + bw) × [y0, y0 + bh)` of frame `index`, from the stored samples.
    fn block_noise_var(&self, index: usize, x0: usize, y0: usize, bw: usize, bh: usize) -> Result<f32> {
        let _ = (index, x0, y0, bw, bh);
        Err(FrameError::Invalid(format!("{}: no block noise reader", self.name())))
    }
}
