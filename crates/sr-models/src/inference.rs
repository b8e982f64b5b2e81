//! Inference: whole-image and tiled upscaling with overlap blending, bicubic baseline.
//!
//! Memory bound of [`upscale_tiled_rows`]: the input as its [`TileSource`] keeps it (8-bit
//! decoded samples for big images), one band of output accumulator (`tile·scale` rows × output
//! width × 16 bytes: RGB sums + weight) and the activations of one tile (≈ `(tile + 2·overlap)²
//! · features · 4 bytes` times a few layers, ≈ 60 MB for the lightweight model at tile 256).
//! [`upscale_tiled`] also holds the whole output as `f32` (12 bytes per output pixel).

use astro_image::Planes;
use burn::prelude::*;
use dataset::PlanesTensor;

use crate::error::{Result, SrError};
use crate::model::{Generator, GeneratorConfig};
use crate::star_protection::Finish;

/// MATLAB-style bicubic resize to `w`×`h` (the identity when the size already matches).
pub use astro_image::resize::imresize_to as bicubic_upscale;

/// Copy `p` into a `w`×`h` canvas, replicating its last row/column (padding for size multiples).
fn pad_edge(p: &Planes, w: usize, h: usize) -> Planes {
    if p.width == w && p.height == h {
        return p.clone();
    }
    let mut out = Planes::zeros(p.channels, h, w);
    for c in 0..p.channels {
        let src = p.plane(c);
        let dst = out.plane_mut(c);
        for y in 0..h {
            let sy = y.min(p.height - 1);
            for x in 0..w {
                dst[y * w + x] = src[sy * p.width + x.min(p.width - 1)];
            }
        }
    }
    out
}

/// Run the model on a whole image (grey is processed as RGB and returned grey).
pub fn upscale_planes<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    input: &Planes,
    device: &B::Device,
) -> Result<Planes> {
    if input.width == 0 || input.height == 0 {
        return Err(SrError::BadInput { name: "image".into(), reason: "zero-size image".into() });
    }
    let grey = input.channels == 1;
    let rgb = if input.channels == config.channels() { input.clone() } else { input.to_rgb() };
    let m = config.size_multiple();
    let (pw, ph) = (input.width.div_ceil(m) * m, input.height.div_ceil(m) * m);
    let padded = pad_edge(&rgb, pw, ph);
    let x = padded.to_tensor::<B>(device).unsqueeze::<4>();
    let y = model.forward(x).clamp(0.0, 1.0);
    let s = config.scale();
    let [_, c, _, _] = y.dims();
    let y = y.reshape([c, ph * s, pw * s]);
    let mut out = Planes::from_tensor(y)?;
    if (pw, ph) != (input.width, input.height) {
        out = out.crop(0, 0, input.width * s, input.height * s)?;
    }
    out.bit_depth = input.bit_depth;
    Ok(if grey { out.to_luma() } else { out })
}

/// Tiling settings, and the finish applied to every tile's output (prettify's strength and
/// saturated-star protection; none by default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiling {
    /// Side of the input tiles in pixels (including overlap).
    pub tile: usize,
    /// Overlap between neighbouring tiles in input pixels (blended linearly).
    pub overlap: usize,
    /// Blend with bicubic and star protection, per tile.
    pub finish: Finish,
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling { tile: 256, overlap: 32, finish: Finish::default() }
    }
}

impl Tiling {
    /// Tiles of `tile` px overlapping by `overlap`, no finish.
    pub fn new(tile: usize, overlap: usize) -> Self {
        Tiling { tile, overlap, finish: Finish::default() }
    }
}

/// Blending weight of position `i` in a tile `[start, start+len)` of an axis of length `n`.
///
/// On a side that touches another tile the first `overlap/4` pixels get weight 0 (they see the
/// tile edge: zero padding) and the next `overlap/2` ramp linearly to 1; the neighbour's ramp is
/// the mirror image, so the weights of two overlapping tiles sum to 1.
fn ramp(i: usize, len: usize, start: usize, n: usize, overlap: usize) -> f32 {
    if overlap < 4 {
        return 1.0;
    }
    let m = (overlap / 4) as f32;
    let width = overlap as f32 - 2.0 * m;
    let mut w = 1.0f32;
    if start > 0 {
        w = w.min((i as f32 + 0.5 - m) / width);
    }
    if start + len < n {
        w = w.min((len as f32 - i as f32 - 0.5 - m) / width);
    }
    w.clamp(0.0, 1.0)
}

