//! End-to-end runs against the fixture sites served over real HTTP on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::{image_hits, leftovers, options};
use esa_scraper::ListingSource;
use esa_scraper::{FailureLedger, Stage};
use esa_scraper::{MetadataSource, ResumeMode, Site, read_metadata, scrape};
use test_servers::{Fault, FixtureServer};

fn run(opts: &esa_scraper::ScrapeOptions) -> esa_scraper::Summary {
    scrape(opts, &mut |_| {}).expect("scrape runs")
}

#[test]
fn hubble_feed_run_records_filters_and_resumes_without_downloads() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = options(&server, Site::Hubble, out.path());

    let s = run(&opts);
    assert_eq!(s.listing_source, ListingSource::Feed);
    assert_eq!(s.listed, 9, "{s}");
    assert_eq!(s.listing_failures, 1, "the item without an ID is a listing failure: {s}");
    assert_eq!(s.downloaded, 4, "{s}");
    assert_eq!(s.failed, 0, "{s}");
    for (reason, n) in
        [("blacklist", 1), ("category Solar System", 1), ("type", 1), ("no sky geometry", 1), ("spatial quality", 1)]
    {
        assert_eq!(s.filtered.get(reason), Some(&n), "{reason}: {s}");
    }
    assert!(s.has_failures());
    // Downloads: the four kept plus two filtered only once their embedded AVM / HTML was read.
    assert_eq!(image_hits(&server), 6);

    let site_dir = out.path().join("hubble");
    let recs = read_metadata(&site_dir.join("metadata.jsonl")).unwrap();
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["heic9901a", "heic9902a", "heic9905a", "heic9906a"]);
    let by = |id: &str| recs.iter().find(|r| r.id == id).unwrap();
    assert_eq!(by("heic9901a").geometry_source, Some(MetadataSource::Avm));
    // Feed and AVM disagree by 10" for heic9902a: the embedded AVM wins.
    let r2 = by("heic9902a");
    assert_eq!(r2.geometry_source, Some(MetadataSource::Avm));
    assert!((r2.geometry.as_ref().unwrap().reference_value.unwrap()[1] - (-5.39)).abs() < 1e-9);
    // No XMP / garbage XMP: the feed's geometry is used.
    assert_eq!(by("heic9905a").geometry_source, Some(MetadataSource::Feed));
    assert_eq!(by("heic9906a").geometry_source, Some(MetadataSource::Feed));
    for r in &recs {
        let f = r.file.as_ref().unwrap();
        assert_eq!((f.width, f.height), (160, 120));
        assert!(site_dir.join(&f.path).is_file());
        assert!(r.credit.starts_with("ESA/Hubble & NASA"), "{}", r.credit);
        assert_eq!(r.licence, "CC BY 4.0");
        assert_eq!(r.spectral.len(), 3);
        assert!(r.wcs().is_ok());
    }
    let credits = std::fs::read_to_string(site_dir.join("credits.tsv")).unwrap();
    assert_eq!(credits.lines().count(), 5);
    assert!(
        credits.contains("heic9902a\thubble\tRotated nebula\tESA/Hubble & NASA, Fixture Team (heic9902a)\tCC BY 4.0")
    );
    let ledger = FailureLedger::load(&site_dir.join("failures.jsonl")).unwrap();
    assert_eq!(ledger.len(), 1);
    assert!(ledger.items().all(|f| f.stage == Stage::Listing));
    assert!(leftovers(out.path()).is_empty());
    let metadata_before = std::fs::read(site_dir.join("metadata.jsonl")).unwrap();

    // Re-run over the unchanged site: zero image downloads, nothing duplicated.
    server.reset_hits();
    let s2 = run(&opts);
    assert_eq!(image_hits(&server), 0, "{s2}");
    assert_eq!(s2.downloaded, 0);
    assert_eq!(s2.skipped, 4);
    assert_eq!(s2.records, 4);
    assert_eq!(std::fs::read(site_dir.join("metadata.jsonl")).unwrap(), metadata_before);

    // --override downloads everything again, still one record per image.
    server.reset_hits();
    let mut o = opts.clone();
    o.mode = ResumeMode::Override;
    let s3 = run(&o);
    assert_eq!(s3.downloaded, 4);
    assert_eq!(image_hits(&server), 6);
    assert_eq!(read_metadata(&site_dir.join("metadata.jsonl")).unwrap().len(), 4);
}

