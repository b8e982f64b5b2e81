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

/// A file's stem as text (empty when it has none).
fn stem(f: &Path) -> String {
    f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Progress of a run: an image starts (`Some(file)`) or is done (`None`).
pub type OnImage<'a> = &'a mut dyn FnMut(Option<&Path>);

/// The standard evaluation of `files` at `scale`: each HR image (its centre square of at most
/// `max_side`) degraded with `degradation` (seeded per image: 777 + 7919·index), upscaled by
/// bicubic and every candidate, and scored on Y; gallery rows are `{stem}-x{scale}.png`.
#[allow(clippy::too_many_arguments)]
pub fn standard<B: Backend>(
    files: &[PathBuf],
    scale: usize,
    degradation: &DegradationConfig,
    max_side: Option<usize>,
    candidates: &[Candidate<'_, B>],
    gallery: Option<Gallery<'_>>,
    device: &B::Device,
    on_image: OnImage<'_>,
) -> Result<Vec<ImageScores>> {
    let mut rows = Vec::new();
    for (i, f) in files.iter().enumerate() {
        on_image(Some(f));
        let img = StoredImage::load(f)?;
        let t = evaluation::test_image(&img, scale, degradation, max_side, 777 + i as u64 * 7919)?;
        let outputs = evaluation::outputs(&t, scale, candidates, device)?;
        rows.push(evaluation::score(&t, scale, &outputs)?);
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
