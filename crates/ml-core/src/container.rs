//! The one model-file container, read and written the same way for every model family:
//!
//! ```text
//! "PSMODEL1"              8 bytes, magic
//! kind length             u8, 1–64
//! format version          u32 little-endian (the family's own version of its config/record)
//! config length           u32 little-endian, at most MAX_CONFIG_BYTES
//! record length           u64 little-endian, at most MAX_MODEL_FILE_BYTES
//! kind                    ASCII (`sr-generator`, `quality-net`, …)
//! config                  JSON (the family's architecture and settings)
//! record                  the family's weights (burn record bytes, gzip or not: its choice)
//! ```
//!
//! Every length is checked against its limit and against the bytes present before anything is
//! allocated from it, and nothing may follow the record. Families whose older files have another
//! layout detect them with [`is_container`] and read them as before.

use std::path::{Path, PathBuf};

use super::model_file::{MAX_MODEL_FILE_BYTES, read_model_file};

/// Magic bytes of the container.
pub const CONTAINER_MAGIC: &[u8; 8] = b"PSMODEL1";
/// The longest family name.
pub const MAX_KIND_BYTES: usize = 64;
/// The largest configuration JSON.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// Magic, kind length, version, config length, record length.
const FIXED: usize = 8 + 1 + 4 + 4 + 8;

/// A model file's parts, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelParts<'a> {
    /// The model family.
    pub kind: &'a str,
    /// The family's format version.
    pub version: u32,
    /// The configuration JSON (checked to be JSON).
    pub config: &'a [u8],
    /// The weights record.
    pub record: &'a [u8],
}

/// A model file read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// The model family.
    pub kind: String,
    /// The family's format version.
    pub version: u32,
    /// The configuration JSON (checked to be JSON).
    pub config: Vec<u8>,
    /// The weights record.
    pub record: Vec<u8>,
}

/// A model file that cannot be read or written: the file and the problem, on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct ModelFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl ModelParts<'_> {
    /// The configuration parsed as `T`.
    pub fn config_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(self.config).map_err(|e| format!("unreadable {} configuration: {e}", self.kind))
    }

    /// Owned copy.
    pub fn to_owned(&self) -> ModelFile {
        ModelFile {
            kind: self.kind.to_string(),
            version: self.version,
            config: self.config.to_vec(),
            record: self.record.to_vec(),
        }
    }
}

impl ModelFile {
    /// The parts, borrowed.
    pub fn parts(&self) -> ModelParts<'_> {
        ModelParts { kind: &self.kind, version: self.version, config: &self.config, record: &self.record }
    }
}

/// Whether `bytes` start with the container's magic (otherwise a family's older layout).
pub fn is_container(bytes: &[u8]) -> bool {
    bytes.starts_with(CONTAINER_MAGIC)
}

fn check_kind(kind: &str) -> Result<(), String> {
    let ok = (1..=MAX_KIND_BYTES).contains(&kind.len())
        && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("model kind {kind:?} is not 1–{MAX_KIND_BYTES} ASCII letters, digits, - or _"))
    }
}

/// The container's bytes for one model.
pub fn encode_model(kind: &str, version: u32, config: &[u8], record: &[u8]) -> Result<Vec<u8>, String> {
    check_kind(kind)?;
    if config.len() > MAX_CONFIG_BYTES {
        return Err(format!("a {}-byte configuration (at most {MAX_CONFIG_BYTES})", config.len()));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(config).map_err(|e| format!("configuration is not JSON: {e}"))?;
    let total = (FIXED + kind.len() + config.len() + record.len()) as u64;
    if total > MAX_MODEL_FILE_BYTES {
        return Err(format!("{total} bytes, above the {} MB limit of a model file", MAX_MODEL_FILE_BYTES >> 20));
    }
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(CONTAINER_MAGIC);
    out.push(kind.len() as u8);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(config.len() as u32).to_le_bytes());
    out.extend_from_slice(&(record.len() as u64).to_le_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(config);
    out.extend_from_slice(record);
    Ok(out)
}

/// Split container bytes into their parts: the header is checked (magic, kind = `expected_kind`,
/// version ≤ `max_version`, every length within its limit and the bytes present, nothing after
/// the record) before anything is copied; the reason names the first problem.
pub fn decode_model<'a>(bytes: &'a [u8], expected_kind: &str, max_version: u32) -> Result<ModelParts<'a>, String> {
    if !is_container(bytes) {
        return Err("missing the PSMODEL1 header (not a prettier-space model)".into());
    }
    if bytes.len() < FIXED {
        return Err(format!("{} bytes, shorter than the {FIXED}-byte header", bytes.len()));
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let kind_len = bytes[8] as usize;
    let version = u32_at(9);
    let config_len = u32_at(13) as usize;
    let record_len = u64::from_le_bytes(bytes[17..25].try_into().expect("8 bytes"));
    if kind_len == 0 || kind_len > MAX_KIND_BYTES {
        return Err(format!("kind length {kind_len} is outside 1–{MAX_KIND_BYTES}"));
    }
    if config_len > MAX_CONFIG_BYTES {
        return Err(format!("a {config_len}-byte configuration (at most {MAX_CONFIG_BYTES})"));
    }
    if record_len > MAX_MODEL_FILE_BYTES {
        return Err(format!("a {record_len}-byte record, above the {} MB limit", MAX_MODEL_FILE_BYTES >> 20));
    }
    let want = FIXED + kind_len + config_len + record_len as usize;
    if bytes.len() < want {
        return Err(format!("truncated: the header declares {want} bytes, the file has {}", bytes.len()));
    }
    if bytes.len() > want {
        return Err(format!("{} bytes after the record (the header declares {want})", bytes.len() - want));
    }
    let kind = std::str::from_utf8(&bytes[FIXED..FIXED + kind_len])
        .ok()
        .filter(|k| check_kind(k).is_ok())
        .ok_or("the model kind is not ASCII letters, digits, - or _")?;
    if kind != expected_kind {
        return Err(format!("a {kind} model, not a {expected_kind} model"));
    }
    if version > max_version {
        return Err(format!("{kind} format version {version} is newer than this build reads (at most {max_version})"));
    }
    let config = &bytes[FIXED + kind_len..FIXED + kind_len + config_len];
    serde_json::from_slice::<serde::de::IgnoredAny>(config)
        .map_err(|e| format!("the {kind} configuration is not JSON: {e}"))?;
    Ok(ModelParts { kind, version, config, record: &bytes[FIXED + kind_len + config_len..] })
}

