//! Model loaders as fuzz targets (issue #29): every model kind goes through
//! `ml_core::model_file` (size before reading, bounded gunzip, header counts before any layer is
//! allocated, finite weights), and a mutated file must be refused, never panic or abort.
//! Seeds: `cargo run -p fuzz-lite --example model_seeds` (tiny, so a campaign runs fast).

use std::path::Path;

use ml_core::backend::FlexBackend;

use crate::Ctx;

/// `.srmodel` bytes: header (magic, length, configuration JSON), then gzip weights.
pub(crate) fn srmodel(_: &mut Ctx, b: &[u8]) {
    let d = Default::default();
    if let Ok((config, g)) = sr_models::store::model_from_bytes::<FlexBackend>(b, Path::new("fuzz.srmodel"), None, &d) {
        // A model that loads is usable: one tiny tile through it.
        let input = astro_image::Planes::zeros(config.channels(), 8, 8);
        let _ = sr_models::upscale_planes(&g, &config, &input, &d);
    }
}

/// A frame-ranker JSON model, loaded from a file as `rank-frames --model` does, then scoring one patch.
pub(crate) fn ranker(ctx: &mut Ctx, b: &[u8]) {
    use frame_quality::ranking::learned::Ranker;
    let path = ctx.scratch("ranker.json");
    if std::fs::write(&path, b).is_err() {
        return;
    }
    if let Ok(r) = Ranker::load(&path) {
        let side = r.patch().size;
        let _ = r.score_patches::<FlexBackend>(&[vec![0.5; side * side]], &Default::default());
    }
}

/// A deep-sky classifier model card (the JSON that sizes the network) with the bundled weights:
/// a forged card must be refused before any layer is allocated.
pub(crate) fn dso_card(_: &mut Ctx, b: &[u8]) {
    let d = Default::default();
    let (weights, _) = dso_classify::bundled_files(dso_classify::Task::ThreeClass);
    let _ = dso_classify::Classifier::<FlexBackend>::from_bytes(weights, b, "fuzz card", &d);
}
