//! The default quality metric: noise-aware band-pass energy of the planet disc.
//!
//! Per frame ([`measure`]): bin 2×2 and, from the same 2×2 blocks, estimate the pixel noise
//! variance with the checkerboard difference `(a − b − c + d)/2` — at the frame's highest spatial
//! frequency, where a telescope delivers (almost) no signal, so its mean square is the noise
//! variance (photon + read + quantisation) whatever the scene. Find the disc, then on its box at
//! three scales (bin 2, 4, 8) take the mean squared Laplacian of the [1 2 1]²-smoothed image, and
//! subtract the energy that noise alone would give there (σ²/4^(l+1) × ‖kernel‖²). Divided by the
//! disc's brightness squared, this is blind to transparency and to the noise level of each frame.
//!
//! Colour (Bayer) SER files are binned into superpixels straight from the mosaic and their noise is
//! taken from each block's two greens (demosaicing first would correlate the noise); SER sources
//! read the noise over the disc box only ([`measure_binned_with`]), not a whole-frame map.
//!
//! Per video ([`BandpassScorer::fit`]): choose the bands from the frames' own signal-to-noise —
//! the finest band alone when its median noise-corrected energy is at least [`MIN_BAND_SNR`] times
//! the noise energy there (fine scales see seeing best), else the two finest bands together
//! (coarser bands survive faint, noisy frames). Frames whose disc touches the border score below every whole frame, unless most frames
//! do (the target fills the frame, like the Moon at high power).

use crate::pixels::ImageView;
use crate::pixels::{
    Scratch, bin_into, bin2_with_noise, lane_sum, laplacian_energy, laplacian_row_energy, separable_into,
    weighted_laplacian_row_energy,
};
use crate::ranking::disc::detect_disc;

/// Number of scales (bin 2, 4, 8).
pub const LEVELS: usize = 3;

/// Scales the per-video rule ([`BandpassScorer::fit`]) can use: bin 2 and bin 4.
pub const RULE_LEVELS: usize = 2;

/// Σk² of the [1 2 1]²/16 smoothing followed by the 4-neighbour Laplacian (white-noise gain).
pub const KERNEL_NORM2: f32 = 0.40625;

/// Σk² of the bare 4-neighbour Laplacian (white-noise gain of the relative band).
pub const LAPLACIAN_NORM2: f32 = 20.0;

/// Tiles per side of the disc box measured for surface footage ([`BandMeasure::tile_signal`]).
pub const TILES: usize = 4;

/// Number of tiles (TILES²).
pub const TILE_COUNT: usize = TILES * TILES;

/// Median band SNR (noise-corrected energy over noise energy) a scale needs to be chosen.
pub const MIN_BAND_SNR: f32 = 1.0;

/// What [`measure`] finds in one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BandMeasure {
    /// Whether a disc (or bright field) was found; other fields are 0 otherwise.
    pub found: bool,
    /// Disc mean minus background, frame scale.
    pub level: f32,
    /// Noise variance of one full-resolution pixel over the disc box.
    pub noise_var: f32,
    /// Mean squared smoothed Laplacian at bin 2, 4, 8.
    pub energy: [f32; LEVELS],
    /// Whether the disc touches the frame border.
    pub touches_border: bool,
    /// Mean of (L/I)² at bin 2 over the disc's bright pixels (I the binned image, L its bare
    /// 4-neighbour Laplacian): contrast relative to the local brightness, as Helmli–Scherer
    /// measures it, at the finest scale.
    pub relative_energy: f32,
    /// Mean of 1/I² over the same pixels (what the noise adds to [`BandMeasure::relative_energy`]
    /// is σ²/4 × [`LAPLACIAN_NORM2`] × this).
    pub inverse_level2: f32,
    /// Mean squared smoothed Laplacian at bin 2 on each tile of a TILES × TILES grid over the disc
    /// box (row-major).
    pub tile_energy: [f32; TILE_COUNT],
    /// Noise variance of one full-resolution pixel on each tile.
    pub tile_noise: [f32; TILE_COUNT],
    /// Mean brightness of each tile above the background (bin 2).
    pub tile_level: [f32; TILE_COUNT],
}

