//! Frame quality metrics: each a documented function over a mono `f32` frame, higher = sharper.
//!
//! All metrics take an [`ImageView`] in [0, 1] and a reusable [`Scratch`], so scoring a video
//! allocates nothing per frame once the buffers have grown to the frame size. Every function
//! returns a finite value (0 for frames with no usable signal), never NaN.

use std::fmt;
use std::str::FromStr;

use rustfft::num_complex::Complex32;

use crate::error::FrameError;
use crate::pixels::ImageView;
use crate::ranking::disc::{Disc, detect_disc};

use crate::pixels::{Scratch, bin_into, box3_into, gaussian_kernel, separable_into, smoothed_laplacian_energy};

/// The quality metrics this crate implements (see each function for the formula).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// The default: noise-aware band-pass energy of the disc, bands chosen per video ([`crate::ranking::bandpass`]).
    Bandpass,
    /// Round 1's default: disc-restricted, brightness-normalised Laplacian energy of the 2×2-binned, lightly smoothed frame ([`disc_laplace`]).
    DiscLaplace,
    /// PIPP's "local contrast" quality ([`local_contrast`]).
    LocalContrast,
    /// PlanetarySystemStacker's "Laplace" ([`pss_laplace`]).
    PssLaplace,
    /// Variance of the full-resolution 3×3 Laplacian ([`laplacian_variance`]).
    LaplacianVariance,
    /// Sobel gradient energy ([`tenengrad`]).
    Tenengrad,
    /// Squared two-pixel differences ([`brenner`]).
    Brenner,
    /// Variance divided by mean ([`normalized_variance`]).
    NormalizedVariance,
    /// High-frequency share of the power spectrum ([`fft_high_frequency_ratio`]).
    FftRatio,
    /// Helmli–Scherer mean ratio to the 3×3 mean ([`helmli_scherer`]).
    HelmliScherer,
    /// Median-filter gradient similarity, higher = sharper ([`mfgs`]).
    Mfgs,
}

impl Metric {
    /// Every metric, default first.
    pub const ALL: [Metric; 11] = [
        Metric::Bandpass,
        Metric::DiscLaplace,
        Metric::LocalContrast,
        Metric::PssLaplace,
        Metric::LaplacianVariance,
        Metric::Tenengrad,
        Metric::Brenner,
        Metric::NormalizedVariance,
        Metric::FftRatio,
        Metric::HelmliScherer,
        Metric::Mfgs,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Bandpass => "bandpass",
            Metric::DiscLaplace => "disc-laplace",
            Metric::LocalContrast => "pipp",
            Metric::PssLaplace => "pss",
            Metric::LaplacianVariance => "laplacian-variance",
            Metric::Tenengrad => "tenengrad",
            Metric::Brenner => "brenner",
            Metric::NormalizedVariance => "normalized-variance",
            Metric::FftRatio => "fft-ratio",
            Metric::HelmliScherer => "helmli-scherer",
            Metric::Mfgs => "mfgs",
        }
    }

    /// Score one frame with this metric over the whole view (no disc handling; see [`crate::Scorer`]).
    ///
    /// `bandpass` alone is fitted per video ([`crate::score_source`] does that); one frame on its
    /// own gets the finest band with the border penalty.
    pub fn score(self, img: ImageView<'_>, s: &mut Scratch) -> f32 {
        let v = match self {
            Metric::Bandpass => {
                let m = crate::ranking::bandpass::measure(img, s);
                let single = crate::ranking::bandpass::BandpassScorer {
                    weights: [1.0, 0.0, 0.0],
                    penalise_border: true,
                    relative_weight: 0.0,
                };
                single.score(&m)
            }
            Metric::DiscLaplace => disc_laplace(img, DiscLaplaceParams::default(), s),
            Metric::LocalContrast => local_contrast(img, s),
            Metric::PssLaplace => pss_laplace(img, s),
            Metric::LaplacianVariance => laplacian_variance(img),
            Metric::Tenengrad => tenengrad(img),
            Metric::Brenner => brenner(img),
            Metric::NormalizedVariance => normalized_variance(img),
            Metric::FftRatio => fft_high_frequency_ratio(img, s),
            Metric::HelmliScherer => helmli_scherer(img, s),
            Metric::Mfgs => mfgs(img, s),
        };
        if v.is_finite() { v } else { 0.0 }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.to_ascii_lowercase();
        let alias = match s.as_str() {
            "default" | "noise-aware-bandpass" => Some(Metric::Bandpass),
            "local-contrast" | "pipp-local-contrast" => Some(Metric::LocalContrast),
            "pss-laplace" | "laplace" => Some(Metric::PssLaplace),
            "vol" | "variance-of-laplacian" => Some(Metric::LaplacianVariance),
            _ => None,
        };
        alias.or_else(|| Metric::ALL.into_iter().find(|m| m.name() == s)).ok_or_else(|| FrameError::UnknownMetric {
            name: s.clone(),
            known: Metric::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
        })
    }
}

