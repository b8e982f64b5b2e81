//! `DsoNet`: a compact CNN (≈0.3 M parameters) for 128×128 RGB deep-sky images.
//!
//! Stem (5×5 stride 2) → four 3×3 conv blocks with batch norm and ReLU (max-pooling after the
//! middle three) → an 8×8 feature map (used for class activation maps) → global average pooling →
//! dropout → linear classifier. Each image is standardised (zero mean, unit variance) inside the
//! network, so the model does not depend on the overall brightness of the upload.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

/// Architecture hyper-parameters of [`DsoNet`].
#[derive(Config, Debug)]
pub struct DsoNetConfig {
    /// Number of output classes (2 or 3).
    pub num_classes: usize,
    /// Output channels of the stem and of each conv block (the last one is the CAM feature map).
    #[config(default = "vec![24, 32, 64, 128, 192]")]
    pub channels: Vec<usize>,
    /// Dropout probability before the linear classifier.
    #[config(default = 0.3)]
    pub dropout: f64,
}

/// Conv → batch norm → ReLU.
#[derive(Module, Debug)]
pub struct ConvBlock<B: Backend> {
    conv: Conv2d<B>,
    norm: BatchNorm<B>,
    activation: Relu,
}

impl<B: Backend> ConvBlock<B> {
    fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize, device: &B::Device) -> Self {
        let pad = kernel / 2;
        let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(false)
            .init(device);
        ConvBlock { conv, norm: BatchNormConfig::new(c_out).init(device), activation: Relu::new() }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.activation.forward(self.norm.forward(self.conv.forward(x)))
    }
}

/// The deep-sky classifier network.
#[derive(Module, Debug)]
pub struct DsoNet<B: Backend> {
    blocks: Vec<ConvBlock<B>>,
    pool: MaxPool2d,
    dropout: Dropout,
    classifier: Linear<B>,
}

impl<B: Backend> DsoNetRecord<B> {
    /// Conv blocks the record holds (a model card declaring another count does not fit it).
    pub fn conv_layers(&self) -> usize {
        self.blocks.len()
    }
}

impl DsoNetConfig {
    /// Build a freshly initialised network on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DsoNet<B> {
        let mut blocks = Vec::with_capacity(self.channels.len());
        let mut c_in = 3;
        for (i, &c_out) in self.channels.iter().enumerate() {
            let (kernel, stride) = if i == 0 { (5, 2) } else { (3, 1) };
            blocks.push(ConvBlock::new(c_in, c_out, kernel, stride, device));
            c_in = c_out;
        }
        DsoNet {
            blocks,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            classifier: LinearConfig::new(c_in, self.num_classes).init(device),
        }
    }
}

impl<B: Backend> DsoNet<B> {
    /// The convolutional trunk: `[N, 3, H, W]` in [0, 1] → feature map `[N, C, H/16, W/16]`.
    pub fn features(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = images.dims();
        let flat = images.reshape([n, c * h * w]);
        let mean = flat.clone().mean_dim(1);
        let std = flat.clone().var(1).sqrt().add_scalar(1e-3);
        let mut x = flat.sub(mean).div(std).reshape([n, c, h, w]);
        let last = self.blocks.len() - 1;
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x);
            if i >= 1 && i < last {
                x = self.pool.forward(x);
            }
        }
        x
    }

    /// The head: feature map → class logits `[N, classes]` (global average pool, dropout, linear).
    pub fn head(&self, features: Tensor<B, 4>) -> Tensor<B, 2> {
        let [n, c, _, _] = features.dims();
        let pooled = features.mean_dim(3).mean_dim(2).reshape([n, c]);
        self.classifier.forward(self.dropout.forward(pooled))
    }

    /// The head without dropout (for gradients through the head, e.g. Grad-CAM on an autodiff backend).
    pub fn head_deterministic(&self, features: Tensor<B, 4>) -> Tensor<B, 2> {
        let [n, c, _, _] = features.dims();
        self.classifier.forward(features.mean_dim(3).mean_dim(2).reshape([n, c]))
    }

    /// Class logits for a batch of images `[N, 3, H, W]` in [0, 1].
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.head(self.features(images))
    }

    /// The classifier's weight matrix `[C, classes]` (for class activation maps).
    pub fn classifier_weights(&self) -> Tensor<B, 2> {
        self.classifier.weight.val()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn shapes_and_parameter_count_fit_a_compact_cpu_model() {
        let device = Default::default();
        let model = DsoNetConfig::new(3).init::<Flex>(&device);
        let x = Tensor::<Flex, 4>::ones([2, 3, 128, 128], &device);
        assert_eq!(model.features(x.clone()).dims(), [2, 192, 8, 8]);
        assert_eq!(model.forward(x).dims(), [2, 3]);
        let params = model.num_params();
        assert!((150_000..600_000).contains(&params), "{params} parameters");
    }
}
