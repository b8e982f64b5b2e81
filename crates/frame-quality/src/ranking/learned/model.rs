//! `RankNet`: a small CNN that scores a disc patch (logit of "this is a good frame").

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

/// Architecture of [`RankNet`].
#[derive(Config, Debug)]
pub struct RankNetConfig {
    /// Output channels of the 3×3 conv layers (2×2 max-pooling between them).
    #[config(default = "vec![8, 16, 32]")]
    pub channels: Vec<usize>,
}

/// Conv layers with ReLU and max-pooling, global average pooling, and a linear head to one logit.
#[derive(Module, Debug)]
pub struct RankNet<B: Backend> {
    convs: Vec<Conv2d<B>>,
    pool: MaxPool2d,
    gap: AdaptiveAvgPool2d,
    head: Linear<B>,
    act: Relu,
}

impl RankNetConfig {
    /// Build a freshly initialised network on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> RankNet<B> {
        let mut c_in = 1;
        let mut convs = Vec::new();
        for &c in &self.channels {
            convs.push(
                Conv2dConfig::new([c_in, c], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device),
            );
            c_in = c;
        }
        RankNet {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            gap: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            head: LinearConfig::new(c_in, 1).init(device),
            act: Relu::new(),
        }
    }
}

impl<B: Backend> RankNet<B> {
    /// Patches `[N, 1, S, S]` (brightness-normalised, mean ≈ 1) → logits `[N]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 1> {
        let mut x = x - 1.0;
        let last = self.convs.len().saturating_sub(1);
        for (i, conv) in self.convs.iter().enumerate() {
            x = self.act.forward(conv.forward(x));
            if i < last {
                x = self.pool.forward(x);
            }
        }
        let [n, c, _, _] = x.dims();
        let x = self.gap.forward(x).reshape([n, c]);
        self.head.forward(x).reshape([n])
    }
}
