//! Pair directories: `OUT/pairs/<id>/` with `obs.png`, one cutout per survey (`dss.jpg`, …, on
//! exactly the observation's pixel grid), `mask.png` when black boxes/borders were found, and
//! `pair.json` (WCS, sources, credits, filter verdicts); `OUT/manifest.jsonl` lists every pair.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use astro_image::image_io::{ColorMode, ImageLimits, Planes, load_image, save_image};
use esa_scraper::ImageRecord;
use hips_client::Survey;

use crate::error::{PairError, Result};
use crate::filters::{CutoutSource, FilterConfig, PairRecord, PairSurvey, Verdict, black_mask, check_survey, judge};

/// What to build and how.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// Output directory of `esa-scrape` (holds `<site>/metadata.jsonl`).
    pub scraped: PathBuf,
    /// Output directory (`pairs/` and `manifest.jsonl` go here).
    pub output: PathBuf,
    /// Longest side of the pair images (the observation is downsampled to it).
    pub max_side: usize,
    /// Rebuild pairs that already exist.
    pub override_existing: bool,
    /// Only fetch survey cutouts missing from existing pairs (e.g. after adding a survey).
    pub missing: bool,
    /// Stop after this many observations.
    pub limit: Option<usize>,
    /// Thresholds of the validation filters.
    pub filter: FilterConfig,
}

/// What happens during [`build_all`], for progress display.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The number of observations to go through.
    Total(usize),
    /// An observation is being looked at.
    Start(&'a str),
    /// An observation could not be built (the run goes on).
    Failed {
        /// Image id.
        id: &'a str,
        /// Why.
        error: &'a str,
    },
    /// An observation is done (built, skipped or failed).
    Done,
}

/// The outcome of a run: counts, failures and the manifest written.
#[derive(Debug)]
pub struct BuildSummary {
    /// Pairs built (or completed) this run.
    pub built: usize,
    /// Pairs already done and skipped.
    pub skipped: usize,
    /// `(id, error)` of observations that failed.
    pub failed: Vec<(String, String)>,
    /// Every pair of the manifest.
    pub records: Vec<PairRecord>,
}

/// Every record of every `<site>/metadata.jsonl` (last line per id wins), sorted by id.
pub fn read_records(scraped: &Path) -> Result<Vec<ImageRecord>> {
    let mut by_id: BTreeMap<String, ImageRecord> = BTreeMap::new();
    let entries = std::fs::read_dir(scraped).map_err(|source| PairError::Io { path: scraped.to_path_buf(), source })?;
    for entry in entries.flatten() {
        let meta = entry.path().join("metadata.jsonl");
        if meta.is_file() {
            for r in esa_scraper::read_metadata(&meta)? {
                by_id.insert(r.id.clone(), r);
            }
        }
    }
    Ok(by_id.into_values().collect())
}

