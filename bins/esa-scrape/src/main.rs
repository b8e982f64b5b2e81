//! `esa-scrape`: download every observation image of esahubble.org or esawebb.org with its metadata,
//! embedded AVM sky geometry and credit line into `DIR/<site>/`. Re-running resumes; see `--help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use esa_scraper::DetailPolicy;
use esa_scraper::{Blacklist, Event, ImageFormat, Outcome, ResumeMode, ScrapeOptions, Site, SiteConfig};

/// Download ESA/Hubble or ESA/Webb observation images with sky geometry and credits (resumable).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Which archive: hubble or webb.
    #[arg(long)]
    site: Site,
    /// Web site root (feeds, HTML); default the public site. Also used for images unless --cdn-url is given.
    #[arg(long)]
    base_url: Option<String>,
    /// CDN root for image files; default the public CDN, or --base-url when that is given.
    #[arg(long)]
    cdn_url: Option<String>,
    /// Output directory; files go to DIR/<site>/ (metadata.jsonl, images/, credits.tsv, failures.jsonl).
    #[arg(short, long = "output", visible_alias = "out")]
    out: PathBuf,
    /// Image format to download: screen, large, publicationjpg or original.
    #[arg(long, default_value = "screen")]
    format: ImageFormat,
    /// Process at most N images (after the blacklist and category checks).
    #[arg(long)]
    limit: Option<usize>,
    /// Re-download images that are already present.
    #[arg(long = "override", conflicts_with = "missing")]
    override_: bool,
    /// Only retry the images recorded in failures.jsonl.
    #[arg(long)]
    missing: bool,
    /// List and filter only: download and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Concurrent workers.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Most requests per second to one host.
    #[arg(long, default_value_t = 2.0, value_parser = cli_args::positive_f64)]
    rate: f64,
    /// Retries for timeouts, 5xx and 429.
    #[arg(long, default_value_t = 4)]
    retries: u32,
    /// Seconds of silence from a server before a request attempt fails (read timeout).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: u64,
    /// Largest Retry-After honoured, in seconds (a longer one is waited this long, with a log line).
    #[arg(long, default_value_t = 60)]
    max_retry_after: u64,
    /// Seconds one page or feed request may take over all its attempts and waits.
    #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u64).range(1..))]
    deadline: u64,
    /// Stop listing after this many feed pages (the run then ends with a listing failure).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_pages: u32,
    /// Blacklist of ids (JSON: [{site?, id, reason}]); default datasets/esa/blacklist.json when present.
    #[arg(long)]
    blacklist: Option<PathBuf>,
    /// Categories to drop (AVM domain names such as "Solar System", site category names, or code prefixes).
    #[arg(long = "drop-category", default_values_t = ["Solar System".to_string(), "Early Universe".to_string()])]
    drop_categories: Vec<String>,
    /// Smallest field of view (larger side) in arcminutes.
    #[arg(long, default_value_t = 0.5, value_parser = cli_args::non_negative_f64)]
    min_fov_arcmin: f64,
    /// Smallest image side in pixels (full-size image).
    #[arg(long, default_value_t = 512)]
    min_pixels: u32,
    /// Keep every image type, not only Observation.
    #[arg(long)]
    any_type: bool,
    /// Keep images whose spatial quality is only Position, or that have no complete WCS.
    #[arg(long)]
    any_quality: bool,
    /// When to read the HTML detail page of an image: never, missing or always.
    #[arg(long, default_value = "missing")]
    detail: DetailPolicy,
    /// Also write the Credit.md section for the downloaded images to this file.
    #[arg(long)]
    credits_md: Option<PathBuf>,
}

