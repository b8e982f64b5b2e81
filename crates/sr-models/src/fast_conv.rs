//! Stride-1 "same" convolutions as one matrix product (im2col by shifted slices): on burn's CPU
//! backends this is several times faster than their `conv2d`, forward and backward, because the
//! whole computation is three well-shaped gemm calls (issue #26). Stride-2 downsampling convs with
//! an even kernel (the U-Net discriminator's 4×4) become a space-to-depth rearrangement and a
//! stride-1 convolution through the same kernels ([`conv_down`]). The module stays burn's
//! [`Conv2d`], so records and model files are unchanged.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::prelude::*;

/// Whether `conv` is a stride-1, dilation-1, ungrouped, odd k×k convolution padded by k/2 (the
/// shape [`conv_same`] computes as one matrix product).
pub fn is_same_conv<B: Backend>(conv: &Conv2d<B>) -> bool {
    let [_, _, kh, kw] = conv.weight.dims();
    kh == kw
        && kh % 2 == 1
        && conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && match conv.padding {
            PaddingConfig2d::Same => true,
            PaddingConfig2d::Explicit(t, l, b, r) => [t, l, b, r] == [kh / 2; 4],
            PaddingConfig2d::Valid => kh == 1,
        }
}

#[cfg(feature = "flex")]
mod flex;

/// `conv.forward(x)` for a stride-1, dilation-1, ungrouped k×k convolution with padding k/2
/// (every generator and discriminator body conv): on Flex and `Autodiff<Flex>` as im2col + gemm
/// with its own backward pass; any other backend or convolution goes to burn's `conv2d`.
pub fn conv_same<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    #[cfg(feature = "flex")]
    if has_kernels::<B>()
        && is_same_conv(conv)
        && x.dims()[1] == conv.weight.dims()[1]
        && let Some(y) =
            on_flex(x.clone(), conv.weight.val(), conv.bias.as_ref().map(|b| b.val()), conv.weight.dims()[2] / 2)
    {
        return y;
    }
    conv.forward(x)
}

/// The padding q of a stride-2, dilation-1, ungrouped convolution with an even k×k kernel and
/// equal explicit padding on every side (the shape [`conv_down`] computes with the kernels).
pub fn down_conv_padding<B: Backend>(conv: &Conv2d<B>) -> Option<usize> {
    let [_, _, kh, kw] = conv.weight.dims();
    let ok = kh == kw && kh % 2 == 0 && conv.stride == [2, 2] && conv.dilation == [1, 1] && conv.groups == 1;
    match conv.padding {
        PaddingConfig2d::Explicit(t, l, b, r) if ok && [l, b, r] == [t; 3] => Some(t),
        PaddingConfig2d::Valid if ok => Some(0),
        _ => None,
    }
}

/// `conv.forward(x)` for a stride-2 convolution with an even k×k kernel and padding q on even-sided
/// input (the U-Net discriminator's downsampling): y[i] = Σₖ w[k]·x_pad[2i + k], so with z the
/// space-to-depth of the padded input (z[j, py, px] = x_pad[2j + py, 2j + px]) it is a stride-1
/// (k/2)×(k/2) "valid" convolution of z with the kernel w'[o, (c, py, px), dy, dx] =
/// w[o, c, 2dy + py, 2dx + px]: no work is wasted on zeros, and it runs on the kernels of
/// [`conv_same`] on Flex. Any other backend, shape or odd size goes to burn's `conv2d`.
pub fn conv_down<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    #[cfg(feature = "flex")]
    if let Some(q) = down_conv_padding(conv)
        && has_kernels::<B>()
        && let [n, c, h, w] = x.dims()
        && h % 2 == 0
        && w % 2 == 0
        && c == conv.weight.dims()[1]
    {
        let [co, _, k, _] = conv.weight.dims();
        let m = k / 2;
        let (h2, w2) = ((h + 2 * q) / 2, (w + 2 * q) / 2);
        let z = x.clone().pad((q, q, q, q), 0.0).reshape([n, c, h2, 2, w2, 2]).permute([0, 1, 3, 5, 2, 4]).reshape([
            n,
            4 * c,
            h2,
            w2,
        ]);
        let wz = conv.weight.val().reshape([co, c, m, 2, m, 2]).permute([0, 1, 3, 5, 2, 4]).reshape([co, 4 * c, m, m]);
        if let Some(y) = on_flex(z, wz, conv.bias.as_ref().map(|b| b.val()), 0) {
            return y;
        }
    }
    conv.forward(x)
}

