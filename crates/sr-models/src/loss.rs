//! Training losses: pixel (L1, Charbonnier), structural (SSIM, MS-SSIM), gradient and frequency,
//! GAN (vanilla, LSGAN, relativistic average), discriminator feature matching, LDL's artefact
//! loss (`artifacts`) and the smooth-field penalty (`smooth_field`).
//!
//! All take `[N, C, H, W]` tensors with values in [0, 1] and return a scalar tensor `[1]`.

use burn::prelude::*;
use burn::tensor::module::avg_pool2d;
use serde::{Deserialize, Serialize};

use astro_image::kernel::gaussian_1d;

mod artifacts;
mod smooth_field;

pub use artifacts::artifact_loss;
pub use smooth_field::{SMOOTH_FIELD_SIDE, SMOOTH_FIELDS, SmoothFieldPenalty, smooth_fields};

/// Mean absolute error.
pub fn l1<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    (pred - target).abs().mean()
}

/// Charbonnier loss `mean(sqrt((p − t)² + ε²))`, a differentiable L1.
pub fn charbonnier<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>, eps: f64) -> Tensor<B, 1> {
    ((pred - target).powi_scalar(2) + eps * eps).sqrt().mean()
}

/// The `[n, n − 10]` banded matrix whose product is the valid 11-tap, σ = 1.5 Gaussian filter
/// along one axis: `(x·B)[j] = Σ_t g[t]·x[j + t]`.
fn gaussian_band<B: Backend>(n: usize, device: &B::Device) -> Tensor<B, 2> {
    let g = gaussian_1d(11, 1.5);
    let out = n.saturating_sub(10);
    let mut m = vec![0.0f32; n * out];
    for j in 0..out {
        for (t, &gt) in g.iter().enumerate() {
            m[(j + t) * out + j] = gt as f32;
        }
    }
    Tensor::<B, 1>::from_floats(m.as_slice(), device).reshape([n, out])
}

/// The `[n − 10, n]` banded matrix whose left product is the same valid filter along the other
/// axis: `(B·x)[j] = Σ_t g[t]·x[j + t]` (the transpose of [`gaussian_band`], built directly so it is
/// contiguous).
fn gaussian_band_left<B: Backend>(n: usize, device: &B::Device) -> Tensor<B, 2> {
    let g = gaussian_1d(11, 1.5);
    let out = n.saturating_sub(10);
    let mut m = vec![0.0f32; out * n];
    for j in 0..out {
        for (t, &gt) in g.iter().enumerate() {
            m[j * n + j + t] = gt as f32;
        }
    }
    Tensor::<B, 1>::from_floats(m.as_slice(), device).reshape([out, n])
}

/// The valid 11×11 Gaussian window (σ = 1.5) over every channel, as two banded matrix products
/// (rows from the right, then columns from the left, so no transpose is ever materialised): the
/// same sums as the 2-D window, ≈ 10× fewer multiplies than a depthwise 11×11 convolution, and a
/// backward pass that is two more products (issue #26).
fn gaussian_filter<B: Backend>(t: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = t.dims();
    let device = t.device();
    let (ho, wo) = (h.saturating_sub(10), w.saturating_sub(10));
    let rows = t.reshape([n * c * h, w]).matmul(gaussian_band(w, &device)).reshape([n * c, h, wo]);
    let left = gaussian_band_left::<B>(h, &device).unsqueeze::<3>().expand([n * c, ho, h]);
    left.matmul(rows).reshape([n, c, ho, wo])
}

/// Per-pixel SSIM map and contrast-structure map (valid region), data range 1.
fn ssim_maps<B: Backend>(x: Tensor<B, 4>, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let n = x.dims()[0];
    let (c1, c2) = (1e-4, 9e-4);
    // The five local means in one filter call: x, y, x², y², xy stacked on the batch axis, so
    // each is a contiguous slice afterwards (stacked on channels, every later op iterated strides).
    let stacked = Tensor::cat(vec![x.clone(), y.clone(), x.clone() * x.clone(), y.clone() * y.clone(), x * y], 0);
    let m = gaussian_filter(stacked);
    let part = |i: usize| m.clone().narrow(0, i * n, n);
    let (mu_x, mu_y) = (part(0), part(1));
    let mu_xx = mu_x.clone() * mu_x.clone();
    let mu_yy = mu_y.clone() * mu_y.clone();
    let mu_xy = mu_x * mu_y;
    let s_xx = part(2) - mu_xx.clone();
    let s_yy = part(3) - mu_yy.clone();
    let s_xy = part(4) - mu_xy.clone();
    let cs = (s_xy * 2.0 + c2) / (s_xx + s_yy + c2);
    let l = (mu_xy * 2.0 + c1) / (mu_xx + mu_yy + c1);
    (l * cs.clone(), cs)
}

