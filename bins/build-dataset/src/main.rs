//! `build-dataset`: turn scraped observations into validated training pairs.
//!
//! Reads `SCRAPED/<site>/metadata.jsonl` and `SCRAPED/<site>/images/<id>.<ext>` (the `esa-scrape`
//! layout), and for every observation with sky geometry writes `OUT/pairs/<id>/` with `obs.png`, one
//! cutout per survey (`dss.jpg`, `sdss.jpg`, …, on exactly the observation's pixel grid), `mask.png`
//! when black boxes/borders were found, and `pair.json` (WCS, sources, credits, filter verdicts).
//! `OUT/manifest.jsonl` lists every pair; `train-srgan` reads the kept ones.
//!
//! ```text
//! build-dataset --scraped data/esa -o data/pairs                 # resumable: done pairs are skipped
//! build-dataset --scraped data/esa -o data/pairs --override      # rebuild everything
//! build-dataset --scraped data/esa -o data/pairs --surveys dss,sdss,panstarrs --missing
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use dataset::image_io::{ColorMode, ImageLimits, Planes, load_image, save_image};
use esa_scraper::ImageRecord;
use hips_client::hips2fits::{DEFAULT_HIPS2FITS_URL, Hips2FitsClient};
use hips_client::pairs::{CutoutSource, FilterConfig, PairRecord, PairSurvey, black_mask, check_survey, judge};
use hips_client::{DiskCache, HipsTileClient, Policy, Sampling, SkyImage, Survey, survey};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    /// Server-side cutouts from hips2fits.
    Hips2fits,
    /// Native HiPS tiles reprojected locally.
    Tiles,
}

