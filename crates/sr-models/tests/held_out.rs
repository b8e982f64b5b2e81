//! The bundled `general` upscalers on the held-out real photographs (scikit-image's sample
//! photographs, fetched by `datasets/photos/fetch.sh`, never trained or tuned on), with the
//! standard protocol: MATLAB bicubic ×s downscale, PSNR on Y with an s-pixel border crop.
//! Checks the model cards' figures (docs/models.md) so a regression in the models or the
//! pipeline shows up: every image at least as good as bicubic (−0.1 dB), and the mean gain.

use std::path::PathBuf;

use burn::backend::Flex;
use dataset::degrade::DegradationConfig;
use sr_models::data::StoredImage;
use sr_models::evaluation::{Candidate, mean, outputs, score, test_image};
use sr_models::{Bundled, Family};

fn held_out() -> Vec<PathBuf> {
    let dir = std::env::var_os("PRETTIER_PHOTOS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/prettier-space/photos"))
        .join("test");
    let files = sr_models::evaluation::image_files_recursive(&dir)
        .unwrap_or_else(|e| panic!("{e}: run datasets/photos/fetch.sh (scripts/test does)"));
    assert_eq!(files.len(), 13, "the held-out set is the 13 scikit-image photographs");
    files
}

fn check(bundled: Bundled, min_mean_gain: f64) {
    let device = Default::default();
    let (cfg, model) = bundled.load::<Flex>(&device).unwrap();
    let s = cfg.scale();
    let cands = [Candidate { name: bundled.name().into(), config: &cfg, model: &model, star_aware: None }];
    let mut rows = Vec::new();
    for (i, f) in held_out().iter().enumerate() {
        let t =
            test_image(&StoredImage::load(f).unwrap(), s, &DegradationConfig::bicubic(), None, 777 + i as u64 * 7919)
                .unwrap();
        let r = score(&t, s, &outputs(&t, s, &cands, &device).unwrap()).unwrap();
        let gain = r.models[0].psnr - r.bicubic.psnr;
        eprintln!("{} ×{s}: {}: {:+.2} dB", bundled.name(), f.display(), gain);
        assert!(gain > -0.1, "{}: {} is {gain:.2} dB below bicubic", bundled.name(), f.display());
        rows.push(r);
    }
    let gain = mean(rows.iter().map(|r| r.models[0])).psnr - mean(rows.iter().map(|r| r.bicubic)).psnr;
    eprintln!("{} ×{s}: mean gain {gain:+.2} dB", bundled.name());
    assert!(gain >= min_mean_gain, "{}: mean gain {gain:.2} dB < {min_mean_gain}", bundled.name());
}

#[test]
fn general_x4_beats_bicubic_on_every_held_out_photograph() {
    assert_eq!(Family::General.at_scale(4).unwrap(), Bundled::GeneralX4);
    // The 64 × 8 model bundled 2026-12-07: measured +2.01 dB (worst image +0.38), docs/models.md.
    check(Bundled::GeneralX4, 1.95);
}

#[test]
fn general_x2_beats_bicubic_on_every_held_out_photograph() {
    // Measured +0.71 dB (worst image +0.44): docs/models.md.
    check(Bundled::GeneralX2, 0.65);
}
