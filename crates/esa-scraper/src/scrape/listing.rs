//! Listing: the Data2Dome feed (following `Next`), else the HTML archive search pages.

use std::collections::HashSet;

use polite_http::Client as Fetcher;
use tracing::{error, warn};

use crate::error::{EsaError, Result};
use crate::feed::parse_d2d_page;
use crate::html::parse_list_page;
use crate::record::{ImageRecord, MetadataSource};
use crate::store::{Failure, Stage};

use super::options::{ListingSource, ScrapeOptions};
use super::report::Event;

/// A listed image waiting to be processed.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    pub(super) rec: ImageRecord,
    pub(super) from_feed: bool,
}

/// Listing result.
pub(super) struct Listing {
    pub(super) source: ListingSource,
    pub(super) candidates: Vec<Candidate>,
    pub(super) failures: Vec<Failure>,
}

pub(super) fn resolve(base: &str, href: &str) -> String {
    url::Url::parse(base).and_then(|b| b.join(href)).map(|u| u.to_string()).unwrap_or_else(|_| href.to_string())
}

/// Read the feed, following `Next`; `enough` stops early (for `--limit`).
pub(super) fn list_feed(
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
pub(super) fn list_html(
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