/// Tile starts along an axis of length `n` for tiles of `tile` with at least `overlap`, aligned to `align`.
fn tile_starts(n: usize, tile: usize, overlap: usize, align: usize) -> Vec<usize> {
    if n <= tile {
        return vec![0];
    }
    let stride = ((tile - overlap) / align * align).max(align);
    let mut starts = Vec::new();
    let mut s = 0;
    while s + tile < n {
        starts.push(s);
        s += stride;
    }
    // The last tile ends at the image edge (start rounded up to the alignment; it may be shorter).
    let last = (n - tile).div_ceil(align) * align;
    if starts.last().is_none_or(|&p| p < last) {
        starts.push(last);
    }
    starts
}

/// The tile side along an axis of length `n`: as many tiles as `tile` needs, each only as long as
/// that count requires. A 1,000 px axis in 512 px tiles overlapping by 64 takes three tiles of
/// 376 px instead of three of 512 (1,128 px through the network instead of 1,536: prettify's
/// default, issue #26); `tile` stays the upper bound, so memory is bounded as before.
fn balanced_tile(n: usize, tile: usize, overlap: usize, align: usize) -> usize {
    if n <= tile {
        return n;
    }
    let count = tile_starts(n, tile, overlap, align).len();
    let mut len = ((n - overlap).div_ceil(count) + overlap).next_multiple_of(align).max(2 * overlap + align).min(tile);
    while len < tile && tile_starts(n, len, overlap, align).len() > count {
        len += align;
    }
    len.min(tile)
}

/// Where the tiles of [`upscale_tiled_rows`] come from: an image's size and a crop.
///
/// Large inputs implement it over their compact decoded form (8-bit samples), so only one
/// tile at a time exists as `f32` planes.
pub trait TileSource {
    /// Width in pixels.
    fn width(&self) -> usize;
    /// Height in pixels.
    fn height(&self) -> usize;
    /// Planes of the output (1 grey, 3 RGB).
    fn channels(&self) -> usize;
    /// Bits per sample of the source.
    fn bit_depth(&self) -> u8;
    /// The `w`×`h` region at (`x`, `y`) as planes.
    fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Planes>;
}

impl TileSource for Planes {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn bit_depth(&self) -> u8 {
        self.bit_depth
    }
    fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Result<Planes> {
        Ok(Planes::crop(self, x, y, w, h)?)
    }
}

/// Upscale an image of any size in tiles with linear overlap blending; `progress(done, total)`
/// is called after each tile.
pub fn upscale_tiled<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    input: &Planes,
    tiling: Tiling,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Planes> {
    let s = config.scale();
    let (ow, oh) = (input.width * s, input.height * s);
    let mut out = Planes::zeros(input.channels, oh, ow);
    let mut row = 0;
    upscale_tiled_rows(model, config, input, tiling, device, progress, &mut |band: &Planes| {
        for c in 0..band.channels {
            out.plane_mut(c)[row * ow..(row + band.height) * ow].copy_from_slice(band.plane(c));
        }
        row += band.height;
        Ok(())
    })?;
    out.bit_depth = input.bit_depth;
    Ok(out)
}

/// Most output rows handed to the sink of [`upscale_tiled_rows`] at once.
pub const BAND_ROWS: usize = 64;

