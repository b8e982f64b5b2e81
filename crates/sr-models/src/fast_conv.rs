//! Stride-1 "same" convolutions as one matrix product (im2col by shifted slices): on burn's CPU
//! backends this is several times faster than their `conv2d`, forward and backward, because the
//! whole computation is three well-shaped gemm calls (issue #26). The module stays burn's
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

/// `conv.forward(x)` for a stride-1, dilation-1, ungrouped, biased k×k convolution with padding
/// k/2 (every generator and discriminator body conv): on Flex and `Autodiff<Flex>` as im2col +
/// gemm with its own backward pass; any other backend or convolution goes to burn's `conv2d`.
pub fn conv_same<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    #[cfg(feature = "flex")]
    if !burn_conv_forced()
        && is_same_conv(conv)
        && x.dims()[1] == conv.weight.dims()[1]
        && let Some(y) = on_flex(conv, x.clone())
    {
        return y;
    }
    conv.forward(x)
}

/// Whether `PRETTIER_SPACE_CONV=burn` asks for burn's own `conv2d` everywhere (read once): the
/// switch for measuring these kernels against burn's in the same build, and a way around them.
pub fn burn_conv_forced() -> bool {
    static FORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| std::env::var("PRETTIER_SPACE_CONV").is_ok_and(|v| v == "burn"))
}

/// Whether `conv_same(conv, ·)` runs this crate's CPU kernels for backend `B` (Flex or
/// `Autodiff<Flex>`, a same-padded biased convolution) rather than burn's `conv2d`.
#[cfg(test)]
pub fn uses_cpu_kernels<B: Backend>(conv: &Conv2d<B>) -> bool {
    use std::any::TypeId;
    #[cfg(feature = "flex")]
    let on_flex = TypeId::of::<B>() == TypeId::of::<burn::backend::Flex>()
        || TypeId::of::<B>() == TypeId::of::<burn::backend::Autodiff<burn::backend::Flex>>();
    #[cfg(not(feature = "flex"))]
    let on_flex = false;
    on_flex && !burn_conv_forced() && is_same_conv(conv) && conv.bias.is_some()
}

/// The Flex kernels when `B` is `Flex` or `Autodiff<Flex>` (a type check, not a trait bound, so
/// the models stay generic over every backend); `None` otherwise.
#[cfg(feature = "flex")]
fn on_flex<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Option<Tensor<B, 4>> {
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::TensorPrimitive;
    use std::any::TypeId;
    let bias = conv.bias.as_ref()?.val();
    let weight = conv.weight.val();
    if TypeId::of::<B>() == TypeId::of::<Flex>() {
        let x = cast::<_, Tensor<Flex, 4>>(x)?.into_primitive().tensor();
        let w = cast::<_, Tensor<Flex, 4>>(weight)?.into_primitive().tensor();
        let b = cast::<_, Tensor<Flex, 1>>(bias)?.into_primitive().tensor();
        let y = flex::conv_flex(x, w, b)?;
        return cast(Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(y)));
    }
    if TypeId::of::<B>() == TypeId::of::<Autodiff<Flex>>() {
        let x = cast::<_, Tensor<Autodiff<Flex>, 4>>(x)?.into_primitive().tensor();
        let w = cast::<_, Tensor<Autodiff<Flex>, 4>>(weight)?.into_primitive().tensor();
        let b = cast::<_, Tensor<Autodiff<Flex>, 1>>(bias)?.into_primitive().tensor();
        let y = flex::conv_autodiff(x, w, b)?;
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
}
