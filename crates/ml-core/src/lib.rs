//! The burn plumbing the model crates share: the backend choice (`backend`, `with_backend!`), the
//! validation of model files (`model_file`), data-parallel training over several devices and
//! machines (gradients averaged every step with burn-collective) and the sharding of the data
//! between workers.
#![warn(missing_docs)]

pub mod backend;
mod container;
pub mod descent;
pub mod distributed;
pub mod ema;
pub mod model_file;
pub mod parallel_args;
pub mod shard;
