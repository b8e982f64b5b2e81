//! train-srgan against hostile arguments (issue #14 defects 7 and 8): a non-finite learning rate is
//! refused before training with a one-line message naming the flag and no model written; a run
//! without validation images never announces a best.srmodel it did not write.

use std::path::{Path, PathBuf};
use std::process::Command;

use astro_image::Planes;

/// The binary under a 2 GB address-space limit (`ulimit -v`): a tool that tried to allocate what a
/// hostile input declares would be killed instead of passing (issue #14: bounded memory).
fn limited(bin: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg("ulimit -v 2000000; exec \"$0\" \"$@\"").arg(bin);
    c
}

/// A fresh folder under the system temp dir (no tempfile dev-dependency in this package).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("train-srgan-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn photo_folder(dir: &Path) -> PathBuf {
    let hr = dir.join("hr");
    let mut p = Planes::zeros(3, 64, 64);
    for (i, v) in p.data.iter_mut().enumerate() {
        *v = ((i * 37) % 251) as f32 / 250.0;
    }
    astro_image::image_io::save_image(&p, &hr.join("a.png"), 8).unwrap();
    hr
}

fn run(args: &[&str]) -> (bool, String) {
    let out = limited(env!("CARGO_BIN_EXE_train-srgan"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("train-srgan runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_nan_learning_rate_is_refused_before_training() {
    let dir = scratch("lr");
    let hr = photo_folder(&dir);
    let out = dir.join("run");
    for (flag, value) in [("--lr", "NaN"), ("--lr", "inf"), ("--lr", "0"), ("--lr-d", "NaN")] {
        let (ok, text) =
            run(&[flag, value, "--steps", "1", "--hr-dir", hr.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert!(!ok, "{flag} {value} accepted:\n{text}");
        let line = text.lines().find(|l| l.contains(flag)).unwrap_or_else(|| panic!("{flag} not named:\n{text}"));
        assert!(line.to_lowercase().contains("error") || line.contains("learning rate"), "{text}");
        assert!(!out.join("model.srmodel").exists(), "{flag} {value}: a model was written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_without_validation_images_does_not_announce_best_srmodel() {
    let dir = scratch("best");
    let hr = photo_folder(&dir);
    let out = dir.join("run");
    let (ok, text) = run(&[
        "--steps",
        "1",
        "--batch",
        "1",
        "--patch",
        "16",
        "--val-every",
        "1000",
        "--hr-dir",
        hr.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    if text.contains("best.srmodel") {
        assert!(out.join("best.srmodel").exists(), "announced a best.srmodel that was not written:\n{text}");
    }
    assert!(out.join("model.srmodel").exists(), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue #29 items 4 and 19: loss weights that are NaN, infinite or absurd, all-zero pixel losses,
/// and sizes that panicked (`--features 0`) or aborted on an allocation (`--features 100000`,
/// `--batch 100000`) are refused before any data is read, with one line naming the flag, and no
/// model is written (the run used to diverge and say "done").
#[test]
fn hostile_loss_weights_and_sizes_are_refused_before_training() {
    let dir = scratch("weights");
    let hr = photo_folder(&dir);
    let out = dir.join("run");
    let cases: &[(&[&str], &str)] = &[
        (&["--l1", "NaN"], "--l1"),
        (&["--ssim", "inf"], "--ssim"),
        (&["--gan-weight", "1e39"], "--gan-weight"),
        (&["--fm-weight=-1"], "--fm-weight"),
        (&["--l1", "0", "--ssim", "0"], "all 0"),
        (&["--features", "0"], "--features"),
        (&["--features", "100000"], "--features"),
        (&["--batch", "100000"], "--batch"),
        (&["--batch", "0"], "--batch"),
        (&["--batch", "1024", "--patch", "512", "--features", "64"], "feature map"),
        (&["--ema", "2"], "--ema"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["--steps", "1", "--hr-dir", hr.to_str().unwrap(), "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (ok, text) = run(&args);
        assert!(!ok, "{extra:?} accepted:\n{text}");
        assert!(!text.contains("panicked") && !text.contains("backtrace"), "{extra:?}:\n{text}");
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(errors.len(), 1, "{extra:?}:\n{text}");
        assert!(errors[0].contains(want), "{extra:?}:\n{text}");
        assert!(!out.join("model.srmodel").exists(), "{extra:?}: a model was written");
    }
    // The run's folder may not be the data folder (its samples would join the images).
    let (ok, text) = run(&["--steps", "1", "--hr-dir", hr.to_str().unwrap(), "-o", hr.to_str().unwrap()]);
    assert!(!ok && text.contains("inside the input folder"), "{text}");
    assert_eq!(std::fs::read_dir(&hr).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