fn copy_packed(img: ImageView<'_>, out: &mut Vec<f32>) {
    img.copy_into(out);
}

/// Parameters of the default metric [`disc_laplace`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscLaplaceParams {
    /// Block size of the initial binning (2 = 2×2 mean, which also averages noise down by 2).
    pub bin: usize,
    /// Extra margin around the disc box, in binned pixels.
    pub margin: usize,
    /// Factor applied when the disc touches the frame border.
    pub border_penalty: f32,
}

impl Default for DiscLaplaceParams {
    fn default() -> Self {
        DiscLaplaceParams { bin: 2, margin: 3, border_penalty: 0.1 }
    }
}

/// The default metric: bin 2×2, find the planet disc, smooth the disc's box with a [1 2 1]²
/// kernel and take the mean squared 4-neighbour Laplacian, divided by the disc's mean brightness
/// (above the sky) squared.
///
/// Binning and the light smoothing average the noise down before differentiating (unblurred
/// full-resolution Laplacians are mostly noise — see `laplacian_variance` in the evaluation);
/// restricting to the disc drops the noise-only sky; the brightness normalisation makes the score
/// blind to transparency changes; frames whose disc touches the border are multiplied by
/// `border_penalty` so half-cut planets do not rank as sharpest. Frames with no disc score 0.
/// It is PSS's recipe (blur → subsample → Laplacian) made cheaper (2×2 mean instead of a 7×7
/// Gaussian), restricted to the disc and brightness-normalised.
pub fn disc_laplace(img: ImageView<'_>, p: DiscLaplaceParams, s: &mut Scratch) -> f32 {
    let bin = p.bin.max(1);
    let mut a = std::mem::take(&mut s.a);
    let (bw, bh) = if bin == 1 {
        copy_packed(img, &mut a);
        (img.width, img.height)
    } else {
        bin_into(img, bin, &mut a)
    };
    let (mut b, mut c, mut d) = (std::mem::take(&mut s.b), std::mem::take(&mut s.c), std::mem::take(&mut s.d));
    let v = disc_laplace_binned(&a, bw, bh, p, &mut b, &mut c, &mut d);
    s.a = a;
    s.b = b;
    s.c = c;
    s.d = d;
    v
}

/// [`disc_laplace`] on a frame that is already 2×2-binned (see `FrameSource::read_luma_binned2_into`).
pub fn disc_laplace_prebinned(binned: ImageView<'_>, p: DiscLaplaceParams, s: &mut Scratch) -> f32 {
    let (mut b, mut c, mut d) = (std::mem::take(&mut s.b), std::mem::take(&mut s.c), std::mem::take(&mut s.d));
    let v = if binned.stride == binned.width {
        disc_laplace_binned(&binned.data[..binned.pixels()], binned.width, binned.height, p, &mut b, &mut c, &mut d)
    } else {
        let mut a = std::mem::take(&mut s.a);
        binned.copy_into(&mut a);
        let v = disc_laplace_binned(&a, binned.width, binned.height, p, &mut b, &mut c, &mut d);
        s.a = a;
        v
    };
    s.b = b;
    s.c = c;
    s.d = d;
    if v.is_finite() { v } else { 0.0 }
}

