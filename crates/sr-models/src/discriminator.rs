//! Discriminators: the SRGAN VGG-style classifier and a U-Net patch discriminator with spectral
//! norm (Real-ESRGAN's; burn 0.21 has no spectral norm, so [`spectral_norm`] computes it). Both
//! return logits and intermediate features (for the feature-matching loss that replaces a
//! pretrained-VGG perceptual loss offline).

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;
use serde::{Deserialize, Serialize};

use crate::error::SrError;
use crate::fast_conv::{conv_down, conv_same, conv_upsampled};
use crate::model::conv;

type SrResult<T> = crate::error::Result<T>;

/// Configuration of [`VggDiscriminator`] (Ledig et al. 2017, batch norm omitted).
#[derive(Config, Debug, PartialEq)]
pub struct VggDiscriminatorConfig {
    /// Side of the square HR patches it judges (a multiple of 16): fixes the flattened size.
    #[config(default = 96)]
    pub patch_size: usize,
    /// Image channels.
    #[config(default = 3)]
    pub channels: usize,
    /// Channels of the first stage (doubled every stage: 64, 128, 256, 512 in SRGAN).
    #[config(default = 64)]
    pub features: usize,
    /// Width of the hidden dense layer.
    #[config(default = 1024)]
    pub hidden: usize,
}

/// SRGAN discriminator: 8 conv layers (stride 1/2 alternating) → dense → LeakyReLU → dense → logit.
#[derive(Module, Debug)]
pub struct VggDiscriminator<B: Backend> {
    convs: Vec<Conv2d<B>>,
    fc1: Linear<B>,
    fc2: Linear<B>,
}

impl VggDiscriminatorConfig {
    /// Build it; the dense layer's input size is `8f · (patch/16)²`, computed here (no lazy layers).
    pub fn init<B: Backend>(&self, device: &B::Device) -> SrResult<VggDiscriminator<B>> {
        if self.patch_size == 0 || !self.patch_size.is_multiple_of(16) {
            return Err(SrError::Config(format!("discriminator patch {} is not a multiple of 16", self.patch_size)));
        }
        let f = self.features;
        let mut convs = Vec::new();
        let mut cin = self.channels;
        for stage in 0..4 {
            let cout = f << stage;
            convs.push(conv(cin, cout, 3).init(device));
            convs.push(
                Conv2dConfig::new([cout, cout], [3, 3])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device),
            );
            cin = cout;
        }
        let side = self.patch_size / 16;
        Ok(VggDiscriminator {
            convs,
            fc1: LinearConfig::new(cin * side * side, self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, 1).init(device),
        })
    }
}

impl<B: Backend> VggDiscriminator<B> {
    /// Logits `[N, 1]` and the output of every stride-2 stage.
    pub fn forward(&self, x: Tensor<B, 4>) -> (Tensor<B, 2>, Vec<Tensor<B, 4>>) {
        let mut feats = Vec::new();
        let mut h = x;
        for (i, c) in self.convs.iter().enumerate() {
            h = leaky_relu(conv_same(c, h), 0.2);
            if i % 2 == 1 {
                feats.push(h.clone());
            }
        }
        let h = h.flatten::<2>(1, 3);
        (self.fc2.forward(leaky_relu(self.fc1.forward(h), 0.2)), feats)
    }
}

/// Configuration of [`UNetDiscriminator`].
#[derive(Config, Debug, PartialEq)]
pub struct UNetDiscriminatorConfig {
    /// Image channels.
    #[config(default = 3)]
    pub channels: usize,
    /// Channels of the first level (64 in Real-ESRGAN).
    #[config(default = 64)]
    pub features: usize,
}

/// U-Net discriminator: three stride-2 downsamplings, nearest-upsampling with skip connections,
/// one logit per pixel (judges local texture; any input size divisible by 8). As Real-ESRGAN's,
/// every conv but the first and the last is spectrally normalised: without it the 2026-12-07 run
/// (feature matching on these features, no gradient clipping) went NaN within 250 steps.
#[derive(Module, Debug)]
pub struct UNetDiscriminator<B: Backend> {
    conv0: Conv2d<B>,
    down: Vec<Conv2d<B>>,
    up: Vec<Conv2d<B>>,
    conv_a: Conv2d<B>,
    conv_b: Conv2d<B>,
    out: Conv2d<B>,
}