#[test]
fn faults_are_retried_or_recorded_and_missing_retries_only_failures() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = options(&server, Site::Hubble, out.path());
    // Transient faults that the retries absorb.
    server.inject("/images/d2d/?page=1", Fault::Status(500), Some(1));
    server.inject("/archives/images/large/heic9901a.jpg", Fault::TooManyRequests { retry_after_secs: 1 }, Some(1));
    server.inject("/archives/images/large/heic9902a.jpg", Fault::CutBody, Some(1));
    // Persistent faults that exhaust them.
    server.inject("/archives/images/large/heic9905a.jpg", Fault::Status(503), None);
    server.inject("/archives/images/large/heic9906a.jpg", Fault::Slow(Duration::from_secs(3)), None);
    server.inject("/archives/images/large/heic9909a.jpg", Fault::CutBody, None);

    let t = Instant::now();
    let s = run(&opts);
    assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After: 1 must be honoured");
    assert_eq!(s.listing_source, ListingSource::Feed, "one 500 on the feed is retried");
    assert_eq!(server.hits("/images/d2d/?page=1"), 2);
    assert_eq!(server.hits("/archives/images/large/heic9901a.jpg"), 2);
    assert_eq!(server.hits("/archives/images/large/heic9902a.jpg"), 2);
    assert_eq!(server.hits("/archives/images/large/heic9905a.jpg"), 3, "1 attempt + 2 retries");
    assert_eq!(s.downloaded, 2, "{s}");
    assert_eq!(s.failed, 3, "{s}");
    let dir = out.path().join("hubble");
    for id in ["heic9905a", "heic9906a", "heic9909a"] {
        assert!(!dir.join(format!("images/{id}.jpg")).exists(), "{id}: no file under the final name");
    }
    assert!(leftovers(out.path()).is_empty(), "{:?}", leftovers(out.path()));
    let ledger = FailureLedger::load(&dir.join("failures.jsonl")).unwrap();
    let failed: Vec<&str> = ledger.items().filter(|f| f.stage == Stage::Download).map(|f| f.id.as_str()).collect();
    assert_eq!(failed, ["heic9905a", "heic9906a", "heic9909a"]);
    assert!(ledger.get("heic9905a").unwrap().error.contains("503"));
    assert!(ledger.get("heic9906a").unwrap().error.contains("timed out"), "{}", ledger.get("heic9906a").unwrap().error);

    // --missing after the faults are gone: only the three failures are fetched.
    server.clear_faults();
    server.reset_hits();
    let mut o = opts.clone();
    o.mode = ResumeMode::Missing;
    let s2 = run(&o);
    assert_eq!(image_hits(&server), 3, "{s2}");
    assert_eq!(s2.downloaded, 2, "{s2}");
    assert_eq!(s2.filtered.get("spatial quality"), Some(&1), "{s2}");
    let ledger = FailureLedger::load(&dir.join("failures.jsonl")).unwrap();
    assert!(ledger.items().all(|f| f.stage == Stage::Listing), "download failures resolved");
    assert_eq!(read_metadata(&dir.join("metadata.jsonl")).unwrap().len(), 4);
}

#[test]
fn webb_html_fallback_reads_search_and_detail_pages() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("webb")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(&server, Site::Webb, out.path());
    opts.format = esa_scraper::ImageFormat::Screen;
    let s = run(&opts);
    assert_eq!(s.listing_source, ListingSource::Html, "{s}");
    assert_eq!(s.listed, 3);
    assert_eq!(s.downloaded, 3, "{s}");
    assert!(!s.has_failures(), "{s}");
    let recs = read_metadata(&out.path().join("webb/metadata.jsonl")).unwrap();
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(r.image_type.as_deref(), Some("Observation"));
        assert_eq!(r.geometry_source, Some(MetadataSource::Avm));
        assert!(r.sources.contains(&MetadataSource::Html) && r.sources.contains(&MetadataSource::Avm));
        assert_eq!(r.pixel_size, Some([1600, 1200]));
        assert_eq!(r.file.as_ref().unwrap().width, 80);
        assert!(r.credit.starts_with("ESA/Webb, NASA & CSA"));
        // The screen JPEG carries the full-size AVM; the WCS is rescaled to 80 px.
        let w = r.wcs().unwrap();
        assert_eq!((w.width(), w.height()), (80, 60));
        assert!((w.pixel_scale_deg() - 1e-4 * 20.0).abs() < 1e-9);
    }
    let r2 = recs.iter().find(|r| r.id == "weic9902a").unwrap();
    assert_eq!(r2.geometry.as_ref().unwrap().rotation_deg, Some(-20.0));
    assert_eq!(r2.object.constellation.as_deref(), Some("Dorado"));

    // A re-run reads the listing again but neither detail pages nor images of recorded ids.
    server.reset_hits();
    let s2 = run(&opts);
    assert_eq!(s2.skipped, 3, "{s2}");
    assert_eq!(image_hits(&server), 0);
    for id in ["weic9901a", "weic9902a", "weic9903a"] {
        assert_eq!(server.hits(&format!("/images/{id}/")), 0, "{id}");
    }
}