fn disc_laplace_binned(
    a: &[f32],
    bw: usize,
    bh: usize,
    p: DiscLaplaceParams,
    packed: &mut Vec<f32>,
    tmp: &mut Vec<f32>,
    smooth: &mut Vec<f32>,
) -> f32 {
    if bw < 4 || bh < 4 {
        return 0.0;
    }
    let view = ImageView::new(a, bw, bh);
    let Some(disc) = detect_disc(view) else { return 0.0 };
    let (x0, y0, rw, rh) = disc.region(p.margin, bw, bh);
    let level = disc.mean - disc.background;
    if rw < 2 || rh < 2 || level <= 0.0 {
        return 0.0;
    }
    // Smooth the binned crop with a [1 2 1]² kernel, then take the Laplacian energy.
    view.crop(x0, y0, rw, rh).copy_into(packed);
    let e = smoothed_laplacian_energy(packed, rw, rh, tmp, smooth);
    let mut q = e / (level * level);
    if disc.touches_border {
        q *= p.border_penalty;
    }
    q
}

/// Mean of `(I(x+1,y) − I(x,y))² + (I(x,y+1) − I(x,y))²` over the view.
pub fn gradient_energy(v: ImageView<'_>) -> f32 {
    if v.width < 2 || v.height < 2 {
        return 0.0;
    }
    let mut acc = 0.0f64;
    for y in 0..v.height - 1 {
        let r0 = v.row(y);
        let r1 = v.row(y + 1);
        let mut row_acc = 0.0f32;
        for x in 0..v.width - 1 {
            let dx = r0[x + 1] - r0[x];
            let dy = r1[x] - r0[x];
            row_acc += dx * dx + dy * dy;
        }
        acc += row_acc as f64;
    }
    (acc / ((v.width - 1) * (v.height - 1)) as f64) as f32
}

/// PIPP's "local contrast" quality, as published (and ported in Siril's `quality.c`).
///
/// For subsample factors s = 3, 4, 5: average s×s blocks (16-bit scale); take as brightness
/// reference the mean of the 3 lowest of the 6 brightest block values below 65530; stretch so the
/// reference maps to 60000; smooth 3×3; ignore a 10% border; keep pixels whose whole 3×3
/// neighbourhood is ≥ 10240; `q_s = mean(dx² + dy²) / 10` with differences to the right and lower
/// neighbour. Result `sqrt(Σ_s q_s · 9 / s²)`.
pub fn local_contrast(img: ImageView<'_>, s: &mut Scratch) -> f32 {
    let mut total = 0.0f64;
    let mut a = std::mem::take(&mut s.a);
    let mut b = std::mem::take(&mut s.b);
    let mut c = std::mem::take(&mut s.c);
    for sub in [3usize, 4, 5] {
        let (bw, bh) = bin_into(img, sub, &mut a);
        if bw < 5 || bh < 5 {
            continue;
        }
        let mut top = [f32::NEG_INFINITY; 6];
        for v in a.iter_mut() {
            *v *= 65535.0;
            if *v < 65530.0 && *v > top[0] {
                top[0] = *v;
                top.sort_by(|x, y| x.total_cmp(y));
            }
        }
        if top[0] == f32::NEG_INFINITY {
            continue;
        }
        let reference = (top[0] + top[1] + top[2]) / 3.0;
        if reference <= 0.0 {
            continue;
        }
        let gain = 60000.0 / reference;
        a.iter_mut().for_each(|v| *v *= gain);
        box3_into(&a, bw, bh, &mut b, &mut c);
        let (mx, my) = (bw / 10, bh / 10);
        let (xs, xe) = (mx.max(1), (bw - mx).min(bw - 1));
        let (ys, ye) = (my.max(1), (bh - my).min(bh - 1));
        let mut sum = 0.0f64;
        let mut n = 0usize;
        for y in ys..ye {
            for x in xs..xe {
                let mut lo = f32::INFINITY;
                for yy in y - 1..=y + 1 {
                    for xx in x - 1..=x + 1 {
                        lo = lo.min(c[yy * bw + xx]);
                    }
                }
                if lo < 10240.0 {
                    continue;
                }
                let v = c[y * bw + x];
                let dx = c[y * bw + x + 1] - v;
                let dy = c[(y + 1) * bw + x] - v;
                sum += (dx * dx + dy * dy) as f64;
                n += 1;
            }
        }
        if n > 0 {
            total += sum / n as f64 / 10.0 * 9.0 / (sub * sub) as f64;
        }
    }
    s.a = a;
    s.b = b;
    s.c = c;
    total.sqrt() as f32
}

