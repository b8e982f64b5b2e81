//! Generators: a lightweight CPU-first network, SRResNet (the SRGAN generator) and RRDBNet (ESRGAN).
//!
//! Every generator maps `[N, C, H, W]` images in [0, 1] to `[N, C, H·scale, W·scale]` as a
//! residual on top of the MATLAB-bicubic upsampled input (never nearest-neighbour: a residual on
//! nearest must learn interpolation itself, and a weak one leaves a block grid), with sub-pixel
//! convolutions ICNR-initialised, so an untrained network starts at plain bicubic.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{PRelu, PReluConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;
use serde::{Deserialize, Serialize};

use crate::error::SrError;
use crate::fast_conv::{conv_same, conv_upsampled};
type SrResult<T> = crate::error::Result<T>;
use crate::pixel_shuffle::{pixel_shuffle, pixel_unshuffle, upsample_bicubic};

/// A 3×3 (or k×k) "same" convolution.
pub(crate) fn conv(cin: usize, cout: usize, k: usize) -> Conv2dConfig {
    Conv2dConfig::new([cin, cout], [k, k]).with_padding(PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2))
}

/// Scale a freshly initialised convolution's weights (small last layers make residual nets start near identity).
fn scaled<B: Backend>(mut c: Conv2d<B>, factor: f64) -> Conv2d<B> {
    c.weight = c.weight.map(|w| trainable(w * factor));
    if let Some(b) = c.bias.take() {
        c.bias = Some(b.map(|b| trainable(b * 0.0)));
    }
    c
}

/// A re-initialised parameter value as a fresh autodiff leaf. `Param::map(|w| w * k)` alone leaves
/// a *computed* tensor whose gradient goes to the discarded original and never to the parameter:
/// such a layer silently never trains (every `scaled`/ICNR layer did, until 2026-12-02).
pub(crate) fn trainable<B: Backend, const D: usize>(t: Tensor<B, D>) -> Tensor<B, D> {
    t.detach().require_grad()
}

/// ICNR initialisation (Aitken et al. 2017) of a convolution feeding `pixel_shuffle(·, r)`: the
/// r² sub-pixel filters of each output channel start identical, so the shuffled output starts
/// free of the chequerboard pattern that independent random filters give.
pub fn icnr<B: Backend>(mut conv: Conv2d<B>, r: usize, factor: f64) -> Conv2d<B> {
    conv.weight = conv.weight.map(|w| {
        let [co, ci, kh, kw] = w.dims();
        let c = co / (r * r);
        let w = w
            .reshape([c, r * r, ci, kh, kw])
            .slice([0..c, 0..1, 0..ci, 0..kh, 0..kw])
            .repeat_dim(1, r * r)
            .reshape([co, ci, kh, kw]);
        trainable(w * factor)
    });
    if let Some(b) = conv.bias.take() {
        conv.bias = Some(b.map(|b| trainable(b * 0.0)));
    }
    conv
}

fn check_scale(scale: usize) -> SrResult<()> {
    if matches!(scale, 1 | 2 | 4) {
        Ok(())
    } else {
        Err(SrError::Config(format!("scale must be 1, 2 or 4 (got {scale})")))
    }
}

// ---------------------------------------------------------------------------------------------
// Lightweight generator
// ---------------------------------------------------------------------------------------------

/// Configuration of [`LightSr`], the lightweight CPU-first generator (SPAN/RLFN-like: plain 3×3 convs + pixel shuffle).
#[derive(Config, Debug, PartialEq)]
pub struct LightSrConfig {
    /// Output / input size ratio: 1 (same-size "prettify" translation), 2 or 4.
    #[config(default = 4)]
    pub scale: usize,
    /// Image channels (3 for RGB).
    #[config(default = 3)]
    pub channels: usize,
    /// Feature channels of the body.
    #[config(default = 56)]
    pub features: usize,
    /// Residual blocks (two 3×3 convolutions each).
    #[config(default = 5)]
    pub blocks: usize,
    /// Whether each block applies its LeakyReLU after the skip sum (`None` = yes: the bundled
    /// models' design). `Some(false)` keeps the skip path linear (EDSR's block,
    /// `--arch light-plain`), so gradients reach early blocks undamped.
    pub skip_activation: Option<bool>,
}