fn options(args: &Args) -> anyhow::Result<ScrapeOptions> {
    let mut cfg = match &args.base_url {
        Some(b) => SiteConfig::with_base(args.site, b),
        None => SiteConfig::public(args.site),
    };
    if let Some(c) = &args.cdn_url {
        cfg.cdn_url = c.trim_end_matches('/').to_string();
    }
    for (name, url) in [("--base-url", &cfg.base_url), ("--cdn-url", &cfg.cdn_url)] {
        let parsed = url::Url::parse(url).with_context(|| format!("{name} {url:?} is not a URL"))?;
        anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "{name} {url:?} must be http(s)");
    }
    let mut o = ScrapeOptions::new(cfg, &args.out);
    o.format = args.format;
    o.limit = args.limit;
    o.mode = ResumeMode::from_flags(args.override_, args.missing);
    o.dry_run = args.dry_run;
    anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    o.concurrency = args.concurrency;
    anyhow::ensure!(args.rate > 0.0 && args.rate.is_finite(), "--rate must be a positive number");
    o.http.requests_per_second = args.rate;
    o.http.max_retries = args.retries;
    o.http.read_timeout = Duration::from_secs(args.read_timeout);
    o.http.max_retry_after = Duration::from_secs(args.max_retry_after);
    o.http.deadline = Duration::from_secs(args.deadline);
    o.max_pages = args.max_pages;
    o.detail = args.detail;
    o.filter.drop_categories = args.drop_categories.clone();
    o.filter.min_fov_deg = Some(args.min_fov_arcmin / 60.0);
    o.filter.min_pixels = Some(args.min_pixels);
    if args.any_type {
        o.filter.image_type = None;
    }
    if args.any_quality {
        o.filter.require_full_quality = false;
        o.filter.require_geometry = false;
    }
    o.filter.blacklist = Blacklist::load_or_default(args.blacklist.as_deref())?;
    Ok(o)
}

fn main() -> ExitCode {
    // The same `error: …` line as every tool; exit 2 (1 means some images failed).
    cli_args::run_with_status(2, || {
        cli_args::init_logs("warn");
        let args = Args::parse();
        Ok(if run(&args)? { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

/// Run; `Ok(false)` when some images or pages failed (exit status 1).
fn run(args: &Args) -> anyhow::Result<bool> {
    // The credits file may not be the blacklist read, nor sit where the archive's files go.
    let inputs: Vec<&std::path::Path> = args.blacklist.iter().map(|p| p.as_path()).collect();
    let mut outputs = vec![("-o", args.out.join("metadata.jsonl"))];
    outputs.extend(args.credits_md.iter().map(|p| ("--credits-md", p.clone())));
    let outputs: Vec<(&str, &std::path::Path)> = outputs.iter().map(|(f, p)| (*f, p.as_path())).collect();
    cli_args::check_outputs(&inputs, &outputs)?;
    let opts = options(args)?;
    let bar = cli_args::spinner("{spinner} {msg}");
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut listed = 0usize;
    let summary = esa_scraper::scrape(&opts, &mut |ev| match ev {
        Event::Listed { items, total, .. } => {
            listed += items;
            match total {
                Some(t) => bar.set_message(format!("listing {listed}/{t}")),
                None => bar.set_message(format!("listing {listed}")),
            }
        }
        Event::Queued { queued } => {
            bar.set_length(queued as u64);
            bar.set_position(0);
            bar.set_style(cli_args::progress_style("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]"));
        }
        Event::Done { id, outcome } => {
            let what = outcome.label();
            if bar.length().is_some() {
                bar.set_message(format!("{id} {what}"));
                bar.inc(1);
            } else if matches!(outcome, Outcome::Failed(..)) {
                bar.println(format!("{id} {what}"));
            }
        }
    })?;
    bar.finish_and_clear();
    println!("{}: {}", opts.site.site, opts.out_dir.join(opts.site.site.name()).display());
    println!("{summary}");
    if let Some(path) = &args.credits_md {
        esa_scraper::write_credit_markdown(opts.site.site, &opts.out_dir, path)?;
        println!("credits section written to {}", path.display());
    }
    Ok(!summary.has_failures())
}
