//! Criterion benches: inference throughput (output megapixels per second) of every bundled model
//! and of each generator architecture on Flex, and one training step of the lightweight generator
//! (pretraining, and adversarial against the U-Net).

use burn::backend::{Autodiff, Flex};
use burn::prelude::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prettier_space::sr_models::Bundled;
use prettier_space::sr_models::training::{TrainConfig, Trainer};
use prettier_space::sr_models::{
    DiscriminatorConfig, GeneratorConfig, LightSrConfig, RrdbNetConfig, SmoothFieldPenalty, SrResNetConfig,
};

/// The bundled models as users run them (`upscale_planes`: tensor conversion, model, clamp), on a
/// 128×128 input (a 512×512 output at ×4).
fn bundled(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("sr_bundled_flex");
    group.sample_size(10);
    let side = 128usize;
    let mut input = prettier_space::astro_image::Planes::zeros(3, side, side);
    for (i, v) in input.data.iter_mut().enumerate() {
        *v = 0.5 + 0.4 * ((i % 97) as f32 * 0.13).sin();
    }
    for b in Bundled::ALL {
        let (cfg, model) = b.load::<Flex>(&device).expect("bundled model");
        let s = cfg.scale();
        group.throughput(Throughput::Elements((side * s * side * s) as u64));
        group.bench_function(b.name().trim_start_matches("bundled "), |bench| {
            bench.iter(|| prettier_space::sr_models::upscale_planes(&model, &cfg, &input, &device).unwrap())
        });
    }
    // prettify as the binary runs it: tiled, with the strength blend and saturated-star protection.
    let (cfg, model) = Bundled::PrettifyX2.load::<Flex>(&device).expect("bundled model");
    let finish = prettier_space::sr_models::Finish {
        strength: 0.8,
        protect_saturated: true,
        keep_colour: true,
        guard_invented: true,
        saturation: prettier_space::sr_models::OUTREACH_SATURATION,
    };
    let tiling = prettier_space::sr_models::Tiling { finish, ..Default::default() };
    group.throughput(Throughput::Elements((side * 2 * side * 2) as u64));
    group.bench_function("prettify-light-x2+finish", |bench| {
        bench.iter(|| {
            prettier_space::sr_models::upscale_tiled(&model, &cfg, &input, tiling, &device, &mut |_, _| {}).unwrap()
        })
    });
    group.finish();
}

fn inference(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("sr_inference_flex");
    group.sample_size(10);
    let models = [
        ("light_x4", GeneratorConfig::light(4), 64usize),
        ("light_x1", GeneratorConfig::light(1), 128),
        ("srresnet_x4", GeneratorConfig::SrResNet(SrResNetConfig::new()), 32),
        ("rrdb_x4_6blocks", GeneratorConfig::Rrdb(RrdbNetConfig::new().with_blocks(6)), 32),
        ("light_x4_alt", GeneratorConfig::Light(LightSrConfig::new().with_features(48)), 64),
    ];
    for (name, cfg, side) in models {
        let g = cfg.init::<Flex>(&device).expect("model");
        let s = cfg.scale();
        group.throughput(Throughput::Elements((side * s * side * s) as u64));
        let x = Tensor::<Flex, 4>::random([1, 3, side, side], burn::tensor::Distribution::Default, &device);
        group.bench_function(name, |b| b.iter(|| g.forward(x.clone()).into_data()));
    }
    group.finish();
}

fn train_step(c: &mut Criterion) {
    let device = Default::default();
    let mut cfg = TrainConfig::new(GeneratorConfig::light(4));
    cfg.pretrain_steps = 1_000_000;
    let mut t = Trainer::<Autodiff<Flex>>::new(cfg, &device).expect("trainer");
    let lr = Tensor::random([8, 3, 24, 24], burn::tensor::Distribution::Default, &device);
    let hr = Tensor::random([8, 3, 96, 96], burn::tensor::Distribution::Default, &device);
    let mut group = c.benchmark_group("sr_train_step_flex");
    group.sample_size(10);
    group.bench_function("light_x4_batch8_patch96", |b| b.iter(|| t.pretrain_step(lr.clone(), hr.clone()).unwrap()));
    // One adversarial step as the `real` GAN stage runs it: 32-wide spectrally normalised U-Net,
    // feature matching, LDL and the smooth-field penalty (docs/models.md).
    let mut cfg = TrainConfig::new(GeneratorConfig::light(4));
    cfg.pretrain_steps = 0;
    cfg.gan_steps = 1_000_000;
    cfg.discriminator = Some(DiscriminatorConfig::from_arch("unet", 96).expect("unet").with_features(32));
    cfg.artifact_weight = 1.0;
    cfg.smooth = SmoothFieldPenalty { texture: 10.0, value: 10.0 };
    let mut t = Trainer::<Autodiff<Flex>>::new(cfg, &device).expect("trainer");
    group.bench_function("gan_light_x4_unet32_batch8_patch96", |b| {
        b.iter(|| t.gan_step(lr.clone(), hr.clone()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bundled, inference, train_step);
criterion_main!(benches);
