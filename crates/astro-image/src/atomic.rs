//! Atomic outputs, the one home of "temporary file, then rename" in the workspace: everything is
//! written to a hidden temporary file in the output's folder (`.NAME.XXXXXX.tmp.EXT`, so tools
//! such as ffmpeg still see the extension), synced, and renamed over the target only when
//! complete. An existing output is never destroyed or left half-written; the temporary file is
//! removed on error and on drop (a process killed with SIGKILL leaves only a hidden `.tmp` file).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{ImageError, Result};

/// The folder an output goes into, which must already exist (and the output must not be a folder).
pub fn output_folder(output: &Path) -> Result<PathBuf> {
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(ImageError::Output {
            path: output.to_path_buf(),
            reason: format!("output folder {} does not exist", dir.display()),
        });
    }
    if output.is_dir() {
        return Err(ImageError::Output { path: output.to_path_buf(), reason: "output is a folder".into() });
    }
    Ok(dir)
}

/// A temporary file beside `target` that becomes `target` on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    tmp: NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// Start an output in an existing folder (a missing folder is a user error, reported as such).
    pub fn create(target: &Path) -> Result<Self> {
        let dir = output_folder(target)?;
        Self::create_in(target, &dir)
    }

    /// Start an output, creating missing parent folders (stores and caches own their folders).
    pub fn create_with_dirs(target: &Path) -> Result<Self> {
        let io_err = |source| ImageError::Io { path: target.to_path_buf(), source };
        let dir = match target.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(io_err)?;
                dir.to_path_buf()
            }
            None => PathBuf::from("."),
        };
        Self::create_in(target, &dir)
    }

    fn create_in(target: &Path, dir: &Path) -> Result<Self> {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(&format!(".tmp{ext}"))
            .tempfile_in(dir)
            .map_err(|source| ImageError::Io { path: target.to_path_buf(), source })?;
        // Temporary files are private (0600); the output gets the old file's mode, else rw-r--r--.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(target).map(|m| m.permissions().mode()).unwrap_or(0o644);
            let _ = tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode));
        }
        Ok(AtomicFile { tmp, target: target.to_path_buf() })
    }

    /// Path of the temporary file (for external writers such as ffmpeg).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flush to disk and rename over the target.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        self.tmp.as_file().sync_all().map_err(|source| ImageError::Io { path: target.clone(), source })?;
        self.tmp.persist(&target).map_err(|e| ImageError::Io { path: target.clone(), source: e.error })?;
        Ok(())
    }
}

/// Write bytes to `path` through an [`AtomicFile`] (missing parent folders are created): a reader
/// never sees a half-written file and a failed write leaves the old file as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = AtomicFile::create_with_dirs(path)?;
    out.file().write_all(bytes).map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_output() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.png");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut a = AtomicFile::create(&target).unwrap();
            assert!(a.path().to_string_lossy().ends_with(".tmp.png"), "{}", a.path().display());
            a.file().write_all(b"half").unwrap();
            // dropped without commit: an error path
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temporary file left behind");
        let mut a = AtomicFile::create(&target).unwrap();
        a.file().write_all(b"new").unwrap();
        a.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let e = AtomicFile::create(&dir.path().join("missing/out.png")).unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("does not exist"), "{e}");
        let e = AtomicFile::create(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
    }

    #[test]
    fn write_atomic_creates_folders_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/c.json");
        write_atomic(&target, b"{}").unwrap();
        write_atomic(&target, b"[1]").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"[1]");
        assert_eq!(std::fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);
    }
}
