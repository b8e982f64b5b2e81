//! The whole run: list (feed, else HTML), filter, fetch detail pages where needed, download, read the
//! embedded AVM, merge, record — resumable and safe to kill at any moment.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};

use sha2::{Digest as _, Sha256};
use tracing::{error, info, warn};

use crate::avm::AvmTags;
use crate::error::{EsaError, Result};
use crate::feed::parse_d2d_page;
use crate::filter::{FilterConfig, FilterReason};
use crate::geometry::choose_geometry;
use crate::html::{parse_detail_page, parse_list_page};
use polite_http::{Client as Fetcher, Expected};

use crate::HttpConfig;
use crate::record::{DownloadedFile, ImageRecord, MetadataSource, SkyGeometry};
use crate::site::{ImageFormat, SiteConfig};
use crate::store::{Failure, FailureLedger, MetadataStore, SiteDir, Stage};

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

/// What happened to one image.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Downloaded, verified and recorded.
    Downloaded,
    /// Already downloaded and recorded: nothing fetched.
    Skipped,
    /// Found complete on disk without a record (an interrupted run): verified and recorded, nothing fetched.
    Adopted,
    /// Left out.
    Filtered(FilterReason),
    /// Dry run: would be downloaded.
    WouldDownload,
    /// Failed at a stage (recorded in the failure ledger).
    Failed(Stage, String),
}

/// Progress events, delivered on the calling thread.
#[derive(Clone, Debug)]
pub enum Event {
    /// A listing page was read.
    Listed {
        /// Page URL.
        url: String,
        /// Items on the page.
        items: usize,
        /// Total announced by the feed, if any.
        total: Option<u64>,
    },
    /// The listing is complete; `queued` images will be processed.
    Queued {
        /// Images to process.
        queued: usize,
    },
    /// One image is finished.
    Done {
        /// Image id.
        id: String,
        /// Its outcome.
        outcome: Outcome,
    },
}

/// Counts of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Where the ids came from.
    pub listing_source: ListingSource,
    /// Images listed (readable listing entries).
    pub listed: usize,
    /// Images that passed the filters.
    pub kept: usize,
    /// Filtered images per reason.
    pub filtered: BTreeMap<String, usize>,
    /// Not processed because of `--limit` or `--missing`.
    pub not_selected: usize,
    /// Downloaded this run.
    pub downloaded: usize,
    /// Already present and recorded.
    pub skipped: usize,
    /// Found complete on disk and recorded without downloading.
    pub adopted: usize,
    /// Dry run: would download.
    pub would_download: usize,
    /// Images that failed.
    pub failed: usize,
    /// Listing pages or feed items that could not be read.
    pub listing_failures: usize,
    /// Records in `metadata.jsonl` after the run.
    pub records: usize,
    /// HTTP requests sent (attempts, including retries).
    pub requests: u64,
}

impl Summary {
    /// Whether anything failed (the binary's exit status).
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.listing_failures > 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filtered: usize = self.filtered.values().sum();
        writeln!(f, "listed      {:>6}  (from the {:?} listing)", self.listed, self.listing_source)?;
        writeln!(f, "kept        {:>6}", self.kept)?;
        writeln!(f, "filtered    {:>6}", filtered)?;
        for (k, v) in &self.filtered {
            writeln!(f, "  {k:<24}{v:>6}")?;
        }
        if self.not_selected > 0 {
            writeln!(f, "not selected{:>6}  (--limit / --missing)", self.not_selected)?;
        }
        writeln!(f, "downloaded  {:>6}", self.downloaded)?;
        writeln!(f, "skipped     {:>6}  (already downloaded and verified)", self.skipped)?;
        if self.adopted > 0 {
            writeln!(f, "recovered   {:>6}  (complete on disk, recorded without download)", self.adopted)?;
        }
        if self.would_download > 0 {
            writeln!(f, "would fetch {:>6}  (dry run)", self.would_download)?;
        }
        writeln!(f, "failed      {:>6}", self.failed)?;
        if self.listing_failures > 0 {
            writeln!(f, "listing failures {:>6}", self.listing_failures)?;
        }
        write!(f, "records     {:>6}  requests {}", self.records, self.requests)
    }
}

