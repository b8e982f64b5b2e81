//! Bilinear demosaicing of raw Bayer frames.

use super::header::BayerPattern;

/// Bilinear demosaic of a Bayer mosaic in [0, 1] to RGB planes (`3 × h × w`, channel-major).
///
/// Each output channel takes the pixel itself where the sensor saw that colour, otherwise the mean
/// of the 3×3 neighbours that did (edges clamp), which is the classic bilinear interpolation.
pub fn debayer_bilinear(raw: &[f32], width: usize, height: usize, pattern: BayerPattern) -> Vec<f32> {
    let n = width * height;
    let mut out = vec![0f32; 3 * n];
    for y in 0..height {
        for x in 0..width {
            let own = pattern.channel_at(x, y);
            let mut sum = [0f32; 3];
            let mut cnt = [0u32; 3];
            for dy in -1i64..=1 {
                let yy = y as i64 + dy;
                if yy < 0 || yy >= height as i64 {
                    continue;
                }
                for dx in -1i64..=1 {
                    let xx = x as i64 + dx;
                    if xx < 0 || xx >= width as i64 {
                        continue;
                    }
                    let c = pattern.channel_at(xx as usize, yy as usize);
                    sum[c] += raw[yy as usize * width + xx as usize];
                    cnt[c] += 1;
                }
            }
            let i = y * width + x;
            for c in 0..3 {
                out[c * n + i] = if c == own {
                    raw[i]
                } else if cnt[c] > 0 {
                    sum[c] / cnt[c] as f32
                } else {
                    0.0
                };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debayer_recovers_flat_colours() {
        // A flat colour (R=0.8, G=0.5, B=0.2) seen through each Bayer pattern demosaics back to itself.
        for pattern in [BayerPattern::Rggb, BayerPattern::Grbg, BayerPattern::Gbrg, BayerPattern::Bggr] {
            let (w, h) = (6, 4);
            let col = [0.8f32, 0.5, 0.2];
            let raw: Vec<f32> = (0..w * h).map(|i| col[pattern.channel_at(i % w, i / w)]).collect();
            let rgb = debayer_bilinear(&raw, w, h, pattern);
            for c in 0..3 {
                assert!(rgb[c * w * h..(c + 1) * w * h].iter().all(|&v| (v - col[c]).abs() < 1e-6));
            }
        }
    }
}