/// One residual block: conv → LeakyReLU → conv, plus the skip (then LeakyReLU unless plain).
#[derive(Module, Debug)]
pub struct LightBlock<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    plain: bool,
}

impl<B: Backend> LightBlock<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let h = leaky_relu(conv_same(&self.conv1, x.clone()), 0.05);
        let sum = conv_same(&self.conv2, h) + x;
        if self.plain { sum } else { leaky_relu(sum, 0.05) }
    }
}

/// Lightweight generator (≈0.34M parameters by default). With `scale = 1` it works at half resolution
/// (pixel-unshuffle by 2 in, pixel-shuffle by 2 out), four times cheaper than a full-resolution body.
#[derive(Module, Debug)]
pub struct LightSr<B: Backend> {
    head: Conv2d<B>,
    blocks: Vec<LightBlock<B>>,
    fuse: Conv2d<B>,
    tail: Conv2d<B>,
    scale: usize,
}

impl LightSrConfig {
    /// Build the network with fresh weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SrResult<LightSr<B>> {
        check_scale(self.scale)?;
        let r = self.inner_shuffle();
        let (c, f) = (self.channels, self.features);
        let in_c = if self.scale == 1 { c * 4 } else { c };
        Ok(LightSr {
            head: conv(in_c, f, 3).init(device),
            blocks: (0..self.blocks)
                .map(|_| LightBlock {
                    conv1: conv(f, f, 3).init(device),
                    conv2: scaled(conv(f, f, 3).init(device), 0.5),
                    plain: self.skip_activation == Some(false),
                })
                .collect(),
            fuse: conv(f, f, 3).init(device),
            tail: icnr(conv(f, c * r * r, 3).init(device), r, 0.1),
            scale: self.scale,
        })
    }

    fn inner_shuffle(&self) -> usize {
        if self.scale == 1 { 2 } else { self.scale }
    }
}

impl<B: Backend> LightSr<B> {
    /// Enhance / upscale a batch `[N, C, H, W]` → `[N, C, H·scale, W·scale]` (H, W even when scale = 1).
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let anchor = upsample_bicubic(x.clone(), self.scale);
        let (h, r) = if self.scale == 1 { (pixel_unshuffle(x, 2), 2) } else { (x, self.scale) };
        let f0 = leaky_relu(conv_same(&self.head, h), 0.05);
        let mut f = f0.clone();
        for b in &self.blocks {
            f = b.forward(f);
        }
        let f = conv_same(&self.fuse, f) + f0;
        pixel_shuffle(conv_same(&self.tail, f), r) + anchor
    }
}

// ---------------------------------------------------------------------------------------------
// SRResNet
// ---------------------------------------------------------------------------------------------

/// Configuration of [`SrResNet`], the SRGAN generator (Ledig et al. 2017) without batch norm (as in EDSR/BasicSR's MSRResNet).
#[derive(Config, Debug, PartialEq)]
pub struct SrResNetConfig {
    /// Output / input size ratio: 1, 2 or 4.
    #[config(default = 4)]
    pub scale: usize,
    /// Image channels.
    #[config(default = 3)]
    pub channels: usize,
    /// Feature channels.
    #[config(default = 64)]
    pub features: usize,
    /// Residual blocks.
    #[config(default = 16)]
    pub blocks: usize,
}

/// SRResNet residual block: conv → PReLU → conv + skip.
#[derive(Module, Debug)]
pub struct ResBlock<B: Backend> {
    conv1: Conv2d<B>,
    act: PRelu<B>,
    conv2: Conv2d<B>,
}