impl BandMeasure {
    /// Energy noise alone contributes at scale `l`.
    pub fn noise_energy(&self, l: usize) -> f32 {
        self.noise_var / 4f32.powi(l as i32 + 1) * KERNEL_NORM2
    }

    /// Noise-corrected, brightness-normalised band energy at scale `l`.
    pub fn signal(&self, l: usize) -> f32 {
        if !self.found || self.level <= 0.0 {
            return 0.0;
        }
        (self.energy[l] - self.noise_energy(l)) / (self.level * self.level)
    }

    /// Noise-corrected relative band signal at bin 2 (see [`BandMeasure::relative_energy`]).
    pub fn relative_signal(&self) -> f32 {
        if !self.found {
            return 0.0;
        }
        self.relative_energy - self.noise_var / 4.0 * LAPLACIAN_NORM2 * self.inverse_level2
    }

    /// Noise-corrected, brightness-normalised finest-band signal of tile `t` (0 for a dark tile).
    pub fn tile_signal(&self, t: usize) -> f32 {
        let lv = self.tile_level[t];
        if !self.found || lv <= 0.0 {
            return 0.0;
        }
        (self.tile_energy[t] - self.tile_noise[t] / 4.0 * KERNEL_NORM2) / (lv * lv)
    }

    /// Band SNR at scale `l` (noise-corrected energy over noise energy).
    pub fn snr(&self, l: usize) -> f32 {
        let n = self.noise_energy(l).max(1e-20);
        (self.energy[l] - self.noise_energy(l)) / n
    }
}

/// Measure one full-resolution frame in [0, 1] (see the module documentation).
pub fn measure(img: ImageView<'_>, s: &mut Scratch) -> BandMeasure {
    let (mut a, mut nz) = (std::mem::take(&mut s.a), std::mem::take(&mut s.d));
    let (bw, bh) = bin2_with_noise(img, &mut a, &mut nz);
    let m = measure_binned(&a, &nz, bw, bh, s);
    s.a = a;
    s.d = nz;
    m
}

/// [`measure`] on a 2×2-binned frame and its noise map (the 2×2 means and the squared checkerboard differences).
pub fn measure_binned(binned: &[f32], noise: &[f32], bw: usize, bh: usize, s: &mut Scratch) -> BandMeasure {
    measure_binned_levels(binned, noise, bw, bh, LEVELS, s)
}

/// [`measure_binned`] computing only the finest `levels` band energies (the others stay 0), for
/// videos whose fitted rule needs no more.
pub fn measure_binned_levels(
    binned: &[f32],
    noise: &[f32],
    bw: usize,
    bh: usize,
    levels: usize,
    s: &mut Scratch,
) -> BandMeasure {
    if noise.len() != bw * bh {
        return BandMeasure::default();
    }
    measure_binned_with(binned, bw, bh, levels, s, |x0, y0, rw, rh| {
        let mut nsum = 0.0f64;
        for y in y0..y0 + rh {
            nsum += noise[y * bw + x0..y * bw + x0 + rw].iter().map(|&v| v as f64).sum::<f64>();
        }
        (nsum / (rw * rh) as f64) as f32
    })
}

