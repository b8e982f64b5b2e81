//! Atomic outputs: everything is written to a hidden temporary file in the output's folder and
//! renamed over the target only when complete, so an existing output is never destroyed or
//! left half-written. The temporary file is removed on error (and on drop).

use std::fs::File;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Result, SrError};

/// The folder an output goes into, which must already exist.
pub fn output_folder(output: &Path) -> Result<PathBuf> {
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(SrError::BadInput {
            name: output.display().to_string(),
            reason: format!("output folder {} does not exist", dir.display()),
        });
    }
    if output.is_dir() {
        return Err(SrError::BadInput { name: output.display().to_string(), reason: "output is a folder".into() });
    }
    Ok(dir)
}

/// A temporary file beside `target` that becomes `target` on [`AtomicOutput::commit`].
#[derive(Debug)]
pub struct AtomicOutput {
    tmp: NamedTempFile,
    target: PathBuf,
}

impl AtomicOutput {
    /// Create the temporary file (named `.NAME.XXXXXX.part.EXT`) in the target's folder.
    pub fn create(target: &Path) -> Result<Self> {
        let dir = output_folder(target)?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(&format!(".part{ext}"))
            .tempfile_in(&dir)
            .map_err(|e| SrError::io(target, e))?;
        // Temporary files are private (0600); the output gets the old file's mode, else rw-r--r--.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(target).map(|m| m.permissions().mode()).unwrap_or(0o644);
            let _ = tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode));
        }
        Ok(AtomicOutput { tmp, target: target.to_path_buf() })
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
        self.tmp.as_file().sync_all().map_err(|e| SrError::io(&target, e))?;
        self.tmp.persist(&target).map_err(|e| SrError::io(&target, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_output() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.png");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut a = AtomicOutput::create(&target).unwrap();
            a.file().write_all(b"half").unwrap();
            // dropped without commit: an error path
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temporary file left behind");
        let mut a = AtomicOutput::create(&target).unwrap();
        a.file().write_all(b"new").unwrap();
        a.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let e = AtomicOutput::create(&dir.path().join("missing/out.png")).unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("does not exist"), "{e}");
    }
}