/// One ×2 sub-pixel upsampling stage: conv (f → 4f) → PixelShuffle(2) → PReLU.
#[derive(Module, Debug)]
pub struct UpsampleBlock<B: Backend> {
    conv: Conv2d<B>,
    act: PRelu<B>,
}

/// SRResNet / SRGAN generator: 9×9 head, residual blocks with PReLU, sub-pixel upsampling, 9×9 tail.
#[derive(Module, Debug)]
pub struct SrResNet<B: Backend> {
    head: Conv2d<B>,
    head_act: PRelu<B>,
    blocks: Vec<ResBlock<B>>,
    body_conv: Conv2d<B>,
    upsample: Vec<UpsampleBlock<B>>,
    tail: Conv2d<B>,
    scale: usize,
}

impl SrResNetConfig {
    /// Build the network with fresh weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SrResult<SrResNet<B>> {
        check_scale(self.scale)?;
        let (c, f) = (self.channels, self.features);
        let stages = self.scale.trailing_zeros() as usize;
        Ok(SrResNet {
            head: conv(c, f, 9).init(device),
            head_act: PReluConfig::new().init(device),
            blocks: (0..self.blocks)
                .map(|_| ResBlock {
                    conv1: conv(f, f, 3).init(device),
                    act: PReluConfig::new().init(device),
                    conv2: scaled(conv(f, f, 3).init(device), 0.1),
                })
                .collect(),
            body_conv: conv(f, f, 3).init(device),
            upsample: (0..stages)
                .map(|_| UpsampleBlock {
                    conv: icnr(conv(f, 4 * f, 3).init(device), 2, 1.0),
                    act: PReluConfig::new().init(device),
                })
                .collect(),
            tail: scaled(conv(f, c, 9).init(device), 0.1),
            scale: self.scale,
        })
    }
}

impl<B: Backend> SrResNet<B> {
    /// Upscale a batch `[N, C, H, W]` → `[N, C, H·scale, W·scale]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let anchor = upsample_bicubic(x.clone(), self.scale);
        let f0 = self.head_act.forward(conv_same(&self.head, x));
        let mut f = f0.clone();
        for b in &self.blocks {
            f = conv_same(&b.conv2, b.act.forward(conv_same(&b.conv1, f.clone()))) + f;
        }
        let mut f = conv_same(&self.body_conv, f) + f0;
        for u in &self.upsample {
            f = u.act.forward(pixel_shuffle(conv_same(&u.conv, f), 2));
        }
        conv_same(&self.tail, f) + anchor
    }
}

// ---------------------------------------------------------------------------------------------
// RRDBNet
// ---------------------------------------------------------------------------------------------

/// Configuration of [`RrdbNet`], the ESRGAN / Real-ESRGAN generator (Wang et al. 2018).
#[derive(Config, Debug, PartialEq)]
pub struct RrdbNetConfig {
    /// Output / input size ratio: 1, 2 or 4.
    #[config(default = 4)]
    pub scale: usize,
    /// Image channels.
    #[config(default = 3)]
    pub channels: usize,
    /// Feature channels (64 in ESRGAN).
    #[config(default = 64)]
    pub features: usize,
    /// Growth channels of the dense blocks (32 in ESRGAN).
    #[config(default = 32)]
    pub growth: usize,
    /// Residual-in-residual dense blocks (23 in ESRGAN).
    #[config(default = 23)]
    pub blocks: usize,
}

/// Residual dense block: five densely connected 3×3 convs, residual scaled by 0.2.
#[derive(Module, Debug)]
pub struct ResidualDenseBlock<B: Backend> {
    convs: Vec<Conv2d<B>>,
}

impl<B: Backend> ResidualDenseBlock<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut feats = vec![x.clone()];
        let last = self.convs.len() - 1;
        for (i, c) in self.convs.iter().enumerate() {
            let y = conv_same(c, Tensor::cat(feats.clone(), 1));
            if i == last {
                return y * 0.2 + x;
            }
            feats.push(leaky_relu(y, 0.2));
        }
        x
    }
}

