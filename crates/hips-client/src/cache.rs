//! An on-disk cache of downloaded bytes, keyed by the request (URL or any canonical string).
//!
//! Entries live at `DIR/<first 2 hex of SHA-256>/<SHA-256 of the key>.<ext>` and are written through a
//! temporary file and a rename, so a crash never leaves a half-written entry behind.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{HipsError, Result};

/// A directory of cached responses.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// Use (and create on first write) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> DiskCache {
        DiskCache { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `key` lives (`ext` is a file extension without the dot, for humans).
    pub fn path_for(&self, key: &str, ext: &str) -> PathBuf {
        let hash = Sha256::digest(key.as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(&hex[..2]).join(format!("{hex}.{ext}"))
    }

    /// The cached bytes for `key`, if present.
    pub fn get(&self, key: &str, ext: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path_for(key, ext)).ok()
    }

    /// Store `bytes` for `key` atomically.
    pub fn put(&self, key: &str, ext: &str, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.path_for(key, ext), bytes)
    }
}

/// Write `bytes` to `path` atomically (`astro_image::write_atomic`), as a [`HipsError::Io`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    astro_image::write_atomic(path, bytes).map_err(|e| match e {
        astro_image::ImageError::Io { path, source } => HipsError::Io { path, source },
        other => HipsError::Io { path: path.to_path_buf(), source: std::io::Error::other(other.to_string()) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_round_trip_and_distinct_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path());
        assert!(cache.get("a", "jpg").is_none());
        cache.put("a", "jpg", b"one").unwrap();
        cache.put("b", "jpg", b"two").unwrap();
        assert_eq!(cache.get("a", "jpg").unwrap(), b"one");
        assert_eq!(cache.get("b", "jpg").unwrap(), b"two");
        cache.put("a", "jpg", b"three").unwrap();
        assert_eq!(cache.get("a", "jpg").unwrap(), b"three");
        let leftovers = walk(dir.path())
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(".tmp")))
            .count();
        assert_eq!(leftovers, 0);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