/// Differentiable SSIM (Wang 2004, Gaussian window), mean over the valid region; images must be ≥ 11 px.
pub fn ssim<B: Backend>(x: Tensor<B, 4>, y: Tensor<B, 4>) -> Tensor<B, 1> {
    ssim_maps(x, y).0.mean()
}

/// `1 − SSIM`.
pub fn ssim_loss<B: Backend>(x: Tensor<B, 4>, y: Tensor<B, 4>) -> Tensor<B, 1> {
    ssim(x, y).neg() + 1.0
}

/// MS-SSIM weights of Wang et al. 2003.
pub const MS_SSIM_WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/// `1 − MS-SSIM`. Uses as many of the five scales as the patch allows (each scale ≥ 11 px,
/// weights renormalised); contrast-structure terms are clamped positive before the power.
pub fn ms_ssim_loss<B: Backend>(x: Tensor<B, 4>, y: Tensor<B, 4>) -> Tensor<B, 1> {
    let [_, _, h, w] = x.dims();
    let mut levels = 1;
    while levels < 5 && h.min(w) >> levels >= 11 {
        levels += 1;
    }
    let total: f64 = MS_SSIM_WEIGHTS[..levels].iter().sum();
    let (mut x, mut y) = (x, y);
    let mut acc: Option<Tensor<B, 1>> = None;
    for (i, weight) in MS_SSIM_WEIGHTS[..levels].iter().enumerate() {
        let (s, cs) = ssim_maps(x.clone(), y.clone());
        let term = if i + 1 == levels { s.mean() } else { cs.mean() };
        let term = term.clamp_min(1e-6).powf_scalar(weight / total);
        acc = Some(match acc {
            None => term,
            Some(a) => a * term,
        });
        if i + 1 < levels {
            x = avg_pool2d(x, [2, 2], [2, 2], [0, 0], true, false);
            y = avg_pool2d(y, [2, 2], [2, 2], [0, 0], true, false);
        }
    }
    acc.expect("at least one scale").neg() + 1.0
}

/// L1 between horizontal and vertical finite differences (edge sharpness).
pub fn gradient_loss<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let [_, _, h, w] = pred.dims();
    let dx = |t: Tensor<B, 4>| t.clone().narrow(3, 1, w - 1) - t.narrow(3, 0, w - 1);
    let dy = |t: Tensor<B, 4>| t.clone().narrow(2, 1, h - 1) - t.narrow(2, 0, h - 1);
    l1(dx(pred.clone()), dx(target.clone())) + l1(dy(pred), dy(target))
}

/// Real DFT bases `[n, n/2+1]` (cos, −sin) for a differentiable 1-D DFT by matrix product.
fn dft_bases<B: Backend>(n: usize, device: &B::Device) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let k = n / 2 + 1;
    let mut c = Vec::with_capacity(n * k);
    let mut s = Vec::with_capacity(n * k);
    for i in 0..n {
        for f in 0..k {
            let a = 2.0 * std::f64::consts::PI * (i * f) as f64 / n as f64;
            c.push(a.cos() as f32);
            s.push(-a.sin() as f32);
        }
    }
    (
        Tensor::<B, 1>::from_floats(c.as_slice(), device).reshape([n, k]),
        Tensor::<B, 1>::from_floats(s.as_slice(), device).reshape([n, k]),
    )
}