/// Residual-in-residual dense block: three dense blocks, residual scaled by 0.2.
#[derive(Module, Debug)]
pub struct Rrdb<B: Backend> {
    rdbs: Vec<ResidualDenseBlock<B>>,
}

/// RRDBNet generator (ESRGAN): RRDB trunk, nearest-upsample + conv stages.
#[derive(Module, Debug)]
pub struct RrdbNet<B: Backend> {
    conv_first: Conv2d<B>,
    body: Vec<Rrdb<B>>,
    conv_body: Conv2d<B>,
    conv_up: Vec<Conv2d<B>>,
    conv_hr: Conv2d<B>,
    conv_last: Conv2d<B>,
    scale: usize,
}

impl RrdbNetConfig {
    /// Build the network with fresh weights (dense-block convs scaled by 0.1 as in ESRGAN).
    pub fn init<B: Backend>(&self, device: &B::Device) -> SrResult<RrdbNet<B>> {
        check_scale(self.scale)?;
        let (c, f, g) = (self.channels, self.features, self.growth);
        let rdb = || ResidualDenseBlock {
            convs: (0..5)
                .map(|i| {
                    let out = if i == 4 { f } else { g };
                    scaled(conv(f + i * g, out, 3).init(device), 0.1)
                })
                .collect(),
        };
        Ok(RrdbNet {
            conv_first: conv(c, f, 3).init(device),
            body: (0..self.blocks).map(|_| Rrdb { rdbs: (0..3).map(|_| rdb()).collect() }).collect(),
            conv_body: conv(f, f, 3).init(device),
            conv_up: (0..self.scale.trailing_zeros()).map(|_| conv(f, f, 3).init(device)).collect(),
            conv_hr: conv(f, f, 3).init(device),
            conv_last: scaled(conv(f, c, 3).init(device), 0.1),
            scale: self.scale,
        })
    }
}

impl<B: Backend> RrdbNet<B> {
    /// Upscale a batch `[N, C, H, W]` → `[N, C, H·scale, W·scale]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let anchor = upsample_bicubic(x.clone(), self.scale);
        let f0 = conv_same(&self.conv_first, x);
        let mut f = f0.clone();
        for block in &self.body {
            let mut h = f.clone();
            for rdb in &block.rdbs {
                h = rdb.forward(h);
            }
            f = h * 0.2 + f;
        }
        let mut f = conv_same(&self.conv_body, f) + f0;
        for c in &self.conv_up {
            f = leaky_relu(conv_upsampled(c, f), 0.2);
        }
        conv_same(&self.conv_last, leaky_relu(conv_same(&self.conv_hr, f), 0.2)) + anchor
    }
}

// ---------------------------------------------------------------------------------------------
// Any generator
// ---------------------------------------------------------------------------------------------

/// Which generator and its hyper-parameters; saved as JSON next to (and inside) every model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "kebab-case")]
pub enum GeneratorConfig {
    /// The lightweight CPU-first network.
    Light(LightSrConfig),
    /// SRResNet / SRGAN generator.
    SrResNet(SrResNetConfig),
    /// ESRGAN RRDBNet.
    Rrdb(RrdbNetConfig),
}

/// Any of the generators, as one burn module (so training and inference code handle them alike).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Generator<B: Backend> {
    /// The lightweight CPU-first network.
    Light(LightSr<B>),
    /// SRResNet / SRGAN generator.
    SrResNet(SrResNet<B>),
    /// ESRGAN RRDBNet.
    Rrdb(RrdbNet<B>),
}

