//! Multi-point (alignment-box) local shifts on top of the global alignment, both by phase
//! correlation (`astro_image::registration`).

use astro_image::registration::{AlignScratch, PhaseCorrelator};

use crate::error::{FrameError, Result};

/// Multi-point alignment: a grid of boxes with their own residual shifts after global alignment.
#[derive(Debug, Clone)]
pub struct AlignmentBoxes {
    /// Box side in pixels.
    pub size: usize,
    /// Top-left corners of the boxes that have enough structure to align.
    pub boxes: Vec<(usize, usize)>,
    correlators: Vec<PhaseCorrelator>,
}

impl AlignmentBoxes {
    /// Place `size × size` boxes on a half-overlapping grid over the reference, keeping boxes whose
    /// standard deviation is at least `min_std` (sky-only boxes cannot be aligned).
    pub fn new(reference: &[f32], w: usize, h: usize, size: usize, min_std: f32) -> AlignmentBoxes {
        let size = size.max(8).min(w).min(h);
        let step = (size / 2).max(1);
        let mut boxes = Vec::new();
        let mut correlators = Vec::new();
        let mut patch = Vec::with_capacity(size * size);
        let mut y = 0;
        while y + size <= h {
            let mut x = 0;
            while x + size <= w {
                extract(reference, w, x, y, size, &mut patch);
                let m = patch.iter().sum::<f32>() / patch.len() as f32;
                let sd = (patch.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / patch.len() as f32).sqrt();
                if sd >= min_std {
                    boxes.push((x, y));
                    correlators.push(PhaseCorrelator::new(&patch, size, size));
                }
                x += step;
            }
            y += step;
        }
        AlignmentBoxes { size, boxes, correlators }
    }

    /// Boxes of side `size` at the given top-left corners of the reference (no structure test);
    /// every box must lie inside the `w × h` frame and `size` be at least 8 pixels.
    pub fn at(
        reference: &[f32],
        w: usize,
        h: usize,
        size: usize,
        corners: &[(usize, usize)],
    ) -> Result<AlignmentBoxes> {
        if size < 8 || size > w.min(h) {
            return Err(FrameError::Invalid(format!(
                "alignment boxes of {size} px: expected a side from 8 to {} pixels (the frame is {w}x{h})",
                w.min(h)
            )));
        }
        let mut patch = Vec::with_capacity(size * size);
        let mut correlators = Vec::with_capacity(corners.len());
        for &(x, y) in corners {
            if x + size > w || y + size > h {
                return Err(FrameError::Invalid(format!(
                    "alignment box at ({x}, {y}) of {size} px does not fit the {w}x{h} frame"
                )));
            }
            extract(reference, w, x, y, size, &mut patch);
            correlators.push(PhaseCorrelator::new(&patch, size, size));
        }
        Ok(AlignmentBoxes { size, boxes: corners.to_vec(), correlators })
    }

    /// Residual shifts of each box for a globally aligned frame (clamped to ±size/4; unreliable → 0).
    pub fn local_shifts(&self, frame: &[f32], w: usize, s: &mut AlignScratch) -> Vec<(f32, f32)> {
        let mut patch = Vec::with_capacity(self.size * self.size);
        let lim = self.size as f32 / 4.0;
        self.boxes
            .iter()
            .zip(&self.correlators)
            .map(|(&(x, y), pc)| {
                extract(frame, w, x, y, self.size, &mut patch);
                let (dx, dy, peak) = pc.shift_refined(&patch, s);
                if peak < 0.05 || dx.abs() > lim || dy.abs() > lim { (0.0, 0.0) } else { (dx, dy) }
            })
            .collect()
    }

    /// Warp a plane by the box shifts, interpolated per pixel with inverse-distance weights of the box centres.
    pub fn warp(&self, src: &[f32], w: usize, h: usize, shifts: &[(f32, f32)], out: &mut Vec<f32>) {
        out.clear();
        out.resize(w * h, 0.0);
        if self.boxes.is_empty() {
            out.copy_from_slice(src);
            return;
        }
        let half = self.size as f32 / 2.0;
        let centres: Vec<(f32, f32)> = self.boxes.iter().map(|&(x, y)| (x as f32 + half, y as f32 + half)).collect();
        let r2 = (self.size as f32).powi(2);
        for y in 0..h {
            for x in 0..w {
                let (mut sw, mut sx, mut sy) = (0f32, 0f32, 0f32);
                for (c, d) in centres.iter().zip(shifts) {
                    let dd = (x as f32 - c.0).powi(2) + (y as f32 - c.1).powi(2);
                    if dd > 4.0 * r2 {
                        continue;
                    }
                    let wgt = 1.0 / (dd + 0.25 * r2);
                    sw += wgt;
                    sx += wgt * d.0;
                    sy += wgt * d.1;
                }
                let (dx, dy) = if sw > 0.0 { (sx / sw, sy / sw) } else { (0.0, 0.0) };
                let fx = (x as f32 - dx).clamp(0.0, (w - 1) as f32);
                let fy = (y as f32 - dy).clamp(0.0, (h - 1) as f32);
                let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
                let a = src[y0 * w + x0] * (1.0 - ax) + src[y0 * w + x1] * ax;
                let b = src[y1 * w + x0] * (1.0 - ax) + src[y1 * w + x1] * ax;
                out[y * w + x] = a * (1.0 - ay) + b * ay;
            }
        }
    }
}

fn extract(img: &[f32], w: usize, x: usize, y: usize, size: usize, out: &mut Vec<f32>) {
    out.clear();
    for yy in y..y + size {
        out.extend_from_slice(&img[yy * w + x..yy * w + x + size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texture(w: usize, h: usize, ox: f32, oy: f32) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 + ox, (i / w) as f32 + oy);
                1.0 + (0.37 * x + 0.1 * y).sin() * (0.23 * y - 0.05 * x).cos() + 0.5 * (0.13 * x * 1.3 + 0.07 * y).sin()
            })
            .collect()
    }

    #[test]
    fn boxes_measure_local_shifts() {
        let (w, h) = (96, 96);
        let reference = texture(w, h, 0.0, 0.0);
        let boxes = AlignmentBoxes::new(&reference, w, h, 32, 0.05);
        assert_eq!(boxes.boxes.len(), 25);
        let frame = texture(w, h, 1.0, -0.5);
        let shifts = boxes.local_shifts(&frame, w, &mut AlignScratch::default());
        for s in &shifts {
            assert!((s.0 - 1.0).abs() < 0.3 && (s.1 + 0.5).abs() < 0.3, "{shifts:?}");
        }
        let mut out = Vec::new();
        boxes.warp(&frame, w, h, &shifts, &mut out);
        let inner = |a: &[f32]| -> f32 {
            (8..88)
                .flat_map(|y| (8..88).map(move |x| (x, y)))
                .map(|(x, y)| (a[y * w + x] - reference[y * w + x]).abs())
                .sum()
        };
        assert!(inner(&out) < 0.3 * inner(&frame), "warp {} vs {}", inner(&out), inner(&frame));
    }
}
