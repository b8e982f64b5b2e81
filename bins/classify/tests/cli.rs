//! The `classify` binary on real Stellarium images, with the bundled models.

use std::process::Command;

use dataset::stellarium::StellariumSet;

fn image(file: &str) -> std::path::PathBuf {
    let set = StellariumSet::locate().expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    set.nebulae_dir.join(file)
}

#[test]
fn classifies_a_real_galaxy_and_writes_the_cam_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let cam = dir.path().join("cam.png");
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg(image("m101-vasey.png"))
        .args(["--json", "--cam"])
        .arg(&cam)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["class"], "galaxy", "{v}");
    assert_eq!(v["model"], "dsonet-three-class");
    assert_eq!(v["probabilities"].as_object().unwrap().len(), 3);
    let overlay = astro_image::image_io::image_dimensions(&cam).unwrap();
    assert_eq!(overlay, (384, 384));

    let text = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg(image("m101-vasey.png"))
        .args(["--task", "galaxy-nebula", "--no-tta"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.lines().next().unwrap().ends_with(": galaxy"), "{stdout}");
    assert!(stdout.contains("nebula") && !stdout.contains("star cluster"), "{stdout}");
}

#[test]
fn a_file_that_is_not_an_image_fails_with_a_one_line_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.png");
    std::fs::write(&bogus, "just text").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_classify")).arg(&bogus).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.png") && err.contains("not a recognised image"), "{err}");
}

/// Issue #29 items 1, 8, 21: `--cam` may not be the input (it was overwritten with the overlay),
/// must be a .png name (PNG bytes were written into a .jpg), and its side is bounded (100000
/// aborted on a 30 GB allocation). The input is left byte for byte.
#[test]
fn a_cam_output_that_is_the_input_or_not_png_or_huge_is_refused_before_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("m101.png");
    std::fs::copy(image("m101-vasey.png"), &input).unwrap();
    let original = std::fs::read(&input).unwrap();
    let jpg = dir.path().join("cam.jpg");
    let png = dir.path().join("cam.png");
    let cases: [(Vec<&std::ffi::OsStr>, &str); 3] = [
        (vec![input.as_os_str(), "--cam".as_ref(), input.as_os_str()], "destroy the input"),
        (vec![input.as_os_str(), "--cam".as_ref(), jpg.as_os_str()], "give it a .png name"),
        (
            vec![input.as_os_str(), "--cam".as_ref(), png.as_os_str(), "--cam-size".as_ref(), "100000".as_ref()],
            "between 16 and 4096",
        ),
    ];
    for (args, want) in cases {
        let out = Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 4000000; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_classify"))
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().filter(|l| l.contains("error")).count(), 1, "{err}");
        assert!(err.contains("--cam"), "{err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), original);
    assert!(!jpg.exists() && !png.exists());
}

/// Issue #29 (one model-file validation for every kind): `--weights` files are sized before they
/// are read, so a FIFO in place of the weights is refused at once instead of blocking forever.
#[test]
fn a_fifo_in_place_of_the_weights_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("weights");
    std::fs::create_dir(&weights).unwrap();
    let fifo = weights.join("three-class.mpk");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::write(weights.join("three-class.json"), "{}").unwrap();
    let out = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_classify"))
        .arg(image("m101-vasey.png"))
        .arg("--weights")
        .arg(&weights)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("three-class.mpk") && err.contains("not a regular file"), "{err}");
}