/// PlanetarySystemStacker's default "Laplace" quality: Gaussian blur 7×7 (σ = 1.4, on 16-bit
/// scaled data), keep every 2nd pixel in x and y, 4-neighbour Laplacian, standard deviation of
/// |Laplacian| / 256. Computed in `f32` (PSS quantises to 8 bits, which degrades the ordering).
pub fn pss_laplace(img: ImageView<'_>, s: &mut Scratch) -> f32 {
    let (w, h) = (img.width, img.height);
    if w < 6 || h < 6 {
        return 0.0;
    }
    let mut a = std::mem::take(&mut s.a);
    let mut b = std::mem::take(&mut s.b);
    let mut c = std::mem::take(&mut s.c);
    copy_packed(img, &mut a);
    let k = gaussian_kernel(7, 0.0);
    separable_into(&a, w, h, &k, &mut b, &mut c);
    // Subsample by 2.
    let (sw, sh) = (w.div_ceil(2), h.div_ceil(2));
    a.clear();
    for y in (0..h).step_by(2) {
        a.extend(c[y * w..(y + 1) * w].iter().step_by(2).map(|v| v * 65535.0));
    }
    let at = |x: isize, y: isize| -> f32 {
        let xr = if x < 0 {
            -x
        } else if x >= sw as isize {
            2 * (sw as isize - 1) - x
        } else {
            x
        };
        let yr = if y < 0 {
            -y
        } else if y >= sh as isize {
            2 * (sh as isize - 1) - y
        } else {
            y
        };
        a[yr.clamp(0, sh as isize - 1) as usize * sw + xr.clamp(0, sw as isize - 1) as usize]
    };
    let (mut s1, mut s2) = (0f64, 0f64);
    for y in 0..sh as isize {
        for x in 0..sw as isize {
            let l = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y);
            let l = (l.abs() / 256.0) as f64;
            s1 += l;
            s2 += l * l;
        }
    }
    let n = (sw * sh) as f64;
    s.a = a;
    s.b = b;
    s.c = c;
    let mean = s1 / n;
    ((s2 / n - mean * mean).max(0.0)).sqrt() as f32
}

/// Variance of the 4-neighbour Laplacian at full resolution (the OpenCV one-liner users know).
pub fn laplacian_variance(img: ImageView<'_>) -> f32 {
    let (w, h) = (img.width, img.height);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (mut s1, mut s2) = (0f64, 0f64);
    for y in 1..h - 1 {
        let (rm, r, rp) = (img.row(y - 1), img.row(y), img.row(y + 1));
        let (mut a1, mut a2) = (0f32, 0f32);
        for x in 1..w - 1 {
            let l = r[x - 1] + r[x + 1] + rm[x] + rp[x] - 4.0 * r[x];
            a1 += l;
            a2 += l * l;
        }
        s1 += a1 as f64;
        s2 += a2 as f64;
    }
    let n = ((w - 2) * (h - 2)) as f64;
    let m = s1 / n;
    (s2 / n - m * m).max(0.0) as f32
}

/// Tenengrad: mean of `Gx² + Gy²` with 3×3 Sobel kernels at full resolution.
pub fn tenengrad(img: ImageView<'_>) -> f32 {
    let (w, h) = (img.width, img.height);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut acc = 0f64;
    for y in 1..h - 1 {
        let (rm, r, rp) = (img.row(y - 1), img.row(y), img.row(y + 1));
        let mut a = 0f32;
        for x in 1..w - 1 {
            let gx = (rm[x + 1] + 2.0 * r[x + 1] + rp[x + 1]) - (rm[x - 1] + 2.0 * r[x - 1] + rp[x - 1]);
            let gy = (rp[x - 1] + 2.0 * rp[x] + rp[x + 1]) - (rm[x - 1] + 2.0 * rm[x] + rm[x + 1]);
            a += gx * gx + gy * gy;
        }
        acc += a as f64;
    }
    (acc / ((w - 2) * (h - 2)) as f64) as f32
}

