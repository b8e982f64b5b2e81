//! One optimiser step, the same in every trainer: backward pass, the module's gradients, their
//! average over the data-parallel workers, the optimiser's update.

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use crate::distributed::{ParallelError, Worker};

/// Descend `loss` once: gradients of `module`, averaged over `worker`'s run with this worker's
/// `weight` (its share of the global batch; 1 when alone), then `optim`'s step at learning rate
/// `lr`. `step` names the exchange in errors.
pub fn descend<B, M, O>(
    module: M,
    loss: Tensor<B, 1>,
    optim: &mut O,
    lr: f64,
    worker: &Worker<B>,
    weight: f32,
    step: usize,
) -> Result<M, ParallelError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    let grads = GradientsParams::from_grads(loss.backward(), &module);
    let grads = worker.average(&module, grads, weight, step)?;
    Ok(optim.step(lr, module, grads))
}
