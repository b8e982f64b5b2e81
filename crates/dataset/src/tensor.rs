//! Image planes ⇄ burn tensors `[C, H, W]` (the one place the pixel type meets burn).

use burn::tensor::{Tensor, TensorData, backend::Backend};

use crate::error::{DatasetError, Result};
use astro_image::image_io::Planes;

/// Conversions between [`Planes`] and burn tensors of shape `[C, H, W]`.
pub trait PlanesTensor: Sized {
    /// Convert to a burn tensor of shape `[C, H, W]`.
    fn to_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 3>;
    /// Build planes from a burn tensor of shape `[C, H, W]` (values are clamped to [0, 1]).
    fn from_tensor<B: Backend>(tensor: Tensor<B, 3>) -> Result<Self>;
}

impl PlanesTensor for Planes {
    fn to_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 3> {
        let data = TensorData::new(self.data.clone(), [self.channels, self.height, self.width]);
        Tensor::from_data(data, device)
    }

    fn from_tensor<B: Backend>(tensor: Tensor<B, 3>) -> Result<Planes> {
        let [c, h, w] = tensor.dims();
        if c != 1 && c != 3 {
            return Err(DatasetError::Shape(format!("tensor has {c} channels, expected 1 or 3")));
        }
        let data =
            tensor.into_data().convert::<f32>().to_vec::<f32>().map_err(|e| DatasetError::Shape(format!("{e:?}")))?;
        let mut planes = Planes::from_vec(c, h, w, data)?;
        planes.clamp01();
        Ok(planes)
    }
}

/// Stack equally shaped samples (each `c × h × w` values, channel-major) into one `[N, C, H, W]`
/// batch: the one image-list → NCHW conversion (planes, patches and crops all go through it).
pub fn stack_nchw<'a, B: Backend>(
    samples: impl ExactSizeIterator<Item = &'a [f32]>,
    [c, h, w]: [usize; 3],
    device: &B::Device,
) -> Tensor<B, 4> {
    let n = samples.len();
    let mut data = Vec::with_capacity(n * c * h * w);
    for s in samples {
        assert_eq!(s.len(), c * h * w, "stack_nchw: a sample of {} values, expected {c}x{h}x{w}", s.len());
        data.extend_from_slice(s);
    }
    Tensor::from_data(TensorData::new(data, [n, c, h, w]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_round_trip_keeps_layout() {
        type B = burn::backend::Flex;
        let p = Planes::from_vec(3, 5, 7, (0..105).map(|i| i as f32 / 104.0).collect()).unwrap();
        let t = p.to_tensor::<B>(&Default::default());
        assert_eq!(t.dims(), [3, 5, 7]);
        let q = Planes::from_tensor(t).unwrap();
        assert_eq!(p.data, q.data);
    }
}