/// [`measure_binned_levels`] with the noise variance supplied for the disc box only:
/// `box_noise_var(x0, y0, w, h)` (binned coordinates) returns the mean noise of those blocks, so a
/// source that can read it straight from its samples never computes a whole-frame noise map.
pub fn measure_binned_with(
    binned: &[f32],
    bw: usize,
    bh: usize,
    levels: usize,
    s: &mut Scratch,
    mut box_noise_var: impl FnMut(usize, usize, usize, usize) -> f32,
) -> BandMeasure {
    let none = BandMeasure::default();
    if bw < 8 || bh < 8 || binned.len() < bw * bh {
        return none;
    }
    let view = ImageView::new(binned, bw, bh);
    let Some(disc) = detect_disc(view) else { return none };
    let (x0, y0, rw, rh) = disc.region(3, bw, bh);
    let level = disc.mean - disc.background;
    if rw < 4 || rh < 4 || level.is_nan() || level <= 0.0 {
        return none;
    }
    // The noise per tile (the tiles partition the box), and of the box as their area-weighted mean.
    let mut tile_noise = [0f32; TILE_COUNT];
    let mut nsum = 0f64;
    for (t, n) in tile_noise.iter_mut().enumerate() {
        let ((tx0, tx1), (ty0, ty1)) = (tile_span(t % TILES, rw), tile_span(t / TILES, rh));
        if tx1 > tx0 && ty1 > ty0 {
            *n = box_noise_var(x0 + tx0, y0 + ty0, tx1 - tx0, ty1 - ty0);
            nsum += *n as f64 * ((tx1 - tx0) * (ty1 - ty0)) as f64;
        }
    }
    let noise_var = (nsum / (rw * rh) as f64) as f32;
    let (mut tile_energy, mut tile_level) = ([0f32; TILE_COUNT], [0f32; TILE_COUNT]);
    let (mut cur, mut tmp) = (std::mem::take(&mut s.b), std::mem::take(&mut s.c));
    let (mut smooth, mut next) = (std::mem::take(&mut s.e), std::mem::take(&mut s.f));
    // The finest level is the box itself: the binned frame when the box is all of it (surface
    // footage, no copy), else a copy of the box.
    let mut crop = std::mem::take(&mut s.g);
    let box_img: &[f32] = if (rw, rh) == (bw, bh) {
        &binned[..bw * bh]
    } else {
        view.crop(x0, y0, rw, rh).copy_into(&mut crop);
        &crop
    };
    let (mut w, mut h) = (rw, rh);
    let mut energy = [0f32; LEVELS];
    let (mut relative_energy, mut inverse_level2) = (0f32, 0f32);
    let levels = levels.clamp(1, LEVELS);
    for (l, e) in energy.iter_mut().enumerate().take(levels) {
        if w < 3 || h < 3 {
            break;
        }
        let img: &[f32] = if l == 0 { box_img } else { &cur };
        smooth121_into(img, w, h, &mut tmp, &mut smooth);
        if l == 0 {
            *e = tiled_laplacian_energy(&smooth, img, w, h, &mut tile_energy, &mut tile_level);
            tile_level.iter_mut().for_each(|v| *v -= disc.background);
            (relative_energy, inverse_level2) =
                relative_laplacian_energy(img, w, h, disc.background + RELATIVE_FLOOR * level);
        } else {
            *e = laplacian_energy(ImageView::new(&smooth, w, h));
        }
        if l + 1 < levels {
            let (nw, nh) = bin_into(ImageView::new(img, w, h), 2, &mut next);
            std::mem::swap(&mut cur, &mut next);
            (w, h) = (nw, nh);
        }
    }
    s.b = cur;
    s.c = tmp;
    s.e = smooth;
    s.f = next;
    s.g = crop;
    BandMeasure {
        found: true,
        level,
        noise_var,
        energy,
        touches_border: disc.touches_border,
        relative_energy,
        inverse_level2,
        tile_energy,
        tile_noise,
        tile_level,
    }
}

