//! Tests on the real Stellarium images: training measurably learns, weights round-trip, and the
//! bundled models reproduce their model cards' held-out test figures.

use burn::backend::{Autodiff, Flex};
use dataset::stellarium::{DsoImage, StellariumSet};
use dso_classify::AugmentConfig;
use dso_classify::save_model;
use dso_classify::{Classifier, DsoNetConfig, Task};
use dso_classify::{DsoSample, is_classifiable, load_samples};
use dso_classify::{TrainingConfig, evaluate, train};

fn manifest() -> Vec<DsoImage> {
    let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    set.manifest().expect("manifest").into_iter().filter(is_classifiable).collect()
}

/// A few real galaxies and nebulae, small and quick.
fn few_samples(per_class: usize, size: usize) -> Vec<DsoSample> {
    let manifest = manifest();
    let mut picked = Vec::new();
    for label in 0..2 {
        let mut n = 0;
        for d in &manifest {
            if Task::GalaxyNebula.label_of(d.class) == Some(label) && n < per_class {
                picked.push(d.clone());
                n += 1;
            }
        }
    }
    load_samples(&picked, Task::GalaxyNebula, size, &|| {}).unwrap()
}

#[test]
fn training_on_real_images_lowers_the_loss() {
    let samples = few_samples(8, 32);
    assert_eq!(samples.len(), 16);
    let mut config = TrainingConfig::new(Task::GalaxyNebula);
    config.model = DsoNetConfig::new(2).with_channels(vec![8, 8, 16, 16, 16]).with_dropout(0.0);
    config.image_size = 32;
    config.epochs = 10;
    config.batch_size = 8;
    config.learning_rate = 5e-3;
    config.augment = AugmentConfig::none();
    config.label_smoothing = 0.0;
    let trained = train::<Autodiff<Flex>>(&config, &samples, &[], &Default::default(), &mut |_| {}).unwrap();
    let first = trained.history.first().unwrap().train_loss;
    let last = trained.history.last().unwrap().train_loss;
    assert!(last < 0.8 * first, "loss {first:.3} → {last:.3}");
    let (report, _) = evaluate(&trained.model, &samples, Task::GalaxyNebula, false, &Default::default());
    assert!(report.accuracy >= 0.75, "training accuracy {}", report.accuracy);
}

#[test]
fn saved_weights_load_back_and_predict_the_same() {
    let samples = few_samples(2, 32);
    let mut config = TrainingConfig::new(Task::GalaxyNebula);
    config.model = DsoNetConfig::new(2).with_channels(vec![8, 8, 16, 16, 16]);
    config.image_size = 32;
    config.epochs = 1;
    config.batch_size = 4;
    let trained = train::<Autodiff<Flex>>(&config, &samples, &[], &Default::default(), &mut |_| {}).unwrap();
    let classifier = Classifier::<Flex> {
        model: trained.model,
        card: Classifier::<Flex>::bundled(Task::GalaxyNebula, &Default::default()).unwrap().card,
        device: Default::default(),
        tta: false,
    };
    let mut card = classifier.card.clone();
    card.training = config.clone();
    let dir = tempfile::tempdir().unwrap();
    save_model(&classifier.model, &card, dir.path(), "tiny").unwrap();
    let loaded = Classifier::<Flex>::load(dir.path(), "tiny", &Default::default()).unwrap();
    for s in &samples {
        let a = classifier.predict(&s.image);
        let b = loaded.predict(&s.image);
        for ((_, p), (_, q)) in a.probabilities.iter().zip(&b.probabilities) {
            assert!((p - q).abs() < 0.02, "{p} vs {q} (half-precision record)");
        }
    }
    let err = Classifier::<Flex>::load(dir.path(), "missing", &Default::default()).unwrap_err().to_string();
    assert!(err.contains("missing.mpk"), "{err}");
}

#[test]
fn bundled_models_reproduce_their_held_out_test_figures() {
    let manifest = manifest();
    let device = Default::default();
    for task in Task::ALL {
        let classifier = Classifier::<Flex>::bundled(task, &device).unwrap();
        let card = &classifier.card;
        assert_eq!(card.task, task);
        let size = card.training.image_size;
        // Only the held-out objects are loaded (same object-level split as train-dso, seed 0).
        let test_images = dataset::stellarium_split(&manifest, 0).test;
        let test = load_samples(&test_images, task, size, &|| {}).unwrap();
        let (report, _) = evaluate(&classifier.model, &test, task, true, &device);
        let expected = card.test.as_ref().expect("card has test figures");
        assert_eq!(report.n, expected.n, "{task}: test split size");
        // Bundled weights are half precision; allow a borderline image or two to flip.
        let slack = 2.0 / report.n as f64 + 1e-9;
        assert!(
            (report.accuracy - expected.accuracy).abs() <= slack,
            "{task}: {} vs card {}",
            report.accuracy,
            expected.accuracy
        );
        assert!(
            report.accuracy > 1.0 / task.num_classes() as f64 + 0.2,
            "{task}: accuracy {} is near chance",
            report.accuracy
        );
    }
}
