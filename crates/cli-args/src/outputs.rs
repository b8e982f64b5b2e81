//! Output paths checked before any work: an output may not be an input (the same file by
//! canonical path or by inode, so symlinks and hard links count), may not lie inside an input
//! folder (it would become one of its frames), and two outputs may not name the same file. The
//! writing itself is atomic (`astro_image::atomic`: temporary file, then rename), so a refused or
//! failed run leaves every existing file as it was.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// `path` made absolute and resolved as far as it exists: the canonical path of an existing file,
/// else the canonical parent joined with the file name, else the path joined to the current folder.
pub fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Whether two paths name the same existing file (same device and inode on Unix, the same
/// canonical path elsewhere), or resolve to the same path.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b))
            && x.dev() == y.dev()
            && x.ino() == y.ino()
        {
            return true;
        }
    }
    resolved(a) == resolved(b)
}

/// Refuse, before any work, outputs that would destroy an input or each other: `inputs` are the
/// files or folders read, `outputs` the files written, each with the flag that names it (`-o`,
/// `--csv`). The error names the flag, the path and the clash.
pub fn check_outputs(inputs: &[&Path], outputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    for (k, &(flag, out)) in outputs.iter().enumerate() {
        let out_r = resolved(out);
        for input in inputs {
            if same_file(input, out) {
                bail!(
                    "{flag} {}: this is the input {}; writing it would destroy the input (choose another name)",
                    out.display(),
                    input.display()
                );
            }
            let input_r = resolved(input);
            if input.is_dir() && out_r.starts_with(&input_r) {
                bail!(
                    "{flag} {}: inside the input folder {}; the output would overwrite or join its frames (write it elsewhere)",
                    out.display(),
                    input.display()
                );
            }
        }
        if let Some((other, _)) = outputs[..k].iter().find(|(_, o)| same_file(o, out)) {
            bail!("{other} and {flag} both name {}: give each output its own file", out.display());
        }
    }
    Ok(())
}

/// [`check_outputs`] over optional outputs (flags not given are skipped).
pub fn check_given_outputs(inputs: &[&Path], outputs: &[(&str, Option<&Path>)]) -> anyhow::Result<()> {
    let given: Vec<(&str, &Path)> = outputs.iter().filter_map(|&(flag, p)| Some((flag, p?))).collect();
    check_outputs(inputs, &given)
}

/// Refuse an output whose extension is not one of `allowed` (lower-case, without the dot): the
/// bytes written must match the name (`--cam x.jpg` would get PNG bytes under a JPEG name).
pub fn require_extension(flag: &str, path: &Path, allowed: &[&str], written_as: &str) -> anyhow::Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if ext.as_deref().is_some_and(|e| allowed.contains(&e)) {
        return Ok(());
    }
    let list = allowed.iter().map(|a| format!(".{a}")).collect::<Vec<_>>().join(" or ");
    bail!("{flag} {}: this output is written as {written_as}; give it a {list} name", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_equal_to_an_input_is_refused_by_path_link_and_inode() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ser");
        std::fs::write(&input, b"frames").unwrap();
        let err = check_outputs(&[&input], &[("--csv", &input)]).unwrap_err().to_string();
        assert!(err.starts_with("--csv ") && err.contains("in.ser") && err.contains("destroy the input"), "{err}");
        // The same file under another spelling, through a symlink and through a hard link.
        let dotted = dir.path().join(".").join("in.ser");
        assert!(check_outputs(&[&input], &[("-o", &dotted)]).is_err());
        #[cfg(unix)]
        {
            let link = dir.path().join("link.ser");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(check_outputs(&[&input], &[("-o", &link)]).is_err());
            let hard = dir.path().join("hard.ser");
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(check_outputs(&[&input], &[("-o", &hard)]).is_err());
        }
        assert!(check_outputs(&[&input], &[("-o", &dir.path().join("out.csv"))]).is_ok());
        assert_eq!(std::fs::read(&input).unwrap(), b"frames");
    }

    #[test]
    fn outputs_inside_an_input_folder_and_duplicate_outputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let frames = dir.path().join("frames");
        std::fs::create_dir(&frames).unwrap();
        std::fs::write(frames.join("f000.png"), b"x").unwrap();
        for out in [frames.join("f000.png"), frames.join("new.png")] {
            let err = check_outputs(&[&frames], &[("-o", &out)]).unwrap_err().to_string();
            assert!(err.contains("inside the input folder"), "{err}");
        }
        let out = dir.path().join("stack.png");
        let err = check_outputs(&[&frames], &[("-o", &out), ("--export-best", &out)]).unwrap_err().to_string();
        assert!(err.contains("-o and --export-best both name") && err.contains("stack.png"), "{err}");
        assert!(check_outputs(&[&frames], &[("-o", &out), ("--export-best", &dir.path().join("b.ser"))]).is_ok());
    }

    #[test]
    fn extensions_must_match_what_is_written() {
        let err = require_extension("--cam", Path::new("x.jpg"), &["png"], "PNG").unwrap_err().to_string();
        assert_eq!(err, "--cam x.jpg: this output is written as PNG; give it a .png name");
        assert!(require_extension("--cam", Path::new("x.PNG"), &["png"], "PNG").is_ok());
        assert!(require_extension("-o", Path::new("noext"), &["png", "tif"], "an image").is_err());
    }
}
