//! What a run is asked to do: [`ScrapeOptions`], resume mode, detail-page policy.

use std::path::PathBuf;

use crate::HttpConfig;
use crate::error::EsaError;
use crate::filter::FilterConfig;
use crate::site::{ImageFormat, SiteConfig};

/// What to do with images already on disk or in the failure ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResumeMode {
    /// Skip images already downloaded and verified; fetch the rest.
    #[default]
    Normal,
    /// Re-download everything (`--override`).
    Override,
    /// Only retry the ids in the failure ledger (`--missing`).
    Missing,
}

/// When to fetch an image's HTML detail page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DetailPolicy {
    /// Never (feed only).
    Never,
    /// When the listing lacks the type, a complete geometry or the credit (and always for HTML listings).
    #[default]
    Missing,
    /// For every image.
    Always,
}

impl ResumeMode {
    /// The mode of the command-line flags `--override` and `--missing` (at most one is set).
    pub fn from_flags(override_existing: bool, missing: bool) -> ResumeMode {
        match (override_existing, missing) {
            (true, _) => ResumeMode::Override,
            (false, true) => ResumeMode::Missing,
            (false, false) => ResumeMode::Normal,
        }
    }
}

impl std::str::FromStr for DetailPolicy {
    type Err = EsaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "never" => Ok(DetailPolicy::Never),
            "missing" => Ok(DetailPolicy::Missing),
            "always" => Ok(DetailPolicy::Always),
            _ => Err(EsaError::value("detail policy", s, "expected never, missing or always")),
        }
    }
}

/// Where the ids came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListingSource {
    /// The Data2Dome JSON feed.
    #[default]
    Feed,
    /// The HTML archive search pages (the feed was unavailable).
    Html,
}

/// Options of one scrape run.
#[derive(Clone, Debug)]
pub struct ScrapeOptions {
    /// Archive and its base URLs.
    pub site: SiteConfig,
    /// Output root; files go to `<out>/<site>/`.
    pub out_dir: PathBuf,
    /// Image format to download.
    pub format: ImageFormat,
    /// Process at most this many listed images (after the blacklist/category checks).
    pub limit: Option<usize>,
    /// Resume behaviour.
    pub mode: ResumeMode,
    /// List and filter only: no downloads, nothing written.
    pub dry_run: bool,
    /// Worker threads (concurrent requests; the per-host rate limit still applies).
    pub concurrency: usize,
    /// HTTP politeness and retries.
    pub http: HttpConfig,
    /// Which images to keep.
    pub filter: FilterConfig,
    /// When to read detail pages.
    pub detail: DetailPolicy,
    /// Stop the listing after this many pages (safety bound; default 1000).
    pub max_pages: u32,
    /// Bytes read from the start of a file when looking for its XMP packet (default 16 MiB).
    pub xmp_scan_bytes: u64,
}

impl ScrapeOptions {
    /// Defaults: screen format, 2 workers, ≤ 2 requests/s per host, project filters.
    pub fn new(site: SiteConfig, out_dir: impl Into<PathBuf>) -> Self {
        ScrapeOptions {
            site,
            out_dir: out_dir.into(),
            format: ImageFormat::Screen,
            limit: None,
            mode: ResumeMode::Normal,
            dry_run: false,
            concurrency: 2,
            http: HttpConfig::archive(),
            filter: FilterConfig::default(),
            detail: DetailPolicy::Missing,
            max_pages: 1000,
            xmp_scan_bytes: 16 << 20,
        }
    }
}