/// Whether `PRETTIER_SPACE_CONV=burn` asks for burn's own `conv2d` everywhere (read once): the
/// switch for measuring these kernels against burn's in the same build, and a way around them.
pub fn burn_conv_forced() -> bool {
    static FORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| std::env::var("PRETTIER_SPACE_CONV").is_ok_and(|v| v == "burn"))
}

/// Whether backend `B` runs this crate's CPU kernels (Flex or `Autodiff<Flex>`, not switched off
/// by `PRETTIER_SPACE_CONV=burn`): checked before any rearrangement is built, so other backends
/// pay nothing for the kernels' input layouts.
#[cfg_attr(not(feature = "flex"), allow(dead_code))]
fn has_kernels<B: Backend>() -> bool {
    use std::any::TypeId;
    #[cfg(feature = "flex")]
    let on_flex = TypeId::of::<B>() == TypeId::of::<burn::backend::Flex>()
        || TypeId::of::<B>() == TypeId::of::<burn::backend::Autodiff<burn::backend::Flex>>();
    #[cfg(not(feature = "flex"))]
    let on_flex = false;
    on_flex && !burn_conv_forced()
}

/// Whether `conv_same(conv, ·)` or `conv_down(conv, ·)` runs this crate's CPU kernels for backend
/// `B` rather than burn's `conv2d`.
#[cfg(test)]
pub fn uses_cpu_kernels<B: Backend>(conv: &Conv2d<B>) -> bool {
    has_kernels::<B>() && (is_same_conv(conv) || down_conv_padding(conv).is_some())
}

/// `conv_same(conv, upsample_nearest(x, 2))` for a 3×3 same conv (the U-Net discriminator's and
/// RRDB's upsampling convs) without the upsampled input: output pixel (2i + a, 2j + b) only sees
/// x at rows i − 1 + a, i + a and columns j − 1 + b, j + b, so each of the four phases (a, b) is
/// a 2×2 convolution of x with row- and column-summed taps; 16 instead of 36 multiply-adds per
/// output pixel and channel pair. On Flex the phases run as one kernel convolution (padding 1)
/// whose outputs are interleaved; any other backend or conv computes it as written.
pub fn conv_upsampled<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    #[cfg(feature = "flex")]
    if is_same_conv(conv)
        && conv.weight.dims()[2] == 3
        && has_kernels::<B>()
        && let [n, c, h, w] = x.dims()
        && c == conv.weight.dims()[1]
    {
        let co = conv.weight.dims()[0];
        let wt = conv.weight.val();
        // Taps along axis `dim` for phase 0 (offsets −1, 0) and phase 1 (offsets 0, +1).
        let fold = |t: Tensor<B, 4>, dim: usize, phase: usize| {
            let tap = |i: usize| t.clone().narrow(dim, i, 1);
            match phase {
                0 => Tensor::cat(vec![tap(0), tap(1) + tap(2)], dim),
                _ => Tensor::cat(vec![tap(0) + tap(1), tap(2)], dim),
            }
        };
        let phases: Vec<_> = (0..4).map(|ab| fold(fold(wt.clone(), 2, ab / 2), 3, ab % 2)).collect();
        let bias = conv.bias.as_ref().map(|b| Tensor::cat(vec![b.val(); 4], 0));
        if let Some(y) = on_flex(x.clone(), Tensor::cat(phases, 0), bias, 1) {
            // Phase (a, b) is output channels ab·co.. at rows a..a+h, columns b..b+w.
            let parts: Vec<_> = (0..4)
                .map(|ab| {
                    let (a, b) = (ab / 2, ab % 2);
                    y.clone().slice([0..n, ab * co..(ab + 1) * co, a..a + h, b..b + w]).unsqueeze_dim::<5>(2)
                })
                .collect();
            return Tensor::cat(parts, 2).reshape([n, co, 2, 2, h, w]).permute([0, 1, 4, 2, 5, 3]).reshape([
                n,
                co,
                2 * h,
                2 * w,
            ]);
        }
    }
    conv_same(conv, crate::pixel_shuffle::upsample_nearest(x, 2))
}