/// The [1 2 1]/4 smoothing along x then y (edges reflect) of a packed `w × h` image into `out`
/// via `tmp`: bit for bit `separable_into(src, w, h, &[0.25, 0.5, 0.25], tmp, out)` (the same
/// products added in the same order, from 0), written for this kernel so both passes vectorise.
/// The x pass keeps only three rows (a ring in `tmp`, slot = row mod 3), made just before the y
/// pass needs them, so they stay in the L1 cache instead of a whole second image.
pub fn smooth121_into(src: &[f32], w: usize, h: usize, tmp: &mut Vec<f32>, out: &mut Vec<f32>) {
    const K: [f32; 3] = [0.25, 0.5, 0.25];
    if w < 3 || h < 3 {
        return separable_into(src, w, h, &K, tmp, out);
    }
    let tap = |a: f32, b: f32, c: f32| 0.0 + K[0] * a + K[1] * b + K[2] * c;
    let smooth_x = |y: usize, ring: &mut [f32]| {
        let (row, o) = (&src[y * w..(y + 1) * w], &mut ring[(y % 3) * w..(y % 3 + 1) * w]);
        o[0] = tap(row[1], row[0], row[1]);
        for (((o, &a), &b), &c) in o[1..w - 1].iter_mut().zip(&row[..w - 2]).zip(&row[1..w - 1]).zip(&row[2..]) {
            *o = tap(a, b, c);
        }
        o[w - 1] = tap(row[w - 2], row[w - 1], row[w - 2]);
    };
    // Every element is written below, so buffers of the right size are not zeroed first.
    tmp.resize(3 * w, 0.0);
    out.resize(w * h, 0.0);
    smooth_x(0, tmp);
    for (y, o) in out.chunks_exact_mut(w).enumerate() {
        if y + 1 < h {
            smooth_x(y + 1, tmp);
        }
        let (ya, yc) = (if y == 0 { 1 } else { y - 1 }, if y == h - 1 { h - 2 } else { y + 1 });
        let slot = |r: usize| &tmp[(r % 3) * w..(r % 3 + 1) * w];
        for (((o, &a), &b), &c) in o.iter_mut().zip(slot(ya)).zip(slot(y)).zip(slot(yc)) {
            *o = tap(a, b, c);
        }
    }
}

/// Start and end of tile `i` (of [`TILES`]) along an axis of `len` pixels.
fn tile_span(i: usize, len: usize) -> (usize, usize) {
    (i * len / TILES, (i + 1) * len / TILES)
}

/// Mean squared 4-neighbour Laplacian of `smooth` (`w × h`) over its interior, as
/// `laplacian_energy`, also per tile (`tiles`, the interior pixels of each of the
/// TILES × TILES tiles), with the mean of `img` per tile (`level`), in one pass.
pub fn tiled_laplacian_energy(
    smooth: &[f32],
    img: &[f32],
    w: usize,
    h: usize,
    tiles: &mut [f32; TILE_COUNT],
    level: &mut [f32; TILE_COUNT],
) -> f32 {
    *tiles = [0.0; TILE_COUNT];
    *level = [0.0; TILE_COUNT];
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (mut acc, mut tacc, mut lacc, mut cnt) = (0f64, [0f64; TILE_COUNT], [0f64; TILE_COUNT], [0usize; TILE_COUNT]);
    let xs: Vec<(usize, usize)> = (0..TILES).map(|i| tile_span(i, w)).collect();
    for ty in 0..TILES {
        let (y0, y1) = tile_span(ty, h);
        for y in y0.max(1)..y1.min(h - 1) {
            let (rm, r, rp) =
                (&smooth[(y - 1) * w..y * w], &smooth[y * w..(y + 1) * w], &smooth[(y + 1) * w..(y + 2) * w]);
            let row = &img[y * w..(y + 1) * w];
            for (tx, &(x0, x1)) in xs.iter().enumerate() {
                let (a, b) = (x0.max(1), x1.min(w - 1));
                if b <= a {
                    continue;
                }
                let e = laplacian_row_energy(rm, r, rp, a, b);
                let t = ty * TILES + tx;
                tacc[t] += e as f64;
                lacc[t] += lane_sum(&row[a..b]) as f64;
                cnt[t] += b - a;
                acc += e as f64;
            }
        }
    }
    for t in 0..TILE_COUNT {
        if cnt[t] > 0 {
            tiles[t] = (tacc[t] / cnt[t] as f64) as f32;
            level[t] = (lacc[t] / cnt[t] as f64) as f32;
        }
    }
    (acc / ((w - 2) * (h - 2)) as f64) as f32
}

