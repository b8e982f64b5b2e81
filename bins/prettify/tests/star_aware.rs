//! The star-aware pipeline (issue #25) through the real binary: round stars, none invented, light
//! kept, a starless image, the declared dream layer, and awkward inputs (mono, starless, fully
//! saturated, NaN FITS, unknown objects) — each a result or one line, exit ≠ 0, nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;

use astro_image::{ColorMode, ImageLimits, Planes};
use sr_models::survey_eval::survey_figures;

fn prettify(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prettify")).args(args).current_dir(dir).output().expect("prettify runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn load(p: &Path) -> Planes {
    astro_image::image_io::load_image(p, ColorMode::Keep, ImageLimits::default()).unwrap()
}

fn sample() -> Planes {
    astro_image::image_io::load_image_bytes(
        sr_models::SAMPLE_SURVEY_IMAGE,
        "sample.png",
        ColorMode::Rgb,
        ImageLimits::default(),
    )
    .unwrap()
}

#[test]
fn the_default_draws_round_stars_keeps_their_light_and_invents_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out, err) = prettify(d, &["-o", "v2.png", "--starless", "starless.png"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("measured") && out.contains("drawn round"), "{out}");
    let (input, v2) = (sample(), load(&d.join("v2.png")));
    assert_eq!((v2.width, v2.height), (512, 512));
    // Independent detector (dataset::stars), input against the output area-averaged back.
    let f = survey_figures(&input, &v2);
    assert!(f.input_stars > 100, "{f:?}");
    assert!(f.kept as f64 >= 0.97 * f.input_stars as f64, "kept {} of {}", f.kept, f.input_stars);
    assert!(f.invented as f64 <= 0.02 * f.input_stars as f64, "invented {} per {}", f.invented, f.input_stars);
    assert!(f.stars.ellipticity_ratio <= 0.8, "not rounder: {:?}", f.stars);
    assert!(f.stars.dmag.abs() <= 0.05, "star light not kept: {:?}", f.stars);
    // The classic pipeline, for contrast: no rounder than its input.
    let (ok, _, err) = prettify(d, &["--classic", "-o", "v1.png"]);
    assert!(ok, "{err}");
    let c = survey_figures(&input, &load(&d.join("v1.png")));
    assert!(c.stars.ellipticity_ratio > f.stars.ellipticity_ratio + 0.1, "{:?} vs {:?}", c.stars, f.stars);
    // The starless image has the input's size and far fewer stars.
    let sl = load(&d.join("starless.png"));
    assert_eq!((sl.width, sl.height), (256, 256));
    let left = survey_figures(&input, &sl);
    assert!(left.kept * 4 < f.input_stars, "{} of {} stars still in the starless image", left.kept, f.input_stars);
}

