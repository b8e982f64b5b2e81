//! `sr-eval`'s runs over a list of images: the standard evaluation ([`crate::evaluation`]: scores
//! against the HR originals) and the real-survey evaluation ([`crate::survey_eval`]: no ground
//! truth), each with optional gallery rows and a progress callback. The binary parses flags,
//! loads the models, shows progress and prints the tables.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use dataset::degrade::DegradationConfig;

use crate::data::{self, StoredImage};
use crate::error::{Result, SrError};
use crate::evaluation::{self, Candidate, ImageScores};
use crate::inference::Tiling;
use crate::model::{Generator, GeneratorConfig};
use crate::survey_eval::{self, SurveyFigures};

/// Where gallery rows go: the first `count` images get one PNG each in `dir`.
#[derive(Debug, Clone, Copy)]
pub struct Gallery<'a> {
    /// The folder (created when the first row is written).
    pub dir: &'a Path,
    /// Images with a row.
    pub count: usize,
}

impl Gallery<'_> {
    /// Write image `i`'s row as `dir/{name}` if `i` is among the first `count`.
    fn save(
        gallery: Option<Self>,
        i: usize,
        name: impl FnOnce() -> String,
        row: impl FnOnce() -> Result<astro_image::Planes>,
    ) -> Result<()> {
        if let Some(g) = gallery
            && i < g.count
        {
            std::fs::create_dir_all(g.dir).map_err(|e| SrError::io(g.dir, e))?;
            astro_image::image_io::save_image(&row()?, &g.dir.join(name()), 8)?;
        }
        Ok(())
    }
}

/// The images to score: every image under `dirs` (recursively). For the real-survey evaluation,
/// the Stellarium set's survey images when no folder gave any; otherwise `stellarium_test`
/// (`Some(outreach_only)`) adds the Stellarium test split (only its outreach images if `true`)
/// of the object-level split `split_seed`.
pub fn image_list(
    dirs: &[PathBuf],
    real_survey: bool,
    stellarium_test: Option<bool>,
    split_seed: u64,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for d in dirs {
        files.extend(evaluation::image_files_recursive(d)?);
    }
    if real_survey {
        if files.is_empty() {
            files = data::stellarium_survey_images()?;
        }
        return Ok(files);
    }
    if let Some(outreach_only) = stellarium_test {
        let test = data::stellarium_images("test", split_seed)?;
        files.extend(if outreach_only { data::outreach_only(test)? } else { test });
    }
    Ok(files)
}

/// Another tool's outputs, scored as one more method in the same table: for each HR image, the
/// file with the same stem (png, jpg, jpeg, tif, tiff) in `dir`, the size of the evaluated HR
/// crop — e.g. the tool's upscaling of the inputs [`write_inputs`] wrote. `NAME=DIR` on the
/// command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// Name shown in the tables.
    pub name: String,
    /// Folder of the outputs.
    pub dir: PathBuf,
}

impl std::str::FromStr for External {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.split_once('=') {
            Some((name, dir)) if !name.trim().is_empty() && !dir.is_empty() => {
                Ok(External { name: name.trim().to_string(), dir: PathBuf::from(dir) })
            }
            _ => Err(format!("'{s}' is not NAME=DIR (e.g. realesrgan=out/realesrgan)")),
        }
    }
}