/// L1 between the amplitude spectra of 1-D real DFTs along rows and along columns, normalised by √n.
///
/// burn 0.21's `rfft` has no autodiff support, so the DFT is a matrix product with cos/sin bases
/// (exact, and cheap at patch sizes).
pub fn fft_loss<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let [n, c, h, w] = pred.dims();
    let device = pred.device();
    let amp = |t: Tensor<B, 4>, len: usize, cos: &Tensor<B, 2>, sin: &Tensor<B, 2>| {
        let rows = t.reshape([n * c * (h * w / len), len]);
        let re = rows.clone().matmul(cos.clone());
        let im = rows.matmul(sin.clone());
        (re.powi_scalar(2) + im.powi_scalar(2) + 1e-8).sqrt() / (len as f64).sqrt()
    };
    let (cw, sw) = dft_bases::<B>(w, &device);
    let (ch, sh) = dft_bases::<B>(h, &device);
    let rows = (amp(pred.clone(), w, &cw, &sw) - amp(target.clone(), w, &cw, &sw)).abs().mean();
    let pt = pred.swap_dims(2, 3);
    let tt = target.swap_dims(2, 3);
    let cols = (amp(pt, h, &ch, &sh) - amp(tt, h, &ch, &sh)).abs().mean();
    rows + cols
}

/// GAN objective family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GanLoss {
    /// Non-saturating BCE with logits (Goodfellow 2014, SRGAN).
    Vanilla,
    /// Least squares (Mao 2017).
    Lsgan,
    /// Relativistic average BCE (ESRGAN).
    #[default]
    Ragan,
}

impl std::str::FromStr for GanLoss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "vanilla" | "bce" => Ok(GanLoss::Vanilla),
            "lsgan" | "ls" => Ok(GanLoss::Lsgan),
            "ragan" | "relativistic" => Ok(GanLoss::Ragan),
            other => Err(format!("unknown GAN loss '{other}' (vanilla, lsgan, ragan)")),
        }
    }
}

/// `log(1 + eˣ)` as `max(x, 0) + log(1 + e^−|x|)`: finite, with a finite gradient, for any logit.
/// burn 0.21's `softplus` computes `log(eˣ + 1)`, which is infinite above x ≈ 88 (and its gradient
/// NaN): a confident discriminator then made the generator loss infinite and the `real` GAN run's
/// weights NaN at step 120 (235 with spectral norm).
fn softplus<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone().clamp_min(0.0) + x.abs().neg().exp().add_scalar(1.0).log()
}

/// `−log σ(x)` averaged (BCE against label 1), numerically stable.
fn bce_real<B: Backend, const D: usize>(logits: Tensor<B, D>) -> Tensor<B, 1> {
    softplus(logits.neg()).mean()
}

/// `−log(1 − σ(x))` averaged (BCE against label 0).
fn bce_fake<B: Backend, const D: usize>(logits: Tensor<B, D>) -> Tensor<B, 1> {
    softplus(logits).mean()
}

impl GanLoss {
    /// Discriminator loss from its logits on real and fake batches (any shape, e.g. `[N, 1]` or per-pixel maps).
    pub fn discriminator<B: Backend, const D: usize>(self, real: Tensor<B, D>, fake: Tensor<B, D>) -> Tensor<B, 1> {
        match self {
            GanLoss::Vanilla => bce_real(real) + bce_fake(fake),
            GanLoss::Lsgan => ((real - 1.0).powi_scalar(2).mean() + fake.powi_scalar(2).mean()) * 0.5,
            GanLoss::Ragan => {
                let (mr, mf) = (real.clone().mean(), fake.clone().mean());
                (bce_real(real - mf.unsqueeze()) + bce_fake(fake - mr.unsqueeze())) * 0.5
            }
        }
    }

    /// Generator adversarial loss (real logits are only used by the relativistic form; pass them detached).
    pub fn generator<B: Backend, const D: usize>(self, real: Tensor<B, D>, fake: Tensor<B, D>) -> Tensor<B, 1> {
        match self {
            GanLoss::Vanilla => bce_real(fake),
            GanLoss::Lsgan => (fake - 1.0).powi_scalar(2).mean() * 0.5,
            GanLoss::Ragan => {
                let (mr, mf) = (real.clone().mean(), fake.clone().mean());
                (bce_fake(real - mf.unsqueeze()) + bce_real(fake - mr.unsqueeze())) * 0.5
            }
        }
    }
}

