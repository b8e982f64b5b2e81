//! Gallery rows shared by the standard and the real-survey evaluations: the most detailed
//! window of an image and panels side by side.

use astro_image::Planes;

/// The `side`×`side` window (top-left corner) with the most detail (variance of the luma
/// Laplacian on an 8-px grid), where upscalers differ most: what a gallery crop should show.
pub fn detail_window(img: &Planes, side: usize) -> (usize, usize) {
    if img.width <= side || img.height <= side {
        return (0, 0);
    }
    let y = img.to_luma();
    let (w, h) = (img.width, img.height);
    let mut lap = vec![0f32; w * h];
    for yy in 1..h - 1 {
        for xx in 1..w - 1 {
            let i = yy * w + xx;
            lap[i] = (4.0 * y.data[i] - y.data[i - 1] - y.data[i + 1] - y.data[i - w] - y.data[i + w]).abs();
        }
    }
    let mut best = (f32::MIN, (0, 0));
    for ty in (0..=h - side).step_by(8) {
        for tx in (0..=w - side).step_by(8) {
            let mut sum = 0.0;
            for yy in (ty..ty + side).step_by(2) {
                for xx in (tx..tx + side).step_by(2) {
                    sum += lap[yy * w + xx];
                }
            }
            if sum > best.0 {
                best = (sum, (tx, ty));
            }
        }
    }
    best.1
}

/// Panels side by side (same size, RGB), each enlarged `zoom`× by pixel replication so the
/// eye sees the pixels, separated by 6-px white gutters: a gallery row.
pub fn side_by_side(panels: &[Planes], zoom: usize) -> Planes {
    let (pw, ph) = (panels[0].width * zoom, panels[0].height * zoom);
    let gap = 6;
    let w = panels.len() * pw + (panels.len() - 1) * gap;
    let mut out = Planes::zeros(3, ph, w);
    out.data.iter_mut().for_each(|v| *v = 1.0);
    for (k, p) in panels.iter().enumerate() {
        let p = p.to_rgb();
        for c in 0..3 {
            let src = p.plane(c);
            let dst = out.plane_mut(c);
            for y in 0..ph {
                for x in 0..pw {
                    dst[y * w + k * (pw + gap) + x] = src[(y / zoom) * p.width + x / zoom];
                }
            }
        }
    }
    out.bit_depth = 8;
    out
}
