//! Resampling layers burn 0.21 lacks: sub-pixel convolution layout (PixelShuffle /
//! PixelUnshuffle), nearest and MATLAB-bicubic upsampling. Plain tensor operations with no
//! parameters: the ICNR initialisation of the convolutions that feed them is the generators'
//! (`model::icnr`, beside the other re-initialisations).
//!
//! Uses PyTorch's channel layout: `out[c, h·r+i, w·r+j] = in[c·r²+i·r+j, h, w]`.

use burn::prelude::*;

/// Rearrange `[N, C·r², H, W]` into `[N, C, H·r, W·r]` (PyTorch `nn.PixelShuffle(r)`).
pub fn pixel_shuffle<B: Backend>(x: Tensor<B, 4>, r: usize) -> Tensor<B, 4> {
    if r == 1 {
        return x;
    }
    let [n, c, h, w] = x.dims();
    assert!(c % (r * r) == 0, "pixel_shuffle: {c} channels not divisible by {r}²");
    let oc = c / (r * r);
    x.reshape([n, oc, r, r, h, w]).permute([0, 1, 4, 2, 5, 3]).reshape([n, oc, h * r, w * r])
}

/// Rearrange `[N, C, H·r, W·r]` into `[N, C·r², H, W]` (PyTorch `nn.PixelUnshuffle(r)`).
pub fn pixel_unshuffle<B: Backend>(x: Tensor<B, 4>, r: usize) -> Tensor<B, 4> {
    if r == 1 {
        return x;
    }
    let [n, c, h, w] = x.dims();
    assert!(h % r == 0 && w % r == 0, "pixel_unshuffle: {h}x{w} not divisible by {r}");
    let (oh, ow) = (h / r, w / r);
    x.reshape([n, c, oh, r, ow, r]).permute([0, 1, 3, 5, 2, 4]).reshape([n, c * r * r, oh, ow])
}

/// Nearest-neighbour upsampling by an integer factor, differentiable on every backend.
pub fn upsample_nearest<B: Backend>(x: Tensor<B, 4>, r: usize) -> Tensor<B, 4> {
    if r == 1 {
        return x;
    }
    let [n, c, h, w] = x.dims();
    let rep = x.unsqueeze_dim::<5>(2).expand([n, c, r * r, h, w]).reshape([n, c * r * r, h, w]);
    pixel_shuffle(rep, r)
}

/// MATLAB-style bicubic upsampling by an integer factor (exactly `astro_image::resize::imresize`'s
/// weights and symmetric borders, as two matrix products): the anchor every generator adds its
/// residual to, so an untrained or weak network starts at, and never far below, plain bicubic.
pub fn upsample_bicubic<B: Backend>(x: Tensor<B, 4>, r: usize) -> Tensor<B, 4> {
    if r == 1 {
        return x;
    }
    use astro_image::resize::{ResizeKernel, resize_matrix};
    let [n, c, h, w] = x.dims();
    let (ho, wo) = (h * r, w * r);
    let device = x.device();
    let matrix = |len: usize, out: usize| {
        let m = resize_matrix(len, out, ResizeKernel::Cubic, true);
        // Stored transposed (`len × out`) so each pass is `rows · M`.
        let mut t = vec![0.0f32; len * out];
        for j in 0..out {
            for i in 0..len {
                t[i * out + j] = m[j * len + i];
            }
        }
        Tensor::<B, 2>::from_data(TensorData::new(t, [len, out]), &device)
    };
    let y = x.reshape([n * c * h, w]).matmul(matrix(w, wo));
    let y = y.reshape([n * c, h, wo]).swap_dims(1, 2).reshape([n * c * wo, h]).matmul(matrix(h, ho));
    y.reshape([n * c, wo, ho]).swap_dims(1, 2).reshape([n, c, ho, wo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn shuffle_matches_pytorch_channel_layout() {
        let device = Default::default();
        let (c, r, h, w) = (2usize, 3usize, 2usize, 4usize);
        let n_in = c * r * r * h * w;
        let data: Vec<f32> = (0..n_in).map(|v| v as f32).collect();
        let x = Tensor::<Flex, 1>::from_floats(data.as_slice(), &device).reshape([1, c * r * r, h, w]);
        let y = pixel_shuffle(x.clone(), r);
        assert_eq!(y.dims(), [1, c, h * r, w * r]);
        let out: Vec<f32> = y.clone().into_data().to_vec().unwrap();
        for oc in 0..c {
            for hh in 0..h {
                for i in 0..r {
                    for ww in 0..w {
                        for j in 0..r {
                            let in_idx = ((oc * r * r + i * r + j) * h + hh) * w + ww;
                            let out_idx = (oc * h * r + hh * r + i) * (w * r) + ww * r + j;
                            assert_eq!(out[out_idx], data[in_idx], "c={oc} h={hh} i={i} w={ww} j={j}");
                        }
                    }
                }
            }
        }
        let back: Vec<f32> = pixel_unshuffle(y, r).into_data().to_vec().unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn nearest_upsample_repeats_pixels() {
        let device = Default::default();
        let x = Tensor::<Flex, 1>::from_floats([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], &device).reshape([1, 2, 2, 2]);
        let y: Vec<f32> = upsample_nearest(x, 2).into_data().to_vec().unwrap();
        let expect = [
            1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4., //
            5., 5., 6., 6., 5., 5., 6., 6., 7., 7., 8., 8., 7., 7., 8., 8.,
        ];
        assert_eq!(y, expect);
    }
}