#[test]
fn broken_feed_falls_back_to_html_and_broken_pages_fail_cleanly() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = options(&server, Site::Hubble, out.path());
    let page = std::fs::read(esa_scraper::fixture::fixture_dir().join("hubble/d2d/page-1.json")).unwrap();
    server.inject("/images/d2d/?page=1", Fault::Replace(page[..page.len() / 2].to_vec()), None);
    // A truncated detail page for one of the HTML-listed ids.
    let detail = std::fs::read(esa_scraper::fixture::fixture_dir().join("hubble/detail/heic9905a.html")).unwrap();
    server.inject("/images/heic9905a/", Fault::Replace(detail[..300].to_vec()), None);
    let s = run(&opts);
    assert_eq!(s.listing_source, ListingSource::Html, "{s}");
    assert_eq!(s.listed, 3);
    assert_eq!(s.downloaded, 2, "{s}");
    assert_eq!(s.failed, 1, "{s}");
    let dir = out.path().join("hubble");
    let ledger = FailureLedger::load(&dir.join("failures.jsonl")).unwrap();
    let f = ledger.get("heic9905a").unwrap();
    assert_eq!(f.stage, Stage::Detail);
    assert!(f.error.contains("heic9905a"), "{}", f.error);
    // HTML-listed records get their type, credit and categories from the detail page, geometry from AVM.
    let recs = read_metadata(&dir.join("metadata.jsonl")).unwrap();
    assert!(recs.iter().all(|r| r.geometry_source == Some(MetadataSource::Avm)));
    assert!(recs.iter().all(|r| r.categories == ["Galaxies"] || r.categories == ["Nebulae"]));

    // A 404 on a later feed page: the first page's images are processed, the run reports the failure.
    server.clear_faults();
    server.inject("/images/d2d/?page=2", Fault::Status(404), None);
    let out2 = tempfile::tempdir().unwrap();
    let s = run(&options(&server, Site::Hubble, out2.path()));
    assert_eq!(s.listing_source, ListingSource::Feed);
    assert_eq!(s.listed, 4);
    assert_eq!(s.listing_failures, 1);
    assert!(s.has_failures());

    // Nothing listable at all: a clean error summary, no output written beyond the ledger.
    server.inject("/images/d2d/?page=1", Fault::Status(500), None);
    server.inject("/images/archive/search/page/1/", Fault::Status(404), None);
    let out3 = tempfile::tempdir().unwrap();
    let s = run(&options(&server, Site::Hubble, out3.path()));
    assert_eq!(s.listed, 0);
    assert!(s.has_failures());
    assert!(!out3.path().join("hubble/metadata.jsonl").exists());
}

#[test]
fn killed_run_is_recovered_without_downloads_or_duplicates() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = options(&server, Site::Hubble, out.path());
    run(&opts);
    let dir = out.path().join("hubble");
    let meta = dir.join("metadata.jsonl");
    let text = std::fs::read_to_string(&meta).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Simulate a kill: the last record's line was cut mid-write, a stray .part file is left,
    // and one image was renamed into place before its record was appended.
    let mut cut = lines[..2].join("\n");
    cut.push('\n');
    cut.push_str(&lines[2][..lines[2].len() / 2]);
    std::fs::write(&meta, cut).unwrap();
    std::fs::write(dir.join("images/heic9906a.jpg.part"), b"partial").unwrap();

    server.reset_hits();
    let s = run(&opts);
    assert_eq!(image_hits(&server), 0, "{s}");
    assert_eq!(s.skipped, 2, "{s}");
    assert_eq!(s.adopted, 2, "{s}");
    let recs = read_metadata(&meta).unwrap();
    assert_eq!(recs.len(), 4);
    let mut ids: Vec<_> = recs.iter().map(|r| r.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    assert!(leftovers(out.path()).is_empty());
}

#[test]
fn dry_run_writes_nothing_and_limit_stops_early() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(&server, Site::Hubble, out.path());
    opts.dry_run = true;
    let s = run(&opts);
    assert_eq!(s.would_download, 6, "{s}");
    assert_eq!(image_hits(&server), 0);
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "dry run wrote files");

    opts.dry_run = false;
    opts.limit = Some(1);
    server.reset_hits();
    let s = run(&opts);
    assert_eq!(s.downloaded, 1, "{s}");
    assert_eq!(server.hits("/images/d2d/?page=2"), 0, "listing stops once the limit is met");
}

#[test]
fn requests_to_one_host_are_rate_limited() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(&server, Site::Hubble, out.path());
    opts.http.requests_per_second = 10.0;
    opts.concurrency = 4;
    let t = Instant::now();
    let s = run(&opts);
    let n = s.requests as f64;
    assert!(n >= 9.0, "{s}");
    // n requests at ≤ 10/s need at least (n − 1) / 10 seconds, even with 4 workers.
    assert!(t.elapsed().as_secs_f64() >= (n - 1.0) / 10.0 * 0.95, "{} requests in {:?}", n, t.elapsed());
}