impl<B: Backend> GeneratorRecord<B> {
    /// The architecture and the lengths of the record's layer lists. burn panics when a record's
    /// list is longer or shorter than the module's, so loading compares these first (a forged
    /// header's `blocks`, found by the `srmodel` fuzz target).
    pub fn layer_counts(&self) -> (&'static str, Vec<usize>) {
        match self {
            GeneratorRecord::Light(r) => ("light", vec![r.blocks.len()]),
            GeneratorRecord::SrResNet(r) => ("srresnet", vec![r.blocks.len(), r.upsample.len()]),
            GeneratorRecord::Rrdb(r) => ("rrdb", vec![r.body.len(), r.conv_up.len()]),
        }
    }
}

impl GeneratorConfig {
    /// The default lightweight generator at this scale.
    pub fn light(scale: usize) -> Self {
        GeneratorConfig::Light(LightSrConfig::new().with_scale(scale))
    }

    /// Parse an architecture name (`light`, `srresnet`, `rrdb`) into its default configuration.
    pub fn from_arch(arch: &str, scale: usize) -> SrResult<Self> {
        Ok(match arch.to_ascii_lowercase().as_str() {
            "light" | "lightweight" => GeneratorConfig::light(scale),
            "light-plain" => {
                GeneratorConfig::Light(LightSrConfig::new().with_scale(scale).with_skip_activation(Some(false)))
            }
            "srresnet" | "srgan" | "sr-res-net" => GeneratorConfig::SrResNet(SrResNetConfig::new().with_scale(scale)),
            "rrdb" | "rrdbnet" | "esrgan" => GeneratorConfig::Rrdb(RrdbNetConfig::new().with_scale(scale)),
            other => {
                return Err(SrError::Config(format!(
                    "unknown architecture '{other}' (light, light-plain, srresnet, rrdb)"
                )));
            }
        })
    }

    /// Output / input size ratio.
    pub fn scale(&self) -> usize {
        match self {
            GeneratorConfig::Light(c) => c.scale,
            GeneratorConfig::SrResNet(c) => c.scale,
            GeneratorConfig::Rrdb(c) => c.scale,
        }
    }

    /// Image channels.
    pub fn channels(&self) -> usize {
        match self {
            GeneratorConfig::Light(c) => c.channels,
            GeneratorConfig::SrResNet(c) => c.channels,
            GeneratorConfig::Rrdb(c) => c.channels,
        }
    }

    /// Short architecture name.
    pub fn arch(&self) -> &'static str {
        match self {
            GeneratorConfig::Light(_) => "light",
            GeneratorConfig::SrResNet(_) => "srresnet",
            GeneratorConfig::Rrdb(_) => "rrdb",
        }
    }

    /// Input sides must be a multiple of this (the ×1 lightweight net works at half resolution).
    pub fn size_multiple(&self) -> usize {
        match self {
            GeneratorConfig::Light(c) if c.scale == 1 => 2,
            _ => 1,
        }
    }

    /// A human description, e.g. `light ×4`.
    pub fn describe(&self) -> String {
        format!("{} ×{}", self.arch(), self.scale())
    }

    /// Build the generator with fresh weights (materialised now: burn initialises parameters
    /// lazily, and clones of a never-read module would otherwise draw different weights).
    pub fn init<B: Backend>(&self, device: &B::Device) -> SrResult<Generator<B>> {
        let g = match self {
            GeneratorConfig::Light(c) => Generator::Light(c.init(device)?),
            GeneratorConfig::SrResNet(c) => Generator::SrResNet(c.init(device)?),
            GeneratorConfig::Rrdb(c) => Generator::Rrdb(c.init(device)?),
        };
        param_shapes::<B, _>(&g);
        Ok(g)
    }
}

impl<B: Backend> Generator<B> {
    /// Upscale / enhance a batch `[N, C, H, W]` in [0, 1].
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Generator::Light(m) => m.forward(x),
            Generator::SrResNet(m) => m.forward(x),
            Generator::Rrdb(m) => m.forward(x),
        }
    }
}

