//! Write a randomly initialised, tiny lightweight ×4 model (`.srmodel`) for timing-independent
//! measurements of `upscale` (memory, I/O): `cargo run --release -p upscale --example tiny_model -- OUT`.

use burn::backend::Flex;
use sr_models::{GeneratorConfig, LightSrConfig};

fn main() -> anyhow::Result<()> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "tiny-x4.srmodel".into());
    let config = GeneratorConfig::Light(LightSrConfig::new().with_scale(4).with_features(8).with_blocks(1));
    let model = config.init::<Flex>(&Default::default())?;
    sr_models::store::save_model(std::path::Path::new(&out), &config, &model)?;
    println!("{out}: {}", config.describe());
    Ok(())
}
