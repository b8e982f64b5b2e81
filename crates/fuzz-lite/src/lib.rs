//! Stable-Rust mutation fuzzing of every parser that reads outside data.
//!
//! This is **not** coverage-guided (no sanitizer, no edge feedback): each target starts from the
//! seed corpus in `crates/fuzz-lite/corpus/<target>/` and runs random mutations of it (bit flips,
//! interesting integers, inserted/deleted/duplicated runs, truncation, splices of two seeds). It
//! runs on the stable toolchain and the workspace's normal target directory, so it needs no
//! nightly rebuild of burn. A panic is a crash: its input is saved under `fuzz-crashes/<target>/`.
//! The slowest execution is reported (a hang shows up there). Run a campaign with
//! `cargo run -p fuzz-lite --bin fuzz -- TARGET --runs N`; `cargo test -p fuzz-lite` runs a short
//! smoke pass of every target (see docs/reliability.md).
#![warn(missing_docs)]

mod models;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One fuzz target: a name and the function that feeds it one input.
pub struct Target {
    /// Name (also the corpus folder).
    pub name: &'static str,
    /// What it exercises.
    pub what: &'static str,
    /// Feed one input; any outcome but a panic is fine.
    pub run: fn(&mut Ctx, &[u8]),
}

/// Per-campaign state a target may reuse (scratch file, async runtime, router).
pub struct Ctx {
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    router: Option<axum::Router>,
}

impl Ctx {
    /// Fresh state.
    pub fn new() -> Ctx {
        Ctx {
            dir: tempfile::tempdir().expect("scratch dir"),
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"),
            router: None,
        }
    }

    fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ser(ctx: &mut Ctx, b: &[u8]) {
    use frame_quality::io::{SerHeader, SerReader};
    let path = ctx.scratch("f.ser");
    let _ = SerHeader::parse(&b[..b.len().min(178)], &path);
    if std::fs::write(&path, b).is_err() {
        return;
    }
    if let Ok(r) = SerReader::open(&path) {
        let _ = r.timestamps();
        for i in 0..r.len().min(3) {
            let _ = r.read_planes(i);
        }
    }
}

fn avm(_: &mut Ctx, b: &[u8]) {
    use esa_scraper::{AvmTags, extract_xmp};
    let _ = extract_xmp(b);
    if let Ok(tags) = AvmTags::from_image_bytes(b, "fuzz") {
        let _ = tags.geometry("fuzz");
        let _ = tags.spectral("fuzz");
        let _ = (tags.credit(), tags.title(), tags.id(), tags.categories());
    }
    if let Ok(tags) = AvmTags::parse(&text(b), "fuzz") {
        let _ = tags.geometry("fuzz");
    }
}

fn fits(_: &mut Ctx, b: &[u8]) {
    let path = std::path::Path::new("fuzz.fits");
    let _ = astro_image::fits::fits_shape_bytes(b, path);
    if let Ok(img) = astro_image::fits::decode_fits(b, path) {
        let _ = img.to_planes();
    }
}

fn qt_catalog(_: &mut Ctx, b: &[u8]) {
    if let Ok(records) = dataset::stellarium::parse_catalog(b) {
        for r in records.iter().take(4) {
            let _ = (r.ra_deg(), r.dec_deg(), r.type_name(), r.designations());
        }
    }
}

fn textures_json(_: &mut Ctx, b: &[u8]) {
    let _ = dataset::stellarium::parse_textures_json(&text(b));
}

fn d2d_feed(_: &mut Ctx, b: &[u8]) {
    for site in [esa_scraper::Site::Hubble, esa_scraper::Site::Webb] {
        let _ = esa_scraper::parse_d2d_page(site, &text(b), "fuzz");
    }
}

fn detail_html(_: &mut Ctx, b: &[u8]) {
    let t = text(b);
    let _ = esa_scraper::parse_detail_page(esa_scraper::Site::Hubble, "heic0000a", &t);
    let _ = esa_scraper::parse_detail_page(esa_scraper::Site::Webb, "weic0000a", &t);
    let _ = esa_scraper::parse_list_page(&t, "fuzz");
}

fn hips2fits_error(_: &mut Ctx, b: &[u8]) {
    let _ = hips_client::service_error("http://fuzz/hips2fits", 400, b).to_string();
}

fn hips_properties(_: &mut Ctx, b: &[u8]) {
    if let Ok(p) = hips_client::HipsProperties::parse(&text(b), "fuzz") {
        let _ = (p.formats(), p.tile_width(), p.frame());
    }
}

/// Boundary of the multipart seeds.
pub const BOUNDARY: &str = "FUZZBOUNDARY";

fn multipart(ctx: &mut Ctx, b: &[u8]) {
    use tower::ServiceExt;
    let router = ctx
        .router
        .get_or_insert_with(|| {
            // No worker: a well-formed upload ends at the queue (503/500); parsing is what is fuzzed.
            let (queue, jobs) = dso_web::worker::channel(1);
            drop(jobs);
            let config = dso_web::AppConfig { body_limit: 256 * 1024, ..dso_web::AppConfig::default() };
            dso_web::router(Arc::new(dso_web::AppState { config, queue, cards: Vec::new() }))
        })
        .clone();
    let req = axum::http::Request::post("/api/predict")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(axum::body::Body::from(b.to_vec()))
        .expect("request");
    ctx.runtime.block_on(async move {
        let resp = router.oneshot(req).await.expect("infallible");
        assert!(resp.status() != 500 || b.windows(5).any(|w| w == b"image") || b.windows(4).any(|w| w == b"file"));
        let _ = axum::body::to_bytes(resp.into_body(), 1 << 20).await;
    });
}

fn image(_: &mut Ctx, b: &[u8]) {
    use astro_image::image_io::{Frames, gate_bytes, load_image_bytes};
    let limits = astro_image::ImageLimits { max_pixels: 1 << 20 };
    let _ = gate_bytes(b, Path::new("fuzz"), limits, Frames::All);
    let _ = load_image_bytes(b, "fuzz", astro_image::ColorMode::Keep, limits);
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target { name: "ser", what: "SER header and frames (frame-quality::ser)", run: ser },
    Target { name: "avm", what: "AVM/XMP in JPEG/PNG/xpacket (esa-scraper::avm)", run: avm },
    Target { name: "fits", what: "FITS header walk and data unit (astro-image::fits)", run: fits },
    Target { name: "qt_catalog", what: "Stellarium catalog.dat Qt stream (dataset::stellarium)", run: qt_catalog },
    Target { name: "textures_json", what: "Stellarium textures.json (dataset::stellarium)", run: textures_json },
    Target { name: "d2d_feed", what: "Data2Dome feed JSON (esa-scraper::feed)", run: d2d_feed },
    Target { name: "detail_html", what: "detail and search page HTML (esa-scraper::html)", run: detail_html },
    Target { name: "hips2fits_error", what: "hips2fits error JSON (hips-client)", run: hips2fits_error },
    Target { name: "hips_properties", what: "HiPS properties (hips-client::tiles)", run: hips_properties },
    Target { name: "multipart", what: "dso-web multipart upload (POST /api/predict)", run: multipart },
    Target { name: "image", what: "image decoding gate + decode (astro_image::image_io)", run: image },
    Target { name: "srmodel", what: ".srmodel header and weights (sr-models::store)", run: models::srmodel },
    Target { name: "ranker", what: "frame-ranker JSON models (frame-quality::learned)", run: models::ranker },
    Target { name: "dso_card", what: "deep-sky classifier model cards (dso-classify)", run: models::dso_card },
];

/// Find a target by name.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The corpus folder of the repository.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The seeds of `target` (every file of its corpus folder; never empty).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(corpus_root().join(target))
        .map(|rd| rd.filter_map(|e| e.ok()).filter_map(|e| Some((e.path(), std::fs::read(e.path()).ok()?))).collect())
        .unwrap_or_default();
    out.sort();
    let mut seeds: Vec<Vec<u8>> = out.into_iter().map(|(_, b)| b).collect();
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    seeds
}

