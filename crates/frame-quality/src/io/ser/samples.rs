//! Row-pair kernels over stored 16-bit SER samples: 2×2 binning and the exact sum of squared
//! checkerboard (or Bayer green) differences behind the noise estimate.
//!
//! Each 2×2 block's two samples in a row are one 4-byte group, read as one `u32` in the file's
//! byte order and split into its two 16-bit halves, with the byte order fixed at compile time
//! (a const parameter): the loops have no per-sample branch and vectorise. The noise sums are
//! integer (`u64`), so they are exact and do not depend on the summation order.

/// What [`sq_diff_sum_u16`] squares in each 2×2 block (top-left a0, top-right a1, bottom-left b0,
/// bottom-right b1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockDiff {
    /// The checkerboard difference a0 − a1 − b0 + b1 (mono data).
    Checker,
    /// The anti-diagonal greens a1 − b0 (RGGB, BGGR mosaics).
    AntiGreens,
    /// The diagonal greens a0 − b1 (GRBG, GBRG mosaics).
    DiagGreens,
}

/// The two 16-bit samples of a 4-byte group, left then right.
#[inline(always)]
fn pair<const LE: bool>(c: &[u8]) -> (u32, u32) {
    if LE {
        let w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        (w & 0xFFFF, w >> 16)
    } else {
        let w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        (w >> 16, w & 0xFFFF)
    }
}

/// 2×2 block means of a row pair of 16-bit samples (`r0` the top row, `r1` the bottom one, as
/// stored): `out[i] = (a0 + a1 + b0 + b1) × k`, the integer sum converted once.
pub(super) fn bin2_row_u16(r0: &[u8], r1: &[u8], little_endian: bool, k: f32, out: &mut [f32]) {
    if little_endian { bin2_row::<true>(r0, r1, k, out) } else { bin2_row::<false>(r0, r1, k, out) }
}

#[inline(always)]
fn bin2_row<const LE: bool>(r0: &[u8], r1: &[u8], k: f32, out: &mut [f32]) {
    for ((o, a), b) in out.iter_mut().zip(r0.chunks_exact(4)).zip(r1.chunks_exact(4)) {
        let ((a0, a1), (b0, b1)) = (pair::<LE>(a), pair::<LE>(b));
        // At most 4 × 65535: exact as i32 and as f32 (the same value as `u32 as f32`).
        *o = (a0 + a1 + b0 + b1) as i32 as f32 * k;
    }
}

/// Σ d² over the 2×2 blocks of a row pair of 16-bit samples, d as chosen by `diff`, in raw
/// sample units and exact (|d| ≤ 2 × 65535, so a frame's sum fits a `u64` many times over).
pub(super) fn sq_diff_sum_u16(r0: &[u8], r1: &[u8], little_endian: bool, diff: BlockDiff) -> u64 {
    match (little_endian, diff) {
        (true, BlockDiff::Checker) => sq_sum::<true, 0>(r0, r1),
        (true, BlockDiff::AntiGreens) => sq_sum::<true, 1>(r0, r1),
        (true, BlockDiff::DiagGreens) => sq_sum::<true, 2>(r0, r1),
        (false, BlockDiff::Checker) => sq_sum::<false, 0>(r0, r1),
        (false, BlockDiff::AntiGreens) => sq_sum::<false, 1>(r0, r1),
        (false, BlockDiff::DiagGreens) => sq_sum::<false, 2>(r0, r1),
    }
}

