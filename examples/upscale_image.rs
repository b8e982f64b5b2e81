//! Tutorial: upscale an image ×4 with the bundled lightweight model, in tiles.
//!
//! `cargo run --release --example upscale_image -- INPUT.png OUTPUT.png`
//! (with no arguments it upscales the bundled DSS sample to `ngc185-x4.png`).

use std::path::PathBuf;

use anyhow::Result;
use prettier_space::ml_core::backend::FlexBackend;
use prettier_space::sr_models::Tiling;
use prettier_space::sr_models::{Bundled, SAMPLE_SURVEY_IMAGE};
use prettier_space::sr_models::{Enhancer, enhance_file};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let input = match args.next() {
        Some(p) => PathBuf::from(p),
        None => {
            let p = std::env::temp_dir().join("ngc185-dss.png");
            std::fs::write(&p, SAMPLE_SURVEY_IMAGE)?;
            p
        }
    };
    let output = PathBuf::from(args.next().unwrap_or_else(|| "ngc185-x4.png".into()));
    // 1. Load a model: the bundled ×4 generator (or `sr_models::store::load_model` for a file).
    let device = Default::default();
    let (config, model) = Bundled::GeneralX4.load::<FlexBackend>(&device)?;
    // 2. Run it in 256-pixel tiles with 32 pixels of blended overlap (bounded memory).
    let enhancer = Enhancer::new(&model, &config, &device).with_tiling(Tiling::new(256, 32));
    let report = enhance_file(&enhancer, &input, &output, &mut |done, total| eprintln!("tile {done}/{total}"))?;
    println!(
        "{} {:?} -> {} {:?} with {}",
        input.display(),
        report.input,
        output.display(),
        report.output,
        config.describe()
    );
    Ok(())
}
