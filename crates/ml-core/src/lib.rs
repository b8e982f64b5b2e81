//! The burn plumbing the model crates share: data-parallel training over several devices and
//! machines (gradients averaged every step with burn-collective) and the sharding of the data
//! between workers.
#![warn(missing_docs)]
