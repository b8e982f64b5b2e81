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
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use hips_client::{DEFAULT_HIPS2FITS_URL, Hips2FitsClient};
use hips_client::{DiskCache, HipsTileClient, Policy, Sampling, Survey, survey};
use training_pairs::{BuildOptions, CutoutSource, FilterConfig, Progress, build_all, read_records};

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
    #[arg(short, long, visible_alias = "out", default_value = "data/pairs")]
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
    cli_args::init_logs("warn");
    let args = Args::parse();
    // The pair folder may not be the scraped archive or the cache (its files would mix with theirs).
    cli_args::check_outputs(&[&args.scraped, &args.cache], &[("-o", &args.output.join("manifest.jsonl"))])?;
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
    let opts = BuildOptions {
        scraped: args.scraped.clone(),
        output: args.output.clone(),
        max_side: args.max_side,
        override_existing: args.override_existing,
        missing: args.missing,
        limit: args.limit,
        filter: FilterConfig { max_shift_px: args.max_shift, min_usable: args.min_usable, ..FilterConfig::default() },
    };
    let bar = cli_args::progress_bar(0, "{bar:40} {pos}/{len} {msg} [{elapsed_precise} / eta {eta}]");
    let summary = build_all(&opts, &records, &surveys, &source, &mut |p| match p {
        Progress::Total(n) => bar.set_length(n as u64),
        Progress::Start(id) => bar.set_message(id.to_string()),
        Progress::Failed { id, error } => bar.suspend(|| eprintln!("{id}: {error}")),
        Progress::Done => bar.inc(1),
    })?;
    bar.finish_and_clear();
    print!("{summary}");
    Ok(())
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
