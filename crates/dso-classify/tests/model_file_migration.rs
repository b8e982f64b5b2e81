//! Migration of the deep-sky classifier's model file (#28 item 2): the bundled `.mpk` + `.json`
//! pairs (kept byte for byte) and the committed fuzz cards load and predict as they did before
//! ml-core's container, and a model saved in the container predicts the same and round-trips
//! exactly.

use astro_image::Planes;
use burn::backend::Flex;
use dso_classify::{Classifier, Task, bundled_files};

/// A fixed 3×96×96 test image: a soft elliptical blob with a ripple.
fn image() -> Planes {
    let (h, w) = (96, 96);
    let data = (0..3 * h * w)
        .map(|i| {
            let (c, y, x) = (i / (h * w), (i / w) % h, i % w);
            let (dx, dy) = ((x as f32 - 48.0) / 30.0, (y as f32 - 44.0) / 18.0);
            (-(dx * dx + dy * dy)).exp() * (0.8 + 0.1 * c as f32) + 0.05 * ((x + 2 * y) as f32 * 0.3).sin().abs()
        })
        .collect();
    Planes::from_vec(3, h, w, data).unwrap()
}

fn probabilities(c: &Classifier<Flex>) -> Vec<f32> {
    c.predict(&image()).probabilities.iter().map(|(_, p)| *p).collect()
}

fn corpus_card(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../fuzz-lite/corpus/dso_card/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Probabilities of [`image`] before the container (measured with the pre-container reader at
/// 2e9a4da).
const BEFORE: [(Task, &[f32]); 2] =
    [(Task::GalaxyNebula, &[0.39105463, 0.60894537]), (Task::ThreeClass, &[0.24894442, 0.7393159, 0.011739701])];

fn assert_close(now: &[f32], before: &[f32], what: &str) {
    assert_eq!(now.len(), before.len(), "{what}");
    assert!(now.iter().zip(before).all(|(a, b)| (a - b).abs() < 1e-5), "{what}: {now:?} now, {before:?} before");
}

#[test]
fn bundled_models_and_committed_cards_load_and_predict_as_before_the_container() {
    let d = Default::default();
    for (task, before) in BEFORE {
        let (weights, card) = bundled_files(task);
        assert!(!ml_core::model_file::is_container(weights), "{task}: bundled bytes kept");
        let file = format!("{}/weights/{}.mpk", env!("CARGO_MANIFEST_DIR"), task.slug());
        assert_eq!(std::fs::read(&file).unwrap(), weights, "{file}");
        assert_close(&probabilities(&Classifier::<Flex>::bundled(task, &d).unwrap()), before, task.slug());
        // The pre-container layout on disk (bare record + card) loads through `load`.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.mpk"), weights).unwrap();
        std::fs::write(dir.path().join("old.json"), card).unwrap();
        assert_close(&probabilities(&Classifier::<Flex>::load(dir.path(), "old", &d).unwrap()), before, "old on disk");
    }
    let (weights, _) = bundled_files(Task::ThreeClass);
    let three = Classifier::<Flex>::from_bytes(weights, &corpus_card("three-class"), "card", &d).unwrap();
    assert_close(&probabilities(&three), BEFORE[1].1, "fuzz-lite three-class card");
    for (card, reason) in [
        ("crash-dropout", "card: invalid model card: dropout -1.3 is outside [0, 1)"),
        (
            "crash-layers",
            "card: cannot load or save weights: the weights hold 5 conv layers, the model card declares 4",
        ),
    ] {
        let err = Classifier::<Flex>::from_bytes(weights, &corpus_card(card), "card", &d).unwrap_err();
        assert_eq!(err.to_string(), reason, "{card}");
    }
}

#[test]
fn a_model_saved_in_the_container_predicts_the_same_and_round_trips_exactly() {
    let d = Default::default();
    for (task, _) in BEFORE {
        let old = Classifier::<Flex>::bundled(task, &d).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (mpk, json) = dso_classify::save_model(&old.model, &old.card, dir.path(), "new").unwrap();
        let bytes = std::fs::read(&mpk).unwrap();
        let parts = ml_core::model_file::decode_model(&bytes, "dso-net", 1).unwrap();
        assert_eq!((parts.kind, parts.version), ("dso-net", 1));
        let card: serde_json::Value = parts.config_as().unwrap();
        assert_eq!(card, serde_json::from_slice::<serde_json::Value>(&std::fs::read(&json).unwrap()).unwrap());
        // The container carries its card: the .json beside it is for people.
        std::fs::remove_file(&json).unwrap();
        let new = Classifier::<Flex>::load(dir.path(), "new", &d).unwrap();
        assert_eq!(probabilities(&new), probabilities(&old), "{task}: predictions differ");
        assert_eq!(dso_classify::weights_to_bytes(&new.model).unwrap(), parts.record, "{task}: record changed");
        let again = tempfile::tempdir().unwrap();
        let (mpk2, _) = dso_classify::save_model(&new.model, &new.card, again.path(), "new").unwrap();
        assert_eq!(std::fs::read(mpk2).unwrap(), bytes, "{task}: not an exact round trip");
        let other = ml_core::model_file::encode_model("quality-net", 1, b"{}", b"").unwrap();
        let err = Classifier::<Flex>::from_model_bytes(&other, "x.mpk", &d).unwrap_err().to_string();
        assert!(err.contains("x.mpk") && err.contains("a quality-net model, not a dso-net model"), "{err}");
    }
}
