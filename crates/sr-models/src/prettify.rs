//! `prettify`'s job as library code: the input (a file, a fetched survey cutout or the bundled
//! sample) staged in a private temporary folder, the finish its flags ask for, and the ×2 model
//! followed by what the output scale needs. The binary parses flags, fetches the cutout, shows
//! progress and calls these.

use std::path::{Path, PathBuf};

use crate::cli::{Job, Then, default_output};
use crate::error::{Result, SrError};
use crate::inference::Tiling;
use crate::star_protection::Finish;
use crate::weights::{Family, ModelChoice, SAMPLE_CREDIT, SAMPLE_SURVEY_IMAGE};

/// A private temporary folder for the sample or a fetched cutout, removed when dropped (on every
/// return path, errors included).
pub struct TempDir(PathBuf);

impl TempDir {
    /// Create `prettify-<pid>` under the system's temporary folder.
    pub fn new() -> std::io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("prettify-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where the image to prettify comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// An image file.
    File(PathBuf),
    /// A survey cutout fetched through hips2fits (PNG bytes) of `hips` at `ra`, `dec` (degrees)
    /// with field of view `fov` (degrees).
    Cutout {
        /// The encoded image.
        bytes: Vec<u8>,
        /// The HiPS survey.
        hips: String,
        /// Right ascension.
        ra: f64,
        /// Declination.
        dec: f64,
        /// Field of view.
        fov: f64,
    },
    /// The bundled real DSS image of NGC 185.
    Sample,
}

/// An input ready to run: the file, how to name it, and the output used when none is given.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The image file to read.
    pub path: PathBuf,
    /// What it is, for the `input:` line.
    pub label: String,
    /// `INPUT-prettified.EXT` next to an input file, `prettified.png` otherwise.
    pub default_output: PathBuf,
}

/// Write a cutout or the sample into `tmp` (a file input stays where it is).
pub fn stage(input: Input, tmp: &TempDir) -> Result<Staged> {
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| SrError::io(&p, e))?;
        Ok::<_, SrError>(p)
    };
    Ok(match input {
        Input::File(p) => {
            Staged { label: p.display().to_string(), default_output: default_output(&p, "prettified"), path: p }
        }
        Input::Cutout { bytes, hips, ra, dec, fov } => Staged {
            path: write("cutout.png", &bytes)?,
            label: format!("{hips} cutout at RA {ra}° Dec {dec}° (FoV {fov}°)"),
            default_output: PathBuf::from("prettified.png"),
        },
        Input::Sample => Staged {
            path: write("sample-ngc185-dss.png", SAMPLE_SURVEY_IMAGE)?,
            label: format!("bundled sample survey image: {SAMPLE_CREDIT}"),
            default_output: PathBuf::from("prettified.png"),
        },
    })
}

/// The finish prettify gives each tile: blend `strength`; saturated-star protection and the
/// invention guard unless `no_star_protection`; the input's colour unless `model_colour`.
pub fn finish(strength: f32, no_star_protection: bool, model_colour: bool, saturation: f32) -> Finish {
    Finish {
        strength,
        protect_saturated: !no_star_protection,
        guard_invented: !no_star_protection,
        keep_colour: !model_colour,
        saturation,
    }
}

/// What follows the ×2 model for an output `scale` of 1 (area average back), 2 (nothing) or 4
/// (`general` ×2).
pub fn then_for_scale(scale: usize) -> Then {
    match scale {
        1 => Then::AreaDownscale,
        4 => Then::Upscale(ModelChoice::Bundled(Family::General), 2),
        _ => Then::Nothing,
    }
}

/// The job of one prettify run: `model` at ×2 on `input`, then what the output `scale` asks for;
/// the output is replaced if it exists.
pub fn job(input: PathBuf, output: PathBuf, model: ModelChoice, scale: usize, tiling: Tiling, max_pixels: u64) -> Job {
    Job {
        input,
        output,
        model,
        scale: 2,
        tiling,
        max_output_pixels: max_pixels,
        overwrite: true,
        then: then_for_scale(scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_staged_in_the_temporary_folder_and_removed_with_it() {
        let tmp = TempDir::new().unwrap();
        let s = stage(Input::Sample, &tmp).unwrap();
        assert!(s.path.starts_with(tmp.path()) && s.path.is_file());
        assert_eq!(s.default_output, PathBuf::from("prettified.png"));
        let dir = tmp.path().to_path_buf();
        drop(tmp);
        assert!(!dir.exists());
        assert_eq!(then_for_scale(1), Then::AreaDownscale);
        assert_eq!(then_for_scale(2), Then::Nothing);
        let f = finish(0.5, true, false, 1.8);
        assert!(!f.protect_saturated && !f.guard_invented && f.keep_colour);
    }
}