/// Shapes of every float parameter, in visiting order (reading them also materialises lazily
/// initialised weights): `ml_core::model_file`'s, the one shape check of every model file.
pub use ml_core::model_file::param_shapes;

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::module::{ModuleVisitor, Param};

    #[test]
    fn every_generator_produces_the_scaled_shape() {
        let device = Default::default();
        for scale in [1, 2, 4] {
            let configs = [
                GeneratorConfig::light(scale),
                GeneratorConfig::SrResNet(SrResNetConfig::new().with_scale(scale).with_features(8).with_blocks(2)),
                GeneratorConfig::Rrdb(
                    RrdbNetConfig::new().with_scale(scale).with_features(8).with_growth(4).with_blocks(1),
                ),
            ];
            for cfg in configs {
                let g = cfg.init::<Flex>(&device).unwrap();
                let x = Tensor::<Flex, 4>::random([2, 3, 8, 6], burn::tensor::Distribution::Default, &device);
                let y = g.forward(x);
                assert_eq!(y.dims(), [2, 3, 8 * scale, 6 * scale], "{}", cfg.describe());
            }
        }
    }

    #[test]
    fn untrained_generators_start_at_plain_bicubic() {
        let device = Default::default();
        // A smooth image with structure: the residual at initialisation must be small next to bicubic.
        let (h, w) = (12, 16);
        let mut p = astro_image::Planes::zeros(3, h, w);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    p.plane_mut(c)[y * w + x] =
                        0.3 + 0.2 * ((x as f32 * 0.4 + c as f32).sin() * (y as f32 * 0.3).cos());
                }
            }
        }
        let bicubic = astro_image::resize::imresize(&p, w * 4, h * 4);
        use dataset::PlanesTensor;
        let x = p.to_tensor::<Flex>(&device).unsqueeze::<4>();
        for cfg in [GeneratorConfig::light(4), GeneratorConfig::SrResNet(SrResNetConfig::new().with_blocks(2))] {
            let y = cfg.init::<Flex>(&device).unwrap().forward(x.clone());
            let y = astro_image::Planes::from_tensor(y.squeeze_dim::<3>(0)).unwrap();
            let mean_abs: f32 =
                y.data.iter().zip(&bicubic.data).map(|(a, b)| (a - b).abs()).sum::<f32>() / y.data.len() as f32;
            assert!(mean_abs < 0.03, "{}: mean |G(x) − bicubic| = {mean_abs}", cfg.describe());
        }
        // The anchor itself is exactly MATLAB bicubic.
        let a = upsample_bicubic(x, 4);
        let a = astro_image::Planes::from_tensor(a.squeeze_dim::<3>(0)).unwrap();
        let max = a.data.iter().zip(&bicubic.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(max < 1e-5, "bicubic anchor differs from imresize by {max}");
    }

    #[test]
    fn icnr_makes_the_shuffled_tail_output_free_of_a_subpixel_pattern() {
        let device = Default::default();
        let tail = icnr(conv(4, 3 * 16, 3).init::<Flex>(&device), 4, 1.0);
        let f = Tensor::<Flex, 4>::random([1, 4, 6, 6], burn::tensor::Distribution::Default, &device);
        let y = pixel_shuffle(tail.forward(f), 4);
        // Every 4×4 block is constant: the output is a nearest-upsampled image, no chequerboard.
        let d: Vec<f32> = y.clone().into_data().to_vec().unwrap();
        for c in 0..3 {
            for by in 0..6 {
                for bx in 0..6 {
                    let v0 = d[c * 576 + (by * 4) * 24 + bx * 4];
                    for i in 0..4 {
                        for j in 0..4 {
                            let v = d[c * 576 + (by * 4 + i) * 24 + bx * 4 + j];
                            assert!((v - v0).abs() < 1e-5);
                        }
                    }
                }
            }
        }
    }

    /// Float parameters of `m` that got no gradient, or an all-zero one, from `grads`.
    fn untrained_params<A: burn::tensor::backend::AutodiffBackend, M: Module<A>>(
        m: &M,
        grads: &burn::optim::GradientsParams,
    ) -> Vec<String> {
        struct V<'a>(&'a burn::optim::GradientsParams, usize, Vec<String>);
        impl<A: burn::tensor::backend::AutodiffBackend> ModuleVisitor<A> for V<'_> {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
                let g = self.0.get::<A::InnerBackend, D>(p.id);
                let live = g.is_some_and(|g| g.abs().max().into_scalar().elem::<f32>() > 0.0);
                if !live {
                    self.2.push(format!("#{} {:?}", self.1, p.val().dims()));
                }
                self.1 += 1;
            }
        }
        let mut v = V(grads, 0, Vec::new());
        m.visit(&mut v);
        v.2
    }

    #[test]
    fn every_generator_parameter_receives_a_gradient() {
        // Re-initialised layers (`scaled`, ICNR) once were computed tensors, not autodiff leaves:
        // their gradient went nowhere and they never trained. Fresh and loaded models must both train.
        use burn::backend::Autodiff;
        type A = Autodiff<Flex>;
        let device = Default::default();
        for scale in [1, 2, 4] {
            let configs = [
                GeneratorConfig::light(scale),
                GeneratorConfig::from_arch("light-plain", scale).unwrap(),
                GeneratorConfig::SrResNet(SrResNetConfig::new().with_scale(scale).with_features(8).with_blocks(2)),
                GeneratorConfig::Rrdb(
                    RrdbNetConfig::new().with_scale(scale).with_features(8).with_growth(4).with_blocks(1),
                ),
            ];
            for cfg in configs {
                let fresh = cfg.init::<A>(&device).unwrap();
                let bytes = crate::store::model_to_bytes(&cfg, &fresh).unwrap();
                let (_, loaded) = crate::store::model_from_bytes::<A>(&bytes, "m".as_ref(), None, &device).unwrap();
                for (how, g) in [("fresh", fresh), ("loaded", loaded)] {
                    let x = Tensor::<A, 4>::random([2, 3, 8, 6], burn::tensor::Distribution::Default, &device);
                    let t = Tensor::<A, 4>::random(
                        [2, 3, 8 * scale, 6 * scale],
                        burn::tensor::Distribution::Default,
                        &device,
                    );
                    let loss = (g.forward(x) - t).powi_scalar(2).mean();
                    let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &g);
                    let dead = untrained_params(&g, &grads);
                    assert!(
                        dead.is_empty(),
                        "{} ×{scale} ({how}): parameters without gradient: {dead:?}",
                        cfg.describe()
                    );
                }
            }
        }
    }

    #[test]
    fn lightweight_generator_is_in_the_spec_parameter_range() {
        let g = GeneratorConfig::light(4).init::<Flex>(&Default::default()).unwrap();
        let n = g.num_params();
        assert!((300_000..=600_000).contains(&n), "{n} parameters");
    }

    #[test]
    fn srresnet_and_rrdb_defaults_match_the_papers_sizes() {
        let d = Default::default();
        let n = GeneratorConfig::from_arch("srresnet", 4).unwrap().init::<Flex>(&d).unwrap().num_params();
        assert!((1_400_000..1_700_000).contains(&n), "SRResNet {n}");
        let n = GeneratorConfig::from_arch("rrdb", 4).unwrap().init::<Flex>(&d).unwrap().num_params();
        assert!((16_000_000..17_200_000).contains(&n), "RRDBNet {n}");
    }

    #[test]
    fn config_round_trips_through_json_and_refuses_bad_scale() {
        let cfg = GeneratorConfig::from_arch("rrdb", 2).unwrap();
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains("\"arch\":\"rrdb\""), "{json}");
        let back: GeneratorConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
        assert!(GeneratorConfig::light(3).init::<Flex>(&Default::default()).is_err());
        assert!(GeneratorConfig::from_arch("vgg", 4).is_err());
    }
}