/// Pixels darker than background + this fraction of the disc level are left out of the relative band.
pub const RELATIVE_FLOOR: f32 = 0.2;

/// Mean of (L/I)² and of 1/I² over the pixels of the binned image `img` brighter than `floor`,
/// L being its (unsmoothed) 4-neighbour Laplacian.
pub fn relative_laplacian_energy(img: &[f32], w: usize, h: usize, floor: f32) -> (f32, f32) {
    if w < 3 || h < 3 || floor <= 0.0 {
        return (0.0, 0.0);
    }
    let (mut acc, mut inv, mut n) = (0f64, 0f64, 0usize);
    let floor2 = floor * floor;
    // Per row: the weights 1/I² where I > floor, else 0 (NaN pixels included) as mask / max(I²,
    // floor²) in a map loop (every lane divides: a select around the division would become a
    // branch per pixel), then the weighted energy and the weights' sum in partial sums; the loops
    // vectorise.
    let mut weights = vec![0f32; w - 2];
    for y in 1..h - 1 {
        let (rm, r, rp) = (&img[(y - 1) * w..y * w], &img[y * w..(y + 1) * w], &img[(y + 1) * w..(y + 2) * w]);
        for (wt, &m) in weights.iter_mut().zip(&r[1..w - 1]) {
            let mask = if m > floor { 1.0f32 } else { 0.0 };
            let q = m * m;
            *wt = mask / if q > floor2 { q } else { floor2 };
        }
        acc += weighted_laplacian_row_energy(rm, r, rp, 1, &weights) as f64;
        inv += lane_sum(&weights) as f64;
        n += r[1..w - 1].iter().filter(|&&m| m > floor).count();
    }
    let n = n as f64;
    if n == 0.0 { (0.0, 0.0) } else { ((acc / n) as f32, (inv / n) as f32) }
}

/// Per-video choice of bands and border handling, fitted on the video's own measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandpassScorer {
    /// Weight of each scale's band signal (0 = bin 2, 1 = bin 4, 2 = bin 8).
    pub weights: [f32; LEVELS],
    /// Whether frames touching the border rank below whole frames (false when most frames touch it).
    pub penalise_border: bool,
    /// Weight of the relative band ([`BandMeasure::relative_signal`]); 0 unless the finest band's
    /// SNR reaches [`RELATIVE_MIN_SNR`].
    pub relative_weight: f32,
}

/// Median SNR of the finest band from which the relative band is added to it.
pub const RELATIVE_MIN_SNR: f32 = 2.0;

/// Median of the finite values of an iterator (0 when empty).
fn median(v: impl Iterator<Item = f32>) -> f32 {
    let mut x: Vec<f32> = v.filter(|v| v.is_finite()).collect();
    if x.is_empty() {
        return 0.0;
    }
    let mid = x.len() / 2;
    *x.select_nth_unstable_by(mid, f32::total_cmp).1
}

impl BandpassScorer {
    /// Whether the video was taken for surface footage (the target fills the frame: most frames'
    /// bright area touches the border).
    pub fn is_surface(&self) -> bool {
        !self.penalise_border
    }

    /// How many of the finest band energies this scorer reads.
    pub fn levels_used(&self) -> usize {
        self.weights.iter().rposition(|&w| w != 0.0).map_or(1, |l| l + 1)
    }