impl External {
    /// This tool's output file for the HR image `hr_file` (one-line error when missing or ambiguous).
    pub fn file_for(&self, hr_file: &Path) -> Result<PathBuf> {
        let want = stem(hr_file);
        let entries = std::fs::read_dir(&self.dir).map_err(|e| SrError::io(&self.dir, e))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && stem(p) == want && is_still(p))
            .collect();
        found.sort();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(SrError::BadInput {
                name: self.dir.join(format!("{want}.png")).display().to_string(),
                reason: format!("missing: --external {} has no output for {}", self.name, hr_file.display()),
            }),
            [a, b, ..] => Err(SrError::BadInput {
                name: a.display().to_string(),
                reason: format!("ambiguous: {} has the same stem", b.display()),
            }),
        }
    }

    /// This tool's output for the HR image `hr_file`, checked to be `width`×`height`.
    pub fn output_for(&self, hr_file: &Path, width: usize, height: usize) -> Result<astro_image::Planes> {
        let file = &self.file_for(hr_file)?;
        let out = StoredImage::load(file)?;
        if (out.width, out.height) != (width, height) {
            return Err(SrError::BadInput {
                name: file.display().to_string(),
                reason: format!(
                    "{}x{}, but the evaluated crop of {} is {width}x{height} (same --scale, --degradation and --max-side as --write-inputs?)",
                    out.width,
                    out.height,
                    hr_file.display()
                ),
            });
        }
        Ok(out.planes())
    }
}

/// png, jpg, jpeg, tif or tiff.
fn is_still(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "tif" | "tiff"))
}

/// Refuse image lists where two files share a stem (their inputs and outputs would collide).
pub fn check_unique_stems(files: &[PathBuf]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for f in files {
        if let Some(other) = seen.insert(stem(f), f) {
            return Err(SrError::BadInput {
                name: f.display().to_string(),
                reason: format!(
                    "has the same stem as {}: inputs and external outputs are matched by stem",
                    other.display()
                ),
            });
        }
    }
    Ok(())
}

/// Write the exact LR inputs [`standard`] feeds the models (same crop, degradation and per-image
/// seed), quantised to 8 bits, as `dir/{stem}.png`, so another tool can upscale the same inputs
/// (then `--external NAME=DIR`). Returns how many were written.
pub fn write_inputs(
    files: &[PathBuf],
    scale: usize,
    degradation: &DegradationConfig,
    max_side: Option<usize>,
    dir: &Path,
    on_image: OnImage<'_>,
) -> Result<usize> {
    check_unique_stems(files)?;
    std::fs::create_dir_all(dir).map_err(|e| SrError::io(dir, e))?;
    for (i, f) in files.iter().enumerate() {
        on_image(Some(f));
        let t = evaluation::test_image(&StoredImage::load(f)?, scale, degradation, max_side, seed(i))?;
        astro_image::image_io::save_image(&t.lr, &dir.join(format!("{}.png", stem(f))), 8)?;
        on_image(None);
    }
    Ok(files.len())
}

/// The degradation seed of the image at `index` in the list.
fn seed(index: usize) -> u64 {
    777 + index as u64 * 7919
}

