//! The bundled degradation presets are data: one JSON file per preset under `presets/`. Each file
//! parses and validates through the JSON loader (`DegradationConfig::load`), is exactly what
//! `DegradationConfig::preset` and the named constructors return, and its values are pinned to
//! those the pipeline used when the presets were Rust literals (issue #28) by a fingerprint, so a
//! change to a preset is a deliberate edit of this test, not an accident.

use std::path::{Path, PathBuf};

use dataset::degrade::DegradationConfig;

/// Every preset name, each the stem of its file.
const NAMES: [&str; 6] = ["bicubic", "general", "dss", "sdss", "survey-calibrated", "real_esrgan"];

/// FNV-1a 64 of each preset's compact JSON (`serde_json::to_string`), measured on the Rust
/// literals (and the calibrated file) of commit 1925740, before the presets became files.
const FINGERPRINTS: [(&str, u64); 6] = [
    ("bicubic", 15067936398333107525),
    ("general", 2827411562806560335),
    ("dss", 13718403129452990510),
    ("sdss", 4131109271277964254),
    ("survey-calibrated", 8590021295285996524),
    ("real_esrgan", 7979166875785151381),
];

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn presets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("presets")
}

#[test]
fn every_preset_file_parses_validates_and_is_the_preset() {
    let mut stems: Vec<String> = std::fs::read_dir(presets_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    let mut names = NAMES.map(String::from).to_vec();
    names.sort();
    assert_eq!(stems, names, "one file per preset, one preset per file");
    for name in NAMES {
        let path = presets_dir().join(format!("{name}.json"));
        let from_file = DegradationConfig::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        from_file.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(DegradationConfig::preset(name).unwrap(), from_file, "{name}");
        assert_eq!(DegradationConfig::from_arg(name).unwrap(), from_file, "{name}");
    }
}

#[test]
fn named_constructors_and_aliases_are_their_files() {
    let p = |n: &str| DegradationConfig::preset(n).unwrap();
    assert_eq!(DegradationConfig::bicubic(), p("bicubic"));
    assert_eq!(DegradationConfig::default(), p("bicubic"), "missing JSON fields take the bicubic values");
    assert_eq!(DegradationConfig::general(), p("general"));
    assert_eq!(DegradationConfig::dss(), p("dss"));
    assert_eq!(DegradationConfig::sdss(), p("sdss"));
    assert_eq!(DegradationConfig::survey_calibrated(), p("survey-calibrated"));
    assert_eq!(DegradationConfig::real_esrgan(), p("real_esrgan"));
    assert_eq!(p("real-esrgan"), p("real_esrgan"));
    assert_eq!(p("survey_calibrated"), p("survey-calibrated"));
    assert_eq!(p("DSS"), p("dss"));
    let err = DegradationConfig::preset("hubble").unwrap_err().to_string();
    assert!(err.contains("unknown degradation preset 'hubble'"), "{err}");
}

#[test]
fn presets_are_unchanged_from_the_rust_literals() {
    for (name, fingerprint) in FINGERPRINTS {
        let json = serde_json::to_string(&DegradationConfig::preset(name).unwrap()).unwrap();
        assert_eq!(fnv1a(json.as_bytes()), fingerprint, "{name} changed: {json}");
    }
}