/// A listed image waiting to be processed.
#[derive(Clone, Debug)]
struct Candidate {
    rec: ImageRecord,
    from_feed: bool,
}

/// Listing result.
struct Listing {
    source: ListingSource,
    candidates: Vec<Candidate>,
    failures: Vec<Failure>,
}

fn resolve(base: &str, href: &str) -> String {
    url::Url::parse(base).and_then(|b| b.join(href)).map(|u| u.to_string()).unwrap_or_else(|_| href.to_string())
}

/// Read the feed, following `Next`; `enough` stops early (for `--limit`).
fn list_feed(
    fetcher: &Fetcher,
    opts: &ScrapeOptions,
    on_event: &mut dyn FnMut(Event),
    enough: &dyn Fn(&[Candidate]) -> bool,
) -> Result<Listing> {
    let site = opts.site.site;
    let mut url = opts.site.d2d_page_url(1);
    let mut seen = HashSet::new();
    let mut out = Listing { source: ListingSource::Feed, candidates: Vec::new(), failures: Vec::new() };
    let mut more = false;
    for page_no in 1..=opts.max_pages {
        more = false;
        if !seen.insert(url.clone()) {
            warn!("feed page {url} links back to an earlier page; stopping");
            break;
        }
        let page = fetcher.get_text(&url).map_err(EsaError::from).and_then(|t| parse_d2d_page(site, &t, &url));
        let page = match page {
            Ok(p) => p,
            Err(e) if page_no == 1 => return Err(e),
            Err(e) => {
                error!("{e}");
                out.failures.push(Failure::new(site, format!("listing:{url}"), Stage::Listing, Some(url.clone()), &e));
                break;
            }
        };
        on_event(Event::Listed { url: url.clone(), items: page.items.len(), total: page.count });
        for (i, item) in page.items.into_iter().enumerate() {
            match item {
                Ok(rec) => out.candidates.push(Candidate { rec, from_feed: true }),
                Err(e) => {
                    error!("{e}");
                    out.failures.push(Failure::new(
                        site,
                        format!("listing:{url}#{i}"),
                        Stage::Listing,
                        Some(url.clone()),
                        &e,
                    ));
                }
            }
        }
        if enough(&out.candidates) {
            break;
        }
        match page.next {
            Some(next) => {
                url = resolve(&url, &next);
                more = true;
            }
            None => break,
        }
    }
    if more {
        // The feed goes on past the bound: say so, and make the run end with failures (exit 1).
        let e = EsaError::Html {
            what: url.clone(),
            message: format!(
                "the feed continues after {} pages (the max_pages bound); listing stopped there",
                opts.max_pages
            ),
        };
        warn!("{e}");
        out.failures.push(Failure::new(site, format!("listing:{url}"), Stage::Listing, Some(url.clone()), &e));
    }
    Ok(out)
}

/// Read the HTML archive search pages (ids only; details come from each detail page).
fn list_html(
    fetcher: &Fetcher,
    opts: &ScrapeOptions,
    on_event: &mut dyn FnMut(Event),
    enough: &dyn Fn(&[Candidate]) -> bool,
) -> Result<Listing> {
    let site = opts.site.site;
    let mut out = Listing { source: ListingSource::Html, candidates: Vec::new(), failures: Vec::new() };
    let mut seen = HashSet::new();
    let mut last = 1;
    let mut page_no = 1;
    while page_no <= last.min(opts.max_pages) {
        let url = opts.site.archive_search_url(page_no);
        match fetcher.get_text(&url).map_err(EsaError::from).and_then(|t| parse_list_page(&t, &url)) {
            Ok(page) => {
                on_event(Event::Listed { url: url.clone(), items: page.images.len(), total: None });
                last = last.max(page.last_page);
                for img in page.images {
                    if seen.insert(img.id.clone()) {
                        let mut rec = ImageRecord::new(site, img.id);
                        rec.title = img.title;
                        rec.sources.push(MetadataSource::Html);
                        out.candidates.push(Candidate { rec, from_feed: false });
                    }
                }
            }
            Err(e) if page_no == 1 => return Err(e),
            Err(e) => {
                error!("{e}");
                out.failures.push(Failure::new(site, format!("listing:{url}"), Stage::Listing, Some(url.clone()), &e));
            }
        }
        if enough(&out.candidates) {
            break;
        }
        page_no += 1;
    }
    Ok(out)
}