/// Brenner: mean of `(I(x+2) − I(x))²` horizontally plus `(I(y+2) − I(y))²` vertically.
pub fn brenner(img: ImageView<'_>) -> f32 {
    let (w, h) = (img.width, img.height);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut acc = 0f64;
    for y in 0..h - 2 {
        let (r, r2) = (img.row(y), img.row(y + 2));
        let mut a = 0f32;
        for x in 0..w - 2 {
            let dx = r[x + 2] - r[x];
            let dy = r2[x] - r[x];
            a += dx * dx + dy * dy;
        }
        acc += a as f64;
    }
    (acc / ((w - 2) * (h - 2)) as f64) as f32
}

/// Normalised variance: `Σ (I − μ)² / (N μ)` (0 for a black frame).
pub fn normalized_variance(img: ImageView<'_>) -> f32 {
    let n = img.pixels();
    if n == 0 {
        return 0.0;
    }
    let (mut s1, mut s2) = (0f64, 0f64);
    for y in 0..img.height {
        for &v in img.row(y) {
            s1 += v as f64;
            s2 += (v as f64) * (v as f64);
        }
    }
    let mu = s1 / n as f64;
    if mu <= 1e-9 {
        return 0.0;
    }
    ((s2 / n as f64 - mu * mu).max(0.0) / mu) as f32
}

/// Cut-off of [`fft_high_frequency_ratio`], in cycles per (2×2-binned) pixel.
pub const FFT_CUTOFF: f32 = 0.08;

/// FFT high-frequency ratio: on the 2×2-binned, mean-subtracted frame, power at radial
/// frequency above [`FFT_CUTOFF`] cycles/pixel divided by all power except DC.
pub fn fft_high_frequency_ratio(img: ImageView<'_>, s: &mut Scratch) -> f32 {
    let mut a = std::mem::take(&mut s.a);
    let (w, h) = bin_into(img, 2, &mut a);
    if w < 4 || h < 4 {
        s.a = a;
        return 0.0;
    }
    let mean = a.iter().sum::<f32>() / a.len() as f32;
    let mut buf = std::mem::take(&mut s.fft);
    buf.clear();
    buf.extend(a.iter().map(|&v| Complex32::new(v - mean, 0.0)));
    let row_plan = s.plan(w);
    let col_plan = s.plan(h);
    let mut tmp = std::mem::take(&mut s.fft_tmp);
    row_plan.process(&mut buf);
    // Transpose, FFT the columns as rows.
    tmp.clear();
    tmp.resize(w * h, Complex32::new(0.0, 0.0));
    for y in 0..h {
        for x in 0..w {
            tmp[x * h + y] = buf[y * w + x];
        }
    }
    col_plan.process(&mut tmp);
    let (mut hi, mut all) = (0f64, 0f64);
    for x in 0..w {
        let fx = if x <= w / 2 { x as f32 } else { x as f32 - w as f32 } / w as f32;
        for y in 0..h {
            if x == 0 && y == 0 {
                continue;
            }
            let fy = if y <= h / 2 { y as f32 } else { y as f32 - h as f32 } / h as f32;
            let p = tmp[x * h + y].norm_sqr() as f64;
            all += p;
            if fx * fx + fy * fy > FFT_CUTOFF * FFT_CUTOFF {
                hi += p;
            }
        }
    }
    s.a = a;
    s.fft = buf;
    s.fft_tmp = tmp;
    if all <= 0.0 { 0.0 } else { (hi / all) as f32 }
}

