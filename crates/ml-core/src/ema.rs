//! The exponential moving average of a model's weights (what a GAN run exports: the average is
//! smoother and scores better than the last step's weights).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

/// Every float parameter flattened, in visiting order.
pub fn flat_params<B: Backend, M: Module<B>>(m: &M) -> Vec<Tensor<B, 1>> {
    struct V<B: Backend>(Vec<Tensor<B, 1>>);
    impl<B: Backend> ModuleVisitor<B> for V<B> {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<B, D>>) {
            let t = p.val();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    let mut v = V(Vec::new());
    m.visit(&mut v);
    v.0
}

/// `ema ← decay·ema + (1−decay)·model`, parameter by parameter.
pub fn ema_update<B: Backend, M: Module<B>>(ema: M, model: &M, decay: f64) -> M {
    struct Blend<B: Backend> {
        src: std::vec::IntoIter<Tensor<B, 1>>,
        decay: f64,
    }
    impl<B: Backend> ModuleMapper<B> for Blend<B> {
        fn map_float<const D: usize>(&mut self, p: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, t, mapper) = p.consume();
            let s = self.src.next().expect("same module structure").reshape(t.dims());
            Param::from_mapped_value(id, t * self.decay + s * (1.0 - self.decay), mapper)
        }
    }
    ema.map(&mut Blend { src: flat_params(model).into_iter(), decay })
}