/// Upscale in tiles and hand the finished output to `sink` as full-width horizontal bands, top
/// to bottom, as soon as no later tile touches them.
///
/// Memory: one band of output (`min(tile, height)·scale` rows × output width × (channels + 1) × 4 bytes),
/// one slice of at most [`BAND_ROWS`] rows for the sink and one tile's activations, whatever the
/// image height; the input stays in `source`.
pub fn upscale_tiled_rows<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    source: &dyn TileSource,
    tiling: Tiling,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
    sink: &mut dyn FnMut(&Planes) -> Result<()>,
) -> Result<()> {
    if tiling.tile == 0 || tiling.overlap * 2 >= tiling.tile {
        return Err(SrError::Config(format!(
            "tile {} must be positive and more than twice the overlap {}",
            tiling.tile, tiling.overlap
        )));
    }
    let (w, h) = (source.width(), source.height());
    if w == 0 || h == 0 {
        return Err(SrError::BadInput { name: "image".into(), reason: "zero-size image".into() });
    }
    if w <= tiling.tile && h <= tiling.tile {
        let input = source.crop(0, 0, w, h)?;
        let mut out = tiling.finish.apply(&input, upscale_planes(model, config, &input, device)?);
        out.bit_depth = source.bit_depth();
        progress(1, 1);
        return sink(&out);
    }
    let s = config.scale();
    let align = config.size_multiple();
    let tile_w = balanced_tile(w, tiling.tile, tiling.overlap, align);
    let tile_h = balanced_tile(h, tiling.tile, tiling.overlap, align);
    let xs = tile_starts(w, tile_w, tiling.overlap, align);
    let ys = tile_starts(h, tile_h, tiling.overlap, align);
    let (ow, oh) = (w * s, h * s);
    let out_c = source.channels();
    // Output rows [base, base + band_h) live in `acc` (channel-major) and `weight`. A tile row
    // spans at most min(tile, h) input rows: sized by the tile alone, a 100000×1 image asked for
    // 4.9 GB of band (issue #29 item 9); sized by both, 25 MB.
    let band_h = tiling.tile.min(h) * s;
    let mut acc = vec![0f32; out_c * band_h * ow];
    let mut weight = vec![0f32; band_h * ow];
    let total = xs.len() * ys.len();
    let mut done = 0;
    for (i, &ty) in ys.iter().enumerate() {
        let base = ty * s;
        for &tx in &xs {
            let (tw, th) = (tile_w.min(w - tx), tile_h.min(h - ty));
            let tile = source.crop(tx, ty, tw, th)?;
            let up = tiling.finish.apply(&tile, upscale_planes(model, config, &tile, device)?);
            if up.channels != out_c {
                return Err(SrError::BadInput {
                    name: "image".into(),
                    reason: format!("tile has {} planes, expected {out_c}", up.channels),
                });
            }
            for yy in 0..th * s {
                let wy = ramp(yy / s, th, ty, h, tiling.overlap);
                let row = yy * ow + tx * s;
                for xx in 0..tw * s {
                    let wgt = wy * ramp(xx / s, tw, tx, w, tiling.overlap);
                    weight[row + xx] += wgt;
                    for c in 0..out_c {
                        acc[c * band_h * ow + row + xx] += wgt * up.plane(c)[yy * tw * s + xx];
                    }
                }
            }
            done += 1;
            progress(done, total);
        }
        // Rows above the next tile row are final.
        let next = ys.get(i + 1).map_or(oh, |n| n * s);
        let k = next - base;
        // Hand them over in slices of at most BAND_ROWS rows (bounded conversion buffers).
        for r0 in (0..k).step_by(BAND_ROWS) {
            let rows = BAND_ROWS.min(k - r0);
            let mut band = Planes::zeros(out_c, rows, ow);
            for c in 0..out_c {
                let src = &acc[c * band_h * ow + r0 * ow..c * band_h * ow + (r0 + rows) * ow];
                let wgt = &weight[r0 * ow..(r0 + rows) * ow];
                for ((o, v), wgt) in band.plane_mut(c).iter_mut().zip(src).zip(wgt) {
                    *o = v / wgt.max(1e-6);
                }
            }
            band.bit_depth = source.bit_depth();
            sink(&band)?;
        }
        // Keep the rows the next tile row still adds to, at the top of the band.
        for c in 0..out_c {
            let plane = &mut acc[c * band_h * ow..(c + 1) * band_h * ow];
            plane.copy_within(k * ow.., 0);
            plane[(band_h - k) * ow..].fill(0.0);
        }
        weight.copy_within(k * ow.., 0);
        weight[(band_h - k) * ow..].fill(0.0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LightSrConfig;
    use burn::backend::Flex;

    fn scene(w: usize, h: usize) -> Planes {
        let mut p = Planes::zeros(3, h, w);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    let v = 0.5 + 0.4 * ((x as f32 * 0.21 + c as f32).sin() * (y as f32 * 0.13).cos());
                    p.plane_mut(c)[y * w + x] = v;
                }
            }
        }
        p
    }

    #[test]
    fn tile_starts_cover_the_axis() {
        for (n, tile, ov, al) in [(100, 32, 8, 1), (101, 32, 8, 2), (33, 32, 4, 2), (500, 64, 16, 2)] {
            let st = tile_starts(n, tile, ov, al);
            assert_eq!(st[0], 0);
            assert!(st.iter().all(|s| s % al == 0));
            assert!(st.last().unwrap() + tile >= n, "{n} {st:?}");
            for pair in st.windows(2) {
                assert!(pair[1] > pair[0] && pair[1] + ov <= pair[0] + tile, "{st:?}");
            }
            // Weights of every position sum to a positive number.
            for x in 0..n {
                let total: f32 = st
                    .iter()
                    .filter(|&&s| x >= s && x < (s + tile).min(n))
                    .map(|&s| ramp(x - s, tile.min(n - s), s, n, ov))
                    .sum();
                assert!(total > 0.0, "position {x} of {n} has no weight ({st:?})");
            }
        }
    }

    #[test]
    fn balanced_tiles_keep_the_tile_count_and_cut_the_pixels_through_the_network() {
        assert_eq!(balanced_tile(1000, 512, 64, 1), 376);
        assert_eq!(tile_starts(1000, 376, 64, 1), vec![0, 312, 624]);
        for (n, tile, ov, al) in
            [(1000, 256, 32, 1), (1001, 256, 32, 2), (513, 512, 64, 1), (4000, 512, 64, 2), (300, 64, 16, 4)]
        {
            let len = balanced_tile(n, tile, ov, al);
            let (old, new) = (tile_starts(n, tile, ov, al), tile_starts(n, len, ov, al));
            assert!(len <= tile && len.is_multiple_of(al) && len > 2 * ov, "{n} {tile} {ov} {al}: {len}");
            assert_eq!(new.len(), old.len(), "{n} {tile}: tile count changed");
            assert!(new.last().unwrap() + len >= n);
            assert!(len * new.len() <= tile * old.len());
        }
        assert_eq!(balanced_tile(200, 256, 32, 1), 200, "an axis that fits one tile is one tile");
    }

    #[test]
    fn tiled_output_matches_the_whole_image_pass() {
        let d = Default::default();
        for scale in [1, 2] {
            let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(scale).with_features(8).with_blocks(1));
            let g = cfg.init::<Flex>(&d).unwrap();
            let img = scene(200, 150);
            let whole = upscale_planes(&g, &cfg, &img, &d).unwrap();
            let mut calls = 0;
            let tiled = upscale_tiled(&g, &cfg, &img, Tiling::new(96, 46), &d, &mut |_, _| calls += 1).unwrap();
            assert!(calls >= 6, "{calls} tiles");
            assert_eq!((tiled.width, tiled.height), (200 * scale, 150 * scale));
            let max = whole.data.iter().zip(&tiled.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            // The receptive field (5 convs, ≤ 10 px) fits in the zero-weight margin (overlap/4 = 11 px): no seams.
            assert!(max < 1e-3, "×{scale}: tiled differs by {max}");
        }
    }

    #[test]
    fn odd_sizes_and_grey_images_work() {
        let d = Default::default();
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(1).with_features(8).with_blocks(1));
        let g = cfg.init::<Flex>(&d).unwrap();
        let grey = scene(15, 9).to_luma();
        let out = upscale_planes(&g, &cfg, &grey, &d).unwrap();
        assert_eq!((out.channels, out.width, out.height), (1, 15, 9));
        assert!(upscale_planes(&g, &cfg, &Planes::zeros(3, 0, 0), &d).is_err());
    }
}