/// Helmli–Scherer mean: on the 2×2-binned frame, the mean over pixels of `m/I` where the 3×3
/// mean `m ≥ I`, else `I/m` (1 for a flat image, larger with more local contrast); dark pixels
/// (below 5% of the maximum) are skipped, which makes it robust to sky noise.
pub fn helmli_scherer(img: ImageView<'_>, s: &mut Scratch) -> f32 {
    let mut a = std::mem::take(&mut s.a);
    let mut b = std::mem::take(&mut s.b);
    let mut c = std::mem::take(&mut s.c);
    let (w, h) = bin_into(img, 2, &mut a);
    let mut out = 0.0;
    if w >= 3 && h >= 3 {
        box3_into(&a, w, h, &mut b, &mut c);
        let max = a.iter().fold(0f32, |m, &v| m.max(v));
        let floor = 0.05 * max;
        let (mut sum, mut n) = (0f64, 0usize);
        for (&i, &m) in a.iter().zip(c.iter()) {
            if i > floor && m > floor {
                sum += if m >= i { m / i } else { i / m } as f64;
                n += 1;
            }
        }
        if n > 0 {
            out = (sum / n as f64) as f32;
        }
    }
    s.a = a;
    s.b = b;
    s.c = c;
    out
}

fn median9(mut v: [f32; 9]) -> f32 {
    // Partial selection: 9 elements, a tiny insertion sort is fast and branch-light enough.
    for i in 1..9 {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
    v[4]
}

/// MFGS (median-filter gradient similarity, Deng et al. 2015) on the 2×2-binned frame:
/// `Σ 2·g·g_m / Σ (g² + g_m²)` with `g` the gradient magnitude of the frame and `g_m` that of its
/// 3×3 median; reported as `1 − similarity` scaled by the mean gradient so higher = sharper
/// (noise makes the frame and its median disagree, blur makes both gradients vanish).
pub fn mfgs(img: ImageView<'_>, s: &mut Scratch) -> f32 {
    let mut a = std::mem::take(&mut s.a);
    let mut m = std::mem::take(&mut s.b);
    let (w, h) = bin_into(img, 2, &mut a);
    let mut out = 0.0;
    if w >= 4 && h >= 4 {
        m.clear();
        m.resize(w * h, 0.0);
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let mut v = [0f32; 9];
                let mut k = 0;
                for yy in y - 1..=y + 1 {
                    for xx in x - 1..=x + 1 {
                        v[k] = a[yy * w + xx];
                        k += 1;
                    }
                }
                m[y * w + x] = median9(v);
            }
        }
        let (mut num, mut den, mut gm_sum) = (0f64, 0f64, 0f64);
        let mut n = 0usize;
        for y in 1..h - 2 {
            for x in 1..w - 2 {
                let i = y * w + x;
                let g = ((a[i + 1] - a[i]).powi(2) + (a[i + w] - a[i]).powi(2)).sqrt();
                let gm = ((m[i + 1] - m[i]).powi(2) + (m[i + w] - m[i]).powi(2)).sqrt();
                num += 2.0 * (g * gm) as f64;
                den += (g * g + gm * gm) as f64;
                gm_sum += gm as f64;
                n += 1;
            }
        }
        if den > 0.0 && n > 0 {
            // Similarity of the frame's gradients to the median-filtered gradients, weighted by the
            // median gradient strength (which falls with blur and is insensitive to noise).
            out = ((num / den) * gm_sum / n as f64) as f32;
        }
    }
    s.a = a;
    s.b = m;
    out
}

/// Detect the disc of a full-resolution view (convenience wrapper around [`detect_disc`] on a 2×2-binned copy).
pub fn detect_disc_binned(img: ImageView<'_>, s: &mut Scratch) -> Option<Disc> {
    let mut a = std::mem::take(&mut s.a);
    let (bw, bh) = bin_into(img, 2, &mut a);
    let d = detect_disc(ImageView::new(&a, bw, bh)).map(|d| Disc {
        cx: d.cx * 2.0 + 0.5,
        cy: d.cy * 2.0 + 0.5,
        radius: d.radius * 2.0,
        bbox: (d.bbox.0 * 2, d.bbox.1 * 2, d.bbox.2 * 2, d.bbox.3 * 2),
        area: d.area * 4,
        ..d
    });
    s.a = a;
    d
}
