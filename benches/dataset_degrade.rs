//! Speed of the degradation pipeline on a real 512² crop of Stellarium's M42.
//!
//! `cargo bench --bench dataset_degrade` (needs `datasets/stellarium/fetch.sh` first).

use std::hint::black_box;

use astro_image::resize::imresize;
use astro_image::{ColorMode, ImageLimits, Planes};
use criterion::{Criterion, criterion_group, criterion_main};
use dataset::degrade::{DegradationConfig, PsfProfile, Span, convolve, degrade, psf_kernel};
use dataset::stellarium::StellariumSet;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn m42_512() -> Planes {
    let set = StellariumSet::locate().expect("Stellarium data: run datasets/stellarium/fetch.sh");
    let img =
        astro_image::image_io::load_image(&set.nebulae_dir.join("m42.png"), ColorMode::Rgb, ImageLimits::default())
            .expect("m42.png");
    img.crop(256, 256, 512, 512).expect("crop")
}

fn bench(c: &mut Criterion) {
    let hr = m42_512();
    c.bench_function("imresize 512² RGB → 128² (×1/4 bicubic, antialiased)", |b| {
        b.iter(|| imresize(black_box(&hr), 128, 128))
    });
    let psf = psf_kernel(PsfProfile::Moffat { beta: Span::fixed(2.5) }, 12.0, 2.5);
    c.bench_function(&format!("convolve 512² RGB with {0}×{0} Moffat PSF (FFT)", psf.size), |b| {
        b.iter(|| convolve(black_box(&hr), &psf))
    });
    for (name, cfg) in [
        ("bicubic", DegradationConfig::bicubic()),
        ("dss", DegradationConfig::dss()),
        ("sdss", DegradationConfig::sdss()),
        ("real_esrgan", DegradationConfig::real_esrgan()),
    ] {
        let mut seed = 0u64;
        c.bench_function(&format!("degrade 512² RGB ×4, preset {name}"), |b| {
            b.iter(|| {
                seed += 1;
                degrade(black_box(&hr), &cfg, 4, &mut ChaCha8Rng::seed_from_u64(seed)).expect("degrade")
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
