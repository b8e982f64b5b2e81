//! Where a training step and an inference call of `light` ×4 spend their time (issue #26): runs
//! `STEPS` pre-training steps (batch 8, 24 → 96 px, L1 + 0.1 SSIM) and `STEPS` forward calls on a
//! 64² input, timing each phase, so `perf record` can attribute the time to burn's ops.
//!
//! `gan` times the two halves of an adversarial step as the `real` GAN stage runs them (32-wide
//! U-Net, batch 8 of 96 px, feature matching, LDL and the smooth-field penalty on).
//!
//! `check=CHECKPOINT` resumes a training checkpoint and runs one adversarial step on random
//! patches, printing whether the output and both losses are finite (a diverged run's state).
//! With `CHECK=1`, `gan` prints the generator loss and whether its weights are finite each step.
//!
//!     cargo run --release -p sr-models --example profile_step -- [STEPS] [inference|train|both|gan|check=PATH]

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::prelude::*;
use sr_models::GeneratorConfig;
use sr_models::training::{TrainConfig, Trainer};

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let what = args.next().unwrap_or_else(|| "both".into());
    let device = Default::default();
    if what == "pieces" {
        pieces([8, 56, 24, 24], steps);
        pieces([1, 56, 64, 64], steps);
        return;
    }
    if what == "gan" {
        gan(steps);
        return;
    }
    if let Some(path) = what.strip_prefix("check=") {
        let mut tr = Trainer::<Autodiff<Flex>>::resume(std::path::Path::new(path), &device, None).expect("checkpoint");
        let lr = Tensor::random([8, 3, 24, 24], burn::tensor::Distribution::Default, &device);
        let hr = Tensor::random([8, 3, 96, 96], burn::tensor::Distribution::Default, &device);
        let out = tr.generator.forward(lr.clone());
        eprintln!("output sum {}", out.sum().into_scalar());
        let d = tr.discriminator_step(lr.clone(), hr.clone()).unwrap();
        let (g, _) = tr.generator_step(lr, hr).unwrap();
        eprintln!("step {}: d loss {d}, g loss {g}", tr.step);
        return;
    }
    if what == "conv" {
        conv_micro([8, 56, 24, 24], steps);
        conv_micro([1, 56, 64, 64], steps);
        conv_micro([1, 56, 256, 256], steps.div_ceil(4));
        return;
    }
    if what != "train" {
        let g = GeneratorConfig::light(4).init::<Flex>(&device).expect("model");
        let x = Tensor::<Flex, 4>::random([1, 3, 64, 64], burn::tensor::Distribution::Default, &device);
        g.forward(x.clone()).into_data();
        let t = Instant::now();
        for _ in 0..steps {
            g.forward(x.clone()).into_data();
        }
        println!("inference 64² → 256²: {:.1} ms/call", t.elapsed().as_secs_f64() * 1e3 / steps as f64);
    }
    if what != "inference" {
        let mut cfg = TrainConfig::new(GeneratorConfig::light(4));
        cfg.pretrain_steps = 1_000_000;
        let mut tr = Trainer::<Autodiff<Flex>>::new(cfg, &device).expect("trainer");
        let lr = Tensor::random([8, 3, 24, 24], burn::tensor::Distribution::Default, &device);
        let hr = Tensor::random([8, 3, 96, 96], burn::tensor::Distribution::Default, &device);
        tr.pretrain_step(lr.clone(), hr.clone()).unwrap();
        let t = Instant::now();
        for _ in 0..steps {
            tr.pretrain_step(lr.clone(), hr.clone()).unwrap();
        }
        println!("training step (batch 8, 24 → 96): {:.1} ms/step", t.elapsed().as_secs_f64() * 1e3 / steps as f64);
    }
}