/// A file's stem as text (empty when it has none).
fn stem(f: &Path) -> String {
    f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Progress of a run: an image starts (`Some(file)`) or is done (`None`).
pub type OnImage<'a> = &'a mut dyn FnMut(Option<&Path>);

/// The standard evaluation of `files` at `scale`: each HR image (its centre square of at most
/// `max_side`) degraded with `degradation` (seeded per image: 777 + 7919·index), upscaled by
/// bicubic and every candidate, the `externals`' outputs added after the candidates, all scored
/// on Y (and with NIQE when `niqe`); gallery rows are `{stem}-x{scale}.png`.
#[allow(clippy::too_many_arguments)]
pub fn standard<B: Backend>(
    files: &[PathBuf],
    scale: usize,
    degradation: &DegradationConfig,
    max_side: Option<usize>,
    candidates: &[Candidate<'_, B>],
    (externals, niqe): (&[External], bool),
    gallery: Option<Gallery<'_>>,
    device: &B::Device,
    on_image: OnImage<'_>,
) -> Result<Vec<ImageScores>> {
    if !externals.is_empty() {
        check_unique_stems(files)?;
        // Every output present before any model runs.
        for e in externals {
            files.iter().try_for_each(|f| e.file_for(f).map(drop))?;
        }
    }
    let mut rows = Vec::new();
    for (i, f) in files.iter().enumerate() {
        on_image(Some(f));
        let img = StoredImage::load(f)?;
        let t = evaluation::test_image(&img, scale, degradation, max_side, seed(i))?;
        let mut outputs = evaluation::outputs(&t, scale, candidates, device)?;
        for e in externals {
            outputs.push(e.output_for(f, t.hr.width, t.hr.height)?);
        }
        let mut scores = evaluation::score(&t, scale, &outputs)?;
        if niqe {
            scores.niqe = evaluation::naturalness(&t, &outputs)?;
        }
        rows.push(scores);
        let name = || format!("{}-x{scale}.png", stem(f));
        Gallery::save(gallery, i, name, || evaluation::gallery_row(&t, scale, &outputs))?;
        on_image(None);
    }
    Ok(rows)
}

/// The real-survey figures of `files` (each its centre square of at most `max_side`): one list
/// per method, bicubic first, then each model with `tiling`, then (with `star_aware`) each model
/// in the star-aware pipeline; gallery rows are `{stem}.png`.
#[allow(clippy::too_many_arguments)]
pub fn real_survey<B: Backend>(
    files: &[PathBuf],
    models: &[(&GeneratorConfig, &Generator<B>)],
    tiling: Tiling,
    star_aware: Option<crate::star_aware::StarOptions>,
    max_side: Option<usize>,
    gallery: Option<Gallery<'_>>,
    device: &B::Device,
    on_image: OnImage<'_>,
) -> Result<Vec<Vec<SurveyFigures>>> {
    let methods = 1 + models.len() * if star_aware.is_some() { 2 } else { 1 };
    let mut per_method: Vec<Vec<SurveyFigures>> = vec![Vec::new(); methods];
    for (i, f) in files.iter().enumerate() {
        on_image(Some(f));
        let img = StoredImage::load(f)?.planes();
        let input = match max_side {
            Some(m) => {
                let (w, h) = (img.width.min(m), img.height.min(m));
                img.crop((img.width - w) / 2, (img.height - h) / 2, w, h)?
            }
            None => img,
        };
        let outputs = survey_eval::survey_outputs(&input, models, tiling, star_aware, device)?;
        for (k, o) in outputs.iter().enumerate() {
            per_method[k].push(survey_eval::survey_figures(&input, o));
        }
        Gallery::save(gallery, i, || format!("{}.png", stem(f)), || survey_eval::survey_gallery_row(&input, &outputs))?;
        on_image(None);
    }
    Ok(per_method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use astro_image::Planes;

    /// A deterministic textured 220×212 RGB photo-like image.
    fn photo(dir: &Path, name: &str) -> PathBuf {
        let (w, h) = (220, 212);
        let mut p = Planes::zeros(3, h, w);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    let v = 0.5 + 0.3 * ((x as f32 * 0.21 + c as f32).sin() * (y as f32 * 0.13).cos());
                    p.plane_mut(c)[y * w + x] = v + 0.1 * (((x * 7 + y * 13) % 17) as f32 / 17.0 - 0.5);
                }
            }
        }
        let f = dir.join(name);
        astro_image::image_io::save_image(&p, &f, 8).unwrap();
        f
    }

    #[test]
    fn external_flag_is_name_equals_dir() {
        let e: External = "realesrgan=out/r".parse().unwrap();
        assert_eq!(e, External { name: "realesrgan".into(), dir: "out/r".into() });
        for bad in ["realesrgan", "=dir", "name=", ""] {
            assert!(bad.parse::<External>().unwrap_err().contains("NAME=DIR"), "{bad}");
        }
    }

    #[test]
    fn written_inputs_upscaled_elsewhere_are_scored_as_one_more_method_with_niqe() {
        let tmp = tempfile::tempdir().unwrap();
        let hr_dir = tmp.path().join("hr");
        std::fs::create_dir_all(&hr_dir).unwrap();
        // A real photograph: astro-image's NIQE fixture (a 300×300 luma crop of astronaut.png).
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../astro-image/tests/data/niqe/astronaut-crop.png");
        let files = vec![hr_dir.join("a.png")];
        std::fs::copy(fixture, &files[0]).unwrap();
        let inputs = tmp.path().join("inputs");
        let bicubic = DegradationConfig::bicubic();
        let n = write_inputs(&files, 4, &bicubic, None, &inputs, &mut |_| {}).unwrap();
        assert_eq!(n, 1);
        // The written input is the LR the evaluation makes (same crop and seed), in 8 bits.
        let lr = StoredImage::load(&inputs.join("a.png")).unwrap().planes();
        let t = evaluation::test_image(&StoredImage::load(&files[0]).unwrap(), 4, &bicubic, None, seed(0)).unwrap();
        assert_eq!((lr.width, lr.height), (75, 75));
        assert!(lr.data.iter().zip(&t.lr.data).all(|(a, b)| (a - b).abs() <= 0.5 / 255.0 + 1e-6));
        // "Another tool": bicubic upscaling of the written input, saved as that tool would.
        let ext_dir = tmp.path().join("ext");
        std::fs::create_dir_all(&ext_dir).unwrap();
        let up = crate::inference::bicubic_upscale(&lr, t.hr.width, t.hr.height);
        astro_image::image_io::save_image(&up, &ext_dir.join("a.png"), 8).unwrap();
        let ext = [External { name: "tool".into(), dir: ext_dir.clone() }];
        let none: [Candidate<'_, burn::backend::Flex>; 0] = [];
        let rows =
            standard(&files, 4, &bicubic, None, &none, (&ext, true), None, &Default::default(), &mut |_| {}).unwrap();
        let r = &rows[0];
        // The tool's output is bicubic of the 8-bit input: within a hair of sr-eval's own bicubic.
        assert_eq!(r.models.len(), 1);
        assert!((r.models[0].psnr - r.bicubic.psnr).abs() < 0.2, "{r:?}");
        // NIQE: bicubic, the tool, the original. The blurry ×4 upscales are far less natural than
        // the photograph (the reference gives 13.44 for it, 27.22 for a bicubic ×4 blur of it);
        // the tool's differs from sr-eval's bicubic only by the input's 8-bit rounding.
        assert_eq!(r.niqe.len(), 3);
        assert!((r.niqe[2] - 13.44).abs() < 0.1, "{:?}", r.niqe);
        assert!((r.niqe[0] - r.niqe[1]).abs() < 1.5 && r.niqe[0] > r.niqe[2] + 5.0, "{:?}", r.niqe);
        let table = evaluation::niqe_table(4, &["tool".into()], &rows);
        assert!(table.contains("| a.png |") && table.contains("| image | bicubic ×4 | tool | original |"), "{table}");
        // A wrong size or a missing file: one line naming the file.
        astro_image::image_io::save_image(&lr, &ext_dir.join("a.png"), 8).unwrap();
        let e = standard(&files, 4, &bicubic, None, &none, (&ext, false), None, &Default::default(), &mut |_| {});
        let e = e.unwrap_err().to_string();
        assert!(e.contains("a.png: 75x75, but the evaluated crop") && e.contains("300x300"), "{e}");
        std::fs::remove_file(ext_dir.join("a.png")).unwrap();
        let e = standard(&files, 4, &bicubic, None, &none, (&ext, false), None, &Default::default(), &mut |_| {});
        let e = e.unwrap_err().to_string();
        assert!(e.contains("missing: --external tool has no output for") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn images_sharing_a_stem_are_refused_for_inputs_and_externals() {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["x", "y"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        let files = vec![photo(&tmp.path().join("x"), "a.png"), photo(&tmp.path().join("y"), "a.png")];
        let e = write_inputs(&files, 4, &DegradationConfig::bicubic(), None, &tmp.path().join("in"), &mut |_| {});
        assert!(e.unwrap_err().to_string().contains("same stem"));
    }
}
