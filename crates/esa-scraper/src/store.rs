//! The output directory of one site and its crash-safe files: `metadata.jsonl` (one record per image),
//! `failures.jsonl` (the failure ledger), `credits.tsv`, and `images/<id>.<ext>`.
//!
//! Lines are appended one `write` at a time while a run goes on and the files are rewritten atomically
//! (temp file + rename), deduplicated by id, at the end of a run and when loaded. A line cut short by a
//! crash is dropped on load (its image is re-verified from disk, not re-downloaded).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::error::{EsaError, Result};
use crate::record::ImageRecord;
use crate::site::{ImageFormat, Site};

/// Write `bytes` to `path` atomically (`astro_image::write_atomic`: a synced temp file in the
/// same folder, then a rename), as an [`EsaError`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    astro_image::write_atomic(path, bytes).map_err(|e| match e {
        astro_image::ImageError::Io { path, source } => EsaError::io(path, source),
        other => EsaError::io(path, std::io::Error::other(other.to_string())),
    })
}

/// An exclusive lock on an output folder, held until dropped (the OS releases it if the process
/// dies, so a run killed with SIGKILL leaves no stale lock).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Lock `dir` (created if missing) for one run: `dir/.lock`, an advisory whole-file lock. A second
/// run on the same folder is refused at once with a message naming the folder.
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    std::fs::create_dir_all(dir).map_err(|e| EsaError::io(dir, e))?;
    let path = dir.join(".lock");
    let mut file =
        OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| EsaError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = writeln!(file, "{}", std::process::id());
            Ok(DirLock { _file: file, path })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            Err(EsaError::Config {
                path: dir.to_path_buf(),
                message: format!(
                    "another run (pid {}) is writing to this output folder; wait for it or use another --out",
                    if holder.is_empty() { "?" } else { holder }
                ),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(EsaError::io(&path, e)),
    }
}

/// Paths of one site's output directory (`DIR/<site>/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteDir {
    /// `DIR/<site>`.
    pub root: PathBuf,
}

impl SiteDir {
    /// `out/<site>`.
    pub fn new(out: &Path, site: Site) -> Self {
        SiteDir { root: out.join(site.name()) }
    }
    /// `metadata.jsonl`.
    pub fn metadata(&self) -> PathBuf {
        self.root.join("metadata.jsonl")
    }
    /// `failures.jsonl`.
    pub fn failures(&self) -> PathBuf {
        self.root.join("failures.jsonl")
    }
    /// `credits.tsv`.
    pub fn credits(&self) -> PathBuf {
        self.root.join("credits.tsv")
    }
    /// `images/`.
    pub fn images(&self) -> PathBuf {
        self.root.join("images")
    }
    /// Path of an image file relative to the site directory.
    pub fn image_rel(id: &str, format: ImageFormat) -> String {
        format!("images/{id}.{}", format.extension())
    }
}

/// Anything stored one JSON object per line, keyed by image id.
pub trait Keyed {
    /// The id lines are deduplicated by.
    fn key(&self) -> &str;
}

impl Keyed for ImageRecord {
    fn key(&self) -> &str {
        &self.id
    }
}

/// A JSON-lines file of keyed items: the last line for an id wins.
pub struct JsonLines<T> {
    path: PathBuf,
    items: BTreeMap<String, T>,
    append: Option<File>,
    dirty: bool,
}