    /// The finest band plus the relative band when the finest band's median SNR reaches
    /// [`RELATIVE_MIN_SNR`]; the finest band alone when it reaches [`MIN_BAND_SNR`]; otherwise the finest two
    /// bands, each divided by its median signal so both count equally (the coarser band carries
    /// the ranking when noise swamps the finer one).
    pub fn fit(measures: &[BandMeasure]) -> BandpassScorer {
        let found: Vec<&BandMeasure> = measures.iter().filter(|m| m.found).collect();
        let touching = found.iter().filter(|m| m.touches_border).count();
        let penalise_border = touching * 2 < found.len().max(1);
        let whole = || found.iter().filter(|m| !(penalise_border && m.touches_border));
        let mut weights = [0f32; LEVELS];
        let mut relative_weight = 0.0;
        let snr0 = median(whole().map(|m| m.snr(0)));
        let (m0, mr) = (median(whole().map(|m| m.signal(0))).abs(), median(whole().map(|m| m.relative_signal())).abs());
        if snr0 >= RELATIVE_MIN_SNR && m0 > 1e-12 && mr > 1e-12 {
            // Bright enough for the finest, unsmoothed scale: the finest band plus the relative
            // band, each divided by its median so both count equally.
            weights[0] = 1.0 / m0;
            relative_weight = 1.0 / mr;
        } else if snr0 >= MIN_BAND_SNR {
            weights[0] = 1.0;
        } else {
            for (l, w) in weights.iter_mut().enumerate().take(RULE_LEVELS) {
                let m = median(whole().map(|m| m.signal(l))).abs();
                *w = if m > 1e-12 { 1.0 / m } else { 0.0 };
            }
            if weights == [0.0; LEVELS] {
                weights[0] = 1.0;
            }
        }
        BandpassScorer { weights, penalise_border, relative_weight }
    }

    /// The score of one frame: the weighted band signal; a disc touching the border lands below
    /// −1 (below every whole frame) when border penalties apply; 0 with no disc.
    pub fn score(&self, m: &BandMeasure) -> f32 {
        if !m.found {
            return 0.0;
        }
        let mut q: f32 = (0..LEVELS).filter(|&l| self.weights[l] != 0.0).map(|l| self.weights[l] * m.signal(l)).sum();
        if self.relative_weight != 0.0 {
            q += self.relative_weight * m.relative_signal();
        }
        let q = if q.is_finite() { q } else { 0.0 };
        if self.penalise_border && m.touches_border { q.min(0.0) - 1.0 - 1.0 / (1.0 + q.max(0.0)) } else { q }
    }

    /// Scores of a whole video from its measurements.
    pub fn scores(measures: &[BandMeasure]) -> Vec<f32> {
        let s = BandpassScorer::fit(measures);
        measures.iter().map(|m| s.score(m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn checkerboard_noise_estimate_matches_white_noise_and_ignores_smooth_signal() {
        let (w, h) = (128, 96);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = Normal::new(0.0f32, 0.02).unwrap();
        let img: Vec<f32> =
            (0..w * h).map(|i| 0.5 + 0.3 * ((i % w) as f32 / 20.0).sin() + n.sample(&mut rng)).collect();
        let (mut a, mut z) = (Vec::new(), Vec::new());
        bin2_with_noise(ImageView::new(&img, w, h), &mut a, &mut z);
        let est = z.iter().sum::<f32>() / z.len() as f32;
        assert!((est / 0.0004 - 1.0).abs() < 0.1, "σ² estimate {est} vs 0.0004");
    }

    #[test]
    fn smooth121_is_bit_for_bit_the_separable_filter() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let n = Normal::new(0.3f32, 0.2).unwrap();
        // The same output buffers go through every size (larger, then smaller, then larger):
        // stale values from an earlier frame must not leak into the next.
        let (mut t1, mut o1) = (Vec::new(), Vec::new());
        for (w, h) in [(3, 3), (4, 7), (65, 33), (5, 3), (2, 9), (1, 1), (3, 4), (66, 34)] {
            let img: Vec<f32> = (0..w * h).map(|_| n.sample(&mut rng)).collect();
            let (mut t0, mut o0) = (Vec::new(), Vec::new());
            separable_into(&img, w, h, &[0.25, 0.5, 0.25], &mut t0, &mut o0);
            smooth121_into(&img, w, h, &mut t1, &mut o1);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&o0), bits(&o1), "{w}x{h}");
        }
    }