#[test]
fn the_dream_is_declared_seeded_and_only_adds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, _) in [
        (&["--spikes", "-o", "faithful.png"][..], 0),
        (&["--hallucinate", "--seed", "7", "-o", "a.png"][..], 1),
        (&["--hallucinate", "--seed", "7", "-o", "b.png"][..], 2),
    ] {
        let (ok, out, err) = prettify(d, args);
        assert!(ok, "{out}{err}");
    }
    let bytes = |n: &str| std::fs::read(d.join(n)).unwrap();
    assert_eq!(bytes("a.png"), bytes("b.png"), "the same seed gave another image");
    assert_eq!(bytes("a.invented.csv"), bytes("b.invented.csv"));
    let csv = String::from_utf8(bytes("a.invented.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(rows.iter().any(|r| r.starts_with("star,")) && rows.iter().any(|r| r.starts_with("galaxy,")), "{csv}");
    // Only adds: nowhere darker than the faithful picture (8-bit rounding aside), brighter only
    // where the mask says so or on the spikes' rows/columns of bright stars.
    let (faithful, dream, mask) =
        (load(&d.join("faithful.png")), load(&d.join("a.png")), load(&d.join("a.invented.png")));
    assert_eq!((mask.width, mask.height), (dream.width, dream.height));
    let n = dream.width * dream.height;
    let darker = (0..3 * n).filter(|&i| dream.data[i] < faithful.data[i] - 1.5 / 255.0).count();
    assert_eq!(darker, 0, "the dream dimmed {darker} samples");
    let unmasked = (0..n)
        .filter(|&i| {
            mask.data[i] == 0.0 && (0..3).any(|c| dream.data[c * n + i] > faithful.data[c * n + i] + 1.5 / 255.0)
        })
        .count();
    assert!(unmasked < n / 200, "{unmasked} pixels changed outside the mask");
    // Every input star is still there with its light.
    let f = survey_figures(&sample(), &dream);
    assert!(f.kept as f64 >= 0.97 * f.input_stars as f64, "{f:?}");
}

/// A minimal 32-bit float FITS image (one plane) with `nan` pixels set to NaN.
fn fits(path: &PathBuf, w: usize, h: usize, value: impl Fn(usize, usize) -> f32) {
    let mut head = String::new();
    for card in ["SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2"] {
        head.push_str(&format!("{card:<80}"));
    }
    head.push_str(&format!("{:<80}", format!("NAXIS1  = {w:>20}")));
    head.push_str(&format!("{:<80}", format!("NAXIS2  = {h:>20}")));
    head.push_str(&format!("{:<80}", "END"));
    let mut bytes = head.into_bytes();
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    for y in 0..h {
        for x in 0..w {
            bytes.extend_from_slice(&value(x, y).to_be_bytes());
        }
    }
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn awkward_inputs_give_a_result_or_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = sample();
    // Mono, starless (a smooth gradient), fully saturated.
    astro_image::image_io::save_image(&input.to_luma(), &d.join("mono.png"), 8).unwrap();
    let mut flat = Planes::zeros(3, 96, 96);
    flat.data.iter_mut().enumerate().for_each(|(i, v)| *v = 0.1 + 0.001 * (i % 96) as f32);
    astro_image::image_io::save_image(&flat, &d.join("starless-field.png"), 8).unwrap();
    let mut white = Planes::zeros(3, 64, 64);
    white.data.iter_mut().for_each(|v| *v = 1.0);
    astro_image::image_io::save_image(&white, &d.join("white.png"), 8).unwrap();
    fits(&d.join("nan.fits"), 64, 64, |x, y| {
        if x < 8 {
            f32::NAN
        } else {
            100.0 + 900.0 * (-(((x as f32 - 40.0).powi(2) + (y as f32 - 30.0).powi(2)) / 3.0)).exp()
        }
    });
    for (name, out, side) in [
        ("mono.png", "mono-out.png", 512),
        ("starless-field.png", "s-out.png", 192),
        ("white.png", "w-out.png", 128),
        ("nan.fits", "nan-out.png", 128),
    ] {
        let (ok, stdout, err) = prettify(d, &[name, "-o", out]);
        assert!(ok, "{name}: {stdout}{err}");
        assert_eq!(load(&d.join(out)).width, side, "{name}");
    }
    // Refusals: one line naming the thing, nothing written.
    for (args, needle) in [
        (&["--object", "M 510", "-o", "x.png"][..], "M 510"),
        (&["--star-size", "0", "-o", "x.png"][..], "--star-size"),
        (&["--depth", "9", "--hallucinate", "-o", "x.png"][..], "--depth"),
        (&["--starless", "x.gif", "-o", "y.png"][..], "x.gif"),
    ] {
        let (ok, _, err) = prettify(d, args);
        assert!(!ok && err.lines().next().is_some_and(|l| l.contains(needle)), "{args:?}: {err}");
        assert!(!d.join("x.png").exists() && !d.join("y.png").exists(), "{args:?} wrote a file");
    }
}