/// Shared, read-only context of the workers.
struct Ctx<'a> {
    opts: &'a ScrapeOptions,
    fetcher: &'a Fetcher,
    dir: &'a SiteDir,
    existing: &'a HashMap<String, ImageRecord>,
}

/// Result of one image.
struct Processed {
    id: String,
    outcome: Outcome,
    record: Option<ImageRecord>,
    failure: Option<Failure>,
}

fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = std::fs::File::open(path).map_err(|e| EsaError::io(path, e))?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| EsaError::io(path, e))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        n_total += n as u64;
    }
    Ok((n_total, format!("{:x}", sha.finalize())))
}

fn read_head(path: &Path, max: u64) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).map_err(|e| EsaError::io(path, e))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).map_err(|e| EsaError::io(path, e))?;
    Ok(buf)
}

/// The URL to download and what the feed says it must match.
fn download_source(opts: &ScrapeOptions, rec: &ImageRecord) -> (String, Expected) {
    let feed_url = opts
        .format
        .d2d_resource_type()
        .and_then(|t| rec.resources.iter().find(|r| r.kind.eq_ignore_ascii_case(t)))
        .map(|r| r.url.clone());
    let url = feed_url.unwrap_or_else(|| opts.site.image_url(&rec.id, opts.format));
    let expected = rec
        .resource_for_url(&url)
        .map(|r| Expected { size: r.file_size, checksum: r.checksum.clone() })
        .unwrap_or_default();
    (url, expected)
}

