//! Prettier Space: machine learning on astronomical images.
//!
//! This umbrella crate re-exports the workspace's library crates so tutorials (`examples/`) and
//! benchmarks (`benches/`) can reach all of them through one dependency.

pub use astro_image;
pub use dataset;
pub use dso_classify;
pub use esa_scraper;
pub use frame_quality;
pub use hips_client;
pub use ml_core;
pub use sr_models;
