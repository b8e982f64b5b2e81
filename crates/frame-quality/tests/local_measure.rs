//! The noise-aware local measures of per-point selection (issue 27): `band` (noise floor removed
//! in the point, level floored), `band-global` (blended per point with the global score) and
//! `auto`, the default (band-global on surfaces, laplace on discs).

use frame_quality::ImageView;
use frame_quality::ranking::spearman;
use frame_quality::simulation::{
    CheckConfig, SimulatedVideo, compare_stack, point_truth, read_regions_csv, simulate_check_to_dir,
};
use frame_quality::stacking::{BoxScores, LocalMetric, LocalScratch, local_global_blend, local_scores};
use frame_quality::{FrameSource, Metric, Scorer, Selection, StackConfig, score_source, stack};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Mean over the points of the Spearman ρ of a point's scores against its regional truth.
fn mean_rho(table: &BoxScores, regions: &[Vec<f32>], w: usize, h: usize) -> f64 {
    let per_point = (0..table.boxes.len()).map(|b| {
        let (x, y) = table.boxes[b];
        let truth: Vec<f32> = regions.iter().map(|r| point_truth(r, w, h, x, y, table.size)).collect();
        spearman(&table.column(b), &truth)
    });
    per_point.sum::<f64>() / table.boxes.len() as f64
}

#[test]
fn per_point_scores_follow_the_regional_truth_and_per_point_stacking_beats_global_on_craters() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CheckConfig { frames: 60, seed: 5, ..CheckConfig::default() };
    simulate_check_to_dir(&cfg, dir.path(), &|_| {}).unwrap();
    let video = SimulatedVideo::open(dir.path()).unwrap();
    let ser = &video.source;
    let regions = read_regions_csv(&dir.path().join("regions.csv")).unwrap();
    let (w, h) = ser.dims();
    let scores = score_source(ser, &Scorer::new(Metric::Bandpass), &|_| {}).unwrap();
    let rho = |m: LocalMetric| mean_rho(&local_scores(ser, &scores, 64, m, &|_| {}).unwrap(), &regions, w, h);
    let (laplace, band, auto) = (rho(LocalMetric::Laplace), rho(LocalMetric::Band), rho(LocalMetric::Auto));
    eprintln!("mean ρ per point: laplace {laplace:.3}, band {band:.3}, auto (band-global) {auto:.3}");
    // Before the sky test this cell's reference passed for a disc, its points followed a centroid
    // and laplace reached only ρ 0.63 here.
    assert!(laplace >= 0.95 && band >= 0.95, "laplace {laplace:.3}, band {band:.3}");
    assert!(auto >= 0.85, "auto {auto:.3}");
    let base = StackConfig { selection: Selection::Percent(10.0), boxes: Some(64), ..StackConfig::default() };
    let psnr = |c: StackConfig| {
        let img = stack(ser, &scores, &c, &|_, _| {}).unwrap().image;
        compare_stack(&img.data, &video.truth_image, w, h, w / 16).0
    };
    let (global, per_point) = (psnr(StackConfig { per_box_select: false, ..base }), psnr(base));
    eprintln!("stack PSNR: global {global:.2} dB, per point {per_point:.2} dB");
    assert!(per_point >= global + 0.5, "per point {per_point:.2} dB vs global {global:.2} dB");
}

#[test]
fn band_removes_the_noise_floor_of_the_point() {
    // The same textured box under two noise levels: `laplace` rises with the noise, `band` does not.
    let n = 64;
    let clean: Vec<f32> = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32, (i / n) as f32);
            0.5 + 0.1 * (x / 5.0).sin() * (y / 7.0).cos()
        })
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut s = LocalScratch::default();
    let mut both = |sigma: f32| {
        let noise = Normal::new(0.0f32, sigma).unwrap();
        let img: Vec<f32> = clean.iter().map(|v| v + noise.sample(&mut rng)).collect();
        let v = ImageView::new(&img, n, n);
        (LocalMetric::Laplace.score(v, 0.0, &mut s), LocalMetric::Band.score(v, 0.0, &mut s))
    };
    let ((lq, bq), (ll, bl)) = (both(0.002), both(0.04));
    assert!(ll > 1.5 * lq, "laplace {lq:.3e} → {ll:.3e} with more noise");
    assert!((bl / bq - 1.0).abs() < 0.25, "band {bq:.3e} vs {bl:.3e}");
}

#[test]
fn a_point_without_signal_takes_the_global_order_in_the_blend() {
    // Point 0 has no signal (constant), point 1 ranks the frames in reverse of the global score.
    let frames = 9;
    let global: Vec<f32> = (0..frames).map(|f| f as f32).collect();
    let scores: Vec<f32> = (0..frames).flat_map(|f| [0.0, (frames - f) as f32 * 10.0]).collect();
    let table = BoxScores::new(64, vec![(0, 0), (32, 0)], frames, scores).unwrap();
    let blended = local_global_blend(&table, &global);
    assert_eq!(spearman(&blended.column(0), &global), 1.0);
    assert!(blended.scores.iter().all(|v| (0.0..1.0).contains(v)), "{:?}", blended.scores);
    // Opposite local and global orders of the same spread cancel: every frame ties.
    let col = blended.column(1);
    assert!(col.iter().all(|v| (v - col[0]).abs() < 1e-4), "{col:?}");
}

#[test]
fn auto_takes_band_global_on_a_surface_and_laplace_on_a_disc() {
    let cfg = CheckConfig { size: 128, frames: 1, regions: 2, ..CheckConfig::default() };
    let surface = frame_quality::simulation::CheckSimulator::new(cfg).unwrap().truth_image();
    assert_eq!(LocalMetric::Auto.resolve(&surface, 128, 128), LocalMetric::BandGlobal);
    let disc: Vec<f32> = (0..128 * 128)
        .map(|i| {
            let (x, y) = ((i % 128) as f32 - 64.0, (i / 128) as f32 - 64.0);
            if x * x + y * y < 40.0 * 40.0 { 0.6 + 0.1 * (x / 4.0).sin() } else { 0.01 }
        })
        .collect();
    assert_eq!(LocalMetric::Auto.resolve(&disc, 128, 128), LocalMetric::Laplace);
    assert_eq!(LocalMetric::Band.resolve(&disc, 128, 128), LocalMetric::Band);
    assert_eq!(LocalMetric::default(), LocalMetric::Auto);
}