fn process(ctx: &Ctx<'_>, cand: Candidate) -> Processed {
    let Candidate { mut rec, from_feed } = cand;
    let id = rec.id.clone();
    let site = ctx.opts.site.site;
    let fail = |stage: Stage, url: Option<String>, e: &EsaError| {
        error!("{site} {id}: {e}");
        Processed {
            id: id.clone(),
            outcome: Outcome::Failed(stage, e.to_string()),
            record: None,
            failure: Some(Failure::new(site, id.clone(), stage, url, e)),
        }
    };
    let filtered =
        |r: FilterReason| Processed { id: id.clone(), outcome: Outcome::Filtered(r), record: None, failure: None };

    // 0. Resume: an image recorded and on disk with its recorded size and format costs no request.
    if ctx.opts.mode != ResumeMode::Override {
        let rel = SiteDir::image_rel(&id, ctx.opts.format);
        let on_disk = std::fs::metadata(ctx.dir.root.join(&rel)).ok().filter(|m| m.is_file()).map(|m| m.len());
        if let (Some(ex), Some(len)) = (ctx.existing.get(&id), on_disk)
            && ex.file.as_ref().is_some_and(|f| f.path == rel && f.bytes == len && f.format == ctx.opts.format)
        {
            return Processed { id, outcome: Outcome::Skipped, record: None, failure: None };
        }
    }

    // 1. Detail page where the listing falls short.
    let feed_geo = if from_feed { rec.geometry.clone() } else { None };
    let mut html_geo: Option<SkyGeometry> = None;
    let need_detail = match ctx.opts.detail {
        DetailPolicy::Never => false,
        DetailPolicy::Always => true,
        DetailPolicy::Missing => {
            !from_feed
                || rec.image_type.is_none()
                || rec.credit.is_empty()
                || !rec.geometry.as_ref().is_some_and(SkyGeometry::is_complete)
        }
    };
    if need_detail {
        let url = ctx.opts.site.detail_url(&id);
        match ctx.fetcher.get_text(&url).map_err(EsaError::from).and_then(|t| parse_detail_page(site, &id, &t)) {
            Ok(page) => {
                if page.dec_sign_ambiguous {
                    warn!("{site} {id}: HTML declination near 0° may have lost its minus sign");
                }
                html_geo = page.record.geometry.clone();
                rec.fill_from(&page.record);
            }
            Err(e) if !from_feed => return fail(Stage::Detail, Some(url), &e),
            Err(e) => warn!("{site} {id}: detail page unusable, continuing with the feed: {e}"),
        }
    }
    let listing_geo = choose_geometry(&id, None, feed_geo.as_ref(), html_geo.as_ref());
    rec.geometry = listing_geo.as_ref().map(|(g, _)| g.clone());
    rec.geometry_source = listing_geo.map(|(_, s)| s);
    if let Err(r) = ctx.opts.filter.check_listing(&rec) {
        return filtered(r);
    }

    // 2. Download source; a file already under the final name may be adopted.
    let format = ctx.opts.format;
    let rel = SiteDir::image_rel(&id, format);
    let dest = ctx.dir.root.join(&rel);
    let on_disk = std::fs::metadata(&dest).ok().filter(|m| m.is_file()).map(|m| m.len());
    let (url, expected) = download_source(ctx.opts, &rec);
    // A complete file under the final name without a record: an earlier run was stopped after the rename.
    let adopt = ctx.opts.mode != ResumeMode::Override
        && on_disk.is_some()
        && match sha256_file(&dest) {
            Ok((bytes, _)) => expected.size.is_none_or(|s| s == bytes),
            Err(_) => false,
        };
    if ctx.opts.dry_run {
        let outcome = if adopt { Outcome::Adopted } else { Outcome::WouldDownload };
        return Processed { id, outcome, record: None, failure: None };
    }

    // 3. Download (streamed to .part, verified, renamed).
    let (bytes, sha256) = if adopt {
        match sha256_file(&dest) {
            Ok(x) => x,
            Err(e) => return fail(Stage::Image, Some(url), &e),
        }
    } else {
        match ctx.fetcher.download(&url, &dest, &expected).map_err(EsaError::from) {
            Ok(d) => (d.bytes, d.sha256),
            Err(e) => return fail(Stage::Download, Some(url), &e),
        }
    };

    // 4. Read the file: pixel size and embedded AVM.
    let dims = image::ImageReader::open(&dest)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| EsaError::io(&dest, e))
        .and_then(|r| {
            r.into_dimensions()
                .map_err(|e| EsaError::avm(dest.display().to_string(), format!("not a readable image: {e}")))
        });
    let (width, height) = match dims {
        Ok(d) => d,
        Err(e) => {
            let _ = std::fs::remove_file(&dest);
            return fail(Stage::Image, Some(url), &e);
        }
    };
    let what = format!("{site} {id} ({rel})");
    let avm = read_head(&dest, ctx.opts.xmp_scan_bytes).and_then(|b| AvmTags::from_image_bytes(&b, &what));
    let avm_geo = match &avm {
        Ok(tags) => match tags.geometry(&what) {
            Ok(g) => Some(g),
            Err(e) => {
                error!("{e}; using the feed/HTML geometry");
                None
            }
        },
        Err(e) => {
            info!("{e}; using the feed/HTML geometry");
            None
        }
    };
    if let Ok(tags) = &avm {
        let mut from_avm = ImageRecord::new(site, id.clone());
        from_avm.sources.push(MetadataSource::Avm);
        from_avm.title = tags.title().unwrap_or_default();
        from_avm.credit = tags.credit().unwrap_or_default();
        from_avm.image_type = tags.image_type();
        from_avm.facility = tags.facility();
        from_avm.instrument = tags.instrument();
        from_avm.categories = tags.categories();
        from_avm.spectral = tags.spectral(&what).unwrap_or_default();
        rec.fill_from(&from_avm);
    }
    match choose_geometry(&id, avm_geo.as_ref(), feed_geo.as_ref(), html_geo.as_ref()) {
        Some((g, s)) => {
            rec.geometry = Some(g);
            rec.geometry_source = Some(s);
        }
        None => {
            rec.geometry = None;
            rec.geometry_source = None;
        }
    }
    rec.file = Some(DownloadedFile { format, path: rel, url, bytes, sha256, width, height });
    if let Err(r) = ctx.opts.filter.check_final(&rec) {
        // The file stays: a re-run re-reads it from disk instead of downloading it again.
        return filtered(r);
    }
    if let Some(g) = &rec.geometry
        && g.is_complete()
        && let Err(e) = rec.wcs()
    {
        warn!("{site} {id}: geometry does not give a usable WCS: {e}");
    }
    let outcome = if adopt { Outcome::Adopted } else { Outcome::Downloaded };
    Processed { id, outcome, record: Some(rec), failure: None }
}

