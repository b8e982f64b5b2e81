//! Migration of the ranker model file (#28 item 2): the committed ranker files (JSON) load as
//! before, a CNN ranker saved as JSON before ml-core's container still loads and scores as its
//! container copy does, and the container round-trips exactly.

use std::path::PathBuf;

use burn::backend::Flex;

use super::*;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz-lite/corpus/ranker").join(name)
}

/// Eight fixed 32×32 patches.
fn patches() -> Vec<Vec<f32>> {
    (0..8).map(|p| (0..32 * 32).map(|i| ((i * (p + 3)) % 97) as f32 / 97.0).collect()).collect()
}

fn cnn() -> Ranker {
    let net = RankNetConfig::new().with_channels(vec![4, 8]).init::<Flex>(&Default::default());
    Ranker::Cnn(CnnRanker {
        patch: PatchConfig::default(),
        channels: vec![4, 8],
        weights: inference::model_to_bytes(&net).unwrap(),
        loss_history: vec![0.69, 0.52],
    })
}

#[test]
fn committed_ranker_files_load_as_before_the_container() {
    for name in ["logistic.json", "reference.json", "ridge.json"] {
        let bytes = std::fs::read(corpus(name)).unwrap();
        assert!(!ml_core::model_file::is_container(&bytes), "{name}: committed bytes kept");
        // The reader before the container: serde_json, then validate.
        let before: Ranker = serde_json::from_slice(&bytes).unwrap();
        before.validate().unwrap();
        let now = Ranker::load(&corpus(name)).unwrap();
        assert_eq!(now, before, "{name}");
        // Rankers without a burn record keep the JSON layout.
        assert_eq!(now.to_file_bytes().unwrap(), serde_json::to_vec(&before).unwrap(), "{name}");
    }
}

#[test]
fn a_json_cnn_ranker_from_before_the_container_scores_as_its_container_copy() {
    let d = Default::default();
    let ranker = cnn();
    let dir = tempfile::tempdir().unwrap();
    let old_path = dir.path().join("old.json");
    std::fs::write(&old_path, serde_json::to_vec(&ranker).unwrap()).unwrap(); // Ranker::save before
    let old = Ranker::load(&old_path).unwrap();
    assert_eq!(old, ranker);

    let new_path = dir.path().join("new.model");
    old.save(&new_path).unwrap();
    let bytes = std::fs::read(&new_path).unwrap();
    let parts = ml_core::model_file::decode_model(&bytes, CNN_RANKER_KIND, CNN_RANKER_FORMAT_VERSION).unwrap();
    assert_eq!((parts.kind, parts.version), ("cnn-ranker", 1));
    let Ranker::Cnn(c) = &ranker else { unreachable!() };
    assert_eq!(parts.record, c.weights.as_slice());
    let new = Ranker::load(&new_path).unwrap();
    assert_eq!(new, ranker, "not an exact round trip");
    assert_eq!(new.to_file_bytes().unwrap(), bytes);
    let p = patches();
    let scores = old.score_patches::<Flex>(&p, &d).unwrap();
    assert_eq!(new.score_patches::<Flex>(&p, &d).unwrap(), scores);
    assert!(scores.iter().all(|s| s.is_finite()) && scores.iter().any(|&s| s != scores[0]), "{scores:?}");
}

#[test]
fn a_container_of_another_kind_or_bad_config_is_refused() {
    let other = ml_core::model_file::encode_model("quality-net", 1, b"{}", b"").unwrap();
    assert_eq!(Ranker::from_file_bytes(&other).unwrap_err(), "a quality-net model, not a cnn-ranker model");
    let Ranker::Cnn(c) = cnn() else { unreachable!() };
    let config =
        br#"{"patch": {"size": 32, "crop_radii": 2.4}, "channels": [4, 8, 9, 9, 9, 9, 9], "loss_history": []}"#;
    let forged = ml_core::model_file::encode_model(CNN_RANKER_KIND, 1, config, &c.weights).unwrap();
    assert!(Ranker::from_file_bytes(&forged).unwrap_err().contains("CNN layers 7"));
}