/// xorshift64* — small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator (0 is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[i64] =
    &[0, 1, -1, 2, 7, 8, 16, 255, 256, 32767, -32768, 65535, 65536, i32::MAX as i64, i32::MIN as i64, 1 << 30, 100_000];

/// One mutation of `seed` (with `other` for splices), at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut b = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = b.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = [0u8, 0xFF, 0x7F, 0x80, b'<', b'"', b'{', b'\n', b'='][rng.below(9)];
            }
            2 if len >= 4 => {
                let i = rng.below(len - 3);
                let v = INTERESTING[rng.below(INTERESTING.len())] as i32;
                let bytes = if rng.below(2) == 0 { v.to_le_bytes() } else { v.to_be_bytes() };
                b[i..i + 4].copy_from_slice(&bytes);
            }
            3 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let fill: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                b.splice(i..i, fill);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = (1 + rng.below(64)).min(len - i);
                b.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = (1 + rng.below(128)).min(len - i);
                let chunk = b[i..i + n].to_vec();
                let at = rng.below(b.len() + 1);
                b.splice(at..at, chunk);
            }
            6 if len > 0 => b.truncate(rng.below(len)),
            7 if !other.is_empty() && len > 0 => {
                let cut = rng.below(len);
                let from = rng.below(other.len());
                b.truncate(cut);
                b.extend_from_slice(&other[from..]);
            }
            8 if len > 0 => {
                // Decimal numbers in text formats: replace a digit run with an extreme value.
                let i = rng.below(len);
                if b[i].is_ascii_digit() {
                    let end = (i..len).find(|&j| !b[j].is_ascii_digit()).unwrap_or(len);
                    let v = ["0", "-1", "1e308", "NaN", "99999999999999999999", "-0", "inf"][rng.below(7)];
                    b.splice(i..end, v.bytes());
                }
            }
            _ => {}
        }
    }
    b.truncate(max_len);
    b
}

/// What a campaign found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Executions run.
    pub execs: u64,
    /// Inputs that panicked (saved under the crash folder when one is given).
    pub crashes: u64,
    /// The slowest single execution.
    pub slowest: Duration,
    /// Wall time.
    pub elapsed: Duration,
}

/// Run `runs` mutated inputs (plus every seed as is) through `target`, saving crashing inputs
/// under `crash_dir/<target>/` when given.
pub fn campaign(
    target: &Target,
    runs: u64,
    seed: u64,
    crash_dir: Option<&Path>,
    mut progress: impl FnMut(&Report),
) -> Report {
    let seeds = seeds(target.name);
    let max_len = seeds.iter().map(Vec::len).max().unwrap_or(0).max(64) * 2;
    let mut rng = Rng::new(seed);
    let mut ctx = Ctx::new();
    let mut report = Report::default();
    let start = Instant::now();
    let prev_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..runs + seeds.len() as u64 {
        let input = if (i as usize) < seeds.len() {
            seeds[i as usize].clone()
        } else {
            let a = &seeds[rng.below(seeds.len())];
            let b = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, a, b, max_len)
        };
        let t = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(&mut ctx, &input)));
        report.slowest = report.slowest.max(t.elapsed());
        report.execs += 1;
        if outcome.is_err() {
            report.crashes += 1;
            if let Some(dir) = crash_dir {
                let dir = dir.join(target.name);
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(dir.join(format!("crash-{i}.bin")), &input);
            }
            ctx = Ctx::new();
        }
        if report.execs % 10_000 == 0 {
            report.elapsed = start.elapsed();
            progress(&report);
        }
    }
    std::panic::set_hook(prev_hook);
    report.elapsed = start.elapsed();
    report
}
