//! Scrape a fixture copy of the ESA/Hubble archive served on 127.0.0.1 and print the first records with
//! the sky position of their image centre next to the position the archive displays (the reference
//! pixel's), which is where the original project centred its survey cutouts.
//!
//! `cargo run --example scrape_fixture_site`

use esa_scraper::{FilterConfig, ImageFormat, ScrapeOptions, Site, SiteConfig, read_metadata, scrape};
use test_servers::FixtureServer;

fn main() -> anyhow::Result<()> {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble"))?;
    let out = std::env::temp_dir().join(format!("prettier-space-esa-example-{}", std::process::id()));
    let mut opts = ScrapeOptions::new(SiteConfig::with_base(Site::Hubble, &server.base_url()), &out);
    opts.format = ImageFormat::Large;
    opts.filter = FilterConfig::default();
    opts.http.requests_per_second = 50.0;
    println!("fixture archive at {}", server.base_url());

    let summary = scrape(&opts, &mut |_| {})?;
    println!("{summary}\n");

    let records = read_metadata(&out.join("hubble").join("metadata.jsonl"))?;
    for r in records.iter().take(4) {
        let g = r.geometry.as_ref();
        let shown = g.and_then(|g| g.reference_value).unwrap_or([f64::NAN, f64::NAN]);
        let (ra, dec) = r.sky_center()?;
        let file = r.file.as_ref().map(|f| format!("{} ({}x{})", f.path, f.width, f.height)).unwrap_or_default();
        println!("{} \"{}\" {file}", r.id, r.title);
        println!("  geometry from {:?}; credit: {}", r.geometry_source, r.credit);
        println!("  displayed (reference pixel) RA {:.5} Dec {:+.5}", shown[0], shown[1]);
        println!("  image centre              RA {ra:.5} Dec {dec:+.5}");
        let corners = r.sky_corners()?;
        println!("  top-left corner           RA {:.5} Dec {:+.5}", corners[0].0, corners[0].1);
    }

    // A second run over the unchanged site downloads nothing.
    server.reset_hits();
    let again = scrape(&opts, &mut |_| {})?;
    println!(
        "\nre-run: downloaded {}, skipped {}, image requests {}",
        again.downloaded,
        again.skipped,
        server.hits_with_prefix("/archives/images/")
    );
    std::fs::remove_dir_all(&out)?;
    Ok(())
}