impl UNetDiscriminatorConfig {
    /// Build it.
    pub fn init<B: Backend>(&self, device: &B::Device) -> UNetDiscriminator<B> {
        let f = self.features;
        let down = |cin: usize, cout: usize| {
            Conv2dConfig::new([cin, cout], [4, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device)
        };
        UNetDiscriminator {
            conv0: conv(self.channels, f, 3).init(device),
            down: vec![down(f, 2 * f), down(2 * f, 4 * f), down(4 * f, 8 * f)],
            up: vec![
                conv(8 * f, 4 * f, 3).init(device),
                conv(4 * f, 2 * f, 3).init(device),
                conv(2 * f, f, 3).init(device),
            ],
            conv_a: conv(f, f, 3).init(device),
            conv_b: conv(f, f, 3).init(device),
            out: conv(f, 1, 3).init(device),
        }
    }
}

impl<B: Backend> UNetDiscriminator<B> {
    /// Per-pixel logits `[N, 1, H, W]` and the features of every level.
    pub fn forward(&self, x: Tensor<B, 4>) -> (Tensor<B, 4>, Vec<Tensor<B, 4>>) {
        let sn = spectral_norm;
        let x0 = leaky_relu(conv_same(&self.conv0, x), 0.2);
        let x1 = leaky_relu(conv_down(&sn(&self.down[0]), x0.clone()), 0.2);
        let x2 = leaky_relu(conv_down(&sn(&self.down[1]), x1.clone()), 0.2);
        let x3 = leaky_relu(conv_down(&sn(&self.down[2]), x2.clone()), 0.2);
        let u = leaky_relu(conv_upsampled(&sn(&self.up[0]), x3.clone()), 0.2) + x2.clone();
        let u = leaky_relu(conv_upsampled(&sn(&self.up[1]), u), 0.2) + x1.clone();
        let u = leaky_relu(conv_upsampled(&sn(&self.up[2]), u), 0.2) + x0;
        let h = leaky_relu(conv_same(&sn(&self.conv_a), u.clone()), 0.2);
        let h = leaky_relu(conv_same(&sn(&self.conv_b), h), 0.2);
        (conv_same(&self.out, h), vec![x1, x2, x3, u])
    }
}

/// Power-iteration steps of [`spectral_norm`]'s estimate (from the same start every call).
const SPECTRAL_ITERATIONS: usize = 16;

/// `conv` with its weight divided by its largest singular value σ (Miyato et al. 2018): u and v
/// from power iteration on the detached weight matrix [out, in·k²], then W / (uᵀ W v) with u and
/// v constants, so the gradient is PyTorch's `spectral_norm`'s. PyTorch keeps u between steps and
/// iterates once per call; this keeps no state (burn modules are immutable in `forward`) and
/// iterates from a fixed start, so σ is never stale. Records are unchanged (the raw weight).
pub fn spectral_norm<B: Backend>(conv: &Conv2d<B>) -> Conv2d<B> {
    let w = conv.weight.val();
    let [co, ci, kh, kw] = w.dims();
    let n = ci * kh * kw;
    let m = w.clone().reshape([co, n]);
    let fixed = m.clone().detach();
    let unit = |t: Tensor<B, 2>| t.clone() / (t.powf_scalar(2.0).sum().sqrt().reshape([1, 1]) + 1e-12);
    // A fixed, non-constant start (a constant vector can be orthogonal to the top singular vector).
    let start: Vec<f32> = (0..n).map(|i| 1.0 + ((i * 7919) % 13) as f32 / 13.0).collect();
    let mut v = unit(Tensor::<B, 1>::from_floats(start.as_slice(), &w.device()).reshape([n, 1]));
    let mut u = unit(fixed.clone().matmul(v.clone()));
    for _ in 0..SPECTRAL_ITERATIONS {
        v = unit(fixed.clone().transpose().matmul(u.clone()));
        u = unit(fixed.clone().matmul(v.clone()));
    }
    let sigma = u.transpose().matmul(m.matmul(v)).reshape([1, 1, 1, 1]);
    Conv2d { weight: Param::initialized(conv.weight.id, w / sigma), ..conv.clone() }
}

/// Which discriminator to train against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "kebab-case")]
pub enum DiscriminatorConfig {
    /// SRGAN VGG-style classifier.
    Vgg(VggDiscriminatorConfig),
    /// U-Net per-pixel discriminator.
    Unet(UNetDiscriminatorConfig),
}

/// Either discriminator as one module.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Discriminator<B: Backend> {
    /// SRGAN VGG-style classifier.
    Vgg(VggDiscriminator<B>),
    /// U-Net per-pixel discriminator.
    Unet(UNetDiscriminator<B>),
}

impl DiscriminatorConfig {
    /// Parse `vgg` or `unet` for HR patches of `patch_size`.
    pub fn from_arch(arch: &str, patch_size: usize) -> SrResult<Self> {
        match arch.to_ascii_lowercase().as_str() {
            "vgg" | "srgan" => Ok(DiscriminatorConfig::Vgg(VggDiscriminatorConfig::new().with_patch_size(patch_size))),
            "unet" | "u-net" | "patch" => Ok(DiscriminatorConfig::Unet(UNetDiscriminatorConfig::new())),
            other => Err(SrError::Config(format!("unknown discriminator '{other}' (vgg, unet)"))),
        }
    }