/// Build (or complete) the pair of every record, then rewrite the manifest. A failing record is
/// reported through `progress` and in the summary; the others go on.
pub fn build_all(
    opts: &BuildOptions,
    records: &[ImageRecord],
    surveys: &[Survey],
    source: &CutoutSource,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildSummary> {
    let pairs_dir = opts.output.join("pairs");
    let todo: Vec<&ImageRecord> = records.iter().take(opts.limit.unwrap_or(usize::MAX)).collect();
    progress(Progress::Total(todo.len()));
    let (mut built, mut skipped, mut failed) = (0usize, 0usize, Vec::new());
    for rec in todo {
        progress(Progress::Start(&rec.id));
        let dir = pairs_dir.join(&rec.id);
        let existing = dir.join("pair.json").exists();
        if existing && !opts.override_existing && !opts.missing {
            skipped += 1;
            progress(Progress::Done);
            continue;
        }
        match build_pair(rec, opts, surveys, source, &dir, existing && opts.missing) {
            Ok(()) => built += 1,
            Err(e) => {
                let error = e.to_string();
                progress(Progress::Failed { id: &rec.id, error: &error });
                failed.push((rec.id.clone(), error));
            }
        }
        progress(Progress::Done);
    }
    let records = write_manifest(&opts.output, &pairs_dir)?;
    Ok(BuildSummary { built, skipped, failed, records })
}

/// A cutout ready to save as 8-bit PNG: RGB, clamped to [0, 1] (no data becomes black).
fn savable(cut: &Planes) -> Planes {
    let mut p = cut.to_rgb();
    p.clamp01();
    p
}

/// Build (or complete, with `only_missing`) one pair directory.
fn build_pair(
    rec: &ImageRecord,
    opts: &BuildOptions,
    surveys: &[Survey],
    source: &CutoutSource,
    dir: &Path,
    only_missing: bool,
) -> Result<()> {
    let file = rec.file.as_ref().ok_or(PairError::NoImage)?;
    let image_path = opts.scraped.join(rec.site.name()).join(&file.path);
    let full_wcs = rec.wcs()?;
    let obs = load_image(&image_path, ColorMode::Rgb, ImageLimits::default())?;
    let scale = (opts.max_side as f64 / obs.width.max(obs.height) as f64).min(1.0);
    let (w, h) =
        (((obs.width as f64 * scale).round() as usize).max(1), ((obs.height as f64 * scale).round() as usize).max(1));
    let obs = if (w, h) == (obs.width, obs.height) { obs } else { astro_image::resize::imresize(&obs, w, h) };
    let wcs = full_wcs.rescaled(w as u32, h as u32);
    let previous: Option<PairRecord> = if only_missing {
        std::fs::read(dir.join("pair.json")).ok().and_then(|b| serde_json::from_slice(&b).ok())
    } else {
        None
    };
    let mut pair_surveys = Vec::new();
    let mut checks = Vec::new();
    for (i, s) in surveys.iter().enumerate() {
        let name = format!("{}.jpg", s.key);
        if let Some(prev) =
            previous.as_ref().and_then(|p| p.surveys.iter().find(|x| x.key == s.key && x.file.is_some()))
            && dir.join(&name).exists()
        {
            checks.extend(prev.check.clone());
            pair_surveys.push(prev.clone());
            continue;
        }
        match source.cutout(i, s, &wcs) {
            Ok(mut cut) => {
                let check = check_survey(s.key, &obs, &cut);
                cut.fill_nan(0.0);
                save_image(&savable(&cut), &dir.join(&name), 8)?;
                checks.push(check.clone());
                pair_surveys.push(PairSurvey {
                    key: s.key.into(),
                    hips_id: s.id.into(),
                    file: Some(name),
                    acknowledgement: s.acknowledgement.into(),
                    check: Some(check),
                    error: None,
                });
            }
            Err(e) => pair_surveys.push(PairSurvey {
                key: s.key.into(),
                hips_id: s.id.into(),
                file: None,
                acknowledgement: s.acknowledgement.into(),
                check: None,
                error: Some(e.to_string()),
            }),
        }
    }
    let mask = black_mask(&obs);
    let mut verdicts = judge(&obs, &mask, &checks, &opts.filter);
    for s in pair_surveys.iter().filter(|s| s.error.is_some()) {
        verdicts.push(Verdict {
            filter: format!("fetch-failed:{}", s.key),
            passed: false,
            value: f64::NAN,
            reason: s.error.clone().unwrap_or_default(),
        });
    }
    save_image(&obs, &dir.join("obs.png"), 8)?;
    let mask_file = if mask.iter().any(|&m| m) {
        let data = mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect();
        save_image(&Planes::from_vec(1, h, w, data)?, &dir.join("mask.png"), 8)?;
        Some("mask.png".to_string())
    } else {
        None
    };
    let kept = verdicts.iter().all(|v| v.passed);
    let record = PairRecord {
        id: rec.id.clone(),
        site: rec.site.name().to_string(),
        title: rec.title.clone(),
        credit: rec.credit.clone(),
        licence: rec.licence.clone(),
        reference_url: rec.reference_url.clone(),
        source_image: image_path.display().to_string(),
        wcs,
        obs_file: "obs.png".into(),
        mask_file,
        surveys: pair_surveys,
        verdicts,
        kept,
    };
    hips_client::write_atomic(&dir.join("pair.json"), &serde_json::to_vec_pretty(&record)?)?;
    Ok(())
}

/// Rewrite `OUT/manifest.jsonl` from every `pair.json` (atomically) and return the records.
pub fn write_manifest(out: &Path, pairs_dir: &Path) -> Result<Vec<PairRecord>> {
    let mut records = Vec::new();
    if let Ok(entries) = std::fs::read_dir(pairs_dir) {
        for e in entries.flatten() {
            let p = e.path().join("pair.json");
            if let Ok(bytes) = std::fs::read(&p) {
                match serde_json::from_slice::<PairRecord>(&bytes) {
                    Ok(r) => records.push(r),
                    Err(err) => eprintln!("{}: unreadable pair.json ({err}), skipped", p.display()),
                }
            }
        }
    }
    records.sort_by(|a, b| a.id.cmp(&b.id));
    let mut text = String::new();
    for r in &records {
        text.push_str(&serde_json::to_string(r)?);
        text.push('\n');
    }
    hips_client::write_atomic(&out.join("manifest.jsonl"), text.as_bytes())?;
    Ok(records)
}

/// The report: counts, a table of verdicts, residual-shift quantiles and the failures.
impl fmt::Display for BuildSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = &self.records;
        let kept = records.iter().filter(|r| r.kept).count();
        writeln!(
            f,
            "built {}, already done {}, failed {}; manifest: {} pairs, {kept} kept",
            self.built,
            self.skipped,
            self.failed.len(),
            records.len()
        )?;
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for r in records.iter().filter(|r| !r.kept) {
            let mut rs = r.reject_reasons();
            rs.sort();
            rs.dedup();
            for reason in rs {
                *reasons.entry(reason).or_default() += 1;
            }
        }
        writeln!(f, "{:<28} {:>7}", "verdict", "pairs")?;
        writeln!(f, "{:<28} {:>7}", "kept", kept)?;
        for (reason, n) in &reasons {
            writeln!(f, "{:<28} {:>7}", format!("rejected: {reason}"), n)?;
        }
        let mut shifts: Vec<f64> = records
            .iter()
            .flat_map(|r| r.surveys.iter().filter_map(|s| s.check.as_ref()?.shift.map(|x| x.magnitude())))
            .filter(|v| v.is_finite())
            .collect();
        shifts.sort_by(|a, b| a.total_cmp(b));
        if !shifts.is_empty() {
            let q = |p: f64| shifts[((shifts.len() - 1) as f64 * p).round() as usize];
            writeln!(
                f,
                "residual shift (px): median {:.2}, p90 {:.2}, max {:.2} over {} cutouts",
                q(0.5),
                q(0.9),
                q(1.0),
                shifts.len()
            )?;
        }
        for (id, e) in &self.failed {
            writeln!(f, "failed {id}: {e}")?;
        }
        Ok(())
    }
}
