//! Planet disc detection (threshold + centroid) and the border test behind the half-cut-planet penalty.

use crate::pixels::ImageView;

/// A detected planet disc, in the pixel coordinates of the image it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disc {
    /// Intensity-weighted centroid x.
    pub cx: f32,
    /// Intensity-weighted centroid y.
    pub cy: f32,
    /// Radius of a circle with the disc's area.
    pub radius: f32,
    /// Bounding box of the above-threshold pixels: x0, y0, x1, y1 (exclusive).
    pub bbox: (usize, usize, usize, usize),
    /// Pixels above the threshold.
    pub area: usize,
    /// Mean brightness of the disc pixels.
    pub mean: f32,
    /// Background level used for the threshold.
    pub background: f32,
    /// Whether the disc touches the frame border (a half-cut planet).
    pub touches_border: bool,
}

/// Fraction of the way from the background to the brightest level at which a pixel counts as disc.
pub const DISC_THRESHOLD: f32 = 0.25;

/// Find the bright object: background = darkest corner block mean, threshold at
/// [`DISC_THRESHOLD`] of the range to the brightest pixel, centroid and box of the pixels above it.
///
/// Returns `None` for frames with no contrast (all black, all white or flat), which the rankers
/// score as 0 rather than NaN. A disc touches the border when at least 3 above-threshold pixels
/// (or 1% of the disc's area) lie on the outermost rows or columns.
pub fn detect_disc(img: ImageView<'_>) -> Option<Disc> {
    let (w, h) = (img.width, img.height);
    if w < 4 || h < 4 {
        return None;
    }
    let background = corner_background(img);
    let max = (0..h).map(|y| row_max(img.row(y))).fold(f32::NEG_INFINITY, f32::max);
    let range = max - background;
    if !(range.is_finite() && range > 1e-4) {
        return None;
    }
    let thr = background + DISC_THRESHOLD * range;
    let mut m = Moments::default();
    for y in 0..h {
        let row = img.row(y);
        // The row's above-threshold pixels lie in [first, last]; their sums come per row.
        let Some(first) = row.iter().position(|&v| v > thr) else { continue };
        let last = row.iter().rposition(|&v| v > thr).unwrap_or(first);
        let r = row_sums(&row[first..=last], first, thr);
        m.n += r.count;
        m.sum += r.sum;
        m.sw += r.weight;
        m.sx += r.weighted_x;
        m.sy += r.weight * y as f64;
        m.bbox = (m.bbox.0.min(first), m.bbox.1.min(y), m.bbox.2.max(last + 1), y + 1);
        m.edge += if y == 0 || y == h - 1 { r.count } else { usize::from(first == 0) + usize::from(last == w - 1) };
    }
    m.disc(background)
}

/// The darkest of the four corner squares' means (side min(w, h)/8, 1–16 px): the sky level.
fn corner_background(img: ImageView<'_>) -> f32 {
    let (w, h) = (img.width, img.height);
    let cb = (w.min(h) / 8).clamp(1, 16);
    let corner_mean = |x0: usize, y0: usize| {
        let mut s = 0.0;
        for y in y0..y0 + cb {
            s += img.row(y)[x0..x0 + cb].iter().sum::<f32>();
        }
        s / (cb * cb) as f32
    };
    [corner_mean(0, 0), corner_mean(w - cb, 0), corner_mean(0, h - cb), corner_mean(w - cb, h - cb)]
        .into_iter()
        .fold(f32::INFINITY, f32::min)
}

/// The sums over a frame's above-threshold pixels that [`Disc`] is made from.
#[derive(Debug, Clone, Copy)]
struct Moments {
    /// Pixels above the threshold.
    n: usize,
    /// Sum of their values.
    sum: f64,
    /// Sum of their weights (value − threshold), and the weighted x and y sums.
    sw: f64,
    sx: f64,
    sy: f64,
    /// Their bounding box (x0, y0, x1, y1), exclusive ends.
    bbox: (usize, usize, usize, usize),
    /// How many lie on the outermost rows or columns.
    edge: usize,
}

impl Default for Moments {
    fn default() -> Self {
        Moments { n: 0, sum: 0.0, sw: 0.0, sx: 0.0, sy: 0.0, bbox: (usize::MAX, usize::MAX, 0, 0), edge: 0 }
    }
}

impl Moments {
    /// The disc these pixels make (`None` when there are none, or no weight).
    fn disc(self, background: f32) -> Option<Disc> {
        if self.n == 0 || self.sw <= 0.0 {
            return None;
        }
        Some(Disc {
            cx: (self.sx / self.sw) as f32,
            cy: (self.sy / self.sw) as f32,
            radius: (self.n as f32 / std::f32::consts::PI).sqrt(),
            bbox: self.bbox,
            area: self.n,
            mean: (self.sum / self.n as f64) as f32,
            background,
            touches_border: self.edge >= 3.max(self.n / 100),
        })
    }
}

/// The largest value of a row (NaN ignored; −∞ for an empty row), in lanes so the loop vectorises.
fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    for c in chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            *m = if v > *m { v } else { *m };
        }
    }
    lanes.into_iter().fold(tail, f32::max)
}

/// What one row adds to the disc's moments: pixels above `thr`, the sum of their values, of their
/// weights (value − thr) and of weight × x (`x0` is the x of `seg[0]`).
struct RowSums {
    count: usize,
    sum: f64,
    weight: f64,
    weighted_x: f64,
}