/// Build survey/observation training pairs from a scraped archive.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Output directory of `esa-scrape` (holds `<site>/metadata.jsonl`).
    #[arg(long, default_value = "data/esa")]
    scraped: PathBuf,
    /// Output directory (pairs/ and manifest.jsonl go here).
    #[arg(short, long, default_value = "data/pairs")]
    output: PathBuf,
    /// Surveys to fetch (keys or HiPS ids), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "dss,sdss")]
    surveys: Vec<String>,
    /// Where survey pixels come from.
    #[arg(long, value_enum, default_value_t = Mode::Hips2fits)]
    mode: Mode,
    /// hips2fits endpoint (hips2fits mode).
    #[arg(long, default_value = DEFAULT_HIPS2FITS_URL)]
    base_url: String,
    /// HiPS root per survey in tiles mode, `KEY=URL` (repeatable); defaults to the catalogue's URL.
    #[arg(long = "tiles-url", value_parser = parse_kv)]
    tiles_urls: Vec<(String, String)>,
    /// Longest side of the pair images (the observation is downsampled to it).
    #[arg(long, default_value_t = 1024)]
    max_side: usize,
    /// Rebuild pairs that already exist.
    #[arg(long = "override", conflicts_with = "missing")]
    override_existing: bool,
    /// Only fetch survey cutouts missing from existing pairs (e.g. after adding a survey).
    #[arg(long)]
    missing: bool,
    /// Stop after this many observations.
    #[arg(long)]
    limit: Option<usize>,
    /// Largest accepted residual shift (pixels of the pair images).
    #[arg(long, default_value_t = 2.0, value_parser = cli_args::non_negative_f64)]
    max_shift: f64,
    /// Smallest usable fraction of the observation after masking black areas.
    #[arg(long, default_value_t = 0.5, value_parser = cli_args::non_negative_f64)]
    min_usable: f64,
    /// Cache directory for cutouts and tiles.
    #[arg(long, default_value = ".cache/hips")]
    cache: PathBuf,
    /// Minimum time between requests, milliseconds (be polite to CDS).
    #[arg(long, default_value_t = 200)]
    rate_limit_ms: u64,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("{s:?}: expected KEY=URL"))
}

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let surveys: Vec<Survey> = args
        .surveys
        .iter()
        .map(|s| survey::find(s).with_context(|| format!("--surveys: unknown survey {s:?}")))
        .collect::<Result<_>>()?;
    let records = read_records(&args.scraped)?;
    if records.is_empty() {
        bail!("{}: no <site>/metadata.jsonl with records found", args.scraped.display());
    }
    let policy = Policy::default().with_min_interval(std::time::Duration::from_millis(args.rate_limit_ms));
    let cache = DiskCache::new(&args.cache);
    let h2f;
    let tile_clients: Vec<HipsTileClient>;
    let source = match args.mode {
        Mode::Hips2fits => {
            h2f = Hips2FitsClient::new(&args.base_url, policy, Some(cache))?;
            CutoutSource::Hips2Fits(&h2f)
        }
        Mode::Tiles => {
            let urls: BTreeMap<_, _> = args.tiles_urls.iter().cloned().collect();
            tile_clients = surveys
                .iter()
                .map(|s| {
                    let url = urls.get(s.key).cloned().unwrap_or_else(|| s.base_url.to_string());
                    HipsTileClient::open(&url, policy.clone(), Some(cache.clone()), None)
                        .with_context(|| format!("opening HiPS {url}"))
                })
                .collect::<Result<_>>()?;
            CutoutSource::Tiles(&tile_clients, Sampling::Bilinear)
        }
    };
    let cfg = FilterConfig { max_shift_px: args.max_shift, min_usable: args.min_usable, ..FilterConfig::default() };
    let pairs_dir = args.output.join("pairs");
    let todo: Vec<&ImageRecord> = records.iter().take(args.limit.unwrap_or(usize::MAX)).collect();
    let bar = ProgressBar::new(todo.len() as u64)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise} / eta {eta}]")?);
    let (mut built, mut skipped, mut failed) = (0usize, 0usize, Vec::new());
    for rec in todo {
        bar.set_message(rec.id.clone());
        let dir = pairs_dir.join(&rec.id);
        let existing = dir.join("pair.json").exists();
        if existing && !args.override_existing && !args.missing {
            skipped += 1;
            bar.inc(1);
            continue;
        }
        match build_pair(rec, &args, &surveys, &source, &cfg, &dir, existing && args.missing) {
            Ok(()) => built += 1,
            Err(e) => {
                bar.suspend(|| eprintln!("{}: {e:#}", rec.id));
                failed.push((rec.id.clone(), format!("{e:#}")));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let manifest = write_manifest(&args.output, &pairs_dir)?;
    print_summary(&manifest, built, skipped, &failed);
    Ok(())
}

/// Every record of every `<site>/metadata.jsonl` (last line per id wins), sorted by id.
fn read_records(scraped: &Path) -> Result<Vec<ImageRecord>> {
    let mut by_id: BTreeMap<String, ImageRecord> = BTreeMap::new();
    let entries = std::fs::read_dir(scraped).with_context(|| format!("{}: cannot list", scraped.display()))?;
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

fn to_sky(p: &Planes) -> SkyImage {
    SkyImage { width: p.width, height: p.height, channels: p.channels, data: p.data.clone() }
}

fn to_planes(s: &SkyImage) -> Result<Planes> {
    let mut p = Planes::from_vec(s.channels, s.height, s.width, s.data.clone())?;
    p.clamp01();
    Ok(p)
}

/// Build (or complete, with `only_missing`) one pair directory.
fn build_pair(
    rec: &ImageRecord,
    args: &Args,
    surveys: &[Survey],
    source: &CutoutSource,
    cfg: &FilterConfig,
    dir: &Path,
    only_missing: bool,
) -> Result<()> {
    let file = rec.file.as_ref().context("no downloaded image")?;
    let image_path = args.scraped.join(rec.site.name()).join(&file.path);
    let full_wcs = rec.wcs()?;
    let obs = load_image(&image_path, ColorMode::Rgb, ImageLimits::default())?;
    let scale = (args.max_side as f64 / obs.width.max(obs.height) as f64).min(1.0);
    let (w, h) =
        (((obs.width as f64 * scale).round() as usize).max(1), ((obs.height as f64 * scale).round() as usize).max(1));
    let obs = if (w, h) == (obs.width, obs.height) { obs } else { dataset::resize::imresize(&obs, w, h) };
    let wcs = full_wcs.rescaled(w as u32, h as u32);
    let obs_sky = to_sky(&obs);
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
                let check = check_survey(s.key, &obs_sky, &cut);
                cut.fill_nan(0.0);
                save_image(&to_planes(&cut.to_rgb())?, &dir.join(&name), 8)?;
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
    let mask = black_mask(&obs_sky);
    let mut verdicts = judge(&obs_sky, &mask, &checks, cfg);
    for s in pair_surveys.iter().filter(|s| s.error.is_some()) {
        verdicts.push(hips_client::pairs::Verdict {
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
    hips_client::cache::write_atomic(&dir.join("pair.json"), &serde_json::to_vec_pretty(&record)?)?;
    Ok(())
}

/// Rewrite `OUT/manifest.jsonl` from every `pair.json` (atomically) and return the records.
fn write_manifest(out: &Path, pairs_dir: &Path) -> Result<Vec<PairRecord>> {
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
    hips_client::cache::write_atomic(&out.join("manifest.jsonl"), text.as_bytes())?;
    Ok(records)
}

fn print_summary(records: &[PairRecord], built: usize, skipped: usize, failed: &[(String, String)]) {
    let kept = records.iter().filter(|r| r.kept).count();
    println!(
        "built {built}, already done {skipped}, failed {}; manifest: {} pairs, {kept} kept",
        failed.len(),
        records.len()
    );
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in records.iter().filter(|r| !r.kept) {
        let mut rs = r.reject_reasons();
        rs.sort();
        rs.dedup();
        for reason in rs {
            *reasons.entry(reason).or_default() += 1;
        }
    }
    println!("{:<28} {:>7}", "verdict", "pairs");
    println!("{:<28} {:>7}", "kept", kept);
    for (reason, n) in &reasons {
        println!("{:<28} {:>7}", format!("rejected: {reason}"), n);
    }
    let mut shifts: Vec<f64> = records
        .iter()
        .flat_map(|r| r.surveys.iter().filter_map(|s| s.check.as_ref()?.shift.map(|x| x.magnitude())))
        .filter(|v| v.is_finite())
        .collect();
    shifts.sort_by(|a, b| a.total_cmp(b));
    if !shifts.is_empty() {
        let q = |p: f64| shifts[((shifts.len() - 1) as f64 * p).round() as usize];
        println!(
            "residual shift (px): median {:.2}, p90 {:.2}, max {:.2} over {} cutouts",
            q(0.5),
            q(0.9),
            q(1.0),
            shifts.len()
        );
    }
    for (id, e) in failed {
        println!("failed {id}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Args::command().debug_assert();
        assert_eq!(parse_kv("dss=http://x/y").unwrap(), ("dss".into(), "http://x/y".into()));
        assert!(parse_kv("nonsense").is_err());
    }

    #[test]
    fn image_format_names_match() {
        assert_eq!(hips_client::ImageFormat::parse("jpg"), Some(hips_client::ImageFormat::Jpg));
    }
}
