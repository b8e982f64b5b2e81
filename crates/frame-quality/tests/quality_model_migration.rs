//! Migration of the quality-net model file (#28 item 2): the bundled `quality-cnn.bin` (the
//! `PSQCNN01` layout, kept byte for byte) scores frames as it did before ml-core's container, and
//! weights written in the container (`quality-net`, version 1) give the same scores and round-trip
//! exactly.

use frame_quality::ranking::learned::quality::{
    BUNDLED_WEIGHTS, CROP, FrameInput, MAGIC, QUALITY_FORMAT_VERSION, QUALITY_KIND, QualityModel, net_from_bytes,
    net_to_bytes, score_inputs, weights_crops,
};

type B = burn::backend::Flex;

/// Six synthetic frames of `k` crops: ripples of growing frequency and a noise level.
fn frames(k: usize) -> Vec<FrameInput> {
    (0..6)
        .map(|f| FrameInput {
            found: true,
            touches_border: false,
            crops: (0..k * CROP * CROP)
                .map(|i| {
                    let (x, y) = ((i % CROP) as f32, ((i / CROP) % CROP) as f32);
                    (x * 0.3 * (f + 1) as f32).sin() * (y * 0.2).cos() * (1.0 + 0.1 * (i / (CROP * CROP)) as f32)
                })
                .collect(),
            noise: 0.05 * f as f32,
        })
        .collect()
}

/// The bundled model's scores of [`frames`] before the container (measured with the `PSQCNN01`
/// reader at 2e9a4da).
const BEFORE: [f32; 6] = [-0.6760781, 18.632555, 23.315084, 22.104578, 16.10015, 9.141314];

#[test]
fn the_bundled_quality_weights_keep_their_bytes_and_score_as_before_the_container() {
    let d = Default::default();
    assert!(BUNDLED_WEIGHTS.starts_with(MAGIC) && !ml_core::model_file::is_container(BUNDLED_WEIGHTS));
    let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/weights/quality-cnn.bin")).unwrap();
    assert_eq!(on_disk, BUNDLED_WEIGHTS);
    assert_eq!(weights_crops(BUNDLED_WEIGHTS), Some(4));
    let model = QualityModel::<B>::bundled(&d).unwrap();
    assert_eq!(model.crops, 4);
    let scores = score_inputs(&model.net, &frames(4), 4, &d);
    for (now, before) in scores.iter().zip(BEFORE) {
        assert!((now - before).abs() < 1e-4, "{scores:?} now, {BEFORE:?} before");
    }
}

#[test]
fn quality_weights_written_in_the_container_score_the_same_and_round_trip_exactly() {
    let d = Default::default();
    let (old, k) = net_from_bytes::<B>(BUNDLED_WEIGHTS, &d).unwrap();
    let bytes = net_to_bytes(&old, k).unwrap();
    let parts = ml_core::model_file::decode_model(&bytes, QUALITY_KIND, QUALITY_FORMAT_VERSION).unwrap();
    assert_eq!((parts.kind, parts.version), ("quality-net", 1));
    assert_eq!(
        parts.config_as::<serde_json::Value>().unwrap(),
        serde_json::json!({"crops": 4, "channels": [8, 16, 16]})
    );
    assert_eq!(weights_crops(&bytes), Some(4));
    // Through a file, as a newly trained model is saved and loaded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.bin");
    std::fs::write(&path, &bytes).unwrap();
    let new = QualityModel::<B>::load(&path).unwrap();
    assert_eq!(new.crops, 4);
    let inputs = frames(4);
    assert_eq!(score_inputs(&new.net, &inputs, 4, &d), score_inputs(&old, &inputs, 4, &d), "scores differ");
    assert_eq!(net_to_bytes(&new.net, 4).unwrap(), bytes, "not an exact round trip");
    // Eight crops: the count comes from the config.
    let eight = net_to_bytes(&old, 8).unwrap();
    assert_eq!(net_from_bytes::<B>(&eight, &d).unwrap().1, 8);
}

#[test]
fn a_container_of_another_kind_is_not_quality_weights() {
    let d = Default::default();
    let other = ml_core::model_file::encode_model("sr-generator", 1, b"{}", b"").unwrap();
    let err = net_from_bytes::<B>(&other, &d).unwrap_err();
    assert_eq!(err, "a sr-generator model, not a quality-net model");
    assert_eq!(weights_crops(&other), None);
    let (old, _) = net_from_bytes::<B>(BUNDLED_WEIGHTS, &d).unwrap();
    let bytes = net_to_bytes(&old, 4).unwrap();
    let forged = ml_core::model_file::encode_model(
        QUALITY_KIND,
        QUALITY_FORMAT_VERSION,
        br#"{"crops": 5, "channels": [8, 16, 16]}"#,
        ml_core::model_file::decode_model(&bytes, QUALITY_KIND, 1).unwrap().record,
    )
    .unwrap();
    assert!(net_from_bytes::<B>(&forged, &d).unwrap_err().contains("5 crops per frame"));
}