/// The stride-1 convolution of `x` by `weight` (+ `bias`) with `p` pixels of zero padding on the
/// Flex kernels when `B` is `Flex` or `Autodiff<Flex>` (a type check, not a trait bound, so the
/// models stay generic over every backend); `None` otherwise or when a tensor is not f32.
#[cfg(feature = "flex")]
fn on_flex<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    p: usize,
) -> Option<Tensor<B, 4>> {
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::TensorPrimitive;
    use burn::tensor::ops::FloatTensor;
    use std::any::TypeId;
    /// Input, weight and optional bias as backend `A`'s primitives.
    type Parts<A> = (FloatTensor<A>, FloatTensor<A>, Option<FloatTensor<A>>);
    fn parts<A: Backend + 'static, B: Backend>(
        x: Tensor<B, 4>,
        w: Tensor<B, 4>,
        b: Option<Tensor<B, 1>>,
    ) -> Option<Parts<A>> {
        let x = cast::<_, Tensor<A, 4>>(x)?.into_primitive().tensor();
        let w = cast::<_, Tensor<A, 4>>(w)?.into_primitive().tensor();
        let b = match b {
            Some(b) => Some(cast::<_, Tensor<A, 1>>(b)?.into_primitive().tensor()),
            None => None,
        };
        Some((x, w, b))
    }
    if TypeId::of::<B>() == TypeId::of::<Flex>() {
        let (x, w, b) = parts::<Flex, B>(x, weight, bias)?;
        let y = flex::conv_flex(x, w, b, p)?;
        return cast(Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(y)));
    }
    if TypeId::of::<B>() == TypeId::of::<Autodiff<Flex>>() {
        let (x, w, b) = parts::<Autodiff<Flex>, B>(x, weight, bias)?;
        let y = flex::conv_autodiff(x, w, b, p)?;
        return cast(Tensor::<Autodiff<Flex>, 4>::from_primitive(TensorPrimitive::Float(y)));
    }
    None
}