/// Remove `*.part` files left by a killed run.
fn remove_stale_parts(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "part")
                && let Err(err) = std::fs::remove_file(&p)
            {
                warn!("{}: cannot remove stale partial download: {err}", p.display());
            }
        }
    }
}

/// Run a scrape; `on_event` receives progress on the calling thread.
pub fn scrape(opts: &ScrapeOptions, on_event: &mut dyn FnMut(Event)) -> Result<Summary> {
    let site = opts.site.site;
    let dir = SiteDir::new(&opts.out_dir, site);
    let fetcher = Fetcher::new(opts.http.clone())?;
    // One run per output folder: a second run would rewrite metadata.jsonl under the first.
    let _lock = if opts.dry_run { None } else { Some(crate::store::lock_dir(&dir.root)?) };
    let mut store = MetadataStore::load(&dir.metadata())?;
    let mut ledger = FailureLedger::load(&dir.failures())?;
    if !opts.dry_run {
        std::fs::create_dir_all(dir.images()).map_err(|e| EsaError::io(dir.images(), e))?;
        remove_stale_parts(&dir.images());
        // Listing failures are re-evaluated by this run's listing.
        let stale: Vec<String> = ledger.items().filter(|f| f.stage == Stage::Listing).map(|f| f.id.clone()).collect();
        for id in stale {
            ledger.remove(&id);
        }
        // Failures an earlier (killed) run resolved without compacting the ledger.
        let resolved: Vec<String> =
            ledger.items().filter(|f| store.get(&f.id).is_some()).map(|f| f.id.clone()).collect();
        for id in resolved {
            ledger.remove(&id);
        }
    }
    let retry_ids: HashSet<String> = ledger.items().map(|f| f.id.clone()).collect();

    // Listing, stopping early once `--limit` images pass the cheap checks.
    let pre = |c: &Candidate| -> std::result::Result<(), FilterReason> {
        if let Some(r) = opts.filter.blacklist.reason(site, &c.rec.id) {
            return Err(FilterReason::Blacklisted(r.to_string()));
        }
        if let Some(cat) = opts.filter.dropped_category(&c.rec) {
            return Err(FilterReason::Category(cat));
        }
        Ok(())
    };
    let selectable =
        |c: &Candidate| pre(c).is_ok() && (opts.mode != ResumeMode::Missing || retry_ids.contains(&c.rec.id));
    let enough = |cands: &[Candidate]| opts.limit.is_some_and(|n| cands.iter().filter(|c| selectable(c)).count() >= n);
    let listing = match list_feed(&fetcher, opts, on_event, &enough) {
        Ok(l) => l,
        Err(e) => {
            warn!("{site}: feed unavailable ({e}); falling back to the HTML archive pages");
            match list_html(&fetcher, opts, on_event, &enough) {
                Ok(l) => l,
                Err(e2) => {
                    let mut summary =
                        Summary { listing_failures: 1, requests: fetcher.requests_sent(), ..Summary::default() };
                    error!("{site}: listing failed: feed: {e}; HTML: {e2}");
                    if !opts.dry_run {
                        ledger.append(Failure::new(
                            site,
                            "listing:feed+html",
                            Stage::Listing,
                            Some(opts.site.d2d_page_url(1)),
                            &e2,
                        ))?;
                        ledger.compact()?;
                    }
                    summary.records = store.len();
                    return Ok(summary);
                }
            }
        }
    };
    let mut summary =
        Summary { listing_source: listing.source, listed: listing.candidates.len(), ..Summary::default() };
    summary.listing_failures = listing.failures.len();
    if !opts.dry_run {
        for f in listing.failures {
            ledger.append(f)?;
        }
    }

    // Cheap filters and selection on this thread; the rest in the workers.
    let mut queue = VecDeque::new();
    let mut dedup = HashSet::new();
    for c in listing.candidates {
        if !dedup.insert(c.rec.id.clone()) {
            continue;
        }
        if let Err(r) = pre(&c) {
            *summary.filtered.entry(r.key()).or_default() += 1;
            if !opts.dry_run && ledger.get(&c.rec.id).is_some() {
                ledger.remove(&c.rec.id);
            }
            on_event(Event::Done { id: c.rec.id.clone(), outcome: Outcome::Filtered(r) });
            continue;
        }
        let selected = (opts.mode != ResumeMode::Missing || retry_ids.contains(&c.rec.id))
            && opts.limit.is_none_or(|n| queue.len() < n);
        if selected {
            queue.push_back(c);
        } else {
            summary.not_selected += 1;
        }
    }
    on_event(Event::Queued { queued: queue.len() });

    let existing: HashMap<String, ImageRecord> = store.items().map(|r| (r.id.clone(), r.clone())).collect();
    let ctx = Ctx { opts, fetcher: &fetcher, dir: &dir, existing: &existing };
    let queue = Mutex::new(queue);
    let (tx, rx) = mpsc::channel::<Processed>();
    let mut write_error: Option<EsaError> = None;
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.max(1) {
            let tx = tx.clone();
            let (queue, ctx) = (&queue, &ctx);
            s.spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(c) = next else { break };
                    if tx.send(process(ctx, c)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for p in rx {
            match &p.outcome {
                Outcome::Downloaded => summary.downloaded += 1,
                Outcome::Skipped => summary.skipped += 1,
                Outcome::Adopted if opts.dry_run => summary.skipped += 1,
                Outcome::Adopted => summary.adopted += 1,
                Outcome::WouldDownload => summary.would_download += 1,
                Outcome::Filtered(r) => *summary.filtered.entry(r.key()).or_default() += 1,
                Outcome::Failed(..) => summary.failed += 1,
            }
            if !opts.dry_run && write_error.is_none() {
                let res = (|| -> Result<()> {
                    if let Some(rec) = p.record {
                        store.append(rec)?;
                    }
                    match p.failure {
                        Some(mut f) => {
                            f.runs = ledger.get(&p.id).map(|old| old.runs + 1).unwrap_or(1);
                            ledger.append(f)?;
                        }
                        None => {
                            ledger.remove(&p.id);
                        }
                    }
                    Ok(())
                })();
                if let Err(e) = res {
                    error!("{e}");
                    write_error = Some(e);
                    // Stop handing out work; finished items are already on disk.
                    queue.lock().unwrap_or_else(|p| p.into_inner()).clear();
                }
            }
            on_event(Event::Done { id: p.id, outcome: p.outcome });
        }
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    summary.kept = summary.downloaded + summary.skipped + summary.adopted + summary.would_download + summary.failed;
    summary.records = store.len();
    summary.requests = fetcher.requests_sent();
    if !opts.dry_run {
        store.compact()?;
        ledger.compact()?;
        crate::credits::write_credits_tsv(&dir.credits(), store.items())?;
        // Clean up a ledger file that ended empty.
        if ledger.is_empty() {
            let _ = std::fs::remove_file(dir.failures());
        }
    }
    Ok(summary)
}
