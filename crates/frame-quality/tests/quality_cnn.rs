//! The bundled quality CNN (`rank-frames --metric learned`): it loads, ranks small simulated videos
//! against the truth (faint cloudy Jupiter, where the same network with random weights fails, and
//! Saturn, a texture it never saw in training), and bad weights files are errors, not panics.

use burn::backend::Flex;
use frame_quality::ranking::learned::quality::{QualityModel, QualityNetConfig, net_to_bytes};
use frame_quality::ranking::spearman;
use frame_quality::simulation::{cells, simulate_cell};
use frame_quality::{FrameError, SerReader};

type B = Flex;

fn simulate(
    name: &str,
    frames: usize,
    seed: u64,
    size: usize,
    radius: f32,
) -> (tempfile::TempDir, SerReader, Vec<f32>) {
    let mut cell = cells(frames, seed).into_iter().find(|c| c.name == name).unwrap();
    cell.cfg.size = size;
    cell.cfg.disc_radius = radius;
    let dir = tempfile::tempdir().unwrap();
    let out = simulate_cell(&cell, dir.path(), &|_| {}).expect("Stellarium data (datasets/stellarium/fetch.sh)");
    let ser = SerReader::open(&out.ser).unwrap();
    let truth = out.truth.iter().map(|t| t.quality()).collect();
    (dir, ser, truth)
}

fn rho(model: &QualityModel<B>, ser: &SerReader, truth: &[f32]) -> f64 {
    let scores = model.score_source(ser, &|_| {}).unwrap();
    assert_eq!(scores.len(), truth.len());
    assert!(scores.iter().all(|s| s.is_finite()));
    spearman(&scores, truth)
}

#[test]
fn bundled_model_ranks_against_the_truth_and_random_weights_do_not() {
    let device = Default::default();
    let model = QualityModel::<B>::bundled(&device).expect("bundled weights load");
    // Faint, cloudy Jupiter (an unseen seed): the noise level changes from frame to frame, so a
    // net that has not learned to discount noise ranks noisy frames as sharp.
    let (_d, ser, truth) = simulate("jupiter-faint-clouds", 80, 33, 160, 64.0);
    let trained = rho(&model, &ser, &truth);
    let random: Vec<f64> = (0..3)
        .map(|seed| {
            <B as burn::tensor::backend::Backend>::seed(&device, seed);
            let net = QualityNetConfig::new().init::<B>(&device);
            rho(&QualityModel::<B>::from_bytes(&net_to_bytes(&net, 4).unwrap(), &device).unwrap(), &ser, &truth)
        })
        .collect();
    println!("faint cloudy Jupiter: bundled ρ {trained:.3}, random weights ρ {random:.3?}");
    // The bar is one that seeded random nets of the same architecture miss (their ρ ranged from
    // −0.1 to 0.8 here: the architecture alone is already an energy measure).
    assert!(trained > 0.85, "bundled model ρ {trained:.3}");
    assert!(random.iter().all(|&r| r < 0.85), "random weights pass the bar: {random:.3?}");
    // Saturn, a texture never seen in training (a check of generalisation; random nets can pass it).
    let (_d, ser, truth) = simulate("saturn-rings", 60, 31, 160, 36.0);
    let held_out = rho(&model, &ser, &truth);
    println!("saturn-rings (held out): bundled ρ {held_out:.3}");
    assert!(held_out > 0.8, "bundled model ρ {held_out:.3} on Saturn");
}

#[test]
fn garbage_or_wrong_size_weights_are_errors() {
    let device = Default::default();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"PSQCNN01 this is not a burn record").unwrap();
    assert!(matches!(QualityModel::<B>::load(&garbage), Err(FrameError::Model { .. })));
    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(QualityModel::<B>::load(&empty), Err(FrameError::Model { .. })));
    let other = net_to_bytes(&QualityNetConfig::new().with_channels([4, 8, 8]).init::<B>(&device), 8).unwrap();
    let wrong = dir.path().join("wrong-size.bin");
    std::fs::write(&wrong, &other).unwrap();
    let e = QualityModel::<B>::load(&wrong).unwrap_err();
    assert!(e.to_string().contains("shapes"), "{e}");
    assert!(QualityModel::<B>::from_bytes(&other[..other.len() / 3], &device).is_err());
    assert!(matches!(QualityModel::<B>::load(&dir.path().join("missing.bin")), Err(FrameError::Io { .. })));
}
