//! Writes the `.srmodel` seed of the `srmodel` fuzz target: a tiny generator of each architecture
//! (a few KB, so a campaign of a million executions stays fast). The `dso_card` seed is the bundled
//! three-class model card; the `ranker` seeds were written by `train-ranker`.

use std::path::Path;

use ml_core::backend::FlexBackend;
use sr_models::{GeneratorConfig, LightSrConfig, RrdbNetConfig, SrResNetConfig};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/srmodel");
    std::fs::create_dir_all(&dir).unwrap();
    let d = Default::default();
    let configs = [
        ("light-x2", GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(4).with_blocks(1))),
        ("srresnet-x2", GeneratorConfig::SrResNet(SrResNetConfig::new().with_scale(2).with_features(4).with_blocks(1))),
        (
            "rrdb-x4",
            GeneratorConfig::Rrdb(RrdbNetConfig::new().with_scale(4).with_features(4).with_growth(4).with_blocks(1)),
        ),
    ];
    for (name, cfg) in configs {
        let g = cfg.init::<FlexBackend>(&d).unwrap();
        let path = dir.join(format!("{name}.srmodel"));
        sr_models::store::save_model(&path, &cfg, &g).unwrap();
        println!("{} ({} bytes)", path.display(), std::fs::metadata(&path).unwrap().len());
    }
}