#[inline(always)]
fn sq_sum<const LE: bool, const DIFF: u8>(r0: &[u8], r1: &[u8]) -> u64 {
    r0.chunks_exact(4)
        .zip(r1.chunks_exact(4))
        .map(|(a, b)| {
            let ((a0, a1), (b0, b1)) = (pair::<LE>(a), pair::<LE>(b));
            let (p, n) = match DIFF {
                0 => (a0 + b1, a1 + b0),
                1 => (a1, b0),
                _ => (a0, b1),
            };
            let d = p.abs_diff(n) as u64;
            d * d
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rand::{Rng, SeedableRng};

    use super::super::{BayerPattern, ColorId, SerHeader, SerReader, SerWriter};
    use crate::io::DecodeScratch;

    /// A 16-bit SER of the given layout and byte order holding `samples` (one frame).
    fn write16(path: &Path, w: usize, h: usize, color: ColorId, le: bool, samples: &[u16]) -> SerReader {
        let mut header = SerHeader::new(w, h, color, 16);
        header.little_endian = le;
        let mut wr = SerWriter::create(path, header).unwrap();
        let bytes: Vec<u8> = samples.iter().flat_map(|v| if le { v.to_le_bytes() } else { v.to_be_bytes() }).collect();
        wr.write_raw(&bytes).unwrap();
        wr.finish().unwrap();
        SerReader::open(path).unwrap()
    }

    /// The noise of the blocks `[x0, x0 + bw) × [y0, y0 + bh)` as the per-sample path computed it
    /// before the integer kernels: f32 per block, f32 per row, f64 over rows.
    fn old_noise(s: &[u16], w: usize, scale: f32, greens: Option<bool>, b: (usize, usize, usize, usize)) -> f32 {
        let (x0, y0, bw, bh) = b;
        let mut sum = 0f64;
        for by in y0..y0 + bh {
            let row: f32 = (x0..x0 + bw)
                .map(|bx| {
                    let at = |x: usize, y: usize| s[y * w + x] as f32;
                    let (a0, a1) = (at(2 * bx, 2 * by), at(2 * bx + 1, 2 * by));
                    let (b0, b1) = (at(2 * bx, 2 * by + 1), at(2 * bx + 1, 2 * by + 1));
                    match greens {
                        None => ((a0 - a1 - b0 + b1) * 0.5).powi(2),
                        Some(anti) => (if anti { a1 - b0 } else { a0 - b1 }).powi(2) * 0.5,
                    }
                })
                .sum();
            sum += row as f64;
        }
        let s = scale as f64;
        (sum * s * s / (bw * bh) as f64) as f32
    }

    #[test]
    fn sixteen_bit_bin_and_noise_match_the_per_sample_path_in_both_byte_orders() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(27);
        // Odd sides (the last column and row are dropped by the binning), full-range samples.
        let (w, h) = (39, 23);
        let samples: Vec<u16> = (0..w * h)
            .map(|i| match i % 11 {
                0 => u16::MAX,
                1 => 0,
                _ => rng.random(),
            })
            .collect();
        let layouts = [
            (ColorId::Mono, None),
            (ColorId::Bayer(BayerPattern::Rggb), Some(true)),
            (ColorId::Bayer(BayerPattern::Gbrg), Some(false)),
        ];
        for (color, greens) in layouts {
            let mut outs = Vec::new();
            for le in [true, false] {
                let r = write16(&dir.path().join(format!("{color:?}{le}.ser")), w, h, color, le, &samples);
                assert_eq!(r.effective_bit_depth(), 16);
                let scale = 1.0 / 65535f32;
                let (mut out, mut sc) = (Vec::new(), DecodeScratch::default());
                let (bw, bh) = r.read_mono_binned2_into(0, &mut out, &mut sc).unwrap();
                assert_eq!((bw, bh), (w / 2, h / 2));
                // The block means: bit for bit the old per-sample sum (u32, converted once).
                for by in 0..bh {
                    for bx in 0..bw {
                        let at = |x: usize, y: usize| samples[y * w + x] as u32;
                        let q = at(2 * bx, 2 * by) + at(2 * bx + 1, 2 * by);
                        let q = q + at(2 * bx, 2 * by + 1) + at(2 * bx + 1, 2 * by + 1);
                        let want = q as f32 * (scale * 0.25);
                        assert_eq!(out[by * bw + bx].to_bits(), want.to_bits(), "{color:?} le {le} block {bx},{by}");
                    }
                }
                // The noise: the exact sum, within f32 rounding of the old f32 sums.
                for b in [(0, 0, bw, bh), (3, 2, 9, 7), (bw - 1, bh - 1, 1, 1)] {
                    let got = r.block_noise_var(0, b.0, b.1, b.2, b.3).unwrap();
                    let old = old_noise(&samples, w, scale, greens, b);
                    assert!(old > 0.0 && (got / old - 1.0).abs() < 1e-5, "{color:?} le {le} {b:?}: {got} vs {old}");
                    outs.push(got.to_bits());
                }
                outs.extend(out.iter().map(|v| v.to_bits()));
            }
            // Little- and big-endian files of the same samples read the same, bit for bit.
            let half = outs.len() / 2;
            assert_eq!(outs[..half], outs[half..], "{color:?}");
        }
    }
}
