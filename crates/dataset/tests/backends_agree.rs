//! The same small convolutional network gives the same outputs on Flex and NdArray.

use burn::backend::{Flex, NdArray};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{PaddingConfig2d, Relu};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Distribution, Tensor, TensorData, backend::Backend};

#[derive(Module, Debug)]
struct TinyNet<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    relu: Relu,
}

impl<B: Backend> TinyNet<B> {
    fn new(device: &B::Device) -> Self {
        let conv = |i, o| Conv2dConfig::new([i, o], [3, 3]).with_padding(PaddingConfig2d::Same).init(device);
        TinyNet { conv1: conv(3, 16), conv2: conv(16, 3), relu: Relu::new() }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.conv2.forward(self.relu.forward(self.conv1.forward(x)))
    }
}

#[test]
fn flex_and_ndarray_agree_within_1e_4() {
    let flex_dev = Default::default();
    let nd_dev = Default::default();
    // One set of random weights, serialised once and loaded into both backends (parameters are
    // initialised lazily, so both networks must come from the same bytes).
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = recorder.record(TinyNet::<Flex>::new(&flex_dev).into_record(), ()).unwrap();
    let flex_record = Recorder::<Flex>::load(&recorder, bytes.clone(), &flex_dev).unwrap();
    let flex_net = TinyNet::<Flex>::new(&flex_dev).load_record(flex_record);
    let nd_record = Recorder::<NdArray<f32>>::load(&recorder, bytes, &nd_dev).unwrap();
    let nd_net = TinyNet::<NdArray<f32>>::new(&nd_dev).load_record(nd_record);

    let input = Tensor::<Flex, 4>::random([2, 3, 24, 24], Distribution::Uniform(0.0, 1.0), &flex_dev);
    let input_data: TensorData = input.to_data();
    let out_flex = flex_net.forward(input).into_data().to_vec::<f32>().unwrap();
    let out_nd = nd_net.forward(Tensor::from_data(input_data, &nd_dev)).into_data().to_vec::<f32>().unwrap();

    assert_eq!(out_flex.len(), 2 * 3 * 24 * 24);
    let spread = out_flex.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(spread > 1e-3, "network output is trivially zero");
    let max_diff = out_flex.iter().zip(&out_nd).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(max_diff < 1e-4, "Flex and NdArray differ by {max_diff}");
}
