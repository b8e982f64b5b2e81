//! Surface footage (issue 27): solar granulation through layered anisoplanatic seeing and the
//! independent check simulator's craters; the default ranks them, per-point scores cover them.

use frame_quality::ranking::spearman;
use frame_quality::simulation::{
    CheckConfig, Scene, SurfaceConfig, read_regions_csv, simulate_check_to_dir, simulate_surface_to_dir,
};
use frame_quality::{Metric, Scorer, SerReader, score_source};

fn rho(ser: &SerReader, metric: Metric, truth: &[f32]) -> f64 {
    spearman(&score_source(ser, &Scorer::new(metric), &|_| {}).unwrap(), truth)
}

#[test]
fn default_ranks_16_bit_solar_granulation_against_the_mean_local_strehl() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SurfaceConfig {
        scene: Scene::Granulation,
        peak_electrons: 10_000.0,
        d_over_r0: 3.0,
        d_over_r0_max: 12.0,
        bit_depth: 16,
        frames: 60,
        seed: 7,
        ..SurfaceConfig::default()
    };
    let truth: Vec<f32> =
        simulate_surface_to_dir(&cfg, dir.path(), &|_| {}).unwrap().iter().map(|t| t.strehl).collect();
    let ser = SerReader::open(&dir.path().join("frames.ser")).unwrap();
    assert_eq!(ser.header().bit_depth, 16);
    let regions = read_regions_csv(&dir.path().join("regions.csv")).unwrap();
    assert_eq!(regions.len(), 60);
    assert!(regions.iter().all(|r| r.len() == 16 && r.iter().all(|v| v.is_finite() && *v > 0.0)));
    let r = rho(&ser, Metric::Bandpass, &truth);
    assert!(r >= 0.95, "default ρ {r:.3} on granulation");
}

#[test]
fn default_beats_pipp_on_the_check_simulators_craters() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CheckConfig { frames: 60, seed: 11, ..CheckConfig::default() };
    let truth: Vec<f32> = simulate_check_to_dir(&cfg, dir.path(), &|_| {}).unwrap().iter().map(|t| t.strehl).collect();
    let ser = SerReader::open(&dir.path().join("frames.ser")).unwrap();
    let ours = rho(&ser, Metric::Bandpass, &truth);
    let pipp = rho(&ser, Metric::LocalContrast, &truth);
    assert!(ours >= 0.95, "default ρ {ours:.3} on craters");
    assert!(ours > pipp, "default ρ {ours:.3} vs PIPP {pipp:.3}");
    // Per-point scores: one finite row per frame, one column per alignment point.
    let scores = score_source(&ser, &Scorer::new(Metric::Bandpass), &|_| {}).unwrap();
    let table = frame_quality::stacking::local_scores(&ser, &scores, 64, Default::default(), &|_| {}).unwrap();
    assert_eq!(table.frames, ser.len());
    assert!(!table.boxes.is_empty());
    assert_eq!(table.scores.len(), table.frames * table.boxes.len());
    assert!(table.scores.iter().all(|v| v.is_finite() && *v >= 0.0));
    let csv = dir.path().join("local.csv");
    frame_quality::stacking::write_local_csv(&csv, &table).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), ser.len() + 1);
    assert!(text.starts_with("frame,p0_x"));
}