    /// The same discriminator with `features` channels in its first level (a narrower U-Net costs
    /// about the square less: 32 instead of Real-ESRGAN's 64 is ≈ 4× cheaper on a CPU).
    pub fn with_features(self, features: usize) -> Self {
        match self {
            DiscriminatorConfig::Vgg(c) => DiscriminatorConfig::Vgg(c.with_features(features)),
            DiscriminatorConfig::Unet(c) => DiscriminatorConfig::Unet(c.with_features(features)),
        }
    }

    /// Build it.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SrResult<Discriminator<B>> {
        let d = match self {
            DiscriminatorConfig::Vgg(c) => Discriminator::Vgg(c.init(device)?),
            DiscriminatorConfig::Unet(c) => Discriminator::Unet(c.init(device)),
        };
        crate::store::param_shapes::<B, _>(&d); // materialise lazily initialised weights
        Ok(d)
    }
}

impl<B: Backend> Discriminator<B> {
    /// Logits flattened to `[N, K]` (K = 1 or one per pixel) and intermediate features.
    pub fn forward(&self, x: Tensor<B, 4>) -> (Tensor<B, 2>, Vec<Tensor<B, 4>>) {
        match self {
            Discriminator::Vgg(d) => d.forward(x),
            Discriminator::Unet(d) => {
                let (logits, feats) = d.forward(x);
                (logits.flatten::<2>(1, 3), feats)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    #[test]
    fn discriminators_give_logits_for_their_patch_size() {
        let d = Default::default();
        let x = Tensor::<Flex, 4>::random([2, 3, 32, 32], Distribution::Default, &d);
        let vgg =
            DiscriminatorConfig::Vgg(VggDiscriminatorConfig::new().with_patch_size(32).with_features(4).with_hidden(8));
        let (logits, feats) = vgg.init::<Flex>(&d).unwrap().forward(x.clone());
        assert_eq!(logits.dims(), [2, 1]);
        assert_eq!(feats.len(), 4);
        assert_eq!(feats[3].dims(), [2, 32, 2, 2]);
        let unet = DiscriminatorConfig::Unet(UNetDiscriminatorConfig::new().with_features(4));
        let (logits, feats) = unet.init::<Flex>(&d).unwrap().forward(x);
        assert_eq!(logits.dims(), [2, 32 * 32]);
        assert_eq!(feats.len(), 4);
        assert!(DiscriminatorConfig::from_arch("vgg", 40).unwrap().init::<Flex>(&d).is_err());
    }

    #[test]
    fn spectral_norm_gives_the_weight_unit_largest_singular_value_and_its_gradient() {
        use burn::backend::Autodiff;
        type A = Autodiff<Flex>;
        let d = Default::default();
        // A fixed weight (burn's initialiser is unseeded: with an unlucky draw the top two singular
        // values are so close that 16 steps leave σ 2 % low, harmless for training but not a test).
        let mut c = conv(6, 5, 3).init::<A>(&d);
        let mut state = 12_345u64;
        let values: Vec<f32> = (0..5 * 54)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let fixed = Tensor::<A, 1>::from_floats(values.as_slice(), &d).reshape([5, 6, 3, 3]).require_grad();
        c.weight = Param::initialized(c.weight.id, fixed);
        let sn = spectral_norm(&c);
        // σ of the normalised weight, by many more power iterations than the estimate uses.
        let m = sn.weight.val().inner().reshape([5, 54]);
        let g = m.clone().matmul(m.clone().transpose()); // MMᵀ: its top eigenvalue is σ²
        let mut x = Tensor::<Flex, 2>::ones([5, 1], &d);
        for _ in 0..200 {
            let y = g.clone().matmul(x.clone());
            x = y.clone() / y.powf_scalar(2.0).sum().sqrt().reshape([1, 1]);
        }
        let sigma2 = x.clone().transpose().matmul(g.matmul(x)).into_scalar();
        // Power iteration approaches σ from below, so the normalised σ is 1 or a little above.
        let s = sigma2.sqrt();
        assert!((0.999..1.005).contains(&s), "largest singular value after normalisation: {s}");
        // The gradient reaches the raw weight through W / σ(W).
        let x = Tensor::<A, 4>::random([1, 6, 8, 8], Distribution::Default, &d);
        let grads = conv_same(&sn, x).sum().backward();
        let gw = c.weight.val().grad(&grads).expect("the raw weight gets a gradient");
        assert!(gw.abs().sum().into_scalar() > 0.0);
    }
}