    #[test]
    fn relative_energy_in_lanes_equals_the_per_pixel_formula() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let n = Normal::new(0.3f32, 0.2).unwrap();
        for (w, h) in [(4, 3), (11, 5), (64, 40), (97, 31)] {
            // About 40 % of the pixels lie below the floor (left out by the mask).
            let img: Vec<f32> = (0..w * h).map(|_| n.sample(&mut rng)).collect();
            let floor = 0.25;
            // The formula as first written: one pixel at a time, mask / max(I², floor²).
            let (mut acc, mut inv, mut cnt) = (0f64, 0f64, 0f64);
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let v = img[y * w + x];
                    let l =
                        img[y * w + x - 1] + img[y * w + x + 1] + img[(y - 1) * w + x] + img[(y + 1) * w + x] - 4.0 * v;
                    let mask = if v > floor { 1.0f32 } else { 0.0 };
                    let i2 = mask / (v * v).max(floor * floor);
                    acc += (l * l * i2) as f64;
                    inv += i2 as f64;
                    cnt += mask as f64;
                }
            }
            let (e, i) = relative_laplacian_energy(&img, w, h, floor);
            assert!(cnt > 0.0, "{w}x{h}: some pixel lies above the floor");
            let (e0, i0) = ((acc / cnt) as f32, (inv / cnt) as f32);
            assert!(e.is_finite() && (e - e0).abs() <= 1e-5 * e0.abs(), "{w}x{h}: {e} vs {e0}");
            assert!((i - i0).abs() <= 1e-5 * i0.abs(), "{w}x{h}: {i} vs {i0}");
        }
    }

    #[test]
    fn noise_correction_makes_the_score_blind_to_the_noise_level() {
        // The same blurred disc with two noise levels: the corrected signal agrees, the raw energy does not.
        let (w, h) = (160, 160);
        let disc: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - 80.0, (i / w) as f32 - 80.0);
                let r = (x * x + y * y).sqrt();
                if r < 50.0 { 0.6 + 0.05 * (x / 6.0).sin() * (y / 9.0).cos() } else { 0.02 }
            })
            .collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut s = Scratch::default();
        let mut m = |sigma: f32| {
            let n = Normal::new(0.0f32, sigma).unwrap();
            let noisy: Vec<f32> = disc.iter().map(|v| v + n.sample(&mut rng)).collect();
            measure(ImageView::new(&noisy, w, h), &mut s)
        };
        let (quiet, loud) = (m(0.005), m(0.08));
        assert!(loud.energy[0] > 1.1 * quiet.energy[0], "raw energies {:?} {:?}", loud.energy, quiet.energy);
        let (a, b) = (quiet.signal(0), loud.signal(0));
        assert!((a / b - 1.0).abs() < 0.03, "corrected signals {a} vs {b}");
    }

    #[test]
    fn cut_discs_rank_below_whole_discs_unless_most_frames_touch_the_border() {
        let whole = BandMeasure {
            found: true,
            level: 0.5,
            noise_var: 1e-4,
            energy: [1e-4, 1e-4, 1e-4],
            touches_border: false,
            ..BandMeasure::default()
        };
        let cut = BandMeasure { energy: [1e-2; LEVELS], touches_border: true, ..whole };
        let s = BandpassScorer::scores(&[whole, whole, cut]);
        assert!(s[2] < s[0] && s[2] < -1.0, "{s:?}");
        let s = BandpassScorer::scores(&[cut, cut, whole]);
        assert!(s[0] > s[2], "a frame-filling target is not penalised: {s:?}");
        assert_eq!(BandpassScorer::scores(&[BandMeasure::default()]), vec![0.0]);
    }
}
