//! Class activation maps: where in the image the network saw its class.
//!
//! [`class_activation_map`] is CAM (Zhou et al. 2016): the last feature map weighted by the
//! linear classifier's weights for the class — exact for this global-average-pool architecture
//! and cheap on any backend. [`grad_cam`] is Grad-CAM (Selvaraju et al. 2017) through burn's
//! autodiff: the feature map is detached, marked `require_grad()`, the head run on it, and the
//! channel weights are the spatial means of the class score's gradient. For this architecture the
//! two agree up to a scale factor (tested). [`overlay_png`] renders a heat-map overlay.

use std::io::Cursor;

use astro_image::Planes;
use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, activation::relu};
use image::{ImageBuffer, Rgb, RgbImage};

use crate::data::prepare_image;
use crate::error::{DsoError, Result};
use crate::model::DsoNet;

/// A class activation map on the network's feature grid, normalised to [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Cam {
    /// Grid width.
    pub width: usize,
    /// Grid height.
    pub height: usize,
    /// Row-major activations in [0, 1] (1 = strongest evidence for the class).
    pub values: Vec<f32>,
    /// The class the map explains.
    pub class_index: usize,
}

fn normalised(map: Tensor<impl Backend, 2>, class_index: usize) -> Cam {
    let [h, w] = map.dims();
    let mut values = relu(map).into_data().convert::<f32>().to_vec::<f32>().unwrap_or_default();
    let max = values.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        values.iter_mut().for_each(|v| *v /= max);
    }
    Cam { width: w, height: h, values, class_index }
}

/// CAM for `class` of a single image `[1, 3, H, W]`.
pub fn class_activation_map<B: Backend>(model: &DsoNet<B>, image: Tensor<B, 4>, class: usize) -> Cam {
    let features = model.features(image);
    let [_, c, h, w] = features.dims();
    let weights = model.classifier_weights(); // [C, classes]
    let wc = weights.narrow(1, class, 1).reshape([1, c, 1, 1]);
    let map = (features * wc).sum_dim(1).reshape([h, w]);
    normalised(map, class)
}

/// Grad-CAM for `class` of a single image `[1, 3, H, W]`, through autodiff.
///
/// The trunk runs in inference mode (batch norm with running statistics, as in a prediction);
/// its feature map is then lifted into the autodiff graph with `require_grad()` and the head run
/// on it, so the gradient of the class score with respect to the feature map is exact.
pub fn grad_cam<B: AutodiffBackend>(model: &DsoNet<B>, image: Tensor<B, 4>, class: usize) -> Cam {
    let trunk = model.valid().features(image.inner());
    let features = Tensor::<B, 4>::from_inner(trunk).require_grad();
    let [_, c, h, w] = features.dims();
    let logits = model.head_deterministic(features.clone());
    let score = logits.narrow(1, class, 1).sum();
    let grads = score.backward();
    let inner = features.clone().inner();
    let map = match features.grad(&grads) {
        Some(g) => {
            let alpha = g.mean_dim(3).mean_dim(2).reshape([1, c, 1, 1]);
            (inner * alpha).sum_dim(1).reshape([h, w])
        }
        None => Tensor::zeros([h, w], &inner.device()),
    };
    normalised(map, class)
}

impl Cam {
    /// Bilinear upsampling of the map to `size × size` (pixel centres aligned).
    pub fn upsample(&self, size: usize) -> Vec<f32> {
        let mut out = vec![0.0; size * size];
        let (gw, gh) = (self.width as f32, self.height as f32);
        for y in 0..size {
            let fy = ((y as f32 + 0.5) * gh / size as f32 - 0.5).clamp(0.0, gh - 1.0);
            let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
            let y1 = (y0 + 1).min(self.height - 1);
            for x in 0..size {
                let fx = ((x as f32 + 0.5) * gw / size as f32 - 0.5).clamp(0.0, gw - 1.0);
                let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
                let x1 = (x0 + 1).min(self.width - 1);
                let v = |xx: usize, yy: usize| self.values[yy * self.width + xx];
                let top = v(x0, y0) * (1.0 - tx) + v(x1, y0) * tx;
                let bottom = v(x0, y1) * (1.0 - tx) + v(x1, y1) * tx;
                out[y * size + x] = top * (1.0 - ty) + bottom * ty;
            }
        }
        out
    }
}

/// A perceptual "inferno"-like colour ramp: black → purple → orange → yellow.
pub fn heat_colour(t: f32) -> [f32; 3] {
    const STOPS: [[f32; 3]; 5] =
        [[0.0, 0.0, 0.02], [0.34, 0.06, 0.43], [0.73, 0.21, 0.33], [0.98, 0.55, 0.04], [0.99, 1.0, 0.64]];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]
}

/// Render the image (centre square, `size × size`) with the CAM blended over it as a heat map.
pub fn overlay_image(image: &Planes, cam: &Cam, size: usize) -> RgbImage {
    let base = prepare_image(image, size);
    let heat = cam.upsample(size);
    let n = size * size;
    ImageBuffer::from_fn(size as u32, size as u32, |x, y| {
        let i = y as usize * size + x as usize;
        let t = heat[i];
        let colour = heat_colour(t);
        let alpha = 0.25 + 0.45 * t;
        let px = |c: usize| {
            let v = base.data[c * n + i] * (1.0 - alpha) + colour[c] * alpha;
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        };
        Rgb([px(0), px(1), px(2)])
    })
}

/// [`overlay_image`] encoded as PNG bytes.
pub fn overlay_png(image: &Planes, cam: &Cam, size: usize) -> Result<Vec<u8>> {
    let img = overlay_image(image, cam, size);
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| DsoError::Config(format!("cannot encode CAM overlay: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DsoNetConfig;
    use burn::backend::{Autodiff, Flex};

    #[test]
    fn grad_cam_through_autodiff_agrees_with_cam() {
        let device = Default::default();
        let model = DsoNetConfig::new(3).init::<Autodiff<Flex>>(&device);
        let mut data = vec![0.0f32; 3 * 64 * 64];
        for (i, v) in data.iter_mut().enumerate() {
            let (y, x) = ((i / 64) % 64, i % 64);
            *v = if (20..40).contains(&x) && (10..30).contains(&y) { 0.9 } else { 0.05 + 0.01 * ((i % 7) as f32) };
        }
        let x = Tensor::<Autodiff<Flex>, 4>::from_data(burn::tensor::TensorData::new(data, [1, 3, 64, 64]), &device);
        for class in 0..3 {
            let g = grad_cam(&model, x.clone(), class);
            let c = class_activation_map(&model.valid(), x.clone().inner(), class);
            assert_eq!((g.width, g.height), (4, 4));
            for (a, b) in g.values.iter().zip(&c.values) {
                assert!((a - b).abs() < 1e-3, "grad-cam {a} vs cam {b}");
            }
        }
    }

    #[test]
    fn overlay_is_hot_where_the_map_is_high() {
        let cam = Cam { width: 2, height: 2, values: vec![1.0, 0.0, 0.0, 0.0], class_index: 0 };
        let img = Planes::zeros(3, 32, 32);
        let out = overlay_image(&img, &cam, 32);
        let hot = out.get_pixel(2, 2);
        let cold = out.get_pixel(29, 29);
        assert!(hot.0[0] > 150 && cold.0[0] < 40, "hot {hot:?} cold {cold:?}");
        let png = overlay_png(&img, &cam, 32).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
