//! The whole run: list, filter, process images on worker threads, record — resumable and safe to
//! kill at any moment.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, mpsc};

use polite_http::Client as Fetcher;
use tracing::{error, warn};

use crate::error::{EsaError, Result};
use crate::filter::FilterReason;
use crate::record::ImageRecord;
use crate::store::{Failure, FailureLedger, MetadataStore, SiteDir, Stage};

use super::image::{Ctx, Processed, process, remove_stale_parts};
use super::listing::{Candidate, list_feed, list_html};
use super::options::{ResumeMode, ScrapeOptions};
use super::report::{Event, Outcome, Summary};

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
