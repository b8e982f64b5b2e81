//! `prettify --ra --dec --fov` end to end (issue #11 item 6): the real binary fetches a cutout from
//! the hips2fits stand-in on 127.0.0.1 (`test-servers`) and prettifies it; a service that refuses
//! (HTTP 4xx/5xx with a message) gives one line saying what the service said, exit ≠ 0, no output
//! written and an existing output left as it was.

use std::path::Path;
use std::process::Command;

use astro_image::{ColorMode, ImageLimits};
use test_servers::{Hips2FitsServer, star_field};

/// M51 (the Whirlpool galaxy), as in docs/hips-client.md.
const M51: [&str; 2] = ["202.4696", "47.1952"];

fn prettify(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prettify"))
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", dir.join("tmp"))
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("prettify runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    dir
}

/// The `--scale` arguments to pass and the output scale they give: none and ×1 until `prettify`
/// has a `--scale` option; then none and its documented default (read from `--help`, short or long
/// layout), or `--scale 1` when no default is shown. The test holds before and after it lands.
fn scale_args(dir: &Path) -> (Vec<&'static str>, usize) {
    let (ok, help, _) = prettify(dir, &["--help"]);
    assert!(ok);
    let lines: Vec<&str> = help.lines().collect();
    let Some(at) = lines.iter().position(|l| l.trim_start().starts_with("--scale")) else { return (vec![], 1) };
    let end = lines[at + 1..].iter().position(|l| l.trim_start().starts_with('-')).map_or(lines.len(), |n| at + 1 + n);
    let block = lines[at..end].join(" ");
    match block.split("[default: ").nth(1).and_then(|d| d.split(']').next()?.trim().parse().ok()) {
        Some(scale) => (vec![], scale),
        None => (vec!["--scale", "1"], 1),
    }
}

fn assert_no_leftovers(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir.join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn a_sky_position_is_fetched_from_hips2fits_and_prettified() {
    let dir = scratch();
    let server = Hips2FitsServer::start(star_field);
    let url = server.url();
    let (scale_flags, scale) = scale_args(dir.path());
    let args = ["--ra", M51[0], "--dec", M51[1], "--fov", "0.02", "--size", "96", "--hips2fits-url", &url];
    let (ok, stdout, stderr) = prettify(dir.path(), &[&args[..], &scale_flags, &["-o", "m51.png"]].concat());
    assert!(ok, "{stdout}\n{stderr}");
    // One request, for what was asked.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let q = &reqs[0];
    for (k, v) in [("hips", "CDS/P/DSS2/color"), ("ra", M51[0]), ("dec", M51[1]), ("fov", "0.02")] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k} in {q:?}");
    }
    for (k, v) in [("width", "96"), ("height", "96"), ("format", "png")] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k} in {q:?}");
    }
    // A valid image of the expected size, with the star field's structure in it.
    let out = dir.path().join("m51.png");
    let img = astro_image::image_io::load_image(&out, ColorMode::Rgb, ImageLimits::default()).unwrap();
    let side = 96 * scale;
    assert_eq!((img.width, img.height, img.channels), (side, side, 3), "{stdout}");
    let (lo, hi) = img.data.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(hi - lo > 0.2, "a flat output ({lo}..{hi})");
    assert!(stdout.contains(&format!("({side}x{side})")), "{stdout}");
    assert!(stdout.contains("CDS/P/DSS2/color cutout at RA 202.4696° Dec 47.1952°"), "{stdout}");
    assert_no_leftovers(dir.path());
}

#[test]
fn a_refusing_service_is_reported_in_one_line_and_nothing_is_written() {
    let refusals = [
        (400, r#"{"title":"Bad request","description":"Unknown HiPS CDS/P/DSS2/color at this service"}"#),
        (500, "hips2fits internal failure: tile server unavailable"),
    ];
    // A new output is not created; an existing one is not touched. In parallel: the 5xx answers
    // are retried with backoff (seconds of waiting).
    let cases: Vec<_> = refusals.iter().flat_map(|&r| [(r, "new.png"), (r, "existing.png")]).collect();
    std::thread::scope(|s| {
        for &((status, body), out) in &cases {
            s.spawn(move || {
                let dir = scratch();
                let server = Hips2FitsServer::refusing(status, body);
                let url = server.url();
                let existing = dir.path().join("existing.png");
                std::fs::write(&existing, b"an earlier result").unwrap();
                let args = ["--ra", M51[0], "--dec", M51[1], "--fov", "0.02", "--size", "64"];
                let (ok, stdout, stderr) =
                    prettify(dir.path(), &[&args[..], &["--hips2fits-url", &url, "-o", out]].concat());
                assert!(!ok, "HTTP {status} accepted:\n{stdout}\n{stderr}");
                assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
                let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
                assert_eq!(errors.len(), 1, "one error line expected:\n{stderr}");
                let line = errors[0];
                assert!(line.contains(&format!("HTTP {status}")), "{line}");
                let said = if status == 400 { "Unknown HiPS CDS/P/DSS2/color at this service" } else { body };
                assert!(line.contains(said), "the service's message is not reported: {line}");
                assert!(!dir.path().join("new.png").exists(), "{out}: an output was written on failure");
                assert_eq!(std::fs::read(&existing).unwrap(), b"an earlier result", "the existing output changed");
                assert!(server.hits() >= 1, "the service was not asked");
                assert_no_leftovers(dir.path());
                if out == "new.png" {
                    println!("HTTP {status}: {line}");
                }
            });
        }
    });
}

#[test]
fn an_object_name_is_resolved_offline_and_its_field_fetched() {
    let dir = scratch();
    let server = Hips2FitsServer::start(star_field);
    let url = server.url();
    let args = ["--object", "m51", "--size", "96", "--hips2fits-url", &url, "-o", "m51.png"];
    let (ok, stdout, stderr) = prettify(dir.path(), &args);
    assert!(ok, "{stdout}\n{stderr}");
    // The OpenNGC position of NGC 5194 and 1.5× its major axis (13.71′) as the field.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let num = |k: &str| reqs[0].get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    assert!((num("ra") - 202.4696).abs() < 1e-3 && (num("dec") - 47.1952).abs() < 1e-3, "{:?}", reqs[0]);
    assert!((num("fov") - 1.5 * 13.71 / 60.0).abs() < 1e-3, "{:?}", reqs[0]);
    assert!(stderr.contains("NGC5194"), "{stderr}");
    let img =
        astro_image::image_io::load_image(&dir.path().join("m51.png"), ColorMode::Rgb, ImageLimits::default()).unwrap();
    assert_eq!((img.width, img.height), (192, 192));
    assert_no_leftovers(dir.path());
}