impl<T: Serialize + DeserializeOwned + Keyed> JsonLines<T> {
    /// Load `path` (missing = empty). A malformed *last* line (a write cut short) is dropped with a
    /// warning; a malformed line elsewhere is an error, so nothing is silently lost. Nothing is written:
    /// call [`JsonLines::compact`] when [`JsonLines::needs_compaction`] says so.
    pub fn load(path: &Path) -> Result<Self> {
        let mut items = BTreeMap::new();
        let mut needs_rewrite = false;
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let lines: Vec<&str> = text.split('\n').collect();
                let last = lines.iter().rposition(|l| !l.trim().is_empty());
                for (i, line) in lines.iter().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<T>(line) {
                        Ok(item) => {
                            if items.insert(item.key().to_string(), item).is_some() {
                                needs_rewrite = true;
                            }
                        }
                        Err(e) if Some(i) == last => {
                            warn!("{}: dropping line {} cut short by an interrupted run ({e})", path.display(), i + 1);
                            needs_rewrite = true;
                        }
                        Err(e) => {
                            return Err(EsaError::Json {
                                what: format!("{} line {}", path.display(), i + 1),
                                message: e.to_string(),
                            });
                        }
                    }
                }
                if !text.is_empty() && !text.ends_with('\n') {
                    needs_rewrite = true;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EsaError::io(path, e)),
        }
        Ok(JsonLines { path: path.to_path_buf(), items, append: None, dirty: needs_rewrite })
    }

    /// Whether the file holds duplicate ids, a cut-short line or removed items (a rewrite would tidy it).
    pub fn needs_compaction(&self) -> bool {
        self.dirty
    }

    /// The item for `id`.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.items.get(id)
    }

    /// All items, sorted by id.
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.items.values()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Append one item as a single line (one `write` call) and remember it.
    pub fn append(&mut self, item: T) -> Result<()> {
        let mut line = serde_json::to_string(&item)
            .map_err(|e| EsaError::Json { what: self.path.display().to_string(), message: e.to_string() })?;
        line.push('\n');
        if self.append.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| EsaError::io(dir, e))?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| EsaError::io(&self.path, e))?;
            self.append = Some(f);
        }
        if let Some(f) = self.append.as_mut() {
            f.write_all(line.as_bytes()).and_then(|_| f.flush()).map_err(|e| EsaError::io(&self.path, e))?;
        }
        if self.items.insert(item.key().to_string(), item).is_some() {
            self.dirty = true;
        }
        Ok(())
    }

    /// Forget `id` (takes effect in the file at the next [`JsonLines::compact`]).
    pub fn remove(&mut self, id: &str) -> Option<T> {
        let out = self.items.remove(id);
        self.dirty |= out.is_some();
        out
    }

    /// Rewrite the file atomically: one line per id, sorted.
    pub fn compact(&mut self) -> Result<()> {
        self.append = None;
        let mut out = String::new();
        for item in self.items.values() {
            out += &serde_json::to_string(item)
                .map_err(|e| EsaError::Json { what: self.path.display().to_string(), message: e.to_string() })?;
            out.push('\n');
        }
        self.dirty = false;
        if out.is_empty() && !self.path.exists() {
            return Ok(());
        }
        write_atomic(&self.path, out.as_bytes())
    }
}

/// The stage of the pipeline where an image failed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Listing (a feed or list page, or an unreadable feed item).
    Listing,
    /// The HTML detail page.
    Detail,
    /// The image download.
    Download,
    /// Reading the downloaded image (dimensions, AVM).
    Image,
    /// Writing outputs.
    Write,
}

/// One entry of the failure ledger (`failures.jsonl`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Failure {
    /// Site.
    pub site: Site,
    /// Image id, or `listing:<url>` for a listing page.
    pub id: String,
    /// Where it failed.
    pub stage: Stage,
    /// URL involved, if any.
    #[serde(default)]
    pub url: Option<String>,
    /// The error message.
    pub error: String,
    /// Unix time (seconds) of the failure.
    pub time: u64,
    /// How many runs have failed on this id so far.
    #[serde(default = "one")]
    pub runs: u32,
}

fn one() -> u32 {
    1
}

impl Keyed for Failure {
    fn key(&self) -> &str {
        &self.id
    }
}

impl Failure {
    /// A failure stamped now.
    pub fn new(site: Site, id: impl Into<String>, stage: Stage, url: Option<String>, error: impl ToString) -> Self {
        let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Failure { site, id: id.into(), stage, url, error: error.to_string(), time, runs: 1 }
    }
}

/// The record store (`metadata.jsonl`).
pub type MetadataStore = JsonLines<ImageRecord>;
/// The failure ledger (`failures.jsonl`).
pub type FailureLedger = JsonLines<Failure>;

/// Read every record of a `metadata.jsonl` (for consumers such as `build-dataset`).
pub fn read_metadata(path: &Path) -> Result<Vec<ImageRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| EsaError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        out.push(serde_json::from_str(line).map_err(|e| EsaError::Json {
            what: format!("{} line {}", path.display(), i + 1),
            message: e.to_string(),
        })?);
    }
    Ok(out)
}
