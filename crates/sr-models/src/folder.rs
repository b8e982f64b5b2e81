//! Folders: every image under a folder (PNG, JPEG, TIFF, GIF, FITS; recursively, hidden entries
//! skipped) upscaled into the same tree under an output folder, with the same names. Outputs that
//! already exist are skipped unless asked to overwrite; a failing file is reported and the rest
//! go on.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::apply::{Enhancer, enhance_file};
use crate::error::{Result, SrError};

/// Extensions of the files a folder run picks up.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "gif", "fits", "fit", "fts"];

/// What happened to the files of a folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderSummary {
    /// Files upscaled.
    pub done: usize,
    /// Files skipped because their output exists.
    pub skipped: usize,
    /// Files that failed, with the one-line reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// One step of a folder run, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderEvent {
    /// A file is finished (`done` of `total` files handled so far).
    Step {
        /// Files handled.
        done: usize,
        /// Files in all.
        total: usize,
    },
    /// A file failed (reported at once; the run goes on).
    Failed(String),
}

/// Settings of a folder run.
#[derive(Debug, Clone, Copy, Default)]
pub struct FolderOptions {
    /// Replace outputs that already exist.
    pub overwrite: bool,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Paths that could not be read during a folder walk, with the reason.
pub type Unreadable = Vec<(PathBuf, String)>;

/// The images under `dir`, relative to it, sorted; `exclude` (the output folder) is not entered.
/// A subfolder or entry that cannot be read is an error here (see [`walk_images`] to go on).
pub fn list_images(dir: &Path, exclude: Option<&Path>) -> Result<Vec<PathBuf>> {
    let (files, unreadable) = walk_images(dir, exclude)?;
    match unreadable.into_iter().next() {
        Some((path, reason)) => Err(SrError::BadInput { name: path.display().to_string(), reason }),
        None => Ok(files),
    }
}

/// The images under `dir` (relative, sorted) and the subfolders or entries below it that could
/// not be read (full path, reason): one unreadable subfolder does not stop a folder run. Only
/// `dir` itself unreadable is an error.
pub fn walk_images(dir: &Path, exclude: Option<&Path>) -> Result<(Vec<PathBuf>, Unreadable)> {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    let mut stack = vec![PathBuf::new()];
    let exclude = exclude.and_then(|e| std::fs::canonicalize(e).ok());
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        let entries = match std::fs::read_dir(&here) {
            Ok(entries) => entries,
            Err(e) if rel.as_os_str().is_empty() => return Err(SrError::io(&here, e)),
            Err(e) => {
                unreadable.push((here, format!("cannot read this folder: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    unreadable.push((here.clone(), format!("cannot list this folder: {e}")));
                    continue;
                }
            };
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let ty = match entry.file_type() {
                Ok(ty) => ty,
                Err(e) => {
                    unreadable.push((path, format!("cannot read: {e}")));
                    continue;
                }
            };
            if ty.is_dir() {
                if exclude.as_ref().is_none_or(|x| std::fs::canonicalize(&path).ok().as_ref() != Some(x)) {
                    stack.push(rel.join(&name));
                }
            } else if (ty.is_file() || (ty.is_symlink() && path.is_file())) && is_image(&path) {
                out.push(rel.join(&name));
            }
        }
    }
    out.sort();
    unreadable.sort();
    Ok((out, unreadable))
}

/// Check a folder job before loading a model: `input` is a folder, `output` is not a file and
/// not `input` itself, and the folder holding `output` exists.
pub fn check_folder_job(input: &Path, output: &Path) -> Result<()> {
    let name = output.display().to_string();
    if output.is_file() {
        return Err(SrError::BadInput { name, reason: "the output of a folder must be a folder, not a file".into() });
    }
    let (i, o) = (std::fs::canonicalize(input).ok(), std::fs::canonicalize(output).ok());
    if i.is_some() && i == o {
        return Err(SrError::BadInput { name, reason: "the output folder is the input folder".into() });
    }
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(SrError::BadInput { name, reason: format!("folder {} does not exist", parent.display()) });
    }
    Ok(())
}

/// Upscale every image under `input` into the same tree under `output` (created if needed).
pub fn enhance_folder<B: Backend>(
    enhancer: &Enhancer<'_, B>,
    input: &Path,
    output: &Path,
    options: FolderOptions,
    events: &mut dyn FnMut(FolderEvent),
) -> Result<FolderSummary> {
    check_folder_job(input, output)?;
    // Listed before the output folder is created: an unreadable input leaves nothing behind.
    let (files, unreadable) = walk_images(input, Some(output))?;
    std::fs::create_dir_all(output).map_err(|e| SrError::io(output, e))?;
    let total = files.len();
    let mut summary = FolderSummary::default();
    for (path, reason) in unreadable {
        let msg = format!("{}: {reason}", path.display());
        tracing::warn!("{msg}");
        events(FolderEvent::Failed(msg.clone()));
        summary.failed.push((path, msg));
    }
    events(FolderEvent::Step { done: 0, total });
    for (i, rel) in files.iter().enumerate() {
        let (src, dst) = (input.join(rel), output.join(rel));
        if dst.exists() && !options.overwrite {
            tracing::debug!(output = %dst.display(), "exists, skipped");
            summary.skipped += 1;
        } else {
            let result = dst
                .parent()
                .map_or(Ok(()), |p| std::fs::create_dir_all(p).map_err(|e| SrError::io(p, e)))
                .and_then(|_| enhance_file(enhancer, &src, &dst, &mut |_, _| {}));
            match result {
                Ok(_) => summary.done += 1,
                Err(e) => {
                    let msg = e.to_string();
                    tracing::warn!("{msg}");
                    events(FolderEvent::Failed(msg.clone()));
                    summary.failed.push((src, msg));
                }
            }
        }
        events(FolderEvent::Step { done: i + 1, total });
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GeneratorConfig, LightSrConfig};
    use astro_image::Planes;
    use astro_image::image_io::save_image;
    use burn::backend::Flex;

    #[test]
    fn a_folder_tree_is_mirrored_existing_outputs_skipped_and_failures_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (inp, out) = (dir.path().join("in"), dir.path().join("out"));
        std::fs::create_dir_all(inp.join("a/b")).unwrap();
        std::fs::create_dir_all(inp.join(".hidden")).unwrap();
        save_image(&Planes::zeros(3, 8, 10), &inp.join("one.png"), 8).unwrap();
        save_image(&Planes::zeros(1, 6, 6), &inp.join("a/b/two.tif"), 16).unwrap();
        save_image(&Planes::zeros(3, 6, 6), &inp.join(".hidden/three.png"), 8).unwrap();
        std::fs::write(inp.join("a/broken.jpg"), b"not a jpeg").unwrap();
        std::fs::write(inp.join("notes.txt"), b"ignored").unwrap();
        assert_eq!(
            list_images(&inp, None).unwrap(),
            vec![PathBuf::from("a/b/two.tif"), PathBuf::from("a/broken.jpg"), PathBuf::from("one.png")]
        );
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(4).with_blocks(1));
        let d = Default::default();
        let g = cfg.init::<Flex>(&d).unwrap();
        let mut failures = Vec::new();
        let e = Enhancer::new(&g, &cfg, &d);
        let s = enhance_folder(&e, &inp, &out, FolderOptions::default(), &mut |e| {
            if let FolderEvent::Failed(m) = e {
                failures.push(m)
            }
        })
        .unwrap();
        assert_eq!((s.done, s.skipped, s.failed.len()), (2, 0, 1));
        assert!(failures[0].contains("broken.jpg"), "{failures:?}");
        assert_eq!(astro_image::image_io::image_dimensions(&out.join("a/b/two.tif")).unwrap(), (12, 12));
        assert_eq!(astro_image::image_io::image_dimensions(&out.join("one.png")).unwrap(), (20, 16));
        assert!(!out.join(".hidden").exists());
        // A second run skips what exists; --overwrite redoes it.
        let s = enhance_folder(&e, &inp, &out, FolderOptions::default(), &mut |_| {}).unwrap();
        assert_eq!((s.done, s.skipped, s.failed.len()), (0, 2, 1));
        let s = enhance_folder(&e, &inp, &out, FolderOptions { overwrite: true }, &mut |_| {}).unwrap();
        assert_eq!((s.done, s.skipped), (2, 0));
    }

    /// Issue #29 item 25: one unreadable subfolder used to abort the whole run (after the output
    /// folder was created); it is now one listed failure and the other files are upscaled.
    #[cfg(unix)]
    #[test]
    fn an_unreadable_subfolder_is_a_listed_failure_and_the_run_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (inp, out) = (dir.path().join("in"), dir.path().join("out"));
        std::fs::create_dir_all(&inp).unwrap();
        save_image(&Planes::zeros(3, 8, 8), &inp.join("one.png"), 8).unwrap();
        // A subfolder no one can read, root included: its path is longer than PATH_MAX (4096), so
        // read_dir fails with ENAMETOOLONG (made by relative `cd`s in bash, which have no such limit; dash's `cd` has).
        let name = "d".repeat(250);
        let script = format!("cd '{}' && for i in $(seq 20); do mkdir {name} && cd {name}; done", inp.display());
        assert!(std::process::Command::new("bash").arg("-c").arg(&script).status().unwrap().success());
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(4).with_blocks(1));
        let d = Default::default();
        let g = cfg.init::<Flex>(&d).unwrap();
        let e = Enhancer::new(&g, &cfg, &d);
        let mut failures = Vec::new();
        let s = enhance_folder(&e, &inp, &out, FolderOptions::default(), &mut |e| {
            if let FolderEvent::Failed(m) = e {
                failures.push(m)
            }
        });
        let s = s.unwrap();
        assert_eq!((s.done, s.failed.len()), (1, 1), "{s:?}");
        assert!(failures[0].contains(&name) && failures[0].contains("cannot read this folder"), "{failures:?}");
        assert_eq!(astro_image::image_io::image_dimensions(&out.join("one.png")).unwrap(), (16, 16));
        // An unreadable input folder itself is an error, and no output folder is left behind.
        let err = enhance_folder(
            &e,
            &dir.path().join("missing"),
            &dir.path().join("out2"),
            FolderOptions::default(),
            &mut |_| {},
        );
        assert!(err.is_err() && !dir.path().join("out2").exists());
    }
}
