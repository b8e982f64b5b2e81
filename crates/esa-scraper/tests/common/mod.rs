//! Shared helpers of the integration tests: fast HTTP settings and options for a fixture server.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use esa_scraper::fixture::fixture_dir;
use esa_scraper::{Blacklist, FilterConfig, HttpConfig, ImageFormat, ScrapeOptions, Site, SiteConfig};
use test_servers::FixtureServer;

/// HTTP settings with tiny delays so fault tests stay quick.
pub fn fast_http() -> HttpConfig {
    HttpConfig {
        requests_per_second: 500.0,
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        download_timeout: Duration::from_millis(700),
        read_timeout: Duration::from_millis(700),
        max_retry_after: Duration::from_millis(50),
        deadline: Duration::from_secs(10),
        ..HttpConfig::default()
    }
}

/// Default project filters plus the fixture site's blacklist.
pub fn fixture_filter(site: &str) -> FilterConfig {
    let mut f = FilterConfig::default();
    let bl = fixture_dir().join(site).join("blacklist.json");
    if bl.exists() {
        f.blacklist = Blacklist::load(&bl).expect("fixture blacklist");
    }
    f
}

/// Options for scraping `server` (serving `site`) into `out`.
pub fn options(server: &FixtureServer, site: Site, out: &Path) -> ScrapeOptions {
    let mut o = ScrapeOptions::new(SiteConfig::with_base(site, &server.base_url()), out);
    o.http = fast_http();
    o.filter = fixture_filter(site.name());
    o.format = ImageFormat::Large;
    o.concurrency = 3;
    o
}

/// Number of image-file requests the server received.
pub fn image_hits(server: &FixtureServer) -> usize {
    server.hits_with_prefix("/archives/images/") + server.hits_with_prefix("/media/archives/images/")
}

/// Files under `dir` whose name ends with `.part` or contains `.tmp`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                if n.ends_with(".part") || n.contains(".tmp") {
                    out.push(p.display().to_string());
                }
            }
        }
    }
    out
}