/// One 56→56 3×3 convolution, forward and backward, burn's `conv2d` against `conv_same`.
#[allow(dead_code)]
fn conv_micro(shape: [usize; 4], reps: usize) {
    use sr_models::conv_same;
    type A = Autodiff<Flex>;
    let device = Default::default();
    let c = burn::nn::conv::Conv2dConfig::new([shape[1], shape[1]], [3, 3])
        .with_padding(burn::nn::PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init::<A>(&device);
    let x = Tensor::<A, 4>::random(shape, burn::tensor::Distribution::Default, &device).require_grad();
    let only = std::env::var("ONLY").ok();
    for fast in [false, true] {
        if only.as_deref().is_some_and(|o| (o == "fast") != fast) {
            continue;
        }
        let mut fwd = 0.0;
        let mut bwd = 0.0;
        for _ in 0..reps {
            let t = Instant::now();
            let y = if fast { conv_same(&c, x.clone()) } else { c.forward(x.clone()) };
            let s = y.sum();
            s.clone().inner().into_data();
            fwd += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let g = s.backward();
            x.grad(&g).unwrap().into_data();
            bwd += t.elapsed().as_secs_f64();
        }
        println!(
            "conv {shape:?} {}: forward {:.2} ms, backward {:.2} ms",
            if fast { "conv_same" } else { "burn conv2d" },
            fwd * 1e3 / reps as f64,
            bwd * 1e3 / reps as f64
        );
    }
}

/// Time each piece of `conv_same`'s forward on Flex.
#[allow(dead_code)]
fn pieces(shape: [usize; 4], reps: usize) {
    let device = Default::default();
    let [n, c, h, w] = shape;
    let x = Tensor::<Flex, 4>::random(shape, burn::tensor::Distribution::Default, &device);
    let wt = Tensor::<Flex, 4>::random([c, c, 3, 3], burn::tensor::Distribution::Default, &device);
    let time = |name: &str, f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        println!("{shape:?} {name}: {:.2} ms", t.elapsed().as_secs_f64() * 1e3 / reps as f64);
    };
    time("pad", &|| {
        x.clone().pad((1, 1, 1, 1), 0.0).into_data();
    });
    let padded = x.clone().pad((1, 1, 1, 1), 0.0);
    time("9 slices + cat", &|| {
        let s: Vec<_> =
            (0..9).map(|k| padded.clone().slice([0..n, 0..c, k / 3..k / 3 + h, k % 3..k % 3 + w])).collect();
        Tensor::cat(s, 1).into_data();
    });
    let s: Vec<_> = (0..9).map(|k| padded.clone().slice([0..n, 0..c, k / 3..k / 3 + h, k % 3..k % 3 + w])).collect();
    let cols = Tensor::cat(s, 1).reshape([n, 9 * c, h * w]);
    let wm = wt.clone().permute([0, 2, 3, 1]).reshape([1, c, 9 * c]);
    time("matmul broadcast", &|| {
        wm.clone().matmul(cols.clone()).into_data();
    });
    let wm2 = wm.clone().repeat_dim(0, n);
    time("matmul batched", &|| {
        wm2.clone().matmul(cols.clone()).into_data();
    });
    time("burn conv2d", &|| {
        burn::tensor::module::conv2d(
            x.clone(),
            wt.clone(),
            None,
            burn::tensor::ops::ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        )
        .into_data();
    });
}

/// The discriminator and generator halves of one `real`-stage adversarial step, timed apart.
fn gan(steps: usize) {
    use sr_models::DiscriminatorConfig;
    use sr_models::SmoothFieldPenalty;
    let device = Default::default();
    let mut cfg = TrainConfig::new(GeneratorConfig::light(4));
    cfg.pretrain_steps = 0;
    cfg.gan_steps = 1_000_000;
    cfg.discriminator = Some(DiscriminatorConfig::from_arch("unet", 96).expect("unet").with_features(32));
    cfg.artifact_weight = 1.0;
    cfg.smooth = SmoothFieldPenalty { texture: 10.0, value: 10.0 };
    let mut tr = Trainer::<Autodiff<Flex>>::new(cfg, &device).expect("trainer");
    let lr = Tensor::random([8, 3, 24, 24], burn::tensor::Distribution::Default, &device);
    let hr = Tensor::random([8, 3, 96, 96], burn::tensor::Distribution::Default, &device);
    tr.gan_step(lr.clone(), hr.clone()).unwrap();
    let (mut d, mut g) = (0.0, 0.0);
    for _ in 0..steps {
        let t = Instant::now();
        tr.discriminator_step(lr.clone(), hr.clone()).unwrap();
        d += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (loss, _) = tr.generator_step(lr.clone(), hr.clone()).unwrap();
        g += t.elapsed().as_secs_f64();
        if std::env::var("CHECK").is_ok() {
            let finite = |v: Vec<f32>| v.iter().all(|x| x.is_finite());
            let gp: Vec<f32> = ml_core::ema::flat_params::<Autodiff<Flex>, _>(&tr.generator)
                .into_iter()
                .flat_map(|t| t.into_data().to_vec::<f32>().unwrap())
                .collect();
            eprintln!("loss {loss:.4} generator finite {}", finite(gp));
        }
    }
    let ms = |s: f64| s * 1e3 / steps as f64;
    println!("gan step (batch 8, 24 → 96, U-Net 32): discriminator {:.0} ms, generator {:.0} ms", ms(d), ms(g));
}
