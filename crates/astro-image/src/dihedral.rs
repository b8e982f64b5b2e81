//! The eight symmetries of the square (flips and transposition): training augmentation and
//! test-time averaging use the same indexing everywhere.

use crate::planes::Planes;

/// Apply symmetry `t` (0–7; bit 0 flips x, bit 1 flips y, both in the source's axes, bit 2
/// transposes) to a row-major `w × h` plane; `out` becomes `h × w` when transposed.
/// Returns the output's (width, height).
pub fn dihedral_into(src: &[f32], w: usize, h: usize, t: usize, out: &mut Vec<f32>) -> (usize, usize) {
    let transpose = t & 4 != 0;
    let (ow, oh) = if transpose { (h, w) } else { (w, h) };
    out.clear();
    out.resize(ow * oh, 0.0);
    for y in 0..oh {
        for x in 0..ow {
            let (mut sx, mut sy) = if transpose { (y, x) } else { (x, y) };
            if t & 1 != 0 {
                sx = w - 1 - sx;
            }
            if t & 2 != 0 {
                sy = h - 1 - sy;
            }
            out[y * ow + x] = src[sy * w + sx];
        }
    }
    (ow, oh)
}

/// [`dihedral_into`] on every plane of an image (bit depth kept).
pub fn dihedral_planes(p: &Planes, t: usize) -> Planes {
    let (ow, oh) = if t & 4 != 0 { (p.height, p.width) } else { (p.width, p.height) };
    let mut out = Planes::zeros(p.channels, oh, ow);
    out.bit_depth = p.bit_depth;
    let mut buf = Vec::with_capacity(ow * oh);
    for c in 0..p.channels {
        dihedral_into(p.plane(c), p.width, p.height, t, &mut buf);
        out.plane_mut(c).copy_from_slice(&buf);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eight_codes_are_the_eight_distinct_symmetries_and_each_has_an_inverse() {
        let (w, h) = (3, 2);
        let src: Vec<f32> = (0..w * h).map(|i| i as f32).collect();
        let mut seen = Vec::new();
        for t in 0..8 {
            let mut out = Vec::new();
            let (ow, oh) = dihedral_into(&src, w, h, t, &mut out);
            assert_eq!(ow * oh, w * h);
            assert!(!seen.contains(&(ow, out.clone())), "code {t} repeats another");
            seen.push((ow, out.clone()));
            // Some code maps the result back to the source.
            let back = (0..8).any(|u| {
                let mut b = Vec::new();
                dihedral_into(&out, ow, oh, u, &mut b) == (w, h) && b == src
            });
            assert!(back, "code {t} has no inverse");
        }
        let mut out = Vec::new();
        dihedral_into(&src, w, h, 1, &mut out);
        assert_eq!(out, vec![2.0, 1.0, 0.0, 5.0, 4.0, 3.0], "bit 0 flips x");
        dihedral_into(&src, w, h, 4, &mut out);
        assert_eq!(out, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0], "bit 2 transposes");
    }
}