/// [`RowSums`] of a row segment, branch-free in four lanes (pixels at or below `thr` add zeros).
fn row_sums(seg: &[f32], x0: usize, thr: f32) -> RowSums {
    const L: usize = 4;
    let (mut cnt, mut sum, mut wgt, mut wx) = ([0u32; L], [0f64; L], [0f64; L], [0f64; L]);
    // Each lane's x as f64 (exact: x < 2^53), stepped by L.
    let mut xs: [f64; L] = std::array::from_fn(|l| (x0 + l) as f64);
    let chunks = seg.chunks_exact(L);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..L {
            let v = c[l];
            let above = v > thr;
            let w = if above { (v - thr) as f64 } else { 0.0 };
            cnt[l] += u32::from(above);
            sum[l] += if above { v as f64 } else { 0.0 };
            wgt[l] += w;
            wx[l] += w * xs[l];
            xs[l] += L as f64;
        }
    }
    let x_tail = x0 + seg.len() - tail.len();
    for (j, &v) in tail.iter().enumerate() {
        if v > thr {
            let w = (v - thr) as f64;
            cnt[0] += 1;
            sum[0] += v as f64;
            wgt[0] += w;
            wx[0] += w * (x_tail + j) as f64;
        }
    }
    let add = |a: [f64; L]| (a[0] + a[1]) + (a[2] + a[3]);
    RowSums { count: cnt.iter().map(|&c| c as usize).sum(), sum: add(sum), weight: add(wgt), weighted_x: add(wx) }
}

impl Disc {
    /// The bounding box grown by `margin` pixels on each side, clipped to a `w × h` frame: (x, y, width, height).
    pub fn region(&self, margin: usize, w: usize, h: usize) -> (usize, usize, usize, usize) {
        let (x0, y0, x1, y1) = self.bbox;
        let x0 = x0.saturating_sub(margin);
        let y0 = y0.saturating_sub(margin);
        let x1 = (x1 + margin).min(w);
        let y1 = (y1 + margin).min(h);
        (x0, y0, x1 - x0, y1 - y0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc_image(w: usize, h: usize, cx: f32, cy: f32, r: f32) -> Vec<f32> {
        let mut v = vec![0.02f32; w * h];
        for y in 0..h {
            for x in 0..w {
                if ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() < r {
                    v[y * w + x] = 0.8;
                }
            }
        }
        v
    }

    #[test]
    fn finds_centre_and_radius_and_flags_cut_discs() {
        let img = disc_image(100, 80, 40.0, 35.0, 20.0);
        let d = detect_disc(ImageView::new(&img, 100, 80)).unwrap();
        assert!((d.cx - 40.0).abs() < 0.6 && (d.cy - 35.0).abs() < 0.6, "{d:?}");
        assert!((d.radius - 20.0).abs() < 1.0, "{d:?}");
        assert!(!d.touches_border);
        let cut = disc_image(100, 80, 92.0, 35.0, 20.0);
        assert!(detect_disc(ImageView::new(&cut, 100, 80)).unwrap().touches_border);
    }

    /// `detect_disc` as it was before the per-row lanes: one scalar pass for the maximum, one for the moments.
    fn detect_disc_scalar(img: ImageView<'_>) -> Option<Disc> {
        let (w, h) = (img.width, img.height);
        let background = corner_background(img);
        let max = (0..h).flat_map(|y| img.row(y).iter().copied()).fold(f32::NEG_INFINITY, f32::max);
        let range = max - background;
        if !(range.is_finite() && range > 1e-4) {
            return None;
        }
        let thr = background + DISC_THRESHOLD * range;
        // The old per-pixel pass over the same sums (the corner sky and the assembly are shared).
        let mut m = Moments::default();
        for y in 0..h {
            for (x, &v) in img.row(y).iter().enumerate() {
                if v > thr {
                    let wgt = (v - thr) as f64;
                    (m.n, m.sum, m.sw) = (m.n + 1, m.sum + v as f64, m.sw + wgt);
                    (m.sx, m.sy) = (m.sx + wgt * x as f64, m.sy + wgt * y as f64);
                    let b = m.bbox;
                    m.bbox = (b.0.min(x), b.1.min(y), b.2.max(x + 1), b.3.max(y + 1));
                    m.edge += usize::from(y == 0 || y == h - 1 || x == 0 || x == w - 1);
                }
            }
        }
        m.disc(background)
    }

    #[test]
    fn per_row_lanes_find_the_same_disc_as_the_scalar_pass() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for case in 0..40 {
            let (w, h) = (rng.random_range(4..300), rng.random_range(4..200));
            let (cx, cy) = (rng.random_range(-20.0..w as f32 + 20.0), rng.random_range(-20.0..h as f32 + 20.0));
            let r = rng.random_range(1.0..200.0f32);
            let mut img = disc_image(w, h, cx, cy, r);
            let amp = [0.0, 0.01, 0.3, 1.0][case % 4];
            for v in img.iter_mut() {
                *v += amp * rng.random::<f32>();
            }
            if case % 5 == 0 {
                img[rng.random_range(0..w * h)] = f32::NAN;
            }
            let view = ImageView::new(&img, w, h);
            let (new, old) = (detect_disc(view), detect_disc_scalar(view));
            assert_eq!(format!("{new:?}"), format!("{old:?}"), "case {case}: {w}x{h}");
        }
    }

    #[test]
    fn flat_and_black_frames_have_no_disc() {
        assert!(detect_disc(ImageView::new(&vec![0.0; 400], 20, 20)).is_none());
        assert!(detect_disc(ImageView::new(&vec![0.7; 400], 20, 20)).is_none());
    }
}
