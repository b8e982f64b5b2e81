//! The seed's whole pipeline end to end with the real binaries (issue #11 item 7): `esa-scrape`
//! against the fixture ESA/Webb site → `build-dataset` against a hips2fits stand-in → `train-srgan
//! --pairs manifest.jsonl` (a few steps of tiny ×1 and ×2 models) → `prettify --model` on a pair's
//! survey cutout. All servers are on 127.0.0.1 (`test-servers`).
//!
//! `esa-scrape`, `build-dataset` and `prettify` live in other packages, so Cargo does not build
//! them for this test: [`workspace_bin`] runs `cargo build` for them once (into the same target
//! folder and profile as this test; a no-op after `cargo test --workspace`, which builds them).
//!
//! The stand-in hips2fits renders the sky the scraped observations show (sampled through their AVM
//! WCS, blurred, desaturated and grainy, like a survey plate), so the pairs pass build-dataset's
//! alignment filter the way real ones do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use astro_image::{ColorMode, ImageLimits, Planes};
use esa_scraper::fixture::fixture_dir;
use test_servers::{FixtureServer, Hips2FitsServer};

/// The path of a binary of another workspace package, built (or found up to date) first.
fn workspace_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let me = Path::new(env!("CARGO_BIN_EXE_train-srgan"));
        let profile_dir = me.parent().expect("a profile folder");
        let target_dir = profile_dir.parent().expect("a target folder");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "-p", "esa-scrape", "-p", "build-dataset", "-p", "prettify", "--target-dir"])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // Without the variables Cargo sets for this test (some build scripts, ring's among them,
        // rerun when CARGO_MANIFEST_DIR changes): otherwise this build and the next plain one would
        // each rebuild half the dependency tree.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            let set_by_cargo = k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_BIN_EXE_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&k.as_ref());
            if set_by_cargo {
                cargo.env_remove(&key);
            }
        }
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cargo.arg("--release");
            }
            Some(other) => {
                cargo.args(["--profile", other]);
            }
            None => panic!("{}: no profile folder", me.display()),
        }
        let out = cargo.output().expect("cargo runs");
        assert!(out.status.success(), "cargo build failed:\n{}", String::from_utf8_lossy(&out.stderr));
        profile_dir.to_path_buf()
    });
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// Run a binary in `cwd`; (success, stdout, stderr).
fn run(bin: &Path, cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let Output { status, stdout, stderr } =
        Command::new(bin).args(args).current_dir(cwd).env("RUST_BACKTRACE", "1").output().expect("binary runs");
    (status.success(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

fn train_srgan(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    run(Path::new(env!("CARGO_BIN_EXE_train-srgan")), cwd, args)
}

/// Bilinear sample of plane `c` at image coordinates (x, y) (pixel centres at +0.5), clamped.
fn bilinear(p: &Planes, c: usize, x: f64, y: f64) -> f32 {
    let (w, h) = (p.width as f64, p.height as f64);
    let (fx, fy) = ((x - 0.5).clamp(0.0, w - 1.0), (y - 0.5).clamp(0.0, h - 1.0));
    let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(p.width - 1), (y0 + 1).min(p.height - 1));
    let (tx, ty) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
    let plane = p.plane(c);
    let at = |x: usize, y: usize| plane[y * p.width + x];
    let top = at(x0, y0) * (1.0 - tx) + at(x1, y0) * tx;
    let bottom = at(x0, y1) * (1.0 - tx) + at(x1, y1) * tx;
    top * (1.0 - ty) + bottom * ty
}

/// The sky as a survey would see what the scraped observations show: each observation sampled
/// through its WCS, blurred over ±1.5 of its pixels, desaturated, with a little deterministic
/// grain; black where no observation covers the sky.
fn survey_sky(scraped_site: &Path) -> impl Fn(f64, f64) -> [f32; 3] + Send + Sync + 'static {
    let records = esa_scraper::read_metadata(&scraped_site.join("metadata.jsonl")).unwrap();
    let observations: Vec<_> = records
        .iter()
        .filter_map(|r| {
            let file = r.file.as_ref()?;
            let img = astro_image::image_io::load_image(
                &scraped_site.join(&file.path),
                ColorMode::Rgb,
                ImageLimits::default(),
            )
            .unwrap();
            Some((r.wcs().unwrap(), img))
        })
        .collect();
    assert!(!observations.is_empty(), "nothing was scraped");
    move |ra, dec| {
        for (wcs, img) in &observations {
            let Some((x, y)) = wcs.sky_to_pixel(ra, dec) else { continue };
            if !(0.0..=img.width as f64).contains(&x) || !(0.0..=img.height as f64).contains(&y) {
                continue;
            }
            let mut rgb = [0f32; 3];
            for (c, v) in rgb.iter_mut().enumerate() {
                let offsets = [-1.5, 0.0, 1.5];
                let sum: f32 = offsets.iter().flat_map(|dy| offsets.map(|dx| bilinear(img, c, x + dx, y + dy))).sum();
                *v = sum / 9.0;
            }
            let grey = (rgb[0] + rgb[1] + rgb[2]) / 3.0;
            let grain = ((ra * 1.0e7).sin() * (dec * 1.3e7).cos()) as f32 * 0.02;
            return rgb.map(|v| (0.5 * v + 0.5 * grey + grain).clamp(0.0, 1.0));
        }
        [0.0; 3]
    }
}

/// Whether `prettify` has a `--scale` option (it is gaining one; ×1 is the model trained here).
fn prettify_has_scale(prettify: &Path, cwd: &Path) -> bool {
    let (ok, help, _) = run(prettify, cwd, &["--help"]);
    assert!(ok);
    help.lines().any(|l| l.trim_start().starts_with("--scale"))
}

#[test]
fn scrape_build_pairs_train_on_the_manifest_and_prettify() {
    let start = std::time::Instant::now();
    let (esa_scrape, build_dataset, prettify) =
        (workspace_bin("esa-scrape"), workspace_bin("build-dataset"), workspace_bin("prettify"));
    let built = start.elapsed();
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let step = |what: &str, (ok, stdout, stderr): (bool, String, String)| {
        assert!(ok, "{what} failed:\n{stdout}\n{stderr}");
        println!("--- {what} ({:.1} s)\n{stdout}", start.elapsed().as_secs_f64());
        stdout
    };

    // 1. esa-scrape: the fixture ESA/Webb site, large images (160x120, AVM geometry embedded).
    let site = FixtureServer::start(&fixture_dir().join("webb")).unwrap();
    let base = site.base_url();
    let args = ["--site", "webb", "--base-url", &base, "--out", "scraped", "--format", "large", "--rate", "200"];
    step("esa-scrape", run(&esa_scrape, cwd, &args));
    let records = esa_scraper::read_metadata(&cwd.join("scraped/webb/metadata.jsonl")).unwrap();
    assert_eq!(records.iter().filter(|r| r.file.is_some()).count(), 3, "{records:?}");

    // 2. build-dataset: DSS and SDSS cutouts from the stand-in, on each observation's pixel grid.
    let hips = Hips2FitsServer::start(survey_sky(&cwd.join("scraped/webb")));
    let url = hips.url();
    let args =
        ["--scraped", "scraped", "-o", "pairs", "--base-url", &url, "--cache", "hips-cache", "--rate-limit-ms", "0"];
    let summary = step("build-dataset", run(&build_dataset, cwd, &args));
    assert_eq!(hips.hits(), 6, "two surveys × three observations");
    let manifest = training_pairs::Manifest::read(&cwd.join("pairs/manifest.jsonl")).unwrap();
    let kept: Vec<_> = manifest.records.iter().filter(|r| r.kept).collect();
    assert_eq!(kept.len(), 3, "{summary}");

    // 3. train-srgan on the manifest (relative path: files resolve against its folder): ×1 on
    //    every survey's cutouts, and ×2 on DSS only (the cutouts downsampled, the observations
    //    staying the targets).
    let tiny =
        ["--arch", "light", "--features", "8", "--blocks", "1", "--warmup", "1", "--batch", "2", "--patch", "32"];
    let mut models = Vec::new();
    for (scale, surveys, inputs) in [("1", "dss,sdss", 6), ("2", "dss", 3)] {
        let out = format!("run-x{scale}");
        let args = ["--pairs", "pairs/manifest.jsonl", "--pair-survey", surveys, "--scale", scale, "--steps", "3"];
        let (ok, stdout, stderr) = train_srgan(cwd, &[&args[..], &tiny, &["--val-every", "3", "--out", &out]].concat());
        assert!(ok, "train-srgan ×{scale} failed:\n{stdout}\n{stderr}");
        println!("--- train-srgan ×{scale} ({:.1} s)\n{stderr}", start.elapsed().as_secs_f64());
        let line = format!("pairs/manifest.jsonl: 3 of 3 pairs kept, {inputs} survey cutouts as inputs, ×{scale}");
        assert!(stderr.contains(&line), "{stderr}");
        let model = cwd.join(&out).join("model.srmodel");
        let bytes = std::fs::read(&model).unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", model.display()));
        let (cfg, _) = sr_models::store::model_config_from_bytes(&bytes, &model).unwrap();
        assert_eq!(cfg.scale().to_string(), scale);
        models.push(model);
    }

    // 4. prettify a pair's survey cutout with a trained model. prettify runs ×2 models since it
    //    has `--scale` (default 2; 1 = the ×2 result area-averaged back), ×1 models before.
    let pair = kept[0];
    let input = manifest.survey_paths(pair).into_iter().find(|(k, _)| k == "dss").expect("a DSS cutout").1;
    let (w, h) = (pair.wcs.width as usize, pair.wcs.height as usize);
    let runs: Vec<(&Path, &[&str], (usize, usize))> = if prettify_has_scale(&prettify, cwd) {
        vec![(&models[1], &[], (2 * w, 2 * h)), (&models[1], &["--scale", "1"], (w, h))]
    } else {
        vec![(&models[0], &[], (w, h))]
    };
    for (model, extra, size) in runs {
        let args = [input.to_str().unwrap(), "--model", model.to_str().unwrap(), "-o", "out.png"];
        step("prettify", run(&prettify, cwd, &[&args[..], extra].concat()));
        let out =
            astro_image::image_io::load_image(&cwd.join("out.png"), ColorMode::Rgb, ImageLimits::default()).unwrap();
        assert_eq!((out.width, out.height, out.channels), (size.0, size.1, 3), "{extra:?}");
        assert!(out.data.iter().all(|v| v.is_finite()));
        std::fs::remove_file(cwd.join("out.png")).unwrap();
    }

    // 5. A manifest whose image went missing: one line naming the file, no training.
    std::fs::remove_file(&input).unwrap();
    let (ok, _, stderr) = train_srgan(cwd, &["--pairs", "pairs/manifest.jsonl", "--scale", "1", "--out", "run2"]);
    assert!(!ok, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: ") && errors[0].contains(&format!("pairs/pairs/{}/dss.jpg", pair.id)),
        "{stderr}"
    );
    assert!(!cwd.join("run2/model.srmodel").exists());
    println!(
        "pipeline: {:.1} s (of which {:.1} s building the other binaries)",
        start.elapsed().as_secs_f64(),
        built.as_secs_f64()
    );
}

#[test]
fn a_missing_or_garbage_manifest_is_one_line_naming_the_file() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    std::fs::write(cwd.join("garbage.jsonl"), "{\"id\": \"heic0506a\", \"kept\": true}\nnot json\n").unwrap();
    std::fs::write(cwd.join("empty.jsonl"), "\n").unwrap();
    for (file, needle) in [
        ("missing.jsonl", "missing.jsonl: cannot read"),
        ("garbage.jsonl", "garbage.jsonl: line 1: not a pair record"),
        ("empty.jsonl", "empty.jsonl: no kept pairs among its 0 records"),
    ] {
        let (ok, _, stderr) = train_srgan(cwd, &["--pairs", file, "--scale", "1", "--out", "run"]);
        assert!(!ok, "{file} accepted: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{file}: {stderr}");
        assert!(lines[0].contains(needle), "{file}: {stderr}");
        assert!(!cwd.join("run/model.srmodel").exists());
    }
    // --pairs is its own data source.
    let (ok, _, stderr) = train_srgan(cwd, &["--pairs", "empty.jsonl", "--hr-dir", "x"]);
    assert!(!ok && stderr.contains("--pairs") && stderr.contains("--hr-dir"), "{stderr}");
}