/// Write one model file atomically (temporary file in the same folder, then rename): an existing
/// file is never left half-written.
pub fn write_model(path: &Path, kind: &str, version: u32, config: &[u8], record: &[u8]) -> Result<(), ModelFileError> {
    let err = |reason: String| ModelFileError { path: path.to_path_buf(), reason };
    let bytes = encode_model(kind, version, config, record).map_err(err)?;
    astro_image::image_io::write_atomic(path, &bytes).map_err(|e| err(e.to_string()))
}

/// Read one model file of family `expected_kind` (format version at most `max_version`): its size
/// is checked before reading, then [`decode_model`].
pub fn read_model(path: &Path, expected_kind: &str, max_version: u32) -> Result<ModelFile, ModelFileError> {
    let err = |reason: String| ModelFileError { path: path.to_path_buf(), reason };
    let bytes = read_model_file(path, MAX_MODEL_FILE_BYTES).map_err(err)?;
    Ok(decode_model(&bytes, expected_kind, max_version).map_err(err)?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_file_round_trips_exactly_and_is_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.model");
        let record: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        write_model(&path, "test-net", 3, br#"{"width":8}"#, &record).unwrap();
        let m = read_model(&path, "test-net", 3).unwrap();
        assert_eq!(m, ModelFile { kind: "test-net".into(), version: 3, config: br#"{"width":8}"#.to_vec(), record });
        assert_eq!(m.parts().config_as::<serde_json::Value>().unwrap()["width"], 8);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes, encode_model("test-net", 3, br#"{"width":8}"#, &m.record).unwrap());
        // A refused write leaves the existing file as it was.
        let err = write_model(&path, "test-net", 3, b"not json", b"").unwrap_err();
        assert!(err.to_string().starts_with(&path.display().to_string()) && err.reason.contains("not JSON"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn hostile_headers_are_refused_naming_the_problem() {
        let good = encode_model("test-net", 1, b"{}", b"weights").unwrap();
        let refused = |bytes: &[u8], kind: &str, max: u32| decode_model(bytes, kind, max).unwrap_err();
        assert!(refused(b"PSSRMDL1....", "test-net", 1).contains("PSMODEL1"));
        assert!(refused(&good[..20], "test-net", 1).contains("shorter than"));
        assert!(refused(&good[..good.len() - 1], "test-net", 1).contains("truncated"));
        assert!(refused(&[good.as_slice(), b"x"].concat(), "test-net", 1).contains("1 bytes after"));
        assert_eq!(refused(&good, "other", 1), "a test-net model, not a other model");
        assert!(
            refused(&encode_model("test-net", 2, b"{}", b"").unwrap(), "test-net", 1).contains("version 2 is newer")
        );
        let mut forged = good.clone();
        forged[17..25].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(refused(&forged, "test-net", 1).contains("record, above"));
        let mut forged = good.clone();
        forged[13..17].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(refused(&forged, "test-net", 1).contains("configuration (at most"));
        let mut forged = good.clone();
        forged[8] = 0;
        assert!(refused(&forged, "test-net", 1).contains("kind length 0"));
        let mut forged = good.clone();
        forged[FIXED] = b' ';
        assert!(refused(&forged, "test-net", 1).contains("not ASCII"));
        let bad_json = [&good[..FIXED + 8], b"{x", &good[FIXED + 10..]].concat();
        assert!(refused(&bad_json, "test-net", 1).contains("not JSON"));
        assert!(encode_model("", 1, b"{}", b"").is_err() && encode_model("a b", 1, b"{}", b"").is_err());
        let dir = tempfile::tempdir().unwrap();
        let err = read_model(dir.path(), "test-net", 1).unwrap_err();
        assert_eq!(err.reason, "not a regular file");
    }
}
