//! Borrowed mono `f32` image views (with a row stride, so disc crops need no copy).

/// A read-only mono image in `f32`, row-major with a row stride (crops share the parent buffer).
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    /// Samples; row `y` starts at `y * stride`.
    pub data: &'a [f32],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Distance between the starts of two rows, ≥ `width`.
    pub stride: usize,
}

impl<'a> ImageView<'a> {
    /// A view over a tightly packed `width × height` buffer.
    ///
    /// # Panics
    /// When `data` is shorter than `width × height` (a programming error, not user input).
    pub fn new(data: &'a [f32], width: usize, height: usize) -> Self {
        assert!(data.len() >= width * height, "ImageView: buffer of {} < {width}x{height}", data.len());
        ImageView { data, width, height, stride: width }
    }

    /// Row `y` as a slice of `width` samples.
    #[inline]
    pub fn row(&self, y: usize) -> &'a [f32] {
        let start = y * self.stride;
        &self.data[start..start + self.width]
    }

    /// Sample at (x, y).
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.stride + x]
    }

    /// The sub-rectangle `[x0, x0+w) × [y0, y0+h)`, clipped to the image.
    pub fn crop(&self, x0: usize, y0: usize, w: usize, h: usize) -> ImageView<'a> {
        let x0 = x0.min(self.width);
        let y0 = y0.min(self.height);
        let w = w.min(self.width - x0);
        let h = h.min(self.height - y0);
        if w == 0 || h == 0 {
            return ImageView { data: &[], width: 0, height: 0, stride: 0 };
        }
        let start = y0 * self.stride + x0;
        let end = (y0 + h - 1) * self.stride + x0 + w;
        ImageView { data: &self.data[start..end], width: w, height: h, stride: self.stride }
    }

    /// Number of pixels.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// Copy into a tightly packed buffer (reusing `out`).
    pub fn copy_into(&self, out: &mut Vec<f32>) {
        out.clear();
        for y in 0..self.height {
            out.extend_from_slice(self.row(y));
        }
    }
}
