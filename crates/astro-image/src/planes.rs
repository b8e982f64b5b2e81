//! The pixel type: `f32` planes, channel-major, NaN where there is no data.

use crate::error::{ImageError, Result};

/// An image as `f32` planes, channel-major (`data[c][y][x]` flattened): in [0, 1] for pictures,
/// physical values for FITS data; `NaN` marks pixels with no data (outside a survey's footprint, a
/// FITS `BLANK`).
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Number of planes: 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Samples, `channels × height × width`, in [0, 1].
    pub data: Vec<f32>,
    /// Bits per sample of the source (8 or 16; 32 for float sources).
    pub bit_depth: u8,
}

impl Planes {
    /// A black image of the given size.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Planes { width, height, channels, data: vec![0.0; channels * height * width], bit_depth: 8 }
    }

    /// Wrap channel-major samples, checking the length.
    pub fn from_vec(channels: usize, height: usize, width: usize, data: Vec<f32>) -> Result<Self> {
        if data.len() != channels * height * width {
            return Err(ImageError::Shape(format!("{} samples for {channels}x{height}x{width} planes", data.len())));
        }
        Ok(Planes { width, height, channels, data, bit_depth: 8 })
    }

    /// Number of pixels per plane.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// Samples interleaved pixel by pixel (RGBRGB…), clamped to [0, 1], scaled to `max` and
    /// rounded; NaN (no data) becomes 0. The one quantiser of every 8/16-bit writer.
    fn interleaved(&self, max: f32) -> impl Iterator<Item = f32> + '_ {
        let n = self.pixels();
        (0..n * self.channels).map(move |k| {
            let v = self.data[(k % self.channels) * n + k / self.channels];
            if v.is_nan() { 0.0 } else { (v.clamp(0.0, 1.0) * max).round() }
        })
    }

    /// 8-bit samples, interleaved (see [`Planes::interleaved`]).
    pub fn to_interleaved_u8(&self) -> Vec<u8> {
        self.interleaved(255.0).map(|v| v as u8).collect()
    }

    /// 16-bit samples, interleaved (see [`Planes::interleaved`]).
    pub fn to_interleaved_u16(&self) -> Vec<u16> {
        self.interleaved(65535.0).map(|v| v as u16).collect()
    }

    /// One plane as a slice.
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.pixels();
        &self.data[c * n..(c + 1) * n]
    }

    /// One plane as a mutable slice.
    pub fn plane_mut(&mut self, c: usize) -> &mut [f32] {
        let n = self.pixels();
        &mut self.data[c * n..(c + 1) * n]
    }

    /// Sample at channel `c`, row `y`, column `x`.
    pub fn get(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.height + y) * self.width + x]
    }

    /// Three planes: grey is replicated, RGB is returned as is.
    pub fn to_rgb(&self) -> Planes {
        if self.channels == 3 {
            return self.clone();
        }
        let mut data = Vec::with_capacity(3 * self.pixels());
        for _ in 0..3 {
            data.extend_from_slice(self.plane(0));
        }
        Planes { channels: 3, data, ..*self }
    }

    /// One plane: BT.601 luma of RGB, grey returned as is.
    pub fn to_luma(&self) -> Planes {
        if self.channels == 1 {
            return self.clone();
        }
        let (r, g, b) = (self.plane(0), self.plane(1), self.plane(2));
        let data = r.iter().zip(g).zip(b).map(|((r, g), b)| crate::luma::bt601(*r, *g, *b)).collect();
        Planes { channels: 1, data, ..*self }
    }

    /// Copy out the rectangle starting at (`x`, `y`) of size `w` × `h`.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Planes> {
        if x + w > self.width || y + h > self.height || w == 0 || h == 0 {
            return Err(ImageError::Shape(format!(
                "crop {w}x{h}+{x}+{y} outside {}x{} image",
                self.width, self.height
            )));
        }
        let mut data = Vec::with_capacity(self.channels * w * h);
        for c in 0..self.channels {
            let p = self.plane(c);
            for row in y..y + h {
                data.extend_from_slice(&p[row * self.width + x..row * self.width + x + w]);
            }
        }
        Ok(Planes { width: w, height: h, channels: self.channels, data, bit_depth: self.bit_depth })
    }

    /// Clamp every sample to [0, 1] (NaN becomes 0).
    pub fn clamp01(&mut self) {
        for v in &mut self.data {
            *v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        }
    }

    /// An image filled with `NaN` (no data), 32-bit float.
    pub fn no_data(channels: usize, height: usize, width: usize) -> Self {
        Planes { width, height, channels, data: vec![f32::NAN; channels * height * width], bit_depth: 32 }
    }

    /// Fraction of pixels with data (not `NaN`) in every channel.
    pub fn coverage(&self) -> f64 {
        let n = self.pixels();
        if n == 0 {
            return 0.0;
        }
        let covered = (0..n).filter(|&i| (0..self.channels).all(|c| !self.data[c * n + i].is_nan())).count();
        covered as f64 / n as f64
    }

    /// Replace `NaN` (no data) by `value`.
    pub fn fill_nan(&mut self, value: f32) {
        for v in &mut self.data {
            if v.is_nan() {
                *v = value;
            }
        }
    }

    /// Map values to `[0, 1]` between the `lo`/`hi` percentiles (all channels together, NaN
    /// ignored), e.g. `(0.5, 99.5)` like hips2fits' default cuts. NaN stays NaN.
    pub fn stretched_linear(&self, lo_pct: f64, hi_pct: f64) -> Planes {
        let mut finite: Vec<f32> = self.data.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return self.clone();
        }
        finite.sort_by(|a, b| a.total_cmp(b));
        let pick = |p: f64| finite[((p / 100.0).clamp(0.0, 1.0) * (finite.len() - 1) as f64).round() as usize];
        let (lo, hi) = (pick(lo_pct), pick(hi_pct));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let data = self.data.iter().map(|&v| if v.is_nan() { v } else { ((v - lo) / span).clamp(0.0, 1.0) }).collect();
        Planes { data, ..*self }
    }

    /// Copy `src` into this image with its top-left corner at (`x0`, `y0`) (stitching tiles).
    pub fn paste(&mut self, src: &Planes, x0: usize, y0: usize) -> Result<()> {
        if src.channels != self.channels || x0 + src.width > self.width || y0 + src.height > self.height {
            return Err(ImageError::Shape(format!(
                "{}x{}x{} piece does not fit at ({x0}, {y0}) in {}x{}x{}",
                src.channels, src.height, src.width, self.channels, self.height, self.width
            )));
        }
        for c in 0..self.channels {
            for y in 0..src.height {
                let d = (c * self.height + y0 + y) * self.width + x0;
                let s = (c * src.height + y) * src.width;
                self.data[d..d + src.width].copy_from_slice(&src.data[s..s + src.width]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_orders_pixels_then_channels_clamps_rounds_and_zeroes_no_data() {
        let mut p = Planes::zeros(3, 1, 2);
        // R = [0.5, NaN], G = [1.5, 0.2], B = [-1, 1].
        p.data = vec![0.5, f32::NAN, 1.5, 0.2, -1.0, 1.0];
        assert_eq!(p.to_interleaved_u8(), vec![128, 255, 0, 0, 51, 255]);
        assert_eq!(p.to_interleaved_u16(), vec![32768, 65535, 0, 0, 13107, 65535]);
    }
}
