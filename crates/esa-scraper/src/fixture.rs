//! The fixture archives shipped with this crate (`tests/fixtures/{hubble,webb}`), for tests, the
//! tutorial and the benchmark. They are served over HTTP by `test_servers::FixtureServer` (a
//! dev-dependency: this crate carries no server).

use std::path::PathBuf;

use crate::error::{EsaError, Result};

/// Directory of the fixture sites shipped with this crate (`tests/fixtures`).
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

/// A Data2Dome page of `n` items built by repeating the bundled Hubble page-1 items with fresh ids
/// (for benchmarks at the archives' page size of 100).
pub fn synthetic_feed_page(n: usize) -> Result<String> {
    let path = fixture_dir().join("hubble/d2d/page-1.json");
    let text = std::fs::read_to_string(&path).map_err(|e| EsaError::io(&path, e))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| EsaError::Json { what: path.display().to_string(), message: e.to_string() })?;
    let items = doc["Collections"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| EsaError::Json { what: path.display().to_string(), message: "no items".into() })?;
    let many: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut it = items[i % items.len()].clone();
            it["ID"] = serde_json::Value::String(format!("heic{i:05}a"));
            it
        })
        .collect();
    Ok(serde_json::json!({"Count": n, "Next": null, "Previous": null, "Collections": many}).to_string())
}
