//! Parsing speed of the ESA archive sources on the fixture pages: Data2Dome feed records per second,
//! detail pages (both site variants) and embedded AVM (XMP in JPEG).
//!
//! `cargo bench --bench esa_parse`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esa_scraper::AvmTags;
use esa_scraper::fixture::{fixture_dir, synthetic_feed_page};
use esa_scraper::parse_d2d_page;
use esa_scraper::parse_detail_page;
use esa_scraper::{Site, SkyGeometry};

fn bench(c: &mut Criterion) {
    let page = synthetic_feed_page(100).expect("fixture feed");
    let mut g = c.benchmark_group("esa_parse");
    g.throughput(Throughput::Elements(100));
    g.bench_function("d2d_feed_page_100_records", |b| {
        b.iter(|| {
            let p = parse_d2d_page(Site::Hubble, &page, "bench").expect("parse");
            assert_eq!(p.items.len(), 100);
            p
        })
    });
    g.throughput(Throughput::Elements(1));
    for (site, id) in [(Site::Hubble, "heic9902a"), (Site::Webb, "weic9902a")] {
        let html =
            std::fs::read_to_string(fixture_dir().join(format!("{}/detail/{id}.html", site.name()))).expect("fixture");
        g.bench_function(format!("detail_page_{}", site.name()), |b| {
            b.iter(|| parse_detail_page(site, id, &html).expect("parse"))
        });
    }
    let jpeg = std::fs::read(fixture_dir().join("hubble/images/screen/heic9902a.jpg")).expect("fixture");
    g.bench_function("avm_from_jpeg", |b| {
        b.iter(|| -> SkyGeometry {
            AvmTags::from_image_bytes(&jpeg, "bench").and_then(|t| t.geometry("bench")).expect("avm")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
