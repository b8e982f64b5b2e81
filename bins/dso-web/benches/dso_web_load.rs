//! Load test of `POST /api/predict` on loopback: 8 concurrent clients against the real server
//! (bundled models, Flex), reporting requests/s and latency percentiles; then the same load while
//! another client keeps sending over-limit uploads, which must all be refused with 413 while every
//! regular request still succeeds. Bounded: 64 requests per phase.
//!
//! Run: `cargo bench -p dso-web --bench dso_web_load`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dataset::stellarium::StellariumSet;
use dso_classify::{Classifier, Task};
use dso_web::{AppConfig, router, start};
use ml_core::backend::FlexBackend;
use reqwest::multipart::{Form, Part};

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 8;

async fn serve() -> SocketAddr {
    let device = Default::default();
    let classifiers: Vec<_> = [Task::ThreeClass, Task::GalaxyNebula]
        .into_iter()
        .map(|t| Classifier::<FlexBackend>::bundled(t, &device).expect("bundled model"))
        .collect();
    let state = start(AppConfig::default(), classifiers).expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router(state)).await.expect("serve") });
    addr
}

async fn predict(client: &reqwest::Client, url: &str, bytes: Vec<u8>) -> (u16, Duration) {
    let start = Instant::now();
    let form = Form::new().part("image", Part::bytes(bytes).file_name("m101.png"));
    let status = client.post(url).multipart(form).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
    (status, start.elapsed())
}

/// `CLIENTS` clients × `PER_CLIENT` sequential requests; returns statuses and latencies.
async fn load(url: &str, image: &[u8]) -> (Vec<u16>, Vec<Duration>, Duration) {
    let client = reqwest::Client::new();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, url, image) = (client.clone(), url.to_string(), image.to_vec());
            tokio::spawn(async move {
                let mut out = Vec::new();
                for _ in 0..PER_CLIENT {
                    out.push(predict(&client, &url, image.clone()).await);
                }
                out
            })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut latencies = Vec::new();
    for t in tasks {
        for (s, d) in t.await.expect("client") {
            statuses.push(s);
            latencies.push(d);
        }
    }
    (statuses, latencies, start.elapsed())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn report(name: &str, statuses: &[u16], latencies: &mut [Duration], wall: Duration) {
    latencies.sort();
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    println!(
        "{name}: {ok}/{} OK, {:.1} requests/s, latency p50 {:.0} ms, p99 {:.0} ms",
        statuses.len(),
        statuses.len() as f64 / wall.as_secs_f64(),
        percentile(latencies, 0.5).as_secs_f64() * 1e3,
        percentile(latencies, 0.99).as_secs_f64() * 1e3
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let addr = rt.block_on(serve());
    let url = format!("http://{addr}/api/predict");
    let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let image = std::fs::read(set.nebulae_dir.join("m101-vasey.png")).expect("m101-vasey.png");

    // Phase 1: plain load.
    let (statuses, mut latencies, wall) = rt.block_on(load(&url, &image));
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    report("8 clients", &statuses, &mut latencies, wall);

    // Phase 2: the same load while over-limit uploads (25 MB) keep arriving.
    let (statuses, mut latencies, wall, refused) = rt.block_on(async {
        let abuser = {
            let url = url.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut codes = Vec::new();
                for _ in 0..8 {
                    codes.push(predict(&client, &url, vec![0x89; 25 * 1024 * 1024]).await.0);
                }
                codes
            })
        };
        let (s, l, w) = load(&url, &image).await;
        (s, l, w, abuser.await.expect("abuser"))
    });
    // The server answers 413 from Content-Length without reading the body; a client still
    // writing its 25 MB may then see the connection closed instead of the 413 (status 0 here).
    assert!(refused.iter().all(|&s| s == 413 || s == 0), "over-limit uploads: {refused:?}");
    println!(
        "over-limit uploads: {} answered 413, {} cut off by the server mid-upload, 0 accepted",
        refused.iter().filter(|&&s| s == 413).count(),
        refused.iter().filter(|&&s| s == 0).count()
    );
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    report("8 clients + over-limit uploads", &statuses, &mut latencies, wall);

    let mut group = c.benchmark_group("dso_web");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("predict_8_concurrent", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let client = reqwest::Client::new();
                let start = Instant::now();
                for _ in 0..iters {
                    let handles: Vec<_> = (0..CLIENTS)
                        .map(|_| {
                            let (client, url, image) = (client.clone(), url.clone(), image.clone());
                            tokio::spawn(async move { predict(&client, &url, image).await })
                        })
                        .collect();
                    for h in handles {
                        assert_eq!(h.await.expect("request").0, 200);
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
