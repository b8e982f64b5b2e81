//! Tutorial: a few-minute CPU training run of a small ×2 generator on Stellarium images with
//! the DSS-like degradation, reporting validation PSNR against bicubic.
//!
//! `cargo run --release --example train_tiny` (needs `datasets/stellarium/fetch.sh` first).

use anyhow::Result;
use prettier_space::ml_core::backend::FlexBackend;
use prettier_space::sr_models::data::{self, PairSource};
use prettier_space::sr_models::training::{TrainConfig, TrainEvent, Trainer, evaluate_bicubic, fit};
use prettier_space::sr_models::{GeneratorConfig, LightSrConfig};

type B = burn::backend::Autodiff<FlexBackend>;

fn main() -> Result<()> {
    // 1. Data: the object-level split of the Stellarium deep-sky set.
    let train = data::load_all(&data::stellarium_images("train", 0)?[..60])?;
    let val = data::load_all(&data::stellarium_images("validation", 0)?[..12])?;
    // 2. A small lightweight generator, ×2, trained for 300 steps.
    let mut cfg =
        TrainConfig::new(GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(32).with_blocks(3)));
    cfg.pretrain_steps = 300;
    cfg.hr_patch = 64;
    cfg.val_every = 100;
    let validation = data::fixed_pairs(&val, &cfg.degradation, 2, Some(128), 1)?;
    let source = PairSource::Degrade { images: train, degradation: cfg.degradation.clone() };
    let base = evaluate_bicubic(&validation, 2)?;
    println!("bicubic: PSNR {:.2} dB SSIM {:.4}", base.psnr, base.ssim);
    // 3. Train; checkpoints, samples and the EMA model land in runs/tiny.
    let mut trainer = Trainer::<B>::new(cfg, &Default::default())?;
    fit(&mut trainer, &source, &validation, std::path::Path::new("runs/tiny"), &mut |ev| match ev {
        TrainEvent::Validation { step, quality } => {
            println!("step {step}: PSNR {:.2} dB SSIM {:.4}", quality.psnr, quality.ssim)
        }
        TrainEvent::Step { stats, it_per_s } if stats.step % 25 == 0 => {
            println!("step {} loss {:.4} ({it_per_s:.2} it/s)", stats.step, stats.loss)
        }
        _ => {}
    })?;
    Ok(())
}