/// `t` as `U` when they are the same type (the backend check above made sure they are).
#[cfg(feature = "flex")]
fn cast<T: 'static, U: 'static>(t: T) -> Option<U> {
    let mut slot = Some(t);
    (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<U>>()?.take()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conv;
    use burn::backend::{Autodiff, Flex};
    use burn::module::AutodiffModule;
    use burn::tensor::Distribution;

    type A = Autodiff<Flex>;

    fn max_rel(a: Tensor<Flex, 4>, b: Tensor<Flex, 4>) -> f32 {
        let scale = b.clone().abs().max().into_scalar().max(1e-6);
        (a - b).abs().max().into_scalar() / scale
    }

    #[test]
    fn equals_burns_conv_in_output_and_both_gradients() {
        let device = Default::default();
        for (ci, co, k, h, w) in [
            (3, 8, 3, 9, 7),
            (16, 12, 3, 12, 12),
            (4, 6, 9, 11, 10),
            (5, 5, 1, 6, 4),
            (2, 3, 9, 3, 2),
            (64, 8, 3, 19, 129),
        ]
        // The last shape is cut into bands of 3 rows (the others fit one band).
        {
            let c = conv(ci, co, k).init::<A>(&device);
            let x0 = Tensor::<A, 4>::random([2, ci, h, w], Distribution::Normal(0.0, 1.0), &device);
            assert!(uses_cpu_kernels(&c), "{ci}→{co} {k}×{k} must take the kernel path");
            let inference = c.valid();
            assert!(uses_cpu_kernels(&inference));
            let xi = x0.clone().inner();
            let fast = conv_same(&inference, xi.clone());
            assert!(max_rel(fast, inference.forward(xi)) < 1e-4, "{ci}→{co} {k}×{k}: Flex inference output");
            let t = Tensor::<A, 4>::random([2, co, h, w], Distribution::Normal(0.0, 1.0), &device);
            let mut results = Vec::new();
            for fast in [false, true] {
                let x = x0.clone().detach().require_grad();
                let y = if fast { conv_same(&c, x.clone()) } else { c.forward(x.clone()) };
                let loss = (y.clone() * t.clone()).sum();
                let grads = loss.backward();
                let gx = x.grad(&grads).unwrap();
                let gw = c.weight.val().grad(&grads).unwrap();
                let gb = c.bias.as_ref().unwrap().val().grad(&grads).unwrap();
                results.push((y.inner(), gx, gw, gb.reshape([1, 1, 1, co])));
            }
            let (r, f) = (&results[0], &results[1]);
            let what = format!("{ci}→{co} {k}×{k} on {h}×{w}");
            assert!(max_rel(f.0.clone(), r.0.clone()) < 1e-4, "{what}: output");
            assert!(max_rel(f.1.clone(), r.1.clone()) < 1e-4, "{what}: input gradient");
            assert!(max_rel(f.2.clone(), r.2.clone()) < 1e-4, "{what}: weight gradient");
            assert!(max_rel(f.3.clone(), r.3.clone()) < 1e-4, "{what}: bias gradient");
        }
    }

    #[test]
    fn stride2_down_convs_equal_burns_conv_in_output_and_both_gradients() {
        use burn::nn::conv::Conv2dConfig;
        let device = Default::default();
        // (in, out, kernel, padding, bias, height, width): the U-Net's 4×4 pad 1 without bias,
        // a valid 2×2 and a 6×6 pad 2 with bias, and a band-split 32→64 on 96×96.
        for (ci, co, k, q, bias, h, w) in [
            (4, 6, 4, 1, false, 8, 10),
            (3, 5, 2, 0, true, 6, 4),
            (2, 3, 6, 2, true, 10, 8),
            (32, 64, 4, 1, false, 96, 96),
        ] {
            let c = Conv2dConfig::new([ci, co], [k, k])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(q, q, q, q))
                .with_bias(bias)
                .init::<A>(&device);
            assert!(uses_cpu_kernels(&c), "{ci}→{co} {k}×{k}/2 must take the kernel path");
            let x0 = Tensor::<A, 4>::random([2, ci, h, w], Distribution::Normal(0.0, 1.0), &device);
            let xi = x0.clone().inner();
            let inference = c.valid();
            let what = format!("{ci}→{co} {k}×{k} stride 2 pad {q} on {h}×{w}");
            assert!(max_rel(conv_down(&inference, xi.clone()), inference.forward(xi)) < 1e-4, "{what}: inference");
            let [_, _, ho, wo] = c.forward(x0.clone()).dims();
            let t = Tensor::<A, 4>::random([2, co, ho, wo], Distribution::Normal(0.0, 1.0), &device);
            let mut results = Vec::new();
            for fast in [false, true] {
                let x = x0.clone().detach().require_grad();
                let y = if fast { conv_down(&c, x.clone()) } else { c.forward(x.clone()) };
                let grads = (y.clone() * t.clone()).sum().backward();
                let gb = c.bias.as_ref().map(|b| b.val().grad(&grads).unwrap().reshape([1, 1, 1, co]));
                results.push((y.inner(), x.grad(&grads).unwrap(), c.weight.val().grad(&grads).unwrap(), gb));
            }
            let (r, f) = (&results[0], &results[1]);
            assert!(max_rel(f.0.clone(), r.0.clone()) < 1e-4, "{what}: output");
            assert!(max_rel(f.1.clone(), r.1.clone()) < 1e-4, "{what}: input gradient");
            assert!(max_rel(f.2.clone(), r.2.clone()) < 1e-4, "{what}: weight gradient");
            if let (Some(fb), Some(rb)) = (&f.3, &r.3) {
                assert!(max_rel(fb.clone(), rb.clone()) < 1e-4, "{what}: bias gradient");
            }
        }
    }

    #[test]
    fn a_frozen_convolution_passes_the_input_gradient_and_makes_no_weight_gradient() {
        let device = Default::default();
        let c = conv(5, 7, 3).init::<A>(&device);
        let x0 = Tensor::<A, 4>::random([2, 5, 9, 8], Distribution::Normal(0.0, 1.0), &device);
        let t = Tensor::<A, 4>::random([2, 7, 9, 8], Distribution::Normal(0.0, 1.0), &device);
        let x = x0.clone().require_grad();
        let grads = (conv_same(&c, x.clone()) * t.clone()).sum().backward();
        let (gx, gw) = (x.grad(&grads).unwrap(), c.weight.val().grad(&grads));
        assert!(gw.is_some());
        let frozen = c.clone().no_grad();
        let x = x0.require_grad();
        let grads = (conv_same(&frozen, x.clone()) * t).sum().backward();
        assert!(max_rel(x.grad(&grads).unwrap(), gx) < 1e-6, "the input gradient must not change");
        assert!(frozen.weight.val().grad(&grads).is_none() && frozen.bias.unwrap().val().grad(&grads).is_none());
    }

    #[test]
    fn the_phase_split_upsampling_conv_equals_conv_after_nearest_upsampling() {
        let device = Default::default();
        for (ci, co, h, w) in [(3, 4, 5, 6), (16, 8, 12, 12), (64, 32, 24, 24)] {
            let c = conv(ci, co, 3).init::<A>(&device);
            assert!(uses_cpu_kernels(&c), "the phase split runs on the kernels");
            let x0 = Tensor::<A, 4>::random([2, ci, h, w], Distribution::Normal(0.0, 1.0), &device);
            let t = Tensor::<A, 4>::random([2, co, 2 * h, 2 * w], Distribution::Normal(0.0, 1.0), &device);
            let mut results = Vec::new();
            for fast in [false, true] {
                let x = x0.clone().detach().require_grad();
                let y = if fast {
                    conv_upsampled(&c, x.clone())
                } else {
                    c.forward(crate::pixel_shuffle::upsample_nearest(x.clone(), 2))
                };
                let grads = (y.clone() * t.clone()).sum().backward();
                let gb = c.bias.as_ref().unwrap().val().grad(&grads).unwrap().reshape([1, 1, 1, co]);
                results.push((y.inner(), x.grad(&grads).unwrap(), c.weight.val().grad(&grads).unwrap(), gb));
            }
            let (r, f) = (&results[0], &results[1]);
            let what = format!("{ci}→{co} on {h}×{w} upsampled");
            assert!(max_rel(f.0.clone(), r.0.clone()) < 1e-4, "{what}: output");
            assert!(max_rel(f.1.clone(), r.1.clone()) < 1e-4, "{what}: input gradient");
            assert!(max_rel(f.2.clone(), r.2.clone()) < 1e-4, "{what}: weight gradient");
            assert!(max_rel(f.3.clone(), r.3.clone()) < 1e-4, "{what}: bias gradient");
            let xi = x0.inner();
            let inference = c.valid();
            let reference = inference.forward(crate::pixel_shuffle::upsample_nearest(xi.clone(), 2));
            assert!(max_rel(conv_upsampled(&inference, xi), reference) < 1e-4, "{what}: inference");
        }
    }
}
