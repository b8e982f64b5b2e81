//! Fine-tuning the bundled quality CNN on a user's picks (`train-ranker --labels --kind cnn`): on a
//! small anisoplanatic video whose simulated user prefers one region of the disc, the fine-tuned
//! model follows that preference better than the bundled model; it survives the JSON round trip
//! and scores the same through `Ranker::score_source`; broken models are refused.

use burn::backend::{Autodiff, Flex};
use frame_quality::ranking::learned::finetune::{FinetuneConfig, finetune_prepared};
use frame_quality::ranking::learned::quality::{BUNDLED_WEIGHTS, QualityModel, prepare_source};
use frame_quality::ranking::picks::Pick;
use frame_quality::ranking::spearman;
use frame_quality::simulation::{AnisoConfig, AnisoSimulator, SimConfig, planet_texture, simulate_aniso_to_dir};
use frame_quality::{Ranker, SerReader};

type B = Flex;

#[test]
fn finetuned_cnn_follows_the_users_region_better_than_the_bundled_model() {
    let dir = tempfile::tempdir().unwrap();
    let sim =
        SimConfig { size: 160, disc_radius: 60.0, frames: 80, d_over_r0: 6.0, seed: 4242, ..SimConfig::default() };
    let texture = planet_texture("mars").unwrap();
    let cfg = AnisoConfig { sim: sim.clone(), patches: 3, correlation: 0.2 };
    let out = simulate_aniso_to_dir(&cfg, &texture, dir.path(), &|_| {}).unwrap();
    // The user looks at the upper-left quadrant of the disc.
    let roi = AnisoSimulator::new(sim.clone(), &texture, 3, 0.2).unwrap();
    let (c, r) = (80usize, 60usize);
    let pref: Vec<f32> = out.truth.iter().map(|t| roi.region_strehl(t, c - r, c - r, r, r)).collect();
    let source = SerReader::open(&out.ser).unwrap();
    let device = Default::default();
    let bundled = QualityModel::<B>::bundled(&device).unwrap();
    let rho_bundled = spearman(&bundled.score_source(&source, &|_| {}).unwrap(), &pref);

    // Labels on the even frames: top 40 % of the preference good, bottom 40 % bad, the rest skipped.
    let mut sorted = pref.clone();
    sorted.sort_by(f32::total_cmp);
    let (lo, hi) = (sorted[32], sorted[48]);
    let picks: Vec<Pick> = (0..80)
        .step_by(2)
        .filter_map(|f| match pref[f] {
            p if p >= hi => Some(Pick { frame: f, label: 1 }),
            p if p < lo => Some(Pick { frame: f, label: 0 }),
            _ => None,
        })
        .collect();
    let all: Vec<usize> = (0..source.len()).collect();
    let inputs = prepare_source(&source, &all, bundled.crops).unwrap();
    let labelled: Vec<_> = picks.iter().map(|p| inputs[p.frame].clone()).collect();
    let ft = FinetuneConfig::default();
    let (model, report) =
        finetune_prepared::<Autodiff<B>>(BUNDLED_WEIGHTS, &labelled, &picks, &ft, &device, &|m| println!("{m}"))
            .unwrap();
    let scores = model.score_prepared::<B>(&inputs, &device).unwrap();
    let rho_ft = spearman(&scores, &pref);
    println!(
        "{} labels: ρ with the user's region: bundled {rho_bundled:.3}, fine-tuned {rho_ft:.3}; {report:?}; crop weights {:?}",
        picks.len(),
        model.crop_weights
    );
    assert!(report.pair_accuracy_after >= report.pair_accuracy_before, "{report:?}");
    // Fine-tuning that changes nothing gives ρ = rho_bundled and fails this.
    assert!(rho_ft > rho_bundled + 0.05, "fine-tuned ρ {rho_ft:.3} vs bundled {rho_bundled:.3}");

    // Saved and loaded as a ranker, it scores the same through score_source.
    let path = dir.path().join("mine.json");
    Ranker::CnnPicks(model.clone()).save(&path).unwrap();
    let loaded = Ranker::load(&path).unwrap();
    let again = loaded.score_source::<B>(&source, &device, &|_| {}).unwrap();
    assert!(again.iter().zip(&scores).all(|(a, b)| (a - b).abs() < 1e-4), "score_source differs after reload");

    // Broken models are refused with a model error, not a panic.
    let mut bad = model.clone();
    bad.crop_weights.pop();
    std::fs::write(&path, serde_json::to_vec(&Ranker::CnnPicks(bad)).unwrap()).unwrap();
    assert!(Ranker::load(&path).is_err());
    let mut bad = model.clone();
    bad.weights.truncate(bad.weights.len() / 2);
    assert!(Ranker::CnnPicks(bad).score_source::<B>(&source, &device, &|_| {}).is_err());
    // One class only is a training error.
    let one: Vec<Pick> = picks.iter().map(|p| Pick { label: 1, ..*p }).collect();
    assert!(finetune_prepared::<Autodiff<B>>(BUNDLED_WEIGHTS, &labelled, &one, &ft, &device, &|_| {}).is_err());
}
