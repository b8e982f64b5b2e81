//! The sky under the stars: a level map from a mesh of sigma-clipped medians (SExtractor's
//! recipe: 3σ clipping, a 3×3 median filter over the mesh, smooth interpolation) and the noise σ.
//! NaN pixels (no data) are ignored.

/// Side of a mesh cell in pixels: small enough to follow a nebula, large enough that a star
/// never dominates a cell.
pub const MESH: usize = 24;

/// The sky level at every pixel and the noise of single pixels about it.
#[derive(Debug, Clone)]
pub struct Background {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Sky level per pixel (row-major).
    pub level: Vec<f32>,
    /// Robust σ of single pixels about the level.
    pub sigma: f32,
}

/// Median of finite values (reorders the slice); `None` when there are none.
pub fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    Some(*m)
}

/// Robust σ: 1.4826 × the median absolute deviation about the median (0 for no values).
pub fn mad_sigma(v: &[f32]) -> f32 {
    let mut a: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let Some(m) = median(&mut a) else { return 0.0 };
    a.iter_mut().for_each(|x| *x = (*x - m).abs());
    1.4826 * median(&mut a).unwrap_or(0.0)
}

/// Median of `v` after three rounds of clipping at 3σ about it (stars and hot pixels go).
fn clipped_median(v: &mut Vec<f32>) -> Option<f32> {
    let mut m = median(v)?;
    for _ in 0..3 {
        let s = mad_sigma(v).max(1e-6);
        v.retain(|x| (x - m).abs() <= 3.0 * s);
        m = median(v)?;
    }
    Some(m)
}

/// Single-pixel noise σ of a plane from horizontal neighbour differences (structure cancels).
pub fn pixel_noise(plane: &[f32], width: usize) -> f32 {
    if width < 2 {
        return 0.0;
    }
    let d: Vec<f32> = plane.chunks_exact(width).flat_map(|r| r.windows(2).map(|w| w[1] - w[0])).collect();
    mad_sigma(&d) / std::f32::consts::SQRT_2
}

impl Background {
    /// Measure the sky of a luma plane.
    pub fn estimate(luma: &[f32], width: usize, height: usize) -> Background {
        let (mx, my) = (width.div_ceil(MESH).max(1), height.div_ceil(MESH).max(1));
        let mut mesh = vec![f32::NAN; mx * my];
        let mut buf = Vec::with_capacity(MESH * MESH);
        for j in 0..my {
            for i in 0..mx {
                buf.clear();
                for y in j * MESH..((j + 1) * MESH).min(height) {
                    let row = &luma[y * width..(y + 1) * width];
                    buf.extend(row[i * MESH..((i + 1) * MESH).min(width)].iter().filter(|v| v.is_finite()));
                }
                if let Some(m) = clipped_median(&mut buf) {
                    mesh[j * mx + i] = m;
                }
            }
        }
        // Cells without data take the median of all cells (or 0 for an image without any).
        let mut all: Vec<f32> = mesh.iter().copied().filter(|v| v.is_finite()).collect();
        let fill = median(&mut all).unwrap_or(0.0);
        mesh.iter_mut().filter(|v| !v.is_finite()).for_each(|v| *v = fill);
        let mesh = median3(&mesh, mx, my);
        // Bilinear between cell centres, extended linearly past the outer centres (a sky
        // gradient continues to the image edge instead of flattening there).
        // Centres of the cells (the last one may be partial).
        let centres = |n: usize, cells: usize| -> Vec<f32> {
            (0..cells).map(|i| (i * MESH + ((i + 1) * MESH).min(n)) as f32 / 2.0 - 0.5).collect()
        };
        let (cx, cy) = (centres(width, mx), centres(height, my));
        let axis = |p: usize, c: &[f32]| -> (usize, usize, f32) {
            if c.len() < 2 {
                return (0, 0, 0.0);
            }
            let p = p as f32;
            let i0 = c.iter().rposition(|v| *v <= p).unwrap_or(0).min(c.len() - 2);
            (i0, i0 + 1, ((p - c[i0]) / (c[i0 + 1] - c[i0])).clamp(-1.0, 2.0))
        };
        let mut level = vec![0.0f32; width * height];
        for y in 0..height {
            let (j0, j1, ty) = axis(y, &cy);
            for x in 0..width {
                let (i0, i1, tx) = axis(x, &cx);
                let top = mesh[j0 * mx + i0] * (1.0 - tx) + mesh[j0 * mx + i1] * tx;
                let bottom = mesh[j1 * mx + i0] * (1.0 - tx) + mesh[j1 * mx + i1] * tx;
                level[y * width + x] = top * (1.0 - ty) + bottom * ty;
            }
        }
        let resid: Vec<f32> = luma.iter().zip(&level).map(|(v, b)| v - b).collect();
        let sigma = mad_sigma(&resid).max(pixel_noise(luma, width)).max(1e-5);
        Background { width, height, level, sigma }
    }
}

/// 3×3 median filter of the mesh; at the edges the window shrinks symmetrically (a one-sided
/// window would bias a sky gradient).
fn median3(mesh: &[f32], mx: usize, my: usize) -> Vec<f32> {
    let mut out = vec![0.0; mesh.len()];
    let mut v = Vec::with_capacity(9);
    for j in 0..my {
        for i in 0..mx {
            v.clear();
            let (ry, rx) = (j.min(my - 1 - j).min(1), i.min(mx - 1 - i).min(1));
            for jj in j - ry..=j + ry {
                for ii in i - rx..=i + rx {
                    v.push(mesh[jj * mx + ii]);
                }
            }
            out[j * mx + i] = median(&mut v).unwrap_or(0.0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gradient_sky_with_a_star_is_measured_without_the_star() {
        let (w, h) = (96, 96);
        let mut img = vec![0.0f32; w * h];
        let mut state = 7u32;
        for y in 0..h {
            for x in 0..w {
                state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                let noise = 0.01 * ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 3.46;
                let star = 0.8 * (-(((x as f32 - 40.0).powi(2) + (y as f32 - 40.0).powi(2)) / 4.0)).exp();
                img[y * w + x] = 0.1 + 0.001 * x as f32 + star + noise;
            }
        }
        let bg = Background::estimate(&img, w, h);
        for &(x, y) in &[(40usize, 40usize), (12, 80), (80, 12), (60, 60), (90, 5), (2, 93)] {
            let want = 0.1 + 0.001 * x as f32;
            assert!((bg.level[y * w + x] - want).abs() < 0.006, "({x},{y}) {} vs {want}", bg.level[y * w + x]);
        }
        assert!(bg.sigma > 0.005 && bg.sigma < 0.02, "{}", bg.sigma);
        // No data at all: a flat zero sky, no panic.
        let empty = Background::estimate(&[f32::NAN; 16], 4, 4);
        assert!(empty.level.iter().all(|v| *v == 0.0));
    }
}
