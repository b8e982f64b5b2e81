//! Saved picks models keep loading and scoring as they did. No picks model was committed before,
//! so the fixtures were made for this test with the code of two commits: `fixtures/picks-<commit>.json`
//! is what `train-ranker --labels`'s code path (`PicksRanker::fit` + `Ranker::save`) wrote at that
//! commit on the video [`video`] builds below (pure arithmetic, no random numbers), and
//! `picks-<commit>.scores.json` the scores that build gave it. fe984bd is the commit before features
//! were matched by name; 8204f7e the last one before `bandpass` joined `Metric::ALL`.
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use frame_quality::Ranker;
use frame_quality::io::{ColorId, SerHeader, SerReader, SerWriter};
use frame_quality::ranking::picks::{feature_names, standardize, video_features};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Frame `f` of the fixture video: a textured disc, blur varying over the frames, the top-right
/// third sharp in every third frame, a little deterministic "noise".
fn frame(w: usize, h: usize, f: usize) -> Vec<f32> {
    let blur = 0.05 + 0.9 * ((f * 7) % 24) as f32 / 24.0;
    let sharp = f.is_multiple_of(3).then_some((0usize, 2usize));
    let (cx, cy, r) = (w as f32 / 2.0 + (f % 5) as f32 - 2.0, h as f32 / 2.0, w as f32 * 0.33);
    (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            if ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() >= r {
                return 0.02 + 0.004 * (((i * 2654435761) % 1000) as f32 / 1000.0);
            }
            let cell = (((y - (cy - r)) / (2.0 * r) * 3.0) as usize, ((x - (cx - r)) / (2.0 * r) * 3.0) as usize);
            let amp = if Some(cell) == sharp { 0.3 } else { 0.3 * (1.0 - blur) };
            0.5 + amp * ((x * 0.9).sin() * (y * 0.7).cos()) + 0.01 * (((i * 40503 + f * 977) % 997) as f32 / 997.0)
        })
        .collect()
}

/// The 24-frame 80×72 12-bit mono SER the fixtures were fitted and scored on.
fn video(dir: &Path) -> SerReader {
    let path = dir.join("v.ser");
    let (w, h) = (80, 72);
    let mut wr = SerWriter::create(&path, SerHeader::new(w, h, ColorId::Mono, 12)).unwrap();
    for f in 0..24 {
        wr.write_planes(&astro_image::Planes::from_vec(1, h, w, frame(w, h, f)).unwrap()).unwrap();
    }
    wr.finish().unwrap();
    SerReader::open(&path).unwrap()
}

#[test]
fn picks_model_saved_before_by_name_matching_scores_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let ser = video(dir.path());
    let ranker = Ranker::load(&fixture("picks-2026-12.json")).unwrap();
    let Ranker::Picks(model) = &ranker else { panic!("fixture is a picks model") };
    // Every feature the fixture names is one this build computes (a metric added since gets no weight).
    let names = feature_names(3);
    let columns: Vec<usize> = model
        .features
        .iter()
        .map(|f| names.iter().position(|n| n == f).unwrap_or_else(|| panic!("this build lost feature {f}")))
        .collect();
    let got = ranker.score_source::<Flex>(&ser, &Default::default(), &|_| {}).unwrap();
    // Exactly the old formula (weights · standardised features + bias) on this machine's features,
    // each weight on the column of the feature it names.
    let z = standardize(&video_features(&ser, model.grid, &|_| {}).unwrap());
    let positional: Vec<f32> = z
        .iter()
        .map(|x| {
            let dot: f64 = model.weights.iter().zip(&columns).map(|(&w, &c)| w as f64 * x[c]).sum();
            (dot + model.bias as f64) as f32
        })
        .collect();
    assert_eq!(got, positional);
    // And the scores the old build wrote (a margin only for another CPU's FFT/SIMD rounding).
    let old: Vec<f32> = serde_json::from_slice(&std::fs::read(fixture("picks-2026-12.scores.json")).unwrap()).unwrap();
    assert_eq!(got.len(), old.len());
    for (i, (g, o)) in got.iter().zip(&old).enumerate() {
        assert!((g - o).abs() <= 1e-4 * o.abs().max(1.0), "frame {i}: {g} now, {o} before");
    }
}

#[test]
fn picks_model_from_the_build_before_bandpass_loads_and_an_unknown_metric_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ser = video(dir.path());
    // Written at 8204f7e, the last commit before `bandpass` was added to `Metric::ALL`: ten metrics,
    // then the regions. fe984bd refused it (its features were not this build's list).
    let path = fixture("picks-8204f7e.json");
    let ranker = Ranker::load(&path).unwrap();
    let Ranker::Picks(model) = &ranker else { panic!("fixture is a picks model") };
    assert!(!model.features.iter().any(|f| f == "bandpass") && model.features.len() == 19);
    let got = ranker.score_source::<Flex>(&ser, &Default::default(), &|_| {}).unwrap();
    // Each weight applies to its metric's column, found by name; `bandpass` (column 0) gets none.
    let names = feature_names(3);
    let z = standardize(&video_features(&ser, 3, &|_| {}).unwrap());
    for (i, (g, x)) in got.iter().zip(&z).enumerate() {
        let mut sum = 0f64;
        for (k, name) in names.iter().enumerate() {
            if let Some(p) = model.features.iter().position(|f| f == name) {
                sum += model.weights[p] as f64 * x[k];
            }
        }
        assert_eq!(*g, (sum + model.bias as f64) as f32, "frame {i}");
    }
    // And the scores that build gave on this video (the metrics have not changed since: measured
    // 1.2e-7 apart here; the margin is for another CPU's FFT/SIMD rounding).
    let old: Vec<f32> = serde_json::from_slice(&std::fs::read(fixture("picks-8204f7e.scores.json")).unwrap()).unwrap();
    assert_eq!(got.len(), old.len());
    for (i, (g, o)) in got.iter().zip(&old).enumerate() {
        assert!((g - o).abs() <= 1e-4 * o.abs().max(1.0), "frame {i}: {g} now, {o} at 8204f7e");
    }

    // A metric this build does not compute: one line naming the file and the metric.
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json["features"][4] = "sharpness-9000".into();
    let unknown = dir.path().join("unknown.json");
    std::fs::write(&unknown, serde_json::to_vec(&json).unwrap()).unwrap();
    let e = Ranker::load(&unknown).unwrap_err().to_string();
    assert!(e.contains("unknown.json") && e.contains("'sharpness-9000' is not a metric this build knows"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn committed_pixel_rankers_still_load() {
    // The other saved rankers (fuzz-lite's seeds) have pixel features, not metrics: unchanged, still load.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz-lite/corpus/ranker");
    for name in ["logistic.json", "reference.json", "ridge.json"] {
        let r = Ranker::load(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let n = r.patch().size * r.patch().size;
        let s = r.score_patches::<Flex>(&[vec![0.5; n]], &Default::default()).unwrap();
        assert!(s[0].is_finite(), "{name}");
    }
}