/// Discriminator feature matching (pix2pixHD): mean L1 between intermediate features of real (detached) and fake.
pub fn feature_matching<B: Backend>(real: &[Tensor<B, 4>], fake: &[Tensor<B, 4>]) -> Tensor<B, 1> {
    let n = real.len().max(1) as f64;
    let device = fake.first().map(|t| t.device()).unwrap_or_default();
    real.iter().zip(fake).fold(Tensor::zeros([1], &device), |acc, (r, f)| acc + l1(f.clone(), r.clone().detach())) / n
}

/// Weights of the pixel/structure terms of the generator objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelLossWeights {
    /// L1 weight.
    pub l1: f64,
    /// Charbonnier weight.
    pub charbonnier: f64,
    /// `1 − SSIM` weight.
    pub ssim: f64,
    /// `1 − MS-SSIM` weight.
    pub ms_ssim: f64,
    /// Gradient-loss weight.
    pub gradient: f64,
    /// FFT-amplitude loss weight.
    pub fft: f64,
}

impl Default for PixelLossWeights {
    fn default() -> Self {
        PixelLossWeights { l1: 1.0, charbonnier: 0.0, ssim: 0.1, ms_ssim: 0.0, gradient: 0.0, fft: 0.0 }
    }
}

impl PixelLossWeights {
    /// The weighted sum of the enabled terms.
    pub fn loss<B: Backend>(&self, pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
        let mut total = Tensor::zeros([1], &pred.device());
        type Term<B> = fn(Tensor<B, 4>, Tensor<B, 4>) -> Tensor<B, 1>;
        let terms: [(f64, Term<B>); 6] = [
            (self.l1, l1),
            (self.charbonnier, |p, t| charbonnier(p, t, 1e-3)),
            (self.ssim, ssim_loss),
            (self.ms_ssim, ms_ssim_loss),
            (self.gradient, gradient_loss),
            (self.fft, fft_loss),
        ];
        for (w, f) in terms {
            if w != 0.0 {
                total = total + f(pred.clone(), target.clone()) * w;
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use astro_image::Planes;
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::Distribution;

    type B = Flex;

    pub(super) fn scalar(t: Tensor<B, 1>) -> f64 {
        t.into_scalar() as f64
    }

    #[test]
    fn gan_losses_stay_finite_with_their_gradients_for_confident_logits() {
        type A = Autodiff<Flex>;
        let d = Default::default();
        // Small logits: the textbook values. log(1 + e^x) at 0 is ln 2, at 2 is 2.1269.
        let x = Tensor::<B, 1>::from_floats([0.0, 2.0, -2.0], &d);
        let sp = softplus(x).into_data().to_vec::<f32>().unwrap();
        for (v, want) in sp.iter().zip([std::f32::consts::LN_2, 2.126_928, 0.126_928]) {
            assert!((v - want).abs() < 1e-5, "softplus {v} vs {want}");
        }
        // A confident discriminator (|logit| in the hundreds): every GAN loss and its gradient finite.
        for loss in [GanLoss::Vanilla, GanLoss::Lsgan, GanLoss::Ragan] {
            let real = Tensor::<A, 2>::from_floats([[300.0, -200.0, 150.0]], &d).require_grad();
            let fake = Tensor::<A, 2>::from_floats([[-400.0, 250.0, -120.0]], &d).require_grad();
            for (what, value) in [
                ("generator", loss.generator(real.clone(), fake.clone())),
                ("discriminator", loss.discriminator(real.clone(), fake.clone())),
            ] {
                let v = value.clone().into_scalar();
                let grads = value.backward();
                let g = fake.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
                assert!(v.is_finite() && g.iter().all(|x| x.is_finite()), "{loss:?} {what}: {v}, gradient {g:?}");
            }
        }
        // -log σ(-400) = 400: the value, not an overflow.
        let big = bce_real(Tensor::<B, 1>::from_floats([-400.0], &d)).into_scalar();
        assert!((big - 400.0).abs() < 1e-3, "{big}");
    }

    #[test]
    fn pixel_losses_are_zero_on_identical_images_and_hand_checked_on_offsets() {
        let d = Default::default();
        let x = Tensor::<B, 4>::random([2, 3, 16, 16], Distribution::Default, &d);
        assert!(scalar(l1(x.clone(), x.clone())) < 1e-7);
        assert!(scalar(gradient_loss(x.clone(), x.clone())) < 1e-7);
        assert!(scalar(fft_loss(x.clone(), x.clone())) < 1e-3);
        assert!(scalar(ssim_loss(x.clone(), x.clone())).abs() < 1e-4);
        let y = x.clone() + 0.25;
        assert!((scalar(l1(x.clone(), y.clone())) - 0.25).abs() < 1e-6);
        let c = scalar(charbonnier(x.clone(), y.clone(), 1e-3));
        assert!((c - (0.0625f64 + 1e-6).sqrt()).abs() < 1e-5, "{c}");
        // A constant offset has no gradient difference.
        assert!(scalar(gradient_loss(x, y)) < 1e-6);
    }

    #[test]
    fn tensor_ssim_agrees_with_the_metric_implementation() {
        // Same Gaussian-window SSIM on one grey channel; the metric works in [0,255] with L = 255.
        let d = Default::default();
        let (w, h) = (24usize, 20usize);
        let a: Vec<f32> = (0..w * h).map(|i| (((i * 37) % 101) as f32) / 100.0).collect();
        let b: Vec<f32> = a.iter().enumerate().map(|(i, v)| (v * 0.8 + ((i % 5) as f32) * 0.03).min(1.0)).collect();
        let ta = Tensor::<B, 1>::from_floats(a.as_slice(), &d).reshape([1, 1, h, w]);
        let tb = Tensor::<B, 1>::from_floats(b.as_slice(), &d).reshape([1, 1, h, w]);
        let t = scalar(ssim(ta, tb));
        let a255: Vec<f64> = a.iter().map(|&v| v as f64 * 255.0).collect();
        let b255: Vec<f64> = b.iter().map(|&v| v as f64 * 255.0).collect();
        let m = astro_image::quality::ssim_plane(&a255, &b255, w, h);
        assert!((t - m).abs() < 1e-3, "tensor {t} vs metric {m}");
        let _ = Planes::zeros(1, 1, 1);
    }

    /// The 2-D depthwise 11×11 window SSIM had before the separable filter (the reference).
    fn gaussian_filter_2d<B: Backend>(t: Tensor<B, 4>) -> Tensor<B, 4> {
        use burn::tensor::module::conv2d;
        use burn::tensor::ops::ConvOptions;
        let c = t.dims()[1];
        let k = gaussian_1d(11, 1.5);
        let w: Vec<f32> = k.iter().flat_map(|a| k.iter().map(move |b| (a * b) as f32)).collect();
        let win = Tensor::<B, 1>::from_floats(w.as_slice(), &t.device()).reshape([1, 1, 11, 11]).repeat_dim(0, c);
        conv2d(t, win, None, ConvOptions::new([1, 1], [0, 0], [1, 1], c))
    }

    #[test]
    fn separable_ssim_equals_the_2d_window_in_value_and_gradient() {
        type A = burn::backend::Autodiff<Flex>;
        let device = Default::default();
        let x0 = Tensor::<A, 4>::random([2, 3, 23, 17], burn::tensor::Distribution::Default, &device);
        let n = Tensor::<A, 4>::random([2, 3, 23, 17], burn::tensor::Distribution::Normal(0.0, 0.1), &device);
        let y = (x0.clone() + n).clamp(0.0, 1.0);
        let t = Tensor::<A, 4>::random([2, 3, 13, 7], burn::tensor::Distribution::Default, &device);
        let sep = gaussian_filter(x0.clone());
        let two_d = gaussian_filter_2d(x0.clone());
        let d = (sep.clone() - two_d.clone()).abs().max().into_scalar();
        assert!(d < 1e-5, "filtered values differ by {d}");
        let mut grads = Vec::new();
        for separable in [false, true] {
            let x = x0.clone().detach().require_grad();
            let f = if separable { gaussian_filter(x.clone()) } else { gaussian_filter_2d(x.clone()) };
            let g = (f * t.clone()).sum().backward();
            grads.push(x.grad(&g).unwrap());
        }
        let d = (grads[0].clone() - grads[1].clone()).abs().max().into_scalar();
        assert!(d < 1e-5, "filter gradients differ by {d}");
        // The loss itself: value and input gradient against the 2-D reference formula.
        let x = x0.clone().detach().require_grad();
        let loss = ssim_loss(x.clone(), y.clone());
        let g_sep = x.grad(&loss.clone().backward()).unwrap();
        let xr = x0.detach().require_grad();
        let f = |t: Tensor<A, 4>| gaussian_filter_2d(t);
        let (mx, my) = (f(xr.clone()), f(y.clone()));
        let sxx = f(xr.clone() * xr.clone()) - mx.clone() * mx.clone();
        let syy = f(y.clone() * y.clone()) - my.clone() * my.clone();
        let sxy = f(xr.clone() * y.clone()) - mx.clone() * my.clone();
        let cs = (sxy * 2.0 + 9e-4) / (sxx + syy + 9e-4);
        let l = (mx.clone() * my.clone() * 2.0 + 1e-4) / (mx.clone() * mx + my.clone() * my + 1e-4);
        let reference = (l * cs).mean().neg() + 1.0;
        let g_ref = xr.grad(&reference.clone().backward()).unwrap();
        let dv = (loss.into_scalar() - reference.into_scalar()).abs();
        assert!(dv < 1e-5, "SSIM loss differs by {dv}");
        let scale = g_ref.clone().abs().max().into_scalar();
        let dg = (g_sep - g_ref).abs().max().into_scalar() / scale;
        assert!(dg < 1e-5, "SSIM loss gradients differ by {dg} relative");
    }

    #[test]
    fn ms_ssim_is_one_on_identity_and_lower_on_noise() {
        let d = Default::default();
        let x = Tensor::<B, 4>::random([1, 3, 48, 48], Distribution::Default, &d);
        assert!(scalar(ms_ssim_loss(x.clone(), x.clone())).abs() < 1e-4);
        let n = Tensor::<B, 4>::random([1, 3, 48, 48], Distribution::Normal(0.0, 0.2), &d);
        assert!(scalar(ms_ssim_loss(x.clone(), x + n)) > 0.05);
    }

    #[test]
    fn gan_losses_reward_the_right_side() {
        let d = Default::default();
        let hi = Tensor::<B, 2>::full([4, 1], 5.0, &d);
        let lo = Tensor::<B, 2>::full([4, 1], -5.0, &d);
        for kind in [GanLoss::Vanilla, GanLoss::Lsgan, GanLoss::Ragan] {
            let good_d = scalar(kind.discriminator(hi.clone(), lo.clone()));
            let bad_d = scalar(kind.discriminator(lo.clone(), hi.clone()));
            assert!(good_d < bad_d, "{kind:?}: D loss {good_d} !< {bad_d}");
            let fooled = scalar(kind.generator(lo.clone(), hi.clone()));
            let caught = scalar(kind.generator(hi.clone(), lo.clone()));
            assert!(fooled < caught, "{kind:?}: G loss {fooled} !< {caught}");
        }
        // Vanilla at logits 0: D loss = 2 ln 2.
        let z = Tensor::<B, 2>::zeros([3, 1], &d);
        assert!((scalar(GanLoss::Vanilla.discriminator(z.clone(), z)) - 2.0 * 2f64.ln()).abs() < 1e-5);
    }

    #[test]
    fn losses_are_differentiable() {
        type A = Autodiff<Flex>;
        let d = Default::default();
        let x = Tensor::<A, 4>::random([1, 3, 32, 32], Distribution::Default, &d).require_grad();
        let y = Tensor::<A, 4>::random([1, 3, 32, 32], Distribution::Default, &d);
        let w = PixelLossWeights { l1: 1.0, charbonnier: 1.0, ssim: 1.0, ms_ssim: 1.0, gradient: 1.0, fft: 1.0 };
        let grads = w.loss(x.clone(), y).backward();
        let g = x.grad(&grads).expect("gradient");
        let norm: f32 = g.abs().sum().into_scalar();
        assert!(norm.is_finite() && norm > 0.0);
    }
}
